"""Administrators' evidence for indicators the twin's data cannot show: points, note, attachments, who and when."""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.db.models import Park
from twin.db.models.scoring import ScoreAttachment, ScoreEvidence
from twin.errors import Conflict, InvalidInput, NotFound
from twin.scoring.rubric import Indicator, LevelsRule, load_rubric
from twin.scoring.rules import allowed_points, as_number, check_claimed_points, exact, level_for_points

ATTACHMENT_SUFFIXES = (".pdf", ".ofd", ".png", ".jpg", ".jpeg", ".webp", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
                       ".txt", ".csv", ".md", ".zip")


def evidence_indicator(indicator_id: str) -> Indicator:
    """The rubric indicator, if it is scored from evidence (NotFound if unknown, InvalidInput if computed)."""
    _, _, indicator = load_rubric().locate(indicator_id)
    if indicator.source != "evidence":
        raise InvalidInput(f"indicator '{indicator_id}' is computed from the twin's data; evidence applies only to "
                           "indicators the data cannot show")
    return indicator


def attachment_public(park: Park, indicator_id: str, attachment: ScoreAttachment) -> dict[str, Any]:
    return {"id": attachment.id, "filename": attachment.filename, "size": attachment.size, "content_type": attachment.content_type,
            "sha256": attachment.sha256, "uploaded_by": attachment.uploaded_by, "created_at": attachment.created_at.isoformat(),
            "href": f"/api/v1/parks/{park.slug}/score/evidence/{indicator_id}/attachments/{attachment.id}"}


