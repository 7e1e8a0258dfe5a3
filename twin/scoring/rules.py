"""Pure scoring rules (no database): value → points by bands, per-item counts with caps, deductions, levels.

All arithmetic is exact (fractions), so a ratio of exactly 60 % lands in the 60 %（含） band and never
just below it. Points come back as Fractions; `as_number` turns them into int/float for output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from twin.errors import InvalidInput
from twin.scoring.rubric import Band, DeductionRule, LevelsRule, PartialCredit, PerItemRule, ThresholdRule

Number = int | float | Fraction | Decimal
ONE = Fraction(1)


def exact(value: Number) -> Fraction:
    """A value as an exact fraction; floats are read at 9 decimals, so 0.6 means 3/5 and not 0.5999…."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return Fraction(repr(round(value, 9)))
    return Fraction(value)


def as_number(value: Fraction | None) -> int | float | None:
    """A fraction as an int when whole, else a float rounded to 4 decimals (for JSON and reports)."""
    if value is None:
        return None
    return int(value) if value.denominator == 1 else round(float(value), 4)


def percent(numerator: Number, denominator: Number) -> Fraction | None:
    """numerator/denominator in percent, exactly; None when the denominator is zero."""
    denominator = exact(denominator)
    return None if denominator == 0 else exact(numerator) * 100 / denominator


def in_band(band: Band, value: Number) -> bool:
    """True when the value lies inside the band's bounds (inclusive/exclusive as the band says)."""
    v = exact(value)
    low = Fraction(band.min)
    if v < low or (v == low and not band.min_inclusive):
        return False
    if band.max is None:
        return True
    high = Fraction(band.max)
    return v < high or (v == high and band.max_inclusive)


def band_of(rule: ThresholdRule, value: Number) -> Band | None:
    """The highest band holding the value, or None (the value scores 0)."""
    return next((band for band in rule.bands if in_band(band, value)), None)


def interpolate(band: Band, value: Number, *, policy: PartialCredit, granularity: Number = 1) -> Fraction:
    """Points for a value inside a band whose points are a range [lo, hi].

    The value's position between the band's min and max maps linearly onto lo..hi (min → lo,
    max → hi); linear_floor rounds down to the granularity, linear_round rounds half up, lowest
    always gives lo. With max exclusive, hi is the limit the range approaches.
    """
    assert isinstance(band.points, tuple) and band.max is not None
    lo, hi = (Fraction(p) for p in band.points)
    if policy is PartialCredit.lowest:
        return lo
    step = exact(granularity)
    position = (exact(value) - Fraction(band.min)) / (Fraction(band.max) - Fraction(band.min))
    raw = lo + (hi - lo) * min(max(position, Fraction(0)), ONE)
    steps = raw / step if policy is PartialCredit.linear_floor else raw / step + Fraction(1, 2)
    return min(max(math.floor(steps) * step, lo), hi)


def points_for_value(rule: ThresholdRule, value: Number | None, *, policy: PartialCredit = PartialCredit.linear_floor,
                     granularity: Number = 1) -> Fraction:
    """Points a threshold rule gives a value (0 below every band or when there is no value)."""
    if value is None:
        return Fraction(0)
    if rule.unit == "count":
        # Counts are whole: the rubric's count bands ("1~2家", "3家以上") leave no room between 2 and 3.
        value = math.floor(Fraction(value))
    band = band_of(rule, value)
    if band is None:
        return Fraction(0)
    if isinstance(band.points, int):
        return Fraction(band.points)
    return interpolate(band, value, policy=policy, granularity=granularity)


def reachable_points(rule: ThresholdRule, *, policy: PartialCredit = PartialCredit.linear_floor, granularity: Number = 1) -> list[Fraction]:
    """Every score the rule can give, ascending (0 included); ranges contribute each step they can reach."""
    step = exact(granularity)
    scores = {Fraction(0)}
    for band in rule.bands:
        if isinstance(band.points, int):
            scores.add(Fraction(band.points))
            continue
        lo, hi = (Fraction(p) for p in band.points)
        if policy is PartialCredit.lowest:
            scores.add(lo)
            continue
        value = lo
        while value <= hi:
            if value_needed_in_band(band, value, policy=policy, granularity=step) is not None:
                scores.add(value)
            value += step
    return sorted(scores)


