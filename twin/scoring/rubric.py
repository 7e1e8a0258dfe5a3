"""The scoring rubric as validated data: load twin/scoring/rubric_2021.yaml into pydantic models."""

from __future__ import annotations

import enum
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, field_validator, model_validator

from twin.errors import NotFound
from twin.scoring.errors import RubricError

RUBRIC_2021 = Path(__file__).with_name("rubric_2021.yaml")

PointRange = tuple[int, int]
# Exact in memory (thresholds such as 0.1 % must not become binary floats), plain numbers in JSON.
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class PartialCredit(enum.StrEnum):
    """How a value inside a partial-credit range becomes points (see the rubric file's header)."""

    linear_floor = "linear_floor"
    linear_round = "linear_round"
    lowest = "lowest"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_range(points: int | PointRange) -> int | PointRange:
    if isinstance(points, tuple) and not 0 <= points[0] < points[1]:
        raise ValueError(f"a points range must be [lo, hi] with 0 ≤ lo < hi, got {list(points)}")
    if isinstance(points, int) and points < 0:
        raise ValueError("points must not be negative")
    return points


class Band(_Strict):
    """Values in [min, max) (inclusivity adjustable) earn `points`, or a range [lo, hi] of partial credit."""

    min: Number
    max: Number | None = None
    min_inclusive: bool = True
    max_inclusive: bool = False
    points: int | PointRange

    @field_validator("points")
    @classmethod
    def _valid_points(cls, value: int | PointRange) -> int | PointRange:
        return _check_range(value)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.max is not None and self.max <= self.min:
            raise ValueError(f"band max {self.max} must be above its min {self.min}")
        if isinstance(self.points, tuple) and self.max is None:
            raise ValueError("a partial-credit range needs a band max to interpolate to")
        return self

    @property
    def top(self) -> int:
        return self.points[1] if isinstance(self.points, tuple) else self.points


class ThresholdRule(_Strict):
    type: Literal["threshold"]
    unit: Literal["percent", "count", "days", "m2"]
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _descending(self) -> ThresholdRule:
        for upper, lower in zip(self.bands, self.bands[1:], strict=False):
            if lower.min >= upper.min or lower.top > upper.top:
                raise ValueError("bands must be listed from the highest value and points down")
            if lower.max is not None and lower.max > upper.min:
                raise ValueError(f"band [{lower.min}, {lower.max}) overlaps the band starting at {upper.min}")
        return self

    @property
    def top(self) -> int:
        return self.bands[0].top


class PerItemRule(_Strict):
    type: Literal["per_item"]
    points_each: int | None = None
    weights: dict[str, int] | None = None  # class → points (e.g. cloud star level → points)
    cap: int

    @model_validator(mode="after")
    def _one_scheme(self) -> PerItemRule:
        if (self.points_each is None) == (self.weights is None):
            raise ValueError("a per_item rule needs exactly one of points_each or weights")
        return self

    @property
    def top(self) -> int:
        return self.cap


class NamedItem(_Strict):
    code: str
    name: str
    name_en: str


class DeductionRule(_Strict):
    type: Literal["deduction"]
    per_missing: int = Field(gt=0)
    items: list[NamedItem] = Field(min_length=1)
    full: int | None = None  # defaults to the indicator's max

    @property
    def top(self) -> int | None:
        return self.full


class Level(_Strict):
    key: str | None = None
    points: int | PointRange
    name: str
    name_en: str

    @field_validator("points")
    @classmethod
    def _valid_points(cls, value: int | PointRange) -> int | PointRange:
        return _check_range(value)

    @property
    def top(self) -> int:
        return self.points[1] if isinstance(self.points, tuple) else self.points


