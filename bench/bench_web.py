"""The map page in headless Chromium (software WebGL): time to the demo park fully rendered, and ms per
frame with 10,000 live markers, against the naive Cesium way measured in the same run.

    .venv/bin/python bench/bench_web.py [--markers 10000] [--frames 30] [--loads 2]

Uses its own database (TWIN_BENCH_DATABASE_URL, default parktwin_bench_web): dropped, migrated, the demo
park loaded and its building tiles built; `twin serve` runs on a free port (MQTT and jobs off).

- Load: page open (session already in sessionStorage: login is not timed) → `parktwin.isReady`, i.e.
  ground layers drawn, every tileset's first view loaded, devices placed (and the globe's tiles, where the view
  shows the globe: from far away or under a site image).
  The first load is cold (empty HTTP cache), the next ones warm.
- Markers: the demo's devices are replaced by N markers of every kind spread over the park, 0.2% of them
  change state between frames (the live stream's work), clustering on and off. "JS ms/frame" is the
  time in `viewer.render()` (Cesium's CPU work); "frame ms" adds waiting for the GPU (a 1-pixel read),
  which under SwiftShader is the CPU rasterising. Both include the frame's state changes (setState and
  regrouping the clusters they touch). Reference: the same N markers as Cesium Entities
  (billboards, the default API, no clustering), measured on the same page. Also printed: the same markers
  before any state change, and the scene with devices hidden, to tell the markers' cost from the live updates'.
  Goals: < 5 s, < 5 ms/frame.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin_bench_web"
CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--ignore-gpu-blocklist", "--no-sandbox",
        "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1600, "height": 900}

# Add N markers of every kind over the park; returns how many the layer holds.
ADD_MARKERS = """(n) => {
  const a = parktwin.assets, [w, s, e, nn] = parktwin.store.park.bbox;
  const kinds = [...new Set([...a.items.values()].map((i) => i.kind))];
  const states = ["normal", "normal", "normal", "warning", "offline"];
  let seed = 7; const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const features = Array.from({length: n}, (_, i) => ({type: "Feature", id: `SIM-${i}`,
    geometry: {type: "Point", coordinates: [w + rnd() * (e - w), s + rnd() * (nn - s), rnd() * 20]},
    properties: {code: `SIM-${i}`, kind: kinds[i % kinds.length], name: `SIM ${i}`}}));
  const initial = Object.fromEntries(features.map((f, i) => [f.id, states[i % states.length]]));
  a.setAssets(features, initial);
  return a.items.size;
}"""

# Median JS ms and frame ms over `frames` renders, changing `live` marker states before each.
FRAME_TIMES = """async ([frames, live, offset = 0]) => {
  const v = parktwin.viewer, gl = v.scene.context._gl, a = parktwin.assets, px = new Uint8Array(4);
  const codes = [...a.items.keys()], states = ["normal", "warning", "alarm", "offline"];
  const js = [], wall = [];
  for (let f = 0; f < frames + 3; f++) {
    const i = f + offset;  // which markers change: another offset, other changes
    await new Promise((r) => requestAnimationFrame(r));
    const s0 = performance.now();  // the updates count as the frame's JS: setState and regrouping the touched clusters
    for (let k = 0; k < live; k++) a.setState(codes[(i * 7919 + k * 104729) % codes.length], states[(i + k) % 4]);
    a.flushCells();
    v.scene.requestRender();
    const t0 = performance.now();
    v.render();
    const t1 = performance.now();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const t2 = performance.now();
    if (f >= 3) { js.push(t1 - s0); wall.push(t2 - s0); }  // the first frames build buffers and atlases
  }
  const median = (xs) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return {js: median(js), wall: median(wall)};
}"""

# The reference: the same markers as Entities (billboard graphics), our layer hidden.
ADD_ENTITIES = """(n) => {
  const v = parktwin.viewer; parktwin.assets.setVisible(false);
  const item = [...parktwin.assets.items.values()].slice(0, n);
  v.entities.suspendEvents();
  for (const i of item) v.entities.add({position: Cesium.Cartesian3.fromDegrees(i.lon, i.lat, i.height + 0.5),
    billboard: {image: parktwin.__badge(i.kind, i.state), width: 30, height: 30, disableDepthTestDistance: Number.POSITIVE_INFINITY}});
  v.entities.resumeEvents();
  return v.entities.values.length;
}"""
ENTITY_FRAME_TIMES = """async ([frames, live]) => {
  const v = parktwin.viewer, gl = v.scene.context._gl, px = new Uint8Array(4), list = v.entities.values;
  const js = [], wall = [];
  for (let i = 0; i < frames + 3; i++) {
    for (let k = 0; k < live; k++) list[(i * 7919 + k * 104729) % list.length].billboard.scale = 1 + ((i + k) % 2) * 0.2;
    await new Promise((r) => requestAnimationFrame(r));
    v.scene.requestRender();
    const t0 = performance.now(); v.render(); const t1 = performance.now();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const t2 = performance.now();
    if (i >= 3) { js.push(t1 - t0); wall.push(t2 - t0); }
  }
  const median = (xs) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return {js: median(js), wall: median(wall)};
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str) -> None:
    """A fresh database with the demo park and its building tiles."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from twin.db import database, migrate
    from twin.db.queries import parks
    from twin.pipelines.demo_load import load_demo
    from twin.pipelines.tiles_build import build_buildings
    from twin.settings import REPO_ROOT

    database.drop_database(url)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        report = load_demo(session, demo_dir=REPO_ROOT / "data" / "demo")
    with Session(engine) as session, session.begin():
        build_buildings(session, park=parks.get_by_slug(session, slug=report.park))
    engine.dispose()


def serve(url: str, scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TWIN_DATABASE_URL": url, "TWIN_PORT": str(port), "TWIN_MQTT_ENABLED": "false",
           "TWIN_JOBS_ENABLED": "false", "TWIN_DATA_DIR": str(scratch), "TWIN_LOG_JSON": "false", "TWIN_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(REPO / ".venv" / "bin" / "twin"), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


def login(base: str) -> dict[str, str]:
    body = json.dumps({"username": "admin", "password": "parktwin-demo"}).encode()
    request = urllib.request.Request(base + "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    return {"token": answer["access_token"], "role": answer["role"], "park": answer["park"], "username": "admin"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markers", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--loads", type=int, default=2, help="page loads: the first cold, then warm")
    args = parser.parse_args(argv or [])  # `python -m bench` calls main() with its own argv in sys.argv
    from playwright.sync_api import sync_playwright

    url = os.environ.get("TWIN_BENCH_DATABASE_URL", DEFAULT_URL)
    started = time.perf_counter()
    prepare_database(url)
    print(f"database ready in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        server, base = serve(url, Path(scratch))
        try:
            session = login(base)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(f"sessionStorage.setItem('parktwin.session', {json.dumps(json.dumps(session))})")
                loads = []
                page = None
                for number in range(args.loads):
                    if page:
                        page.close()
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(base + "/")
                    page.wait_for_function("window.parktwin && window.parktwin.isReady", timeout=600_000, polling=50)
                    loads.append(time.perf_counter() - t0)
                    timings = page.evaluate("parktwin.timings")
                    steps = ", ".join(f"{k} {v / 1000:.1f}" for k, v in timings.items())
                    print(f"load {number + 1} ({'cold' if number == 0 else 'warm'}): {loads[-1]:.2f} s to fully rendered  [page clock, s: {steps}]")
                # The scene alone (park, tiles; devices hidden): what a frame costs without markers.
                page.evaluate("parktwin.assets.setVisible(false); parktwin.alarmMarkers.setVisible(false)")
                page.evaluate("parktwin.renderFrames(3)")
                bare = page.evaluate(FRAME_TIMES, [args.frames, 0])
                page.evaluate("parktwin.assets.setVisible(true)")
                count = page.evaluate(ADD_MARKERS, args.markers)
                page.evaluate("parktwin.renderFrames(3)")
                live = max(1, count // 500)
                # first the markers as they are (no state change, nothing blinking yet), unclustered
                page.evaluate("parktwin.assets.clustering = false; parktwin.assets.recluster(true)")
                still = page.evaluate(FRAME_TIMES, [args.frames, 0])
                page.evaluate("parktwin.assets.clustering = true; parktwin.assets.recluster(true)")
                # the first frames after clustering draw a bubble image for each new (count, state): once per session
                first = page.evaluate(FRAME_TIMES, [args.frames, live, 0])
                # then the steady state, over twice as many frames (the median of a short run swings with the
                # other core's rasterising)
                clustered = page.evaluate(FRAME_TIMES, [2 * args.frames, live, args.frames + 3])
                page.evaluate("parktwin.assets.clustering = false; parktwin.assets.recluster(true)")
                flat = page.evaluate(FRAME_TIMES, [args.frames, live])
                page.evaluate("window.parktwin.__badge = (kind, state) => { const c = document.createElement('canvas'); c.width = c.height = 60; const g = c.getContext('2d'); g.fillStyle = state === 'alarm' ? '#ff4d4f' : '#2bc48a'; g.beginPath(); g.arc(30, 30, 20, 0, 7); g.fill(); return c.toDataURL(); }")
                entities = page.evaluate(ADD_ENTITIES, count)
                page.evaluate("parktwin.renderFrames(3)")
                reference = page.evaluate(ENTITY_FRAME_TIMES, [args.frames, live])
                browser.close()
        finally:
            server.terminate()
            server.wait(15)

    warm = statistics.median(loads[1:]) if len(loads) > 1 else loads[0]
    print(f"\npage open → demo park fully rendered: cold {loads[0]:.2f} s, warm {warm:.2f} s (goal < 5 s)")
    print(f"{count:,} live markers ({live} state changes per frame), BillboardCollection layer:")
    print(f"  clustered   JS {clustered['js']:.2f} ms/frame, frame {clustered['wall']:.1f} ms   "
          f"over {2 * args.frames} frames (its first {args.frames} frames, drawing new bubble images: JS {first['js']:.2f} ms/frame)")
    print(f"  unclustered JS {flat['js']:.2f} ms/frame, frame {flat['wall']:.1f} ms   (goal < 5 ms/frame JS)")
    print(f"  unclustered, before any state change: JS {still['js']:.2f} ms/frame, frame {still['wall']:.1f} ms")
    print(f"  the scene without markers: JS {bare['js']:.2f} ms/frame → the markers' own JS cost {flat['js'] - bare['js']:.2f} ms/frame "
          f"unclustered, {clustered['js'] - bare['js']:.2f} clustered")
    print(f"reference: {entities:,} Cesium Entities (billboards): JS {reference['js']:.2f} ms/frame, frame {reference['wall']:.1f} ms")
    print(f"ratio (reference JS / ours unclustered JS): {reference['js'] / max(flat['js'], 1e-6):.1f}x")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (software WebGL shares the CPU)")


if __name__ == "__main__":
    main(sys.argv[1:])
