"""The map page in headless Chromium against a live server: offline loading, picking buildings and
devices, live readings over MQTT, alarms, IFC upload, the English switch, layers and the score."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES
from tests.web.conftest import PARK, MapPage, wait_until

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def click_at(mp: MapPage, position: dict[str, float] | None) -> None:
    assert position, "the target is not on screen"
    mp.render()
    mp.page.mouse.move(position["x"], position["y"])
    mp.page.mouse.click(position["x"], position["y"])


def camera_distance_m(mp: MapPage, lon: float, lat: float, height: float = 0.0) -> float:
    return mp.js("""([lon, lat, h]) => Cesium.Cartesian3.distance(parktwin.viewer.camera.positionWC,
        Cesium.Cartesian3.fromDegrees(lon, lat, h))""", [lon, lat, height])


def test_the_park_loads_with_every_layer_and_nothing_leaves_loopback(map_page: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    info = map_page.js("parktwin.ready")
    tilesets = api.call("GET", f"/api/v1/parks/{PARK}/tilesets", user="viewer")
    assert {t["slug"] for t in tilesets} <= {r["slug"] for r in info["tilesets"] if r["ok"]}, info["tilesets"]
    assert "buildings" in {t["slug"] for t in tilesets}
    park = api.call("GET", f"/api/v1/parks/{PARK}", user="viewer")
    assert info["assets"] == sum(park["assets_by_kind"].values())
    kinds = park["features_by_kind"]
    assert info["ground"]["roads"] == kinds["road"]
    assert info["ground"]["parking"] == kinds["parking_lot"] + kinds["parking_space"]
    assert info["ground"]["green"] == kinds["green"]
    # the building tiles really arrived (content, not just tileset.json); at the park's view the park's
    # own ground fills the map and the globe is not drawn (see test_the_world_shows_from_far_away)
    assert any("/tilesets/buildings/content/" in url for url in map_page.requests)
    assert not map_page.js("parktwin.viewer.scene.globe.show")
    assert map_page.js("parktwin.tiles.tilesets.get('buildings').tilesLoaded")
    hosts = {urlsplit(url).hostname for url in map_page.requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts and hosts <= LOOPBACK, f"requests left the machine: {hosts - LOOPBACK}"
    assert not map_page.errors, map_page.errors
    # Chinese is drawn with a real CJK font (not boxes)
    assert map_page.js("document.fonts.check('16px \"WenQuanYi Micro Hei\"', '园区')")
    assert map_page.page.text_content("#panel-overview .panel-title") == "园区概况"
    map_page.render()
    map_page.screenshot("01-park-zh")


def test_clicking_a_building_shows_its_tile_and_database_properties(fresh: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    code = "B01"
    record = api.call("GET", f"/api/v1/parks/{PARK}/features/{code}", user="viewer")
    fresh.js("parktwin.assets.setVisible(false); parktwin.alarmMarkers.setVisible(false)")
    fresh.js(f"parktwin.flyToPlace('{code}', {{duration: 0}})")
    click_at(fresh, fresh.js(f"parktwin.screenPositionOfPlace('{code}')"))
    fresh.page.wait_for_selector("#drawer[data-kind='feature'] .feature-record dl", timeout=20_000)
    assert fresh.page.text_content("#drawer-title") == record["properties"]["name"]
    tile_props = fresh.page.text_content("#tile-properties")
    assert "key" in tile_props and code in tile_props  # EXT_structural_metadata via getPropertyIds/getProperty
    details = fresh.page.text_content("#drawer .feature-record")
    assert f"{record['properties']['top_height']:.1f} m" in details
    assert str(record["properties"]["storeys"]) in details
    assert fresh.js("parktwin.tiles.selected && parktwin.tiles.selected.getProperty('key')") == code
    fresh.screenshot("02-building")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_device_attributes_and_height_sources_read_as_words_in_either_language(fresh: MapPage, lang: str, web_database_url: str, mosquitto: int) -> None:
    """Not `gate_type: vehicle` or `attribute:height` but 闸机类型 车行 / Gate type Vehicle, in the page's language."""
    if lang == "en":
        fresh.page.click("#lang-switch")
    try:
        _check_attribute_words(fresh, lang, web_database_url, mosquitto)
    finally:
        if lang == "en":
            fresh.page.click("#lang-switch")


