"""`twin mqtt consume` and `twin simulate`: the MQTT consumer on its own, and the demo's live data."""

from __future__ import annotations

import signal
import threading
import time
from typing import Annotated

import typer

from twin.cli_common import console, fail, session_factory
from twin.settings import get_settings

mqtt_app = typer.Typer(help="MQTT (OGC SensorThings §14): store what devices publish, re-publish it.", no_args_is_help=True)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM (so the command ends cleanly under make and systemd)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@mqtt_app.command("consume")
def consume() -> None:
    """Subscribe to v1.1/…/Observations and store observations until interrupted (acks after commit)."""
    from twin import logs
    from twin.integration.runtime import start_mqtt

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    stop = _stop_on_signals()
    runtime = start_mqtt(settings, session_factory())
    console.print(f"consuming as {runtime.identity.client_id} from {settings.mqtt_host}:{settings.mqtt_port}")
    try:
        while not stop.wait(30):
            stats = runtime.consumer.stats
            console.print(f"messages {stats.messages}, stored {stats.stored}, duplicates {stats.duplicates}, rejected {stats.rejected}")
    finally:
        runtime.stop()


def _wait_healthy(url: str, timeout_s: float, stop: threading.Event) -> bool:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(1)
    return False


def simulate(
    park: Annotated[str, typer.Option(help="park slug")] = "tianfu-demo",
    rate: Annotated[float, typer.Option(help="messages per second, all datastreams together")] = 50.0,
    duration: Annotated[float | None, typer.Option(help="seconds to run (default: until interrupted)")] = None,
    wait_healthy: Annotated[bool, typer.Option(help="first wait until the service at TWIN_HOST:TWIN_PORT answers /healthz")] = False,
) -> None:
    """Publish realistic live readings for the park's datastreams over MQTT (v1.1/Datastreams(id)/Observations)."""
    from twin.integration.simulator import Simulator, load_streams

    settings = get_settings()
    stop = _stop_on_signals()
    if wait_healthy and not _wait_healthy(f"http://{settings.host}:{settings.port}/healthz", 180, stop):
        fail("the service did not become healthy; not simulating")
    with session_factory()() as session:
        streams = load_streams(session, park)
    if not streams:
        fail(f"park '{park}' has no datastreams to simulate (run `twin demo load`)")
    simulator = Simulator(streams, host=settings.mqtt_host, port=settings.mqtt_port, rate=rate)
    threading.Thread(target=lambda: (stop.wait(), simulator.stop()), daemon=True).start()
    console.print(f"simulating {len(streams)} datastreams of {park} at {rate:g} msg/s → mqtt://{settings.mqtt_host}:{settings.mqtt_port}")
    simulator.run(duration)
    console.print(f"published {simulator.published} readings, {simulator.alarms} device alarms")
