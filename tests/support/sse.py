"""A Server-Sent Events client for tests: reads a live stream in a thread and keeps the parsed events."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import orjson


class SseReader:
    """Reads an SSE stream in a thread; `events` collects the parsed `data:` messages."""

    def __init__(self, url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.monotonic() when each event arrived
        self.connected = threading.Event()
        self.status: int | None = None
        self.error: httpx.HTTPError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(30, read=30)) as client, client.stream("GET", url) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.connected.set()
                    elif line.startswith("data: "):
                        self.events.append(orjson.loads(line[6:]))
                        self.arrivals.append(time.monotonic())
                    if self._stop.is_set():
                        return
        except httpx.HTTPError as exc:  # the server went away (stopped at the end of a test): the stream just ends
            self.error = exc

    def wait(self, predicate, timeout: float) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in self.events if predicate(e)), None)
            if found:
                return found
            time.sleep(0.02)
        return None

    def close(self) -> None:
        self._stop.set()
