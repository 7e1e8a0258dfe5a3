"""Browser tests of the map page: one database, one Mosquitto, one `twin serve` and one headless
Chromium per session, all on free loopback ports; one logged-in page shared by the scenarios.

The suite uses its own database (next to the test database, suffix `_web`) so the alarms and BIM
models it creates never reach other suites, and its own Mosquitto so no other service's MQTT
consumer sees its readings.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.conftest import DEMO_DIR, scratch_url
from twin.db import database, migrate
from twin.settings import REPO_ROOT

CHROMIUM = Path("/usr/lib/chromium/chromium")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CHROMIUM_ARGS = [
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--ignore-gpu-blocklist", "--no-sandbox",
    "--disable-background-networking", "--disable-component-update",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
VIEWPORT = {"width": 1600, "height": 900}
PARK = "tianfu-demo"
READY_TIMEOUT_MS = 240_000  # software WebGL compiles every shader on the CPU: slow on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.2) -> Any:  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Api:
    """A tiny JSON client for the live server (urllib: no extra dependency)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}

    def login(self, username: str) -> str:
        if username not in self.tokens:
            answer = self.call("POST", "/api/v1/auth/login", {"username": username, "password": "parktwin-demo"})
            self.tokens[username] = answer["access_token"]
        return self.tokens[username]

    def call(self, method: str, path: str, body: Any = None, *, user: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.login(user)}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path} → {exc.code}: {exc.read()[:300]!r}") from None
        return json.loads(text) if text else None


@pytest.fixture(scope="session")
def web_database_url() -> Iterator[str]:
    """A fresh database of this suite's own, migrated, with the demo park and its building tiles."""
    from twin.db.queries import parks
    from twin.pipelines.demo_load import load_demo
    from twin.pipelines.tiles_build import build_buildings

    url = scratch_url("web")
    database.drop_database(url)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        report = load_demo(session, demo_dir=DEMO_DIR)
    with Session(engine) as session, session.begin():
        build_buildings(session, park=parks.get_by_slug(session, slug=report.park))
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A Mosquitto broker of this suite's own on a free loopback port."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed")
    port = free_port()
    config = tmp_path_factory.mktemp("mosquitto") / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port), 10, "mosquitto to listen")
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def live_server(web_database_url: str, mosquitto: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`twin serve` on a free port against the suite's database, MQTT consumer and job runner on."""
    if not (REPO_ROOT / "web" / "node_modules" / "cesium" / "Build" / "Cesium" / "Cesium.js").exists():
        pytest.skip("web/node_modules is not installed (npm install in web/)")
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": web_database_url, "TWIN_PORT": str(port), "TWIN_HOST": "127.0.0.1",
        "TWIN_MQTT_ENABLED": "true", "TWIN_MQTT_PORT": str(mosquitto), "TWIN_MQTT_HOST": "127.0.0.1",
        "TWIN_DATA_DIR": str(tmp_path_factory.mktemp("var")), "TWIN_LOG_JSON": "false", "TWIN_LOG_LEVEL": "WARNING",
        "TWIN_ALARM_AUTO_BROADCAST": "false",
    }
    process = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "twin"), "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base), 60, "the server to answer /healthz", interval=0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def api(live_server: str) -> Api:
    return Api(live_server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium (software WebGL) for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class MapPage:
    """The logged-in map page with every request it made and its console errors."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def render(self, frames: int = 2) -> None:
        """Let the on-demand renderer draw (picking and screenshots need a fresh frame)."""
        self.js(f"parktwin.renderFrames({frames})")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), timeout=120_000)
        return path

    def reset(self) -> None:
        """Back to the park view with nothing selected and every layer on (between scenarios)."""
        self.js("""() => {
            document.getElementById('drawer-close')?.click();
            for (const id of ['layers-panel', 'planner-panel']) document.getElementById(id).hidden = true;
            parktwin.assets.setVisible(true);
            parktwin.alarmMarkers.setVisible(true);
        }""")
        self.js("parktwin.flyToBbox(parktwin.store.park.bbox, {duration: 0})")
        self.render()


@pytest.fixture(scope="session")
def map_page(browser: Any, live_server: str) -> Iterator[MapPage]:
    """The page opened and logged in as admin, once; waits until the park is fully drawn."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    mp = MapPage(page, live_server)
    started = time.monotonic()
    page.goto(live_server + "/")
    page.fill("#login-username", "admin")
    page.fill("#login-password", "parktwin-demo")
    page.click("#login-submit")
    try:
        page.wait_for_function("window.parktwin && window.parktwin.isReady", timeout=READY_TIMEOUT_MS)
    except Exception as exc:  # say how far the page got
        state = page.evaluate("JSON.stringify({t: window.parktwin && parktwin.timings, e: window.parktwin && parktwin.error})")
        raise AssertionError(f"the map page did not become ready: {state}; page errors: {mp.errors}") from exc
    mp.load_seconds = time.monotonic() - started  # type: ignore[attr-defined]
    yield mp
    context.close()


@pytest.fixture()
def fresh(map_page: MapPage) -> Iterator[MapPage]:
    """The shared page, reset before and after a scenario."""
    map_page.reset()
    yield map_page
    map_page.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser scenarios render with SwiftShader on a shared 2-core machine: a frame or a live update can
    land late. Each gets two more tries (pytest-rerunfailures) before it counts as failed; a real bug fails all three."""
    for item in items:
        if "tests/web/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2))
            item.add_marker(pytest.mark.browser)
