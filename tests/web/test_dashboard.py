"""The dashboard beside the map, fed by live readings over MQTT: today's electricity (the overview card and
the energy panel show one number), the building ranking chart (every bar named, in either language) and
the people counted today at the park gates."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import create_engine, text

from tests.web.conftest import PARK, MapPage, wait_until

METERS = 5  # the ranking shows five buildings: enough for ECharts to drop labels it finds crowded
KWH = [7, 5, 4, 3, 2]  # each meter's rise today, in the test


class Publisher:
    """One MQTT client publishing SensorThings observations (as a device would)."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"web-dashboard-{time.monotonic_ns()}")
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, datastream: int, value: float) -> None:
        payload = {"phenomenonTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "result": value}
        self.client.publish(f"v1.1/Datastreams({datastream})/Observations", json.dumps(payload), qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _query(web_database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(web_database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())
    finally:
        engine.dispose()


def _building_meters(web_database_url: str) -> list[tuple[str, int]]:
    """(building code, energy datastream id) of the first building total meters."""
    rows = _query(web_database_url,
                  "SELECT f.code, d.id FROM datastreams d JOIN assets a ON a.id = d.thing_id JOIN features f ON f.id = a.feature_id "
                  "WHERE f.kind = 'building' AND d.properties->>'key' = 'energy' ORDER BY f.code LIMIT :n", n=METERS)
    assert len(rows) == METERS
    return [(code, datastream) for code, datastream in rows]


def electricity(mp: MapPage) -> dict[str, str]:
    """Today's electricity as each panel shows it (the number, without the unit)."""
    return mp.js("""() => ({
        overview: [...document.querySelectorAll('#overview-kpis .kpi')].find((k) => k.textContent.includes('kWh'))
            .querySelector('.kpi-value').firstChild.textContent,
        energy: document.querySelector('#energy-kpis .kpi-value').firstChild.textContent })""")


def kwh(shown: str) -> float | None:
    return None if shown == "—" else float(shown.replace(",", ""))


@pytest.fixture(scope="module")
def live_readings(map_page: MapPage, mosquitto: int) -> Iterator[Publisher]:
    """A steady stream of live readings (a PM2.5 sensor, ten a second) while the module's scenarios run: a
    panel that only redraws after a quiet moment would never redraw."""
    wait_until(lambda: map_page.js("document.getElementById('live-status').dataset.state") == "on", 30, "the live stream")
    publisher = Publisher(mosquitto)
    stream = Publisher(mosquitto)
    pm25 = map_page.js("[...parktwin.store.readings.values()].find((r) => r.asset === 'AQS-001' && r.property === 'pm25').datastream")
    stop = threading.Event()

    def run() -> None:
        value = 20.0
        while not stop.wait(0.1):
            value = 20.0 + (value + 1.3) % 15
            stream.publish(pm25, round(value, 1))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield publisher
    finally:
        stop.set()
        thread.join(5)
        stream.close()
        publisher.close()


@pytest.fixture(scope="module")
def meters_today(map_page: MapPage, web_database_url: str, live_readings: Publisher) -> dict[str, Any]:
    """Five building meters, first heard of today during the test (no stored reading since midnight), then
    rising by KWH: {"before": what the panels showed, "zero": after the first counters, "meters": [(building, id)]}."""
    meters = _building_meters(web_database_url)
    before = electricity(map_page)
    base = 1000.0
    for (_, datastream), _rise in zip(meters, KWH, strict=True):
        live_readings.publish(datastream, base)
    wait_until(lambda: electricity(map_page)["energy"] != "—", 20, "the first meter counters on the page")
    time.sleep(1.5)  # both panels redraw at least once a second
    zero = electricity(map_page)
    for (_, datastream), rise in zip(meters, KWH, strict=True):
        live_readings.publish(datastream, base + rise)
    return {"before": before, "zero": zero, "meters": meters}


def test_the_overview_and_the_energy_panel_show_the_same_electricity_today(map_page: MapPage, meters_today: dict[str, Any]) -> None:
    """The overview's 今日用电 and the energy panel's agree while live readings keep coming; "—" only without meter
    data; a meter first heard of today (early in the day) counts from its first reading, a real 0 until it rises."""
    before = meters_today["before"]
    assert before["overview"] == before["energy"], before
    if before["energy"] == "—":  # the first run: no meter had reported today
        assert meters_today["zero"] == {"overview": "0", "energy": "0"}, meters_today["zero"]
    expected = (kwh(before["energy"]) or 0) + sum(KWH)
    shown = wait_until(lambda: (now := electricity(map_page)) and kwh(now["energy"]) and kwh(now["energy"]) >= expected
                       and now["overview"] == now["energy"] and now, 20, "both panels to show today's use")
    assert shown["overview"] == shown["energy"], shown
    if before["energy"] == "—":
        assert kwh(shown["energy"]) == sum(KWH)
    # still one number a few redraws later, readings still flowing
    time.sleep(2)
    later = electricity(map_page)
    assert later["overview"] == later["energy"], later
    map_page.screenshot("11-electricity-today")


SAMPLER = """() => {
    const read = () => [[...document.querySelectorAll('#overview-kpis .kpi')].find((k) => k.textContent.includes('kWh'))
        .querySelector('.kpi-value').firstChild.textContent, document.querySelector('#energy-kpis .kpi-value').firstChild.textContent];
    const samples = window.__electricitySamples = [];
    window.__electricitySampler = setInterval(() => samples.push(read()), 10);
}"""


def test_the_two_panels_never_disagree_between_redraws(map_page: MapPage, meters_today: dict[str, Any], live_readings: Publisher) -> None:
    """Sampled every 10 ms while a meter climbs in steps: the two panels show the same figure in every sample
    (they used to redraw on separate timers, so a glance between the two redraws saw two numbers)."""
    _, datastream = meters_today["meters"][0]
    map_page.js(SAMPLER)
    counter = 1000.0 + KWH[0]
    for _ in range(12):
        counter += 7
        live_readings.publish(datastream, counter)
        time.sleep(0.25)
    time.sleep(1)
    samples = map_page.js("() => { clearInterval(window.__electricitySampler); return window.__electricitySamples; }")
    assert len(samples) > 100
    assert len({energy for _, energy in samples}) >= 4, "the figure should have changed several times while sampled"
    disagreeing = [sample for sample in samples if sample[0] != sample[1]]
    assert not disagreeing, f"{len(disagreeing)} of {len(samples)} samples disagree, e.g. {disagreeing[:3]}"


RANKING = """() => {
    const chart = echarts.getInstanceByDom(document.getElementById('energy-buildings'));
    const option = chart.getOption();
    // the texts ECharts drew (axis labels, cut to fit with "…", and the bars' values)
    const drawn = chart.getZr().storage.getDisplayList(true).filter((el) => el.style && el.style.text != null).map((el) => String(el.style.text));
    return {codes: option.series[0].data.map((d) => d.code), drawn};
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_bar_of_the_building_ranking_is_named(map_page: MapPage, api, meters_today: dict[str, Any], lang: str) -> None:  # type: ignore[no-untyped-def]
    codes = {code for code, _ in meters_today["meters"]}
    wait_until(lambda: set(map_page.js(RANKING)["codes"]) >= codes, 20, "the tested buildings in the ranking")
    if lang == "en":
        map_page.page.click("#lang-switch")
    try:
        ranking = map_page.js(RANKING)
        assert len(ranking["codes"]) == METERS
        for code in ranking["codes"]:
            props = api.call("GET", f"/api/v1/parks/{PARK}/features/{code}", user="viewer")["properties"]
            name = (props.get("name_en") if lang == "en" else None) or props.get("name") or code
            labels = [t.rstrip("…") for t in ranking["drawn"] if t.strip() and name.startswith(t.rstrip("…")) and not t.isdigit()]
            assert labels, f"the bar of {code} ({name}) has no label: drawn {ranking['drawn']}"
        map_page.screenshot(f"12-building-ranking-{lang}")
    finally:
        if lang == "en":
            map_page.page.click("#lang-switch")


def _gate_counters(web_database_url: str) -> list[tuple[bool, int]]:
    """(is a building's turnstile, people_today datastream id) of every gate counting people."""
    rows = _query(web_database_url,
                  "SELECT coalesce(f.kind = 'building', false), d.id FROM datastreams d JOIN assets a ON a.id = d.thing_id "
                  "LEFT JOIN features f ON f.id = a.feature_id WHERE d.properties->>'key' = 'people_today' ORDER BY d.id")
    return [(bool(in_building), datastream) for in_building, datastream in rows]


def test_people_today_counts_the_park_gates_not_the_building_turnstiles_again(map_page: MapPage, web_database_url: str, live_readings: Publisher) -> None:
    """今日人流 sums the park gates' day counters: whoever passes a building's turnstile came through a park gate."""
    gates = _gate_counters(web_database_url)
    assert any(in_building for in_building, _ in gates) and any(not in_building for in_building, _ in gates)
    expected = 0
    for number, (in_building, datastream) in enumerate(gates):
        value = 1000 if in_building else 100 + number
        expected += 0 if in_building else value
        live_readings.publish(datastream, value)
    shown = wait_until(lambda: (text := map_page.js("""() => [...document.querySelectorAll('#overview-kpis .kpi')]
        .find((k) => k.textContent.includes('今日人流') || k.textContent.includes('People today'))
        .querySelector('.kpi-value').firstChild.textContent""")) != "—" and int(text.replace(",", "")) == expected and text,
        20, f"the overview to show {expected} people today")
    assert int(shown.replace(",", "")) == expected