def _check_attribute_words(fresh: MapPage, lang: str, web_database_url: str, mosquitto: int) -> None:
    words = {"zh": ("闸机类型", "车行", "车牌识别", ("属性 height", "层数 × 层高")),
             "en": ("Gate type", "Vehicle", "Plate recognition", ("attribute height", "storeys × storey height"))}[lang]
    fresh.js("import('/js/bus.js').then((bus) => bus.emit('focus:asset', 'ACG-001'))")  # a vehicle gate
    fresh.page.wait_for_selector("#asset-attributes dl", timeout=20_000)
    attributes = fresh.page.text_content("#asset-attributes")
    assert all(word in attributes for word in words[:3]), attributes
    assert "gate_type" not in attributes and "vehicle" not in attributes
    wait_until(lambda: fresh.js("document.getElementById('live-status').dataset.state") == "on", 30, "the live stream")
    fresh.js("import('/js/bus.js').then((bus) => bus.emit('focus:asset', 'SP-001'))")  # a smart pole: on (1) or off (0)
    cell = "#asset-readings tr[data-property='on_off'] td.value"
    fresh.page.wait_for_selector(cell, timeout=20_000)
    _publish(mosquitto, _datastream(web_database_url, "SP-001", "on_off"), 1)
    fresh.page.wait_for_function("([sel, text]) => document.querySelector(sel)?.textContent.trim() === text",
                                 arg=[cell, {"zh": "开", "en": "On"}[lang]], timeout=15_000)
    fresh.js("import('/js/bus.js').then((bus) => bus.emit('focus:feature', 'B01'))")
    fresh.page.wait_for_selector("#drawer[data-kind='feature'] .feature-record dl", timeout=20_000)
    record = fresh.page.text_content("#drawer .feature-record")
    assert any(source in record for source in words[3]) and "attribute:" not in record, record


def _datastream(web_database_url: str, asset: str, key: str) -> int:
    engine = create_engine(web_database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT d.id FROM datastreams d JOIN assets a ON a.id = d.thing_id "
                "WHERE a.code = :asset AND d.properties->>'key' = :key"), {"asset": asset, "key": key}).scalar_one()
    finally:
        engine.dispose()


