"""Stable MQTT client ids and the shared-subscription group for the consumers of one database.

A persistent MQTT session is found again by its client id, so a restarted worker must reuse its old
id — yet two live workers must never share one (the broker would disconnect the older). Each worker
claims the lowest free numbered slot with an exclusive file lock (released by the OS when the process
dies): N workers always hold slots 0..N-1. The id and the share group include a digest of the
database and broker, so a test or second deployment on the same broker forms its own group instead
of taking a share of another's messages.
"""

from __future__ import annotations

import fcntl
import hashlib
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

MAX_SLOTS = 64
LOCK_DIR = Path(tempfile.gettempdir()) / "parktwin-mqtt-slots"


@dataclass
class ConsumerIdentity:
    """This worker's client id and share group; holds the slot lock while the object lives."""

    client_id: str
    share_group: str
    slot: int
    _lock: IO[str] | None = None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def deployment_digest(database_url: str, mqtt_host: str, mqtt_port: int) -> str:
    """8 hex digits naming (database, broker): consumers with the same digest share messages."""
    url = make_url(database_url)
    key = f"{url.host}:{url.port}/{url.database}|{mqtt_host}:{mqtt_port}"
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def claim_identity(prefix: str, database_url: str, mqtt_host: str, mqtt_port: int) -> ConsumerIdentity:
    """Lock the lowest free slot on this host and name the client after it."""
    digest = deployment_digest(database_url, mqtt_host, mqtt_port)
    name = f"{prefix}-{socket.gethostname()}-{digest}"
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        handle = open(LOCK_DIR / f"{name}-{slot}.lock", "a+")  # noqa: SIM115 — held for the worker's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return ConsumerIdentity(client_id=f"{name}-{slot}", share_group=f"{prefix}-{digest}", slot=slot, _lock=handle)
    raise RuntimeError(f"all {MAX_SLOTS} MQTT consumer slots for {name} are taken")
