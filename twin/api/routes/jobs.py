"""Job status: one job, the park's jobs, and a Server-Sent Events stream of a job's progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from twin.access.roles import Principal, Role
from twin.api.auth import ParkReader, require
from twin.api.deps import SessionDep
from twin.api.schemas.jobs import JobPublic
from twin.db.models import Job
from twin.db.queries import jobs as job_queries

router = APIRouter(prefix="/api/v1", tags=["jobs"])
FIELDS = ("id", "kind", "state", "phase", "percent", "message", "error", "result", "attempts", "created_at", "started_at", "finished_at")
ReaderPrincipal = Annotated[Principal, Depends(require(Role.viewer))]


def _public(job: Job) -> dict[str, Any]:
    return {f: getattr(job, f) for f in FIELDS}


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: int, session: SessionDep, principal: ReaderPrincipal) -> dict[str, Any]:
    """A job's state (queued, running, succeeded, failed), phase, percent, and result or error."""
    job = job_queries.get(session, job_id=job_id)
    principal.check(Role.viewer, job.park_id)
    return _public(job)


@router.get("/parks/{park}/jobs", response_model=list[JobPublic])
def list_jobs(park: ParkReader, session: SessionDep) -> list[dict[str, Any]]:
    """The park's latest jobs, newest first."""
    return [_public(j) for j in session.scalars(select(Job).where(Job.park_id == park.id).order_by(Job.id.desc()).limit(50))]


@router.get("/jobs/{job_id}/events", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
def job_events(job_id: int, request: Request, session: SessionDep, principal: ReaderPrincipal) -> StreamingResponse:
    """Server-Sent Events: one `progress` event whenever the job changes, then `end` when it is finished."""
    job = job_queries.get(session, job_id=job_id)
    principal.check(Role.viewer, job.park_id)
    factory = request.app.state.session_factory

    def read() -> dict[str, Any]:
        with factory() as fresh:
            return _public(job_queries.get(fresh, job_id=job_id))

    async def stream() -> AsyncIterator[bytes]:
        last: tuple[Any, ...] | None = None
        while not await request.is_disconnected():
            state = await run_in_threadpool(read)
            key = (state["state"], state["phase"], state["percent"])
            if key != last:
                last = key
                yield b"event: progress\ndata: " + orjson.dumps(state) + b"\n\n"
            if state["state"] in ("succeeded", "failed"):
                yield b"event: end\ndata: " + orjson.dumps(state) + b"\n\n"
                return
            await asyncio.sleep(0.4)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
