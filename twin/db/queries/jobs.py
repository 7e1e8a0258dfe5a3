"""Data access for durable jobs: create, claim (SKIP LOCKED), progress, finish, recover after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from twin.db.models import Job
from twin.errors import NotFound

MAX_ATTEMPTS = 3


def create(session: Session, *, kind: str, park_id: int | None, params: dict[str, Any], created_by: str | None = None) -> Job:
    """A queued job; a runner picks it up after the caller's transaction commits."""
    job = Job(kind=kind, park_id=park_id, params=params, created_by=created_by, state="queued", phase="queued", percent=0.0)
    session.add(job)
    session.flush()
    return job


def get(session: Session, *, job_id: int) -> Job:
    """One job, or NotFound."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def start(session: Session, *, job: Job) -> Job:
    """Mark a job running in this process (for callers that run a job themselves, like the CLI)."""
    now = datetime.now(UTC)
    job.state, job.phase, job.attempts, job.started_at, job.heartbeat_at = "running", "starting", job.attempts + 1, now, now
    session.flush()
    return job


def claim_next(session: Session, *, kinds: tuple[str, ...]) -> Job | None:
    """Take the oldest queued job of these kinds for this runner (other runners skip the locked row)."""
    job = session.scalar(
        select(Job).where(Job.state == "queued", Job.kind.in_(kinds)).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
    )
    if job is None:
        return None
    job.error = None
    return start(session, job=job)


def set_progress(session: Session, *, job_id: int, phase: str, percent: float, message: str | None = None) -> None:
    """Record how far a running job is (also its heartbeat)."""
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(
        phase=phase, percent=max(0.0, min(100.0, percent)), message=message, heartbeat_at=datetime.now(UTC)))


def heartbeat(session: Session, *, job_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(heartbeat_at=datetime.now(UTC)))


def succeed(session: Session, *, job_id: int, result: dict[str, Any]) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(
        state="succeeded", phase="done", percent=100.0, result=result, finished_at=datetime.now(UTC), message=None))


def fail(session: Session, *, job_id: int, error: str) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(state="failed", phase="failed", error=error[:4000], finished_at=datetime.now(UTC)))


def recover_stale(session: Session, *, stale_after: timedelta) -> list[tuple[int, str]]:
    """Jobs whose runner died (no heartbeat for `stale_after`): queue them again, or fail them with a reason
    after MAX_ATTEMPTS. Returns (job id, new state) pairs."""
    cutoff = datetime.now(UTC) - stale_after
    stale = session.scalars(
        select(Job).where(Job.state == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)).with_for_update(skip_locked=True)
    ).all()
    changed = []
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.phase, job.finished_at = "failed", "failed", datetime.now(UTC)
            job.error = f"interrupted {job.attempts} times (service stopped during '{job.phase}'); giving up"
        else:
            job.state, job.phase, job.percent = "queued", "queued", 0.0
            job.message = f"re-queued after an interruption during '{job.phase}'"
        changed.append((job.id, job.state))
    session.flush()
    return changed