def value_needed_in_band(band: Band, target: Fraction, *, policy: PartialCredit, granularity: Number = 1) -> Fraction | None:
    """The smallest value inside the band that earns at least `target` points, or None."""
    low = Fraction(band.min)
    if isinstance(band.points, int):
        return low if band.points >= target else None
    lo, hi = (Fraction(p) for p in band.points)
    if target <= lo:
        return low
    if policy is PartialCredit.lowest or target > hi:
        return None
    raw_needed = target if policy is PartialCredit.linear_floor else target - exact(granularity) / 2
    assert band.max is not None
    high = Fraction(band.max)
    value = low + (raw_needed - lo) / (hi - lo) * (high - low)
    if value < high or (value == high and band.max_inclusive):
        return max(value, low)
    return None


def value_needed(rule: ThresholdRule, target: Fraction, *, policy: PartialCredit = PartialCredit.linear_floor,
                 granularity: Number = 1) -> Fraction | None:
    """The smallest value that earns at least `target` points under the rule (None if unreachable).

    For a band with an exclusive minimum the answer is that minimum: any value above it will do.
    """
    for band in reversed(rule.bands):  # lowest band first: the smallest value wins
        needed = value_needed_in_band(band, target, policy=policy, granularity=granularity)
        if needed is not None:
            return needed
    return None


def smallest_step(points_at: Callable[[int], Fraction], *, target: Fraction, limit: int) -> int | None:
    """The smallest k in 0..limit with points_at(k) ≥ target, or None (e.g. how many chargers to add)."""
    for k in range(limit + 1):
        if points_at(k) >= target:
            return k
    return None


def points_per_item(rule: PerItemRule, counts: Mapping[str, int] | int) -> Fraction:
    """Points for counted items: points_each × count, or Σ weight(class) × count; capped."""
    if rule.points_each is not None:
        n = counts if isinstance(counts, int) else sum(counts.values())
        total = rule.points_each * n
    else:
        assert rule.weights is not None
        classes = counts if not isinstance(counts, int) else {}
        total = sum(rule.weights.get(str(cls), 0) * n for cls, n in classes.items())
    return Fraction(min(total, rule.cap))


def points_after_deduction(rule: DeductionRule, present: Iterable[str], *, full: int) -> Fraction:
    """Full points minus `per_missing` for each listed item not present, never below 0."""
    have = set(present)
    missing = sum(1 for item in rule.items if item.code not in have)
    return Fraction(max(full - rule.per_missing * missing, 0))


def allowed_points(rule: LevelsRule) -> list[int]:
    """Every score a self-assessment may claim under a levels rule, ascending."""
    scores: set[int] = set()
    for level in rule.levels:
        if isinstance(level.points, tuple):
            scores.update(range(level.points[0], level.points[1] + 1))
        else:
            scores.add(level.points)
    return sorted(scores)


def check_claimed_points(rule: LevelsRule, points: Number) -> Fraction:
    """The claimed points if the rule allows them, else InvalidInput listing what it allows."""
    claimed = exact(points)
    allowed = allowed_points(rule)
    if claimed not in allowed:
        shown = ", ".join(str(p) for p in allowed)
        raise InvalidInput(f"{as_number(claimed)} points is not a level this rule gives; allowed: {shown}")
    return claimed


def level_for_points(rule: LevelsRule, points: Number) -> str | None:
    """The key (or name) of the level a score belongs to."""
    claimed = exact(points)
    for level in rule.levels:
        lo, hi = level.points if isinstance(level.points, tuple) else (level.points, level.points)
        if lo <= claimed <= hi:
            return level.key or level.name
    return None