def _publish(port: int, datastream: int, value: float) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"web-test-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = {"phenomenonTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "result": value}
    client.publish(f"v1.1/Datastreams({datastream})/Observations", json.dumps(payload), qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def test_a_sensor_shows_live_values_published_over_mqtt(fresh: MapPage, web_database_url: str, mosquitto: int) -> None:
    asset = "AQS-001"
    datastream = _datastream(web_database_url, asset, "pm25")
    wait_until(lambda: fresh.js("document.getElementById('live-status').dataset.state") == "on", 30, "the live stream")
    fresh.js("parktwin.assets.clustering = false; parktwin.assets.recluster(true)")
    fresh.js("([lon, lat]) => parktwin.flyToBbox([lon - 0.0006, lat - 0.0005, lon + 0.0006, lat + 0.0005], {duration: 0, sides: 0})",
             fresh.js(f"(() => {{ const i = parktwin.assets.items.get('{asset}'); return [i.lon, i.lat]; }})()"))
    try:
        click_at(fresh, fresh.js(f"parktwin.screenPositionOf('{asset}')"))
        fresh.page.wait_for_selector("#drawer[data-kind='asset']", timeout=20_000)
        row = f"#asset-readings tr[data-datastream='{datastream}'] td.value"
        fresh.page.wait_for_selector(row, timeout=20_000)
        for value, shown in ((41.5, "41.5"), (63.25, "63.25")):
            _publish(mosquitto, datastream, value)
            fresh.page.wait_for_function(
                "([sel, text]) => document.querySelector(sel)?.textContent.startsWith(text)", arg=[row, shown], timeout=15_000)
        fresh.screenshot("03-sensor-live")
    finally:
        fresh.js("parktwin.assets.clustering = true; parktwin.assets.recluster(true)")


def test_a_raised_alarm_appears_within_two_seconds_and_the_camera_flies_there(fresh: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    asset = "ALM-005"
    item = fresh.js(f"(() => {{ const i = parktwin.assets.items.get('{asset}'); return {{lon: i.lon, lat: i.lat, height: i.height}}; }})()")
    far = camera_distance_m(fresh, item["lon"], item["lat"], item["height"])
    wait_until(lambda: fresh.js("document.getElementById('live-status').dataset.state") == "on", 30, "the live stream")
    alarm = api.call("POST", f"/api/v1/parks/{PARK}/alarms",
                     {"asset": asset, "kind": "alarm_button", "severity": "critical", "title": "一键报警测试", "title_en": "Emergency button test"},
                     user="integrator")
    posted = time.monotonic()
    fresh.page.wait_for_selector(f"#alarm-list li[data-alarm='{alarm['id']}']", timeout=2_000)
    assert time.monotonic() - posted <= 2.0
    assert "一键报警测试" in fresh.page.text_content(f"#alarm-list li[data-alarm='{alarm['id']}']")
    near = wait_until(lambda: (d := camera_distance_m(fresh, item["lon"], item["lat"], item["height"])) < 300 and d, 10,
                      "the camera to fly to the alarm")
    assert near < far / 2
    fresh.render()
    fresh.screenshot("04-alarm")
    # acknowledging from the alarm centre (admin holds the integrator role)
    fresh.page.click(f"#alarm-list li[data-alarm='{alarm['id']}'] button.mini")
    fresh.page.wait_for_selector(f"#alarm-list li[data-alarm='{alarm['id']}'].acked", timeout=10_000)
    assert api.call("GET", f"/api/v1/parks/{PARK}/alarms/{alarm['id']}", user="viewer")["state"] == "acknowledged"
    api.call("POST", f"/api/v1/parks/{PARK}/alarms/{alarm['id']}/clear", {}, user="integrator")
    fresh.page.wait_for_selector(f"#alarm-list li[data-alarm='{alarm['id']}']", state="detached", timeout=10_000)


def test_uploading_an_ifc_from_the_page_puts_the_model_on_the_map(fresh: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    ifc = FIXTURES / "ifc" / "bSI-SimpleScene_Building-Architecture_IFC4.ifc"
    if not ifc.exists():
        pytest.skip(f"fixture missing: {ifc}")
    lon, lat = 104.0668, 30.5372  # an open corner of the park: the file's own georeference is in the Pacific
    before = {m["id"] for m in api.call("GET", f"/api/v1/parks/{PARK}/models", user="viewer")}
    fresh.page.click("#tool-planner")
    fresh.page.set_input_files("#ifc-file", str(ifc))
    fresh.page.fill("#ifc-name", "上传测试模型")
    fresh.page.fill("#ifc-anchor", f"{lon},{lat},0,0")
    fresh.page.click("#ifc-upload")
    fresh.page.wait_for_selector("#upload-progress:not([hidden])", timeout=10_000)
    fresh.page.wait_for_selector("#upload-progress[data-state]", timeout=180_000)
    assert fresh.page.get_attribute("#upload-progress", "data-state") == "done", fresh.page.text_content("#upload-progress")
    models = api.call("GET", f"/api/v1/parks/{PARK}/models", user="viewer")
    new = [m for m in models if m["id"] not in before]
    assert len(new) == 1 and new[0]["published_version"] == 1
    slug = f"bim-{new[0]['id']}"
    assert fresh.js(f"parktwin.tiles.tilesets.has('{slug}') && parktwin.tiles.tilesets.get('{slug}').show")
    centre = fresh.js(f"""(() => {{ const c = Cesium.Cartographic.fromCartesian(parktwin.tiles.tilesets.get('{slug}').boundingSphere.center);
        return [Cesium.Math.toDegrees(c.longitude), Cesium.Math.toDegrees(c.latitude)]; }})()""")
    assert math.dist(centre, (lon, lat)) < 0.0005  # landed where it was anchored (~50 m)
    assert camera_distance_m(fresh, *centre) < 500  # and the page flew there
    fresh.page.wait_for_selector(f"#model-list li[data-model='{new[0]['id']}']")
    fresh.render()
    fresh.screenshot("05-ifc-upload")


def test_the_english_switch_changes_the_labels(fresh: MapPage) -> None:
    assert fresh.page.text_content("#panel-overview .panel-title") == "园区概况"
    fresh.page.click("#lang-switch")
    try:
        assert fresh.page.text_content("#panel-overview .panel-title") == "Park overview"
        assert fresh.page.text_content("#panel-alarms .panel-title") == "Alarm centre"
        assert "Layers" in fresh.page.text_content("#tool-layers")
        assert fresh.js("document.documentElement.lang") == "en"
        assert "Tianfu" in fresh.page.text_content("#park-title")
        fresh.screenshot("06-park-en")
    finally:
        fresh.page.click("#lang-switch")
    assert fresh.page.text_content("#panel-overview .panel-title") == "园区概况"


def test_the_layers_panel_counts_and_toggles_each_category(fresh: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    park = api.call("GET", f"/api/v1/parks/{PARK}", user="viewer")
    fresh.page.click("#tool-layers")
    cameras = fresh.page.locator("[data-layer='asset:camera']")
    assert cameras.locator(".layer-count").text_content() == str(park["assets_by_kind"]["camera"])
    assert fresh.page.locator("[data-layer='ground:roads'] .layer-count").text_content() == str(park["features_by_kind"]["road"])
    assert fresh.page.locator("[data-layer='tiles:buildings'] .layer-count").text_content() == str(park["features_by_kind"]["building"])
    cameras.locator("input").uncheck()
    try:
        assert fresh.js("[...parktwin.assets.items.values()].filter(i => i.kind === 'camera').every(i => !i.marker.show)")
        assert fresh.js("[...parktwin.assets.items.values()].some(i => i.kind !== 'camera' && i.marker.show) || parktwin.assets.bubbles.length > 0")
        fresh.page.locator("[data-layer='tiles:buildings'] input").uncheck()
        assert fresh.js("parktwin.tiles.tilesets.get('buildings').show") is False
        fresh.screenshot("07-layers")
    finally:
        cameras.locator("input").check()
        fresh.page.locator("[data-layer='tiles:buildings'] input").check()
    assert fresh.js("parktwin.tiles.tilesets.get('buildings').show") is True


def test_choosing_a_score_indicator_highlights_it_on_the_map(fresh: MapPage, api) -> None:  # type: ignore[no-untyped-def]
    score = api.call("GET", f"/api/v1/parks/{PARK}/score", user="viewer")
    fresh.page.click("#panel-score .panel-actions .icon-btn")  # recompute: earlier scenarios changed the park
    fresh.page.wait_for_function("(total) => Number(document.getElementById('score-total')?.textContent.replace(/,/g, '')) === total",
                                 arg=round(float(score["total"]), 1), timeout=30_000)
    assert fresh.page.locator("#panel-score .dim").count() == len(score["dimensions"])
    indicator = fresh.page.locator("#score-indicators li:has(.ind-map)").first
    indicator.click()
    fresh.page.wait_for_selector("#drawer[data-kind='indicator']", timeout=15_000)
    assert fresh.js("parktwin.highlighter.rings.length + parktwin.highlighter.collection.length > 1 || parktwin.highlighter.previousMode !== null")
    fresh.render()
    fresh.screenshot("08-score-indicator")


CLUSTER_OF = """(code) => {  // the bubble an asset is shown in: its cell's, or that of the group its cell is merged into
    const a = parktwin.assets, item = a.items.get(code), cell = item.cell, bubble = cell && (cell.group ? cell.group.host : cell).bubble;
    const at = bubble && Cesium.SceneTransforms.worldToWindowCoordinates(parktwin.viewer.scene, bubble.position);
    return {state: item.state, folded: item.folded, halo: !!item.halo && item.halo.show, inCell: !!cell && cell.items.has(item),
            bubble: bubble ? {image: bubble.image, codes: bubble.id.codes, at: at && {x: at.x, y: at.y}} : null,
            bubbles: a.bubbles.length};
}"""


def bubble_label(count: int) -> str:
    """The count a bubble shows: exact below 100, then rounded down (the atlas keeps every label drawn)."""
    return str(count) if count < 100 else f"{count // 100 * 100}+" if count < 1000 else f"{count // 1000}k+"


def test_clusters_follow_live_state_changes(fresh: MapPage) -> None:
    """A bubble shows its count and worst state after a member's change; an alarm leaves it and blinks on its
    own, and rejoins when it clears; picking and clicking the bubble still work."""
    fresh.js("parktwin.assets.clustering = true; parktwin.assets.recluster(true)")
    # a bubble of ≥ 4 markers (not merged with another), all normal or offline, so that one member's warning decides its colour
    fresh.render()
    code = fresh.js("""() => {
        for (const cell of parktwin.assets.cells.values()) {
            const items = [...cell.items];
            if (cell.bubble && !cell.group && items.length >= 4 && items.every((i) => i.state === 'normal' || i.state === 'offline')) return items[0].code;
        }
        return null;
    }""")
    assert code, "no bubble at the park view"
    before = fresh.js(CLUSTER_OF, code)
    original, count = before["state"], len(before["bubble"]["codes"])
    assert before["folded"] and before["inCell"] and code in before["bubble"]["codes"]
    assert before["bubble"]["image"].startswith(f"cluster|{bubble_label(count)}|")
    try:
        fresh.js("(code) => parktwin.assets.setState(code, 'warning')", code)
        warned = fresh.js(CLUSTER_OF, code)
        assert warned["bubble"]["image"] == f"cluster|{bubble_label(count)}|warning" and warned["folded"]

        fresh.js("(code) => parktwin.assets.setState(code, 'alarm')", code)
        alarmed = fresh.js(CLUSTER_OF, code)
        assert not alarmed["inCell"] and not alarmed["folded"] and alarmed["halo"]
        assert not fresh.js("(code) => [...parktwin.assets.cells.values()].some((c) => c.bubble && c.bubble.id.codes.includes(code))", code), \
            "the alarm is still counted in a bubble"

        fresh.js("([code, state]) => parktwin.assets.setState(code, state)", [code, original])
        back = fresh.js(CLUSTER_OF, code)
        assert back["inCell"] and back["folded"] and not back["halo"]
        assert code in back["bubble"]["codes"] and len(back["bubble"]["codes"]) == count
        assert back["bubble"]["image"] in (f"cluster|{bubble_label(count)}|normal", f"cluster|{bubble_label(count)}|offline")

        # the bubble is what the mouse finds there, and a click on it flies closer
        fresh.render()
        picked = fresh.js("""(at) => { const p = parktwin.viewer.scene.pick(new Cesium.Cartesian2(at.x, at.y));
            return p && p.id && p.id.type === 'cluster' ? p.id.codes : null; }""", back["bubble"]["at"])
        assert picked and code in picked
        height = fresh.js("parktwin.viewer.camera.positionCartographic.height")
        rect = fresh.js("(() => { const r = parktwin.viewer.scene.canvas.getBoundingClientRect(); return {x: r.left, y: r.top}; })()")
        click_at(fresh, {"x": rect["x"] + back["bubble"]["at"]["x"], "y": rect["y"] + back["bubble"]["at"]["y"]})
        wait_until(lambda: fresh.js("parktwin.viewer.camera.positionCartographic.height") < height * 0.8, 20, "the camera to fly to the bubble")
    finally:
        fresh.js("([code, state]) => parktwin.assets.setState(code, state)", [code, original])
        fresh.js("parktwin.assets.recluster(true)")


SHOWN_BUBBLES = """() => {
    const a = parktwin.assets, out = [];
    for (let i = 0; i < a.bubbles.length; i++) {
        const b = a.bubbles.get(i);
        if (!b.show) continue;
        const at = Cesium.SceneTransforms.worldToWindowCoordinates(parktwin.viewer.scene, b.position);
        out.push({x: at.x, y: at.y, codes: b.id.codes, image: b.image});
    }
    return out;
}"""
BUBBLE_PX = 34


def assert_no_bubbles_overlap(mp: MapPage) -> list[dict]:
    """Every bubble drawn is at least its size away from the others on screen, and each clustered marker is
    counted in exactly one of them; returns the bubbles."""
    mp.render()
    shown = mp.js(SHOWN_BUBBLES)
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            assert math.dist((a["x"], a["y"]), (b["x"], b["y"])) >= BUBBLE_PX, f"bubbles overlap: {a['image']} and {b['image']}"
    codes = [code for bubble in shown for code in bubble["codes"]]
    folded = mp.js("[...parktwin.assets.items.values()].filter((i) => i.folded).map((i) => i.code)")
    assert sorted(codes) == sorted(folded)
    return shown


def test_cluster_bubbles_never_overlap(fresh: MapPage) -> None:
    """From 40 km the park's centre, where four grid cells meet, gets one bubble, not four piled up; a live change
    of a member repaints that bubble and regroups its own cell only. Closer, no two bubbles overlap either."""
    fresh.js("parktwin.assets.clustering = true; parktwin.assets.recluster(true)")
    assert_no_bubbles_overlap(fresh)
    fresh.js("parktwin.viewer.camera.setView({destination: Cesium.Cartesian3.fromDegrees(...parktwin.store.park.center, 40000)})")
    shown = assert_no_bubbles_overlap(fresh)
    cells = fresh.js("[...parktwin.assets.cells.values()].filter((c) => c.bubble).length")
    assert cells > 1 and len(shown) == 1, f"{cells} cells drawn as {len(shown)} bubbles"
    code = fresh.js("(codes) => codes.find((c) => ['normal', 'offline'].includes(parktwin.assets.items.get(c).state))", shown[0]["codes"])
    original = fresh.js("(c) => parktwin.assets.items.get(c).state", code)
    try:
        drawn = fresh.js("""(code) => {
            const a = parktwin.assets, cells = [], drawCell = a.drawCell;
            a.drawCell = (cell) => { cells.push(cell); drawCell.call(a, cell); };
            try { a.setState(code, 'warning'); a.flushCells(); } finally { a.drawCell = drawCell; }
            return cells.length === 1 && cells[0] === a.items.get(code).cell;
        }""", code)
        assert drawn, "a state change redrew other cells than its own"
        after = assert_no_bubbles_overlap(fresh)
        assert len(after) == 1 and after[0]["image"] == f"cluster|{bubble_label(len(shown[0]['codes']))}|warning"
    finally:
        fresh.js("([code, state]) => parktwin.assets.setState(code, state)", [code, original])
    for height in (12000, 3000, 900):
        fresh.js(f"parktwin.viewer.camera.setView({{destination: Cesium.Cartesian3.fromDegrees(...parktwin.store.park.center, {height})}})")
        assert_no_bubbles_overlap(fresh)
    fresh.screenshot("09-bubbles")


def test_the_world_shows_from_far_away_and_under_a_site_image(fresh: MapPage) -> None:
    """Zoomed out, the globe and the bundled world imagery appear (from 127.0.0.1 only); back at the park
    they go; a site image, which lies on the globe, keeps it drawn."""
    fresh.js("parktwin.viewer.camera.setView({destination: Cesium.Cartesian3.fromDegrees(...parktwin.store.park.center, 50000)})")
    wait_until(lambda: fresh.js("parktwin.viewer.scene.globe.show && parktwin.viewer.scene.globe.tilesLoaded"), 30, "the globe drawn from 50 km")
    fresh.render()
    world = [url for url in fresh.requests if "NaturalEarthII" in url]
    assert world and all(urlsplit(url).hostname == "127.0.0.1" for url in world)
    fresh.screenshot("10-world-from-far")
    fresh.js("parktwin.flyToBbox(parktwin.store.park.bbox, {duration: 0})")
    wait_until(lambda: not fresh.js("parktwin.viewer.scene.globe.show"), 10, "the globe hidden at the park's view")
    # a site image (a 2×2 PNG over the park) turns it back on, and removing it turns it off
    fresh.js("""async () => {
        const {setSiteImage} = await import('/js/map/site-image.js');
        const c = document.createElement('canvas'); c.width = c.height = 2;
        c.getContext('2d').fillRect(0, 0, 2, 2);
        window.__siteImage = setSiteImage;
        await setSiteImage(parktwin.viewer, c.toDataURL(), parktwin.store.park.bbox);
    }""")
    assert fresh.js("parktwin.viewer.scene.globe.show")
    fresh.js("async () => { await window.__siteImage(parktwin.viewer, null); }")
    assert not fresh.js("parktwin.viewer.scene.globe.show")