class LevelsRule(_Strict):
    type: Literal["levels"]
    levels: list[Level] = Field(min_length=2)

    @property
    def top(self) -> int:
        return max(level.top for level in self.levels)

    def level(self, key: str) -> Level:
        """The level with this key (RubricError if the rubric has none)."""
        for level in self.levels:
            if level.key == key:
                return level
        raise RubricError(f"no level '{key}' in this rule")


Rule = Annotated[ThresholdRule | PerItemRule | DeductionRule | LevelsRule, Field(discriminator="type")]


class Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z]+\.[a-z0-9_]+$")
    group: str | None = None
    group_en: str | None = None
    name: str
    name_en: str
    max: int = Field(gt=0)
    text: str = Field(min_length=10, description="the rule as published (Chinese)")
    summary_en: str = Field(min_length=10)
    source: Literal["computed", "evidence"]
    measure: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    rule: Rule

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if (self.source == "computed") != (self.measure is not None):
            raise ValueError(f"{self.id}: computed indicators name a measure, evidence indicators none")
        if self.source == "evidence" and not isinstance(self.rule, LevelsRule):
            raise ValueError(f"{self.id}: evidence indicators use a levels rule")
        top = self.rule.top if self.rule.top is not None else self.max
        if top != self.max:
            raise ValueError(f"{self.id}: the rule's best score {top} differs from max {self.max}")
        return self


def _check_sum(what: str, worth: int, parts: list[int], part_name: str) -> None:
    if sum(parts) != worth:
        raise ValueError(f"{what} is worth {worth} but its {part_name} sum to {sum(parts)}")


class _Part(_Strict):
    """A scored part of the rubric (item or dimension): id, names, points."""

    id: str
    name: str
    name_en: str
    max: int = Field(gt=0)


class Item(_Part):
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _sums(self) -> Item:
        _check_sum(f"item {self.id} ({self.name})", self.max, [i.max for i in self.indicators], "indicators")
        return self


class Dimension(_Part):
    id: str = Field(pattern=r"^[a-z]+$")
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _sums(self) -> Dimension:
        _check_sum(f"dimension {self.id} ({self.name})", self.max, [i.max for i in self.items], "items")
        for item in self.items:
            for indicator in item.indicators:
                if not indicator.id.startswith(self.id + "."):
                    raise ValueError(f"indicator {indicator.id} must start with its dimension id '{self.id}.'")
        return self

    @property
    def indicators(self) -> list[Indicator]:
        return [indicator for item in self.items for indicator in item.indicators]


class Rubric(_Strict):
    edition: str
    title: str
    title_en: str
    partial_credit: PartialCredit = PartialCredit.linear_floor
    granularity: Number = Field(default=Decimal(1), gt=0)
    dimensions: list[Dimension] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [i.id for i in self.indicators]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"indicator ids must be unique: {', '.join(duplicates)}")
        return self

    @property
    def max(self) -> int:
        return sum(d.max for d in self.dimensions)

    @property
    def indicators(self) -> list[Indicator]:
        return [indicator for d in self.dimensions for indicator in d.indicators]

    def locate(self, indicator_id: str) -> tuple[Dimension, Item, Indicator]:
        """The dimension, item and indicator for an id (NotFound if unknown)."""
        for dimension in self.dimensions:
            for item in dimension.items:
                for indicator in item.indicators:
                    if indicator.id == indicator_id:
                        return dimension, item, indicator
        raise NotFound(f"unknown indicator '{indicator_id}'; see GET /api/v1/score/rubric")


def parse_rubric(text: str, *, source: str = "rubric") -> Rubric:
    """A rubric from YAML text, validated; RubricError naming the first problems."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(f"{source} is not valid YAML: {exc}") from None
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise RubricError(f"{source} is not a valid rubric: {problems}") from None


@lru_cache(maxsize=4)
def load_rubric(path: Path = RUBRIC_2021) -> Rubric:
    """The rubric in `path` (default: the 2021 Chengdu rules), parsed once per process."""
    return parse_rubric(path.read_text(encoding="utf-8"), source=path.name)
