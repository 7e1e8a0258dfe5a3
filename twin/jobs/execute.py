"""Run one claimed job in this (child) process: `python -m twin.jobs.execute JOB_ID`.

Progress goes to the database as the job runs; the job's end state is written here, so a crash of
this process leaves the job 'running' without heartbeats and the runner's recovery takes over.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback

from twin import logs
from twin.db.queries import jobs as job_queries
from twin.db.session import make_engine, make_session_factory, transaction
from twin.errors import TwinError
from twin.jobs.handlers import handlers
from twin.settings import get_settings

log = logging.getLogger("twin.jobs")
HEARTBEAT_SECONDS = 5.0


def execute(job_id: int) -> int:
    """Run the job; 0 when it succeeded, 1 when it failed (the reason is stored on the job)."""
    settings = get_settings()
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        job = job_queries.get(session, job_id=job_id)
        kind, params = job.kind, dict(job.params)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with transaction(factory) as session:
                job_queries.heartbeat(session, job_id=job_id)

    last = [0.0]

    def progress(phase: str, fraction: float, message: str | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.3 and fraction < 1.0:
            return  # the page polls a few times a second; no need to write more often
        last[0] = now
        with transaction(factory) as session:
            job_queries.set_progress(session, job_id=job_id, phase=phase, percent=round(fraction * 100, 1), message=message)

    threading.Thread(target=beat, daemon=True).start()
    try:
        result = handlers()[kind](factory, job_id=job_id, params=params, progress=progress, settings=settings)
    except TwinError as exc:
        with transaction(factory) as session:
            job_queries.fail(session, job_id=job_id, error=exc.message)
        log.info("job %s failed: %s", job_id, exc.message)
        return 1
    except Exception as exc:  # noqa: BLE001 — any crash is recorded on the job, with its type, for the operator
        log.error("job %s crashed\n%s", job_id, traceback.format_exc())
        with transaction(factory) as session:
            job_queries.fail(session, job_id=job_id, error=f"internal error in the {kind} job: {type(exc).__name__}: {exc}"[:2000])
        return 1
    finally:
        stop.set()
    with transaction(factory) as session:
        job_queries.succeed(session, job_id=job_id, result=result)
    return 0


if __name__ == "__main__":
    logs.configure(get_settings().log_level, get_settings().log_json)
    sys.exit(execute(int(sys.argv[1])))
