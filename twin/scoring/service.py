"""Score a park on the rubric: run the measures, add administrators' evidence, keep snapshots.

The one function everything shows a score through (API, CLI, reports) is `get_score`; its
`public()` dict is the JSON the API returns, so the CLI and the exports print the same numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.db.models import Park
from twin.db.models.scoring import ScoreEvidence, ScoreSnapshot
from twin.scoring.evidence import evidence_public, get_evidence_rows
from twin.scoring.inputs import ParkInputs
from twin.scoring.measures import MEASURES
from twin.scoring.results import Context, Outcome, bilingual
from twin.scoring.rubric import Dimension, Indicator, Item, LevelsRule, PartialCredit, Rubric, ThresholdRule, load_rubric
from twin.scoring.rules import as_number, level_for_points
from twin.settings import Settings

log = logging.getLogger("twin.scoring")
CHINA_TIME = timezone(timedelta(hours=8))  # the park's calendar day decides "once a day" (no DST in China)


def make_context(settings: Settings, *, now: datetime | None = None, with_geometry: bool = False, rubric: Rubric | None = None) -> Context:
    """The scoring context from settings: live window, partial-credit policy (settings override the rubric's)."""
    rubric = rubric or load_rubric()
    return Context(now=now or datetime.now(UTC), live_window=timedelta(minutes=settings.score_live_window_min),
                   policy=PartialCredit(settings.score_partial_credit), granularity=Fraction(rubric.granularity),
                   with_geometry=with_geometry)


@dataclass(slots=True)
class IndicatorScore:
    """One indicator's score with where it came from: computed from the twin, evidence, or not assessed."""

    dimension: Dimension
    item: Item
    indicator: Indicator
    points: Fraction
    source: str  # computed | evidence | not_assessed
    outcome: Outcome | None = None
    evidence: ScoreEvidence | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def public(self, *, detail: bool = False) -> dict[str, Any]:
        """The indicator as the API serves it; `detail` adds per-item evidence rows and map geometries."""
        ind = self.indicator
        body: dict[str, Any] = {
            "id": ind.id, "dimension": self.dimension.id, "dimension_name": self.dimension.name, "dimension_name_en": self.dimension.name_en,
            "item": self.item.id, "item_name": self.item.name, "item_name_en": self.item.name_en,
            "group": ind.group, "group_en": ind.group_en, "name": ind.name, "name_en": ind.name_en,
            "max": ind.max, "points": as_number(self.points), "source": self.source,
            "rule": _rule_public(ind),
            "value": None, "unit": ind.rule.unit if isinstance(ind.rule, ThresholdRule) else None, "value_text": None,
            "evidence": {}, "gap": None, "advice": [], "map": None,
        }
        if self.outcome is not None:
            out = self.outcome
            evidence = dict(out.evidence)
            if not detail:
                evidence.pop("details", None)
                evidence.pop("parts", None)
                evidence.pop("roads", None)
            body.update({
                "value": as_number(out.value) if isinstance(out.value, Fraction) else out.value, "value_text": out.value_text,
                "evidence": evidence, "gap": out.gap,
                "advice": [{"zh": a.zh, "en": a.en, "gain": as_number(a.gain), "codes": list(a.codes)} for a in out.advice],
                "map": out.map.public(with_geometries=detail) if out.map else None,
            })
        else:
            body.update(_evidence_view(self))
        if self.error:
            body["error"] = self.error
        return body


@dataclass(slots=True)
class ParkScore:
    """A park's full score on a rubric at one moment."""

    park: Park
    rubric: Rubric
    context: Context
    indicators: list[IndicatorScore]

    @property
    def total(self) -> Fraction:
        return sum((i.points for i in self.indicators), Fraction(0))

    def dimension_points(self, dimension_id: str) -> Fraction:
        return sum((i.points for i in self.indicators if i.dimension.id == dimension_id), Fraction(0))

    def public(self, *, detail: bool = False) -> dict[str, Any]:
        """The whole score as the API serves it (GET /score)."""
        dimensions = []
        for dimension in self.rubric.dimensions:
            mine = [i for i in self.indicators if i.dimension.id == dimension.id]
            if not mine:
                continue
            by_source = {s: as_number(sum((i.points for i in mine if i.source == s), Fraction(0))) for s in ("computed", "evidence")}
            dimensions.append({
                "id": dimension.id, "name": dimension.name, "name_en": dimension.name_en, "max": dimension.max,
                "points": as_number(self.dimension_points(dimension.id)), "computed_points": by_source["computed"],
                "evidence_points": by_source["evidence"], "not_assessed": sum(1 for i in mine if i.source == "not_assessed"),
                "items": [{"id": item.id, "name": item.name, "name_en": item.name_en, "max": item.max,
                           "points": as_number(sum((i.points for i in mine if i.item.id == item.id), Fraction(0)))}
                          for item in dimension.items],
            })
        return {
            "park": self.park.slug, "park_name": self.park.name, "park_name_en": self.park.name_en,
            "rubric": {"edition": self.rubric.edition, "title": self.rubric.title, "title_en": self.rubric.title_en},
            "computed_at": self.context.now.isoformat(),
            "policy": {"partial_credit": self.context.policy.value, "live_window_min": int(self.context.live_window.total_seconds() // 60)},
            "total": as_number(self.total), "max": self.rubric.max,
            "summary": {s: sum(1 for i in self.indicators if i.source == s) for s in ("computed", "evidence", "not_assessed")},
            "dimensions": dimensions,
            "indicators": [i.public(detail=detail) for i in self.indicators],
        }


def _rule_public(indicator: Indicator) -> dict[str, Any]:
    rule = indicator.rule
    body: dict[str, Any] = {"type": rule.type, "zh": indicator.text, "en": indicator.summary_en}
    if isinstance(rule, LevelsRule):
        body["levels"] = [{"key": lv.key, "points": list(lv.points) if isinstance(lv.points, tuple) else lv.points,
                           "name": lv.name, "name_en": lv.name_en} for lv in rule.levels]
    elif isinstance(rule, ThresholdRule):
        body["bands"] = [{"min": float(b.min), "max": float(b.max) if b.max is not None else None, "min_inclusive": b.min_inclusive,
                          "max_inclusive": b.max_inclusive, "points": list(b.points) if isinstance(b.points, tuple) else b.points}
                         for b in rule.bands]
    return body


def _evidence_view(score: IndicatorScore) -> dict[str, Any]:
    """value/evidence/gap/advice of an indicator scored from an administrator's evidence (or not yet)."""
    ind = score.indicator
    assert isinstance(ind.rule, LevelsRule)
    best = max(ind.rule.levels, key=lambda lv: lv.top)
    if score.evidence is None:
        return {"evidence": {}, "value_text": bilingual("未填报", "not assessed"),
                "gap": bilingual("尚未填报自评依据（管理员可填报得分、说明和附件）", "no self-assessment yet (an admin enters points, a note and attachments)"),
                "advice": [{"zh": f"填报依据；达到“{best.name}”可得{ind.max}分", "en": f"enter the evidence; '{best.name_en}' earns {ind.max}",
                            "gain": ind.max, "codes": []}]}
    row = score.evidence
    level = level_for_points(ind.rule, row.points)
    view: dict[str, Any] = {
        "value": as_number(Fraction(row.points)), "value_text": bilingual(f"自评{as_number(Fraction(row.points))}分", f"self-assessed {as_number(Fraction(row.points))}"),
        "evidence": evidence_public(row, score.attachments) | {"level_of_points": level},
    }
    short = Fraction(ind.max) - score.points
    if short > 0:
        view["gap"] = bilingual(f"自评{as_number(score.points)}分，满分{ind.max}分", f"self-assessed {as_number(score.points)} of {ind.max}")
        view["advice"] = [{"zh": f"达到“{best.name}”：+{as_number(short)}分", "en": f"reach '{best.name_en}': +{as_number(short)}",
                           "gain": as_number(short), "codes": []}]
    return view


def get_score(session: Session, *, park: Park, settings: Settings, now: datetime | None = None, with_geometry: bool = False,
              indicator_ids: set[str] | None = None, rubric: Rubric | None = None) -> ParkScore:
    """Score the park now: computed indicators from the twin, the others from stored evidence."""
    rubric = rubric or load_rubric()
    context = make_context(settings, now=now, with_geometry=with_geometry, rubric=rubric)
    data = ParkInputs(session, park)
    evidence = get_evidence_rows(session, park=park)
    scores: list[IndicatorScore] = []
    for dimension in rubric.dimensions:
        for item in dimension.items:
            for indicator in item.indicators:
                if indicator_ids is not None and indicator.id not in indicator_ids:
                    continue
                scores.append(_score_one(data, context, dimension, item, indicator, evidence))
    return ParkScore(park=park, rubric=rubric, context=context, indicators=scores)


def _score_one(data: ParkInputs, context: Context, dimension: Dimension, item: Item, indicator: Indicator,
               evidence: dict[str, tuple[ScoreEvidence, list[dict[str, Any]]]]) -> IndicatorScore:
    if indicator.source == "computed":
        assert indicator.measure is not None
        try:
            outcome = MEASURES[indicator.measure](data, indicator, context)
        except Exception as exc:  # noqa: BLE001 — one broken measure must not hide the other 69 scores
            log.exception("scoring %s failed", indicator.id)
            return IndicatorScore(dimension, item, indicator, Fraction(0), "computed", error=f"could not be computed: {exc}",
                                  outcome=Outcome(points=Fraction(0), value=None, value_text=bilingual("计算失败", "failed"), evidence={},
                                                  gap=bilingual("计算失败，请查看服务日志", "computation failed; see the service log")))
        points = min(max(outcome.points, Fraction(0)), Fraction(indicator.max))
        return IndicatorScore(dimension, item, indicator, points, "computed", outcome=outcome)
    found = evidence.get(indicator.id)
    if found is None:
        return IndicatorScore(dimension, item, indicator, Fraction(0), "not_assessed")
    row, attachments = found
    points = min(Fraction(row.points), Fraction(indicator.max))
    return IndicatorScore(dimension, item, indicator, points, "evidence", evidence=row, attachments=attachments)


def get_indicator(session: Session, *, park: Park, settings: Settings, indicator_id: str, now: datetime | None = None) -> dict[str, Any]:
    """One indicator with full evidence and map geometries (NotFound for an unknown id)."""
    rubric = load_rubric()
    rubric.locate(indicator_id)
    score = get_score(session, park=park, settings=settings, now=now, with_geometry=True, indicator_ids={indicator_id}, rubric=rubric)
    return score.indicators[0].public(detail=True)


# ── snapshots ───────────────────────────────────────────────────────────────────────────────────

def _snapshot_values(score: ParkScore) -> dict[str, Any]:
    return {
        "park_id": score.park.id, "rubric_edition": score.rubric.edition, "total": float(score.total),
        "max_total": float(score.rubric.max), "day": score.context.now.astimezone(CHINA_TIME).date(),
        "dimensions": {d.id: as_number(score.dimension_points(d.id)) for d in score.rubric.dimensions},
        "indicators": {i.indicator.id: as_number(i.points) for i in score.indicators},
    }


def create_snapshot(session: Session, *, score: ParkScore, created_by: str | None) -> ScoreSnapshot:
    """Keep this score as a manual snapshot (admins may take several a day)."""
    snapshot = ScoreSnapshot(**_snapshot_values(score), trigger="manual", created_by=created_by, taken_at=score.context.now)
    session.add(snapshot)
    session.flush()
    return snapshot


def ensure_daily_snapshot(session: Session, *, score: ParkScore) -> bool:
    """Keep an automatic snapshot unless the park already has one for this day; True when one was written."""
    values = _snapshot_values(score) | {"trigger": "auto", "created_by": None, "taken_at": score.context.now}
    # The predicate is literal SQL: as a bound parameter, PostgreSQL's generic plan (from the 11th execution of the
    # prepared statement on a connection) cannot match it to the partial index, and the INSERT fails.
    stmt = insert(ScoreSnapshot).values(values).on_conflict_do_nothing(
        index_elements=["park_id", "day"], index_where=text("trigger = 'auto'"))
    return bool(session.execute(stmt).rowcount)


def score_and_keep(session: Session, *, park: Park, settings: Settings) -> ParkScore:
    """Score the park now and keep the day's automatic snapshot (what every full scoring does)."""
    score = get_score(session, park=park, settings=settings)
    ensure_daily_snapshot(session, score=score)
    return score


def snapshot_public(snapshot: ScoreSnapshot) -> dict[str, Any]:
    return {"id": snapshot.id, "taken_at": snapshot.taken_at.isoformat(), "day": snapshot.day.isoformat(), "trigger": snapshot.trigger,
            "created_by": snapshot.created_by, "rubric_edition": snapshot.rubric_edition, "total": snapshot.total,
            "max": snapshot.max_total, "dimensions": snapshot.dimensions, "indicators": snapshot.indicators}


def get_snapshots(session: Session, *, park: Park, limit: int = 366) -> list[dict[str, Any]]:
    """The park's snapshots, oldest first (the newest `limit`), for a trend line."""
    rows = session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.park_id == park.id)
                           .order_by(ScoreSnapshot.taken_at.desc(), ScoreSnapshot.id.desc()).limit(limit))
    return [snapshot_public(s) for s in reversed(list(rows))]