def evidence_public(row: ScoreEvidence, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {"points": as_number(exact(row.points)), "level": row.level, "note": row.note, "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None, "attachments": attachments}


def get_evidence_rows(session: Session, *, park: Park) -> dict[str, tuple[ScoreEvidence, list[dict[str, Any]]]]:
    """Every evidence entry of the park with its attachments, by indicator id."""
    rows = list(session.scalars(select(ScoreEvidence).where(ScoreEvidence.park_id == park.id)))
    files: dict[int, list[ScoreAttachment]] = {}
    if rows:
        for attachment in session.scalars(select(ScoreAttachment).where(ScoreAttachment.evidence_id.in_([r.id for r in rows]))
                                          .order_by(ScoreAttachment.id)):
            files.setdefault(attachment.evidence_id, []).append(attachment)
    return {r.indicator_id: (r, [attachment_public(park, r.indicator_id, a) for a in files.get(r.id, [])]) for r in rows}


def _row(session: Session, park: Park, indicator_id: str) -> ScoreEvidence | None:
    return session.scalar(select(ScoreEvidence).where(ScoreEvidence.park_id == park.id, ScoreEvidence.indicator_id == indicator_id))


def get_evidence(session: Session, *, park: Park, indicator_id: str) -> dict[str, Any]:
    """An evidence indicator's entry (None if not assessed) with the levels and points the rule allows."""
    indicator = evidence_indicator(indicator_id)
    assert isinstance(indicator.rule, LevelsRule)
    found = get_evidence_rows(session, park=park).get(indicator_id)
    return {
        "indicator": indicator.id, "name": indicator.name, "name_en": indicator.name_en, "max": indicator.max,
        "rule": {"zh": indicator.text, "en": indicator.summary_en},
        "levels": [{"key": lv.key, "points": list(lv.points) if isinstance(lv.points, tuple) else lv.points,
                    "name": lv.name, "name_en": lv.name_en} for lv in indicator.rule.levels],
        "allowed_points": allowed_points(indicator.rule),
        "evidence": evidence_public(*found) if found else None,
    }


def update_evidence(session: Session, *, park: Park, indicator_id: str, points: float, note: str, level: str | None,
                    updated_by: str) -> dict[str, Any]:
    """Create or replace the self-assessment of an evidence indicator (points must be a level the rule gives)."""
    indicator = evidence_indicator(indicator_id)
    assert isinstance(indicator.rule, LevelsRule)
    claimed = check_claimed_points(indicator.rule, points)
    row = _row(session, park, indicator_id)
    if row is None:
        row = ScoreEvidence(park_id=park.id, indicator_id=indicator_id, points=0.0, updated_by=updated_by)
        session.add(row)
    row.points = float(claimed)
    row.note = note
    row.level = level or level_for_points(indicator.rule, claimed)
    row.updated_by = updated_by
    row.updated_at = datetime.now(UTC)
    session.flush()
    return get_evidence(session, park=park, indicator_id=indicator_id)


def delete_evidence(session: Session, *, park: Park, indicator_id: str, data_dir: Path) -> None:
    """Remove an indicator's evidence and its files (it goes back to not assessed)."""
    evidence_indicator(indicator_id)
    row = _row(session, park, indicator_id)
    if row is None:
        raise NotFound(f"no evidence entered for '{indicator_id}'")
    for attachment in session.scalars(select(ScoreAttachment).where(ScoreAttachment.evidence_id == row.id)):
        _remove_file(data_dir, attachment.stored_path)
    session.delete(row)
    session.flush()


def add_attachment(session: Session, *, park: Park, indicator_id: str, path: Path, uploaded_by: str, data_dir: Path) -> dict[str, Any]:
    """Record an uploaded file (already saved under data_dir) as an attachment of the indicator's evidence.

    The content type comes from the file name's suffix, never from the client, so a download is
    served as what its suffix says.
    """
    evidence_indicator(indicator_id)
    row = _row(session, park, indicator_id)
    if row is None:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise Conflict(f"enter the evidence for '{indicator_id}' (PUT its points) before attaching files")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    attachment = ScoreAttachment(evidence_id=row.id, filename=path.name, stored_path=str(path.relative_to(data_dir)),
                                 content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                                 size=path.stat().st_size, sha256=digest.hexdigest(), uploaded_by=uploaded_by)
    session.add(attachment)
    session.flush()
    return attachment_public(park, indicator_id, attachment)


def _attachment(session: Session, park: Park, indicator_id: str, attachment_id: int) -> ScoreAttachment:
    found = session.scalar(
        select(ScoreAttachment).join(ScoreEvidence, ScoreEvidence.id == ScoreAttachment.evidence_id)
        .where(ScoreAttachment.id == attachment_id, ScoreEvidence.park_id == park.id, ScoreEvidence.indicator_id == indicator_id))
    if found is None:
        raise NotFound(f"attachment {attachment_id} of '{indicator_id}' not found")
    return found


def get_attachment_file(session: Session, *, park: Park, indicator_id: str, attachment_id: int, data_dir: Path) -> tuple[Path, str, str | None]:
    """The stored file of an attachment: (path, file name, content type); NotFound if it or its file is gone."""
    attachment = _attachment(session, park, indicator_id, attachment_id)
    path = _inside(data_dir, attachment.stored_path)
    if not path.is_file():
        raise NotFound(f"the file of attachment {attachment_id} is missing from storage")
    return path, attachment.filename, attachment.content_type


def delete_attachment(session: Session, *, park: Park, indicator_id: str, attachment_id: int, data_dir: Path) -> None:
    """Remove one attachment and its file."""
    attachment = _attachment(session, park, indicator_id, attachment_id)
    _remove_file(data_dir, attachment.stored_path)
    session.delete(attachment)
    session.flush()


def _inside(data_dir: Path, stored_path: str) -> Path:
    """The absolute path of a stored file, refusing anything that would leave data_dir."""
    root = data_dir.resolve()
    path = (root / stored_path).resolve()
    if root not in path.parents:
        raise NotFound("attachment path is outside the data directory")
    return path


def _remove_file(data_dir: Path, stored_path: str) -> None:
    path = _inside(data_dir, stored_path)
    path.unlink(missing_ok=True)
    if path.parent != data_dir.resolve() and path.parent.is_dir() and not any(path.parent.iterdir()):
        path.parent.rmdir()  # the upload's own folder (save_upload makes one per file)
