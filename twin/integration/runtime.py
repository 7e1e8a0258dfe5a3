"""Start and stop the integration layer's background parts with the app (or the `twin mqtt` command).

Per process: the live hub (LISTEN, started on the first live client) and, when `mqtt_enabled`, the
MQTT observation consumer (one slot of the shared subscription) and the re-publisher.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from twin.integration import live
from twin.integration.asset_states import AssetStateWatcher
from twin.integration.alarms import service as alarms_service
from twin.integration.mqtt import publisher as mqtt_publisher
from twin.integration.mqtt.consumer import ObservationConsumer
from twin.integration.mqtt.identity import ConsumerIdentity, claim_identity
from twin.settings import Settings

log = logging.getLogger("twin.integration")


@dataclass
class MqttRuntime:
    """A running consumer + publisher pair and the slot they hold."""

    consumer: ObservationConsumer
    publisher: mqtt_publisher.ObservationPublisher
    identity: ConsumerIdentity

    def stop(self) -> None:
        mqtt_publisher.install(None)
        self.consumer.stop()
        self.publisher.stop()
        self.identity.release()


def start_mqtt(settings: Settings, session_factory: sessionmaker[Session]) -> MqttRuntime:
    """Claim a consumer slot, connect the consumer and the publisher (both retry in the background)."""
    # A plain subscription gets its own client id: a persistent session must never hold both kinds (every message twice).
    prefix = settings.mqtt_client_id if settings.mqtt_shared else f"{settings.mqtt_client_id}-solo"
    identity = claim_identity(prefix, settings.database_url, settings.mqtt_host, settings.mqtt_port)
    consumer = ObservationConsumer(host=settings.mqtt_host, port=settings.mqtt_port, session_factory=session_factory,
                                   client_id=identity.client_id, share_group=identity.share_group if settings.mqtt_shared else None).start()
    publisher = mqtt_publisher.ObservationPublisher(settings.mqtt_host, settings.mqtt_port).start()
    mqtt_publisher.install(publisher)
    return MqttRuntime(consumer, publisher, identity)


async def start_app(app) -> None:  # type: ignore[no-untyped-def]
    """App startup: the live hub (and its asset-state watcher, once a client listens); MQTT when enabled."""
    settings: Settings = app.state.settings
    dsn = live.conninfo(app.state.engine)
    app.state.asset_state_watcher = AssetStateWatcher(dsn, app.state.session_factory, offline_after_s=settings.asset_offline_after_s)
    app.state.live_hub = live.LiveHub(dsn, on_first_client=app.state.asset_state_watcher.start)
    app.state.mqtt = start_mqtt(settings, app.state.session_factory) if settings.mqtt_enabled else None
    await alarms_service.start(app)  # no-data sweep + device-alarm MQTT bridge (importing registers the ingest hook)


async def stop_app(app) -> None:  # type: ignore[no-untyped-def]
    """App shutdown: stop MQTT (finishing the batch in hand) and the live hub."""
    await alarms_service.stop(app)
    if getattr(app.state, "mqtt", None) is not None:
        await asyncio.to_thread(app.state.mqtt.stop)
        app.state.mqtt = None
    if getattr(app.state, "live_hub", None) is not None:
        await app.state.live_hub.close()
    if getattr(app.state, "asset_state_watcher", None) is not None:
        app.state.asset_state_watcher.stop()
