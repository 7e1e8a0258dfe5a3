"""The job runner: a thread in each service process that claims queued jobs and runs each in a child.

A child process keeps heavy conversions off the API's interpreter, and dies with its parent
(PR_SET_PDEATHSIG), so after a crash or kill -9 of the service nothing half-finished carries on:
the job stops sending heartbeats and is queued again (or failed after three attempts) on restart.
"""

from __future__ import annotations

import ctypes
import os
import logging
import signal
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from twin.db.queries import jobs as job_queries
from twin.db.session import transaction
from twin.jobs.handlers import KINDS
from twin.settings import Settings

log = logging.getLogger("twin.jobs")
STALE_AFTER = timedelta(seconds=30)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class JobRunner:
    def __init__(self, factory: sessionmaker[Session], *, settings: Settings, poll_seconds: float = 1.0, stale_after: timedelta = STALE_AFTER) -> None:
        self.factory = factory
        # The child reads its settings from the environment: hand it this process's.
        self.child_env = {**os.environ, "TWIN_DATABASE_URL": settings.database_url, "TWIN_DATA_DIR": str(settings.data_dir),
                          "TWIN_MAX_UPLOAD_BYTES": str(settings.max_upload_bytes)}
        self.poll_seconds = poll_seconds
        self.stale_after = stale_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._child and self._child.poll() is None:
            self._child.terminate()
        if self._thread:
            self._thread.join(timeout=5)

    def run_once(self) -> int | None:
        """Recover stale jobs, then claim and run one queued job; its id, or None if there was none."""
        with transaction(self.factory) as session:
            for job_id, state in job_queries.recover_stale(session, stale_after=self.stale_after):
                log.warning("job %s was interrupted; now %s", job_id, state)
            job = job_queries.claim_next(session, kinds=KINDS)
            job_id = job.id if job else None
        if job_id is None:
            return None
        self._child = subprocess.Popen([sys.executable, "-m", "twin.jobs.execute", str(job_id)], preexec_fn=_die_with_parent, env=self.child_env)  # noqa: S603
        code = self._child.wait()
        if code not in (0, 1):  # killed or crashed before it could record its end
            with transaction(self.factory) as session:
                job_queries.fail(session, job_id=job_id, error=f"conversion process ended unexpectedly (exit {code})")
        return job_id

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # noqa: BLE001 — the database may be restarting; try again shortly
                log.exception("job runner iteration failed")
                ran = None
            if ran is None:
                self._stop.wait(self.poll_seconds)
