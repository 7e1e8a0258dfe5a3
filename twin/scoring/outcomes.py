"""The shapes every measure's result takes: shares, counts, per-item points, categories; and the text helpers.

Each builds an Outcome (points by the indicator's rule, value text, evidence, gap, advice, map block)
in Chinese first with English.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from twin.scoring.inputs import Device, Place
from twin.scoring.results import Advice, Context, MapBlock, Outcome, Text, bilingual
from twin.scoring.rubric import Indicator, PerItemRule, ThresholdRule
from twin.scoring.rules import as_number, exact, percent, points_for_value, points_per_item, reachable_points, smallest_step

TRUE_WORDS = {"true", "yes", "y", "1", "是", "有"}


# ── small helpers ────────────────────────────────────────────────────────────────────────────────

def flag(value: Any) -> bool:
    """A JSON property read as yes/no (true, "true", "是", 1 → True)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def as_list(value: Any) -> list[str]:
    """A property that should be a list of names; a comma-separated string is split."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def pct(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value):.1f}%"


def num(value: Fraction | float) -> str:
    number = as_number(exact(value)) if not isinstance(value, Fraction) else as_number(value)
    return f"{number:,}" if isinstance(number, int) else f"{number:,.1f}"


def listing(codes: Sequence[str], limit: int = 8) -> tuple[str, str]:
    """Codes for a sentence, shortened: ('A、B 等12个', 'A, B and 10 more')."""
    shown = list(codes[:limit])
    more = len(codes) - len(shown)
    zh = "、".join(shown) + (f" 等{len(codes)}个" if more else "")
    en = ", ".join(shown) + (f" and {more} more" if more else "")
    return zh, en


def gain_text(gain: Fraction) -> tuple[str, str]:
    number = as_number(gain)
    return f"+{number}分", f"+{number} point{'s' if gain != 1 else ''}"


def score(rule: ThresholdRule, value: Fraction | int | None, ctx: Context) -> Fraction:
    return points_for_value(rule, value, policy=ctx.policy, granularity=ctx.granularity)


def targets_above(rule: ThresholdRule, points: Fraction, ctx: Context) -> list[Fraction]:
    """The next score the rule can give above `points`, and its best score (advice aims at both)."""
    higher = [p for p in reachable_points(rule, policy=ctx.policy, granularity=ctx.granularity) if p > points]
    return sorted({higher[0], higher[-1]}) if higher else []


def threshold_rule(indicator: Indicator) -> ThresholdRule:
    assert isinstance(indicator.rule, ThresholdRule), f"{indicator.id} needs a threshold rule"
    return indicator.rule


def add_advice(outcome: Outcome, rule: ThresholdRule, ctx: Context, step: Callable[[Fraction], tuple[str, str, Sequence[str]] | None]) -> None:
    """Advice for each higher score the rule can give (the next one and the best): `step(target)` says
    what would reach it, as (zh, en, codes), or None; the gain in points is appended to the text."""
    for target in targets_above(rule, outcome.points, ctx):
        found = step(target)
        if found is None:
            continue
        zh, en, codes = found
        gain = target - outcome.points
        gain_zh, gain_en = gain_text(gain)
        outcome.advice.append(Advice(zh=f"{zh}：{gain_zh}", en=f"{en}: {gain_en}", gain=gain, codes=tuple(codes)))


def additions_needed(rule: ThresholdRule, ctx: Context, *, n: int, total: int, target: Fraction, limit: int) -> int | None:
    """How many more of n counted things (out of a fixed total) reach `target` points (None: cannot; 0 is never returned)."""
    k = smallest_step(lambda k: score(rule, percent(n + k, total), ctx), target=target, limit=limit)
    return k or None


def place_name(place: Place | Device) -> tuple[str, str]:
    return place.name or place.code, place.name_en or place.name or place.code


def point_feature(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


# ── shared shapes of result ──────────────────────────────────────────────────────────────────────

def ratio_outcome(indicator: Indicator, ctx: Context, *, ok: list[str], missing: list[str], noun: Text, lacking: Text,
                  fix: Text, layer: str | None, unit: str = "个", evidence: dict[str, Any] | None = None,
                  geometries: dict[str, Any] | None = None) -> Outcome:
    """A share of things that meet a condition (ok / (ok + missing)) scored by a threshold rule in percent.

    `unit` is the Chinese measure word for the noun (个, 台, 部…).
    """
    rule = threshold_rule(indicator)
    n, total = len(ok), len(ok) + len(missing)
    value = percent(n, total)
    points = score(rule, value, ctx)
    text = f"{n}/{total} = {pct(value)}" if total else "—"
    outcome = Outcome(points=points, value=value, value_text=bilingual(text, text),
                      evidence={"counted": n, "total": total, "ok": ok, "missing": missing, **(evidence or {})},
                      map=MapBlock(layer, ok, missing, geometries) if layer else None)
    if points >= indicator.max:
        return outcome
    if total == 0:
        outcome.gap = bilingual(f"孪生中没有{noun['zh']}数据", f"the twin holds no {noun['en']}")
        return outcome
    zh, en = listing(missing)
    outcome.gap = bilingual(f"{len(missing)}{unit}{noun['zh']}{lacking['zh']}：{zh}", f"{len(missing)} {noun['en']} {lacking['en']}: {en}")

    def step(target: Fraction) -> tuple[str, str, Sequence[str]] | None:
        k = additions_needed(rule, ctx, n=n, total=total, target=target, limit=len(missing))
        if k is None:
            return None
        zh, en = listing(missing[:k])
        reached = pct(percent(n + k, total))
        return (f"再为{k}{unit}{noun['zh']}{fix['zh']}（如 {zh}），达到{reached}",
                f"{fix['en']} {k} more {noun['en']} (e.g. {en}) to reach {reached}", missing[:k])

    add_advice(outcome, rule, ctx, step)
    return outcome


def count_outcome(indicator: Indicator, ctx: Context, *, counted: list[str], noun: Text, more: Text, unit: str = "个",
                  missing_names: list[Text] | None = None, layer: str | None = None, ok_codes: list[str] | None = None,
                  missing_codes: list[str] | None = None, evidence: dict[str, Any] | None = None) -> Outcome:
    """A number of things (pilots, categories, tenants) scored by a threshold rule on the count.

    With `missing_names` (the categories not present) the advice names what to add.
    """
    rule = threshold_rule(indicator)
    n = len(counted)
    points = score(rule, n, ctx)
    outcome = Outcome(points=points, value=Fraction(n), value_text=bilingual(f"{n}{unit}{noun['zh']}", f"{n} {noun['en']}"),
                      evidence={"count": n, "counted": counted, **(evidence or {})},
                      map=MapBlock(layer, ok_codes if ok_codes is not None else counted, missing_codes or []) if layer else None)
    if points >= indicator.max:
        return outcome
    if missing_names:
        lacking_zh = "、".join(m["zh"] for m in missing_names)
        lacking_en = ", ".join(m["en"] for m in missing_names)
        outcome.gap = bilingual(f"现有{n}{unit}{noun['zh']}；缺少：{lacking_zh}", f"{n} {noun['en']}; missing: {lacking_en}")
    else:
        outcome.gap = bilingual(f"现有{n}{unit}{noun['zh']}", f"only {n} {noun['en']}")
    limit = len(missing_names) if missing_names is not None else 1000

    def step(target: Fraction) -> tuple[str, str, Sequence[str]] | None:
        k = smallest_step(lambda k: score(rule, n + k, ctx), target=target, limit=limit)
        if not k:
            return None
        if missing_names:
            names = missing_names[:k]
            return f"{more['zh']}{'、'.join(m['zh'] for m in names)}", f"{more['en']} {', '.join(m['en'] for m in names)}", ()
        return f"{more['zh']}{k}{unit}{noun['zh']}", f"{more['en']} {k} more {noun['en']}", ()

    add_advice(outcome, rule, ctx, step)
    return outcome


def per_item_outcome(indicator: Indicator, *, counts: dict[str, int] | int, counted: list[str], noun: Text,
                     layer: str | None, ok_codes: list[str], evidence: dict[str, Any] | None = None) -> Outcome:
    """Points per counted item (or per weight class), capped."""
    rule = indicator.rule
    assert isinstance(rule, PerItemRule)
    points = points_per_item(rule, counts)
    n = len(counted)
    outcome = Outcome(points=points, value=Fraction(n), value_text=bilingual(f"{n}家{noun['zh']}", f"{n} {noun['en']}"),
                      evidence={"count": n, "counted": counted, **(evidence or {})},
                      map=MapBlock(layer, ok_codes, []) if layer else None)
    if points >= rule.cap:
        return outcome
    short = Fraction(rule.cap) - points
    outcome.gap = bilingual(f"{n}家{noun['zh']}得{as_number(points)}分，距上限{rule.cap}分差{as_number(short)}分",
                            f"{n} {noun['en']} give {as_number(points)} points, {as_number(short)} short of the cap of {rule.cap}")
    gain_zh, gain_en = gain_text(short)
    if rule.points_each:
        k = math.ceil(short / rule.points_each)
        outcome.advice.append(Advice(zh=f"每再有1家{noun['zh']}+{rule.points_each}分；再有{k}家可达上限：{gain_zh}",
                                     en=f"each further {noun['en']} adds {rule.points_each}; {k} more reach the cap: {gain_en}",
                                     gain=short))
    else:
        assert rule.weights is not None
        best = max(rule.weights.values())
        weights = "、".join(f"{cls}星+{pts}" for cls, pts in sorted(rule.weights.items()))
        weights_en = ", ".join(f"{cls}-star +{pts}" for cls, pts in sorted(rule.weights.items()))
        k = math.ceil(short / best)
        outcome.advice.append(Advice(zh=f"每家上云企业按星级加分（{weights}）；至少再有{k}家五星级可达上限：{gain_zh}",
                                     en=f"each rated tenant adds by star level ({weights_en}); at least {k} more 5-star tenants reach the cap: {gain_en}",
                                     gain=short))
    return outcome


def device_categories(indicator: Indicator, ctx: Context, devices: Sequence[Device], names_of: Callable[[Device], set[str]], *,
                      noun: Text, more: Text, layer: str) -> Outcome:
    """How many of the indicator's `categories` at least one device provides (names_of gives a device's category codes)."""
    categories = indicator.params["categories"]
    wanted = {c["code"] for c in categories}
    provides = {d.code: names_of(d) & wanted for d in devices}
    present = [c["code"] for c in categories if any(c["code"] in f for f in provides.values())]
    missing = [bilingual(c["name"], c["name_en"]) for c in categories if c["code"] not in present]
    return count_outcome(indicator, ctx, counted=present, noun=noun, unit="类", more=more, missing_names=missing, layer=layer,
                         ok_codes=[d for d, f in provides.items() if f], missing_codes=[d for d, f in provides.items() if not f],
                         evidence={"devices": {d: sorted(f) for d, f in provides.items()}})
