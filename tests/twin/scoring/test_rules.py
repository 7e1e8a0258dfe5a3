"""Pure rule functions (no database): bands with edges, partial-credit policies, caps, deductions, levels."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.errors import InvalidInput
from twin.scoring.rubric import DeductionRule, LevelsRule, PartialCredit, PerItemRule, ThresholdRule, load_rubric
from twin.scoring.rules import (
    allowed_points,
    as_number,
    check_claimed_points,
    exact,
    level_for_points,
    percent,
    points_after_deduction,
    points_for_value,
    points_per_item,
    reachable_points,
    smallest_step,
    value_needed,
)

RUBRIC = load_rubric()


def rule(indicator_id: str):  # type: ignore[no-untyped-def]
    return RUBRIC.locate(indicator_id)[2].rule


CONDUIT = rule("infra.conduit_roads")  # ≥90 → 5; [60, 90) → 2..4
G5 = rule("infra.coverage_5g")  # ≥90 → 5; [85, 90) → 2..4
PILOTS = rule("infra.fiber_to_desk")  # ≥3 → 5; [1, 2] → 2..4
CENTRE = rule("infra.monitoring_centre_area")  # ≥50 → 5; (0, 50) → 2..4
CAMERAS = rule("ops.camera_coverage")  # ≥90 → 3; [70, 90) → 1..2
CLOUD = rule("infra.cloud_enterprises")  # ≥10 → 10; [5, 9] → 5..9
RETENTION = rule("ops.video_retention")  # ≥30 → 2; [5, 30) → 1
EV = rule("ops.ev_charging")  # ≥10 → 5; [3, 10) → 2..4


@pytest.mark.parametrize(("value", "points"), [
    (0, 0), (Fraction(5999, 100), 0),
    (60, 2),  # 60%（含）: the range starts at 2
    (Fraction(6999, 100), 2),  # 2 + 2·9.99/30 = 2.67 → 2
    (75, 3),  # 2 + 2·15/30 = 3 (the worked example)
    (Fraction(8999, 100), 3),  # 2 + 2·29.99/30 = 3.9993 → 3: 4 is the limit the range approaches
    (90, 5), (100, 5),
])
def test_ratio_bands_and_their_edges(value: Fraction | int, points: int) -> None:
    assert points_for_value(CONDUIT, value) == points


def test_exactly_sixty_percent_from_floats_and_fractions_is_in_the_band() -> None:
    assert (10.6 - 10) * 100 < 60  # float arithmetic lands just below 60 …
    assert points_for_value(CONDUIT, (10.6 - 10) * 100) == 2  # … exact() reads floats at 9 decimals
    assert points_for_value(CONDUIT, percent(3, 5)) == 2
    assert points_for_value(CONDUIT, percent(600.0, 1000.0)) == 2
    assert points_for_value(CONDUIT, percent(9, 10)) == 5
    assert points_for_value(CONDUIT, 89.9999999999) == 5, "floats are read at 9 decimals"
    assert exact(0.6) == Fraction(3, 5) and exact(Decimal("0.25")) == Fraction(1, 4)
    with pytest.raises(ValueError):
        exact(float("nan"))


def test_above_ninety_for_5g_includes_ninety() -> None:
    assert points_for_value(G5, 90) == 5
    assert points_for_value(G5, Fraction(89999, 1000)) == 3  # 2 + 2·4.999/5 = 3.9996 → 3
    assert points_for_value(G5, 85) == 2
    assert points_for_value(G5, Fraction(8499, 100)) == 0


@pytest.mark.parametrize(("count", "points"), [(0, 0), (1, 2), (2, 4), (3, 5), (7, 5)])
def test_count_range_with_inclusive_upper_end(count: int, points: int) -> None:
    # "试点数量1~2个得2~4分": 1 → 2, 2 → 4 (both ends belong to the range), 3 or more → 5
    assert points_for_value(PILOTS, count) == points


@pytest.mark.parametrize(("count", "points"), [(4, 0), (5, 5), (7, 7), (9, 9), (10, 10), (40, 10)])
def test_cloud_enterprises_5_to_9_give_5_to_9(count: int, points: int) -> None:
    assert points_for_value(CLOUD, count) == points


@pytest.mark.parametrize(("area", "points"), [(0, 0), (Fraction(1, 100), 2), (25, 3), (Fraction(4999, 100), 3), (50, 5), (120, 5)])
def test_exclusive_minimum_for_a_room_that_exists(area: Fraction | int, points: int) -> None:
    # 未独立设置 → 0; any room under 50 m² → 2..4 over (0, 50); 50 m²（含） → 5
    assert points_for_value(CENTRE, area) == points


def test_single_point_band_and_no_value() -> None:
    assert [points_for_value(RETENTION, d) for d in (4, 5, 29, 30, 90)] == [0, 1, 1, 2, 2]
    assert points_for_value(RETENTION, None) == 0


@pytest.mark.parametrize(("policy", "value", "points"), [
    (PartialCredit.linear_floor, Fraction(165, 2), 3),  # 82.5%: 2 + 2·22.5/30 = 3.5 → 3
    (PartialCredit.linear_round, Fraction(165, 2), 4),  # … rounded half up → 4
    (PartialCredit.linear_round, 67, 2),  # 2 + 2·7/30 = 2.47 → 2
    (PartialCredit.lowest, Fraction(165, 2), 2),
    (PartialCredit.lowest, 90, 5),
])
def test_partial_credit_policies(policy: PartialCredit, value: Fraction | int, points: int) -> None:
    assert points_for_value(CONDUIT, value, policy=policy) == points


def test_granularity_of_half_points() -> None:
    # 82.5% with 0.5-point granularity: 3.5 exactly
    assert points_for_value(CONDUIT, Fraction(165, 2), granularity=Fraction(1, 2)) == Fraction(7, 2)


def test_reachable_points_and_value_needed() -> None:
    # Camera coverage [70, 90) → 1..2 rounded down never reaches 2 below 90%.
    assert reachable_points(CAMERAS) == [0, 1, 3]
    assert reachable_points(CAMERAS, policy=PartialCredit.linear_round) == [0, 1, 2, 3]
    assert reachable_points(CONDUIT, policy=PartialCredit.lowest) == [0, 2, 5]
    assert value_needed(EV, Fraction(5)) == 10
    assert value_needed(EV, Fraction(3)) == Fraction(13, 2)  # 3 = 2 + 2·(v − 3)/7 → v = 6.5%
    assert value_needed(EV, Fraction(2)) == 3
    assert value_needed(CAMERAS, Fraction(2)) == 90  # not inside [70, 90): the next band
    assert value_needed(CENTRE, Fraction(3)) == 25
    assert value_needed(PILOTS, Fraction(6)) is None


def test_smallest_step_counts_additions() -> None:
    # 15 chargers for 212 spaces = 7.08% → 3; 10% of 212 needs 22 chargers: 7 more for 5 points.
    assert points_for_value(EV, percent(15, 212)) == 3
    assert smallest_step(lambda k: points_for_value(EV, percent(15 + k, 212)), target=Fraction(5), limit=197) == 7
    # Rounded down, 4 is only approached inside [3%, 10%): the first count giving ≥ 4 is the 10% one.
    assert smallest_step(lambda k: points_for_value(EV, percent(15 + k, 212)), target=Fraction(4), limit=197) == 7
    assert smallest_step(lambda k: points_for_value(EV, percent(15 + k, 212), policy=PartialCredit.linear_round),
                         target=Fraction(4), limit=197) == 3  # 17/212 = 8.02%: 2 + 2·5.02/7 = 3.43 → 3; 18/212 = 8.49% → 3.57 → 4
    assert smallest_step(lambda k: Fraction(0), target=Fraction(1), limit=5) is None


def test_per_item_counts_with_caps() -> None:
    each = rule("industry.digital_factories")
    assert isinstance(each, PerItemRule)
    assert [points_per_item(each, n) for n in (0, 1, 3, 4, 5, 10)] == [0, 5, 15, 20, 20, 20]
    stars = rule("industry.cloud_stars")
    assert points_per_item(stars, {"3": 3, "4": 1, "5": 1}) == 18  # 9 + 4 + 5
    assert points_per_item(stars, {"5": 6}) == 25  # 30, capped
    assert points_per_item(stars, {"2": 4, "1": 9}) == 0  # below three stars nothing counts
    assert points_per_item(rule("industry.lianghua"), 10) == 30 == points_per_item(rule("industry.lianghua"), 11)


def test_deductions_per_missing_service() -> None:
    services = rule("infra.wired_services")
    assert isinstance(services, DeductionRule)
    everything = [i.code for i in services.items]
    assert points_after_deduction(services, everything, full=5) == 5
    assert points_after_deduction(services, everything[:4], full=5) == 4
    assert points_after_deduction(services, ["broadband", "unknown"], full=5) == 1
    assert points_after_deduction(services, [], full=5) == 0
    harsh = DeductionRule(type="deduction", per_missing=2, items=services.items)
    assert points_after_deduction(harsh, ["broadband"], full=5) == 0, "never below zero"


def test_levels_allow_only_published_points() -> None:
    team = rule("org.it_team")  # 10 / 3~6 / 0
    assert isinstance(team, LevelsRule)
    assert allowed_points(team) == [0, 3, 4, 5, 6, 10]
    assert check_claimed_points(team, 5) == 5
    for bad in (1, 7, 9, 11, 4.5):
        with pytest.raises(InvalidInput, match="allowed: 0, 3, 4, 5, 6, 10"):
            check_claimed_points(team, bad)
    assert level_for_points(team, 4) == "兼职人员"
    hd = rule("ops.camera_hd")
    assert isinstance(hd, LevelsRule) and hd.level("sd").points == 1


def test_as_number() -> None:
    assert as_number(Fraction(6)) == 6 and isinstance(as_number(Fraction(6)), int)
    assert as_number(Fraction(7, 2)) == 3.5 and as_number(None) is None


THRESHOLDS = [(i.id, i.rule, i.max) for i in RUBRIC.indicators if isinstance(i.rule, ThresholdRule)]


@settings(max_examples=150, deadline=None)
@given(index=st.integers(0, len(THRESHOLDS) - 1), a=st.fractions(0, 400), b=st.fractions(0, 400),
       policy=st.sampled_from(list(PartialCredit)))
def test_every_threshold_rule_is_monotone_and_bounded(index: int, a: Fraction, b: Fraction, policy: PartialCredit) -> None:
    _, threshold, top = THRESHOLDS[index]
    low, high = sorted((a, b))
    p_low, p_high = points_for_value(threshold, low, policy=policy), points_for_value(threshold, high, policy=policy)
    assert 0 <= p_low <= p_high <= top
