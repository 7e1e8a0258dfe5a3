"""An HTTP integrator as a real one behaves: send batches, note which got a 2xx, retry the others with backoff."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

RETRYABLE = {502, 503, 504}  # "database unavailable, retry" and gateway hiccups; anything else is a bug or a bad batch


@dataclass
class Attempt:
    started: float  # time.monotonic()
    ended: float
    outcome: str  # the HTTP status, or the exception class for a transport error


@dataclass
class Batch:
    """One request body and what happened to it."""

    index: int
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict | None = None  # the 2xx body: {accepted, duplicates, rejected}

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None


class Integrator:
    """`senders` threads post the batches in order; each retries its batch until a 2xx, a non-retryable answer or the deadline."""

    def __init__(self, url: str, token: str, bodies: list[bytes], *, senders: int = 4, pace_s: float = 0.0,
                 backoff_s: tuple[float, float] = (0.2, 2.0)) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.batches = [Batch(i, body) for i, body in enumerate(bodies)]
        self.senders = senders
        self.pace_s = pace_s
        self.backoff_s = backoff_s
        self._next = 0
        self._lock = threading.Lock()
        self._deadline = 0.0

    def acknowledged(self) -> int:
        return sum(b.acknowledged for b in self.batches)

    def run(self, timeout_s: float) -> None:
        """Send everything (blocks); returns when every batch is settled or the time is up."""
        self._deadline = time.monotonic() + timeout_s
        threads = [threading.Thread(target=self._send_loop, daemon=True) for _ in range(self.senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _take(self) -> Batch | None:
        with self._lock:
            if self._next >= len(self.batches):
                return None
            self._next += 1
            return self.batches[self._next - 1]

    def _send_loop(self) -> None:
        with httpx.Client(headers=self.headers, timeout=30) as client:
            while (batch := self._take()) is not None:
                self._send(client, batch)
                time.sleep(self.pace_s)

    def _send(self, client: httpx.Client, batch: Batch) -> None:
        delay = self.backoff_s[0]
        while time.monotonic() < self._deadline:
            started = time.monotonic()
            try:
                response = client.post(self.url, content=batch.body)
                outcome = str(response.status_code)
            except httpx.TransportError as exc:
                response, outcome = None, type(exc).__name__
            batch.attempts.append(Attempt(started, time.monotonic(), outcome))
            if response is not None and response.is_success:
                batch.answer = response.json()
                return
            if response is not None and response.status_code not in RETRYABLE:
                return  # a real integrator would not resend a batch the service refused: the test reports it
            time.sleep(delay)
            delay = min(delay * 2, self.backoff_s[1])

    def attempts(self) -> list[Attempt]:
        return sorted((a for b in self.batches for a in b.attempts), key=lambda a: a.started)
