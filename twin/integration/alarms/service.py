"""Start and stop the alarms engine's background parts with the app: the periodic no-data sweep and,
when MQTT is enabled, the device-alarm / broadcast bridge."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from twin.integration.alarms import lifecycle, nodata
from twin.integration.alarms.mqtt_bridge import AlarmBridge
from twin.settings import Settings

log = logging.getLogger("twin.alarms")


async def sweep_forever(session_factory: sessionmaker[Session], interval_s: float) -> None:
    """Run the no-data sweep every `interval_s` seconds until cancelled (errors are logged, the loop goes on)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            counts = await asyncio.to_thread(nodata.sweep_committed, session_factory)
            if counts["raised"] or counts["cleared"]:
                log.info("no-data sweep: %(raised)d raised, %(cleared)d cleared", counts)
        except Exception:  # noqa: BLE001 — a database hiccup must not end the periodic task
            log.exception("no-data sweep failed")


async def start(app) -> None:  # type: ignore[no-untyped-def]
    """App startup: the sweep task; the MQTT bridge when MQTT is enabled (it reuses the consumer's identity)."""
    settings: Settings = app.state.settings
    factory = app.state.session_factory
    app.state.alarm_sweep = asyncio.get_running_loop().create_task(sweep_forever(factory, settings.alarm_sweep_interval_s), name="twin-alarm-sweep")
    app.state.alarm_bridge = None
    runtime = getattr(app.state, "mqtt", None)
    if settings.mqtt_enabled and runtime is not None:
        app.state.alarm_bridge = AlarmBridge(
            host=settings.mqtt_host, port=settings.mqtt_port, session_factory=factory,
            client_id=f"{runtime.identity.client_id}-alarms", share_group=f"{runtime.identity.share_group}-alarms" if settings.mqtt_shared else None,
            config=lifecycle.AlarmConfig.from_settings(settings)).start()


async def stop(app) -> None:  # type: ignore[no-untyped-def]
    """App shutdown: cancel the sweep, stop the bridge."""
    task = getattr(app.state, "alarm_sweep", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    bridge = getattr(app.state, "alarm_bridge", None)
    if bridge is not None:
        await asyncio.to_thread(bridge.stop)
        app.state.alarm_bridge = None
