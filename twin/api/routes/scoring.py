"""The park's score on the 2021 Chengdu smart-park rubric: live score, indicators, snapshots, evidence, reports."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse, Response

from twin.access.roles import Principal
from twin.api.auth import ParkAdmin, ParkReader, Reader, optional_principal
from twin.api.deps import SessionDep, SettingsDep
from twin.api.schemas.scoring import AttachmentOut, EvidenceIn, EvidenceOut, IndicatorOut, ScoreOut, SnapshotOut
from twin.api.uploads import save_upload
from twin.scoring import evidence as evidence_service
from twin.scoring import report
from twin.scoring import service as score_service
from twin.scoring.rubric import load_rubric

router = APIRouter(prefix="/api/v1/parks/{park}/score", tags=["score"])
rubric_router = APIRouter(prefix="/api/v1/score", tags=["score"])
Caller = Annotated[Principal | None, Depends(optional_principal)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _who(caller: Principal | None) -> str:
    return caller.name if caller else "anonymous"


@rubric_router.get("/rubric")
def rubric(principal: Reader) -> dict[str, Any]:
    """The rubric itself: dimensions, items and every indicator with its rule (Chinese text and English summary)."""
    return load_rubric().model_dump(mode="json")


@router.get("", response_model=ScoreOut)
def get_score(park: ParkReader, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """What the park scores now: total, per dimension and per indicator with value, rule, evidence, gap, advice, map.

    Scoring also keeps one automatic snapshot per day for the trend.
    """
    score = score_service.score_and_keep(session, park=park, settings=settings)
    return score.public()


@router.get("/indicators/{indicator_id}", response_model=IndicatorOut)
def get_indicator(park: ParkReader, indicator_id: str, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """One indicator with its full evidence (per item) and map geometries (camera views, coverage areas…)."""
    return score_service.get_indicator(session, park=park, settings=settings, indicator_id=indicator_id)


@router.get("/snapshots", response_model=list[SnapshotOut])
def list_snapshots(park: ParkReader, session: SessionDep, limit: Annotated[int, Query(ge=1, le=3660)] = 366) -> list[dict[str, Any]]:
    """Kept scores, oldest first, for a trend line."""
    return score_service.get_snapshots(session, park=park, limit=limit)


@router.post("/snapshots", response_model=SnapshotOut, status_code=status.HTTP_201_CREATED)
def create_snapshot(park: ParkAdmin, session: SessionDep, settings: SettingsDep, caller: Caller) -> dict[str, Any]:
    """Score the park now and keep it as a snapshot (admin)."""
    score = score_service.get_score(session, park=park, settings=settings)
    return score_service.snapshot_public(score_service.create_snapshot(session, score=score, created_by=_who(caller)))


@router.get("/evidence/{indicator_id}", response_model=EvidenceOut)
def get_evidence(park: ParkReader, indicator_id: str, session: SessionDep) -> dict[str, Any]:
    """The self-assessment of an indicator the data cannot show, with the levels its rule allows."""
    return evidence_service.get_evidence(session, park=park, indicator_id=indicator_id)


@router.put("/evidence/{indicator_id}", response_model=EvidenceOut)
def put_evidence(park: ParkAdmin, indicator_id: str, body: EvidenceIn, session: SessionDep, caller: Caller) -> dict[str, Any]:
    """Enter or replace the self-assessment (admin): points (a level the rule gives), note; who and when are recorded."""
    return evidence_service.update_evidence(session, park=park, indicator_id=indicator_id, points=body.points, note=body.note,
                                           level=body.level, updated_by=_who(caller))


@router.delete("/evidence/{indicator_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_evidence(park: ParkAdmin, indicator_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Remove the self-assessment and its files (admin); the indicator is then not assessed."""
    evidence_service.delete_evidence(session, park=park, indicator_id=indicator_id, data_dir=settings.data_dir)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/evidence/{indicator_id}/attachments", response_model=AttachmentOut, status_code=status.HTTP_201_CREATED)
async def upload_attachment(park: ParkAdmin, indicator_id: str, session: SessionDep, settings: SettingsDep, caller: Caller,
                            file: Annotated[UploadFile, File(description="PDF, image, Office document, text or zip")]) -> dict[str, Any]:
    """Attach a supporting file to the indicator's evidence (admin; size-limited, stored under the data directory)."""
    evidence_service.evidence_indicator(indicator_id)
    path = await save_upload(file, dest_dir=settings.data_dir / "score" / park.slug / indicator_id,
                             max_bytes=settings.score_attachment_max_bytes, suffixes=evidence_service.ATTACHMENT_SUFFIXES)
    return evidence_service.add_attachment(session, park=park, indicator_id=indicator_id, path=path, uploaded_by=_who(caller),
                                           data_dir=settings.data_dir)


@router.get("/evidence/{indicator_id}/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(park: ParkReader, indicator_id: str, attachment_id: int, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """Download an evidence attachment."""
    path, filename, content_type = evidence_service.get_attachment_file(session, park=park, indicator_id=indicator_id,
                                                                        attachment_id=attachment_id, data_dir=settings.data_dir)
    return FileResponse(path, media_type=content_type or "application/octet-stream", filename=filename,
                        headers={"X-Content-Type-Options": "nosniff"})


@router.delete("/evidence/{indicator_id}/attachments/{attachment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_attachment(park: ParkAdmin, indicator_id: str, attachment_id: int, session: SessionDep, settings: SettingsDep) -> Response:
    """Remove an evidence attachment (admin)."""
    evidence_service.delete_attachment(session, park=park, indicator_id=indicator_id, attachment_id=attachment_id, data_dir=settings.data_dir)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/report.html", response_class=HTMLResponse)
def report_html(park: ParkReader, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The score as a printable Chinese report laid out like the official rubric table, with dimension bars (SVG)."""
    score = score_service.score_and_keep(session, park=park, settings=settings)
    return HTMLResponse(report.render_html(score.public()))


@router.get("/report.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def report_xlsx(park: ParkReader, session: SessionDep, settings: SettingsDep) -> Response:
    """The score as an Excel workbook for the administration: one sheet laid out like the rubric."""
    score = score_service.score_and_keep(session, park=park, settings=settings)
    public = score.public()
    return Response(report.render_xlsx(public), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=score.xlsx; filename*=UTF-8''{quote(report.file_name(public, 'xlsx'))}"})

