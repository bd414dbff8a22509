"""Score schemes (考核办法) as data: a base, parts that add or deduct points, bounds and the red/black
list thresholds. Every scheme in DOMAIN.md ("Scores") is one of :data:`EXAMPLE_SCHEMES`, written as
the plain mapping a campaign office would keep in a TOML file and read by :func:`scheme_from_mapping`.

Parts (each validated when the scheme is built, never at the first score):

``weighted_rates``         Σ weight × rate (``1 − rate`` for rework, overdue, extension)
``threshold``              full points at or above a rate, minus so much per percentage point below
``failure_deductions``     so much per failed verification, more for a task failed N times or more
``escalating_deductions``  per problem: found / not fixed in time / found again, capped per category
``adjustments``            bonuses (加分, capped) and manual deductions given for the period

``failure_deductions`` and ``escalating_deductions`` take ``source_weights``: a task raised by a
leader or the media (``{"leader": 2, "media": 2}``) weighs double. A plugin adds schemes through the
``campaignflow_score_schemes`` hook and may use parts of its own (:class:`ScorePart`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from campaignflow.domain.model import TaskSource
from campaignflow.domain.scoring import (
    RATES,
    Adjustment,
    Number,
    PartResult,
    Score,
    ScorePart,
    UnitMetrics,
    exact,
    published,
)
from campaignflow.errors import InvalidInput

__all__ = [
    "EXAMPLE_SCHEMES",
    "Adjustments",
    "EscalatingDeductions",
    "FailureDeductions",
    "ScoreScheme",
    "Threshold",
    "WeightedRates",
    "builtin_schemes",
    "scheme_from_mapping",
]


def _fmt(value: Fraction) -> str:
    return str(published(value)).rstrip("0").rstrip(".") if value.denominator != 1 else str(value)


def _non_negative(value: Number, name: str) -> Fraction:
    number = exact(value, name)
    if number < 0:
        raise InvalidInput(f"{name} 不能为负数", f"{name} must not be negative", field=name)
    return number


def _amount(value: Number) -> Fraction:
    return _non_negative(value, "amount")


def _optional_amount(value: Number | None) -> Fraction | None:
    return None if value is None else _non_negative(value, "amount")


def _number(value: Number) -> Fraction:
    return exact(value, "number")


def _optional_number(value: Number | None) -> Fraction | None:
    return None if value is None else exact(value, "number")


def _caps(value: Mapping[str, Number]) -> Mapping[str, Fraction]:
    if not isinstance(value, Mapping):
        raise InvalidInput("caps 必须是映射", "caps must be a mapping", field="caps")
    return {str(k): _non_negative(x, "caps") for k, x in value.items()}


def _sources(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidInput(
            "sources 必须是任务来源列表", "sources must be a list of task sources", field="sources"
        )
    return frozenset(_weights(dict.fromkeys(value, 1), "sources"))


def _weights(value: Mapping[str, Number] | None, name: str = "source_weights") -> Mapping[str, Fraction]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{name} 必须是映射", f"{name} must be a mapping", field=name)
    known = {s.value for s in TaskSource}
    unknown = sorted(set(value) - known)
    if unknown:
        raise InvalidInput(
            f"{name} 中有未知的任务来源 {unknown}",
            f"{name} names unknown task sources {unknown}; known: {sorted(known)}",
            field=name,
        )
    return {k: _non_negative(v, name) for k, v in sorted(value.items())}


def _rate_weights(value: Mapping[str, Number]) -> Mapping[str, Fraction]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput("weights 必须是非空映射", "weights must be a non-empty mapping", field="weights")
    unknown = sorted(set(value) - set(RATES))
    if unknown:
        raise InvalidInput(
            f"weights 中有未知的指标率 {unknown}，可用：{', '.join(RATES)}",
            f"weights names unknown rates {unknown}; known: {', '.join(RATES)}",
            field="weights",
        )
    return {k: _non_negative(v, "weights") for k, v in value.items()}


@attrs.frozen
class WeightedRates:
    """Σ weight × rate; for a rate where less is better (rework, overdue, extension) weight × (1 − rate).
    A rate with nothing counted (denominator 0) earns ``empty`` × its weight (default: full)."""

    weights: Mapping[str, Fraction] = attrs.field(converter=_rate_weights)
    empty: Fraction = attrs.field(default=Fraction(1), converter=_amount)
    name: str = "weighted_rates"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        total = Fraction(0)
        terms: list[str] = []
        for rate_name, weight in self.weights.items():
            rate = metrics.rate(rate_name)
            value = rate.value
            if value is None:
                term = weight * self.empty
            else:
                term = weight * (value if RATES[rate_name] else 1 - value)
            total += term
            terms.append(f"{rate_name} {rate.numerator}/{rate.denominator}×{_fmt(weight)}={_fmt(term)}")
        return PartResult(self.name, total, "；".join(terms))


@attrs.frozen
class Threshold:
    """``points`` when ``rate`` (in percent) is at least ``at_least``; below it, ``per_point_below``
    fewer per percentage point short, never less than 0. Nothing counted earns the full points."""

    rate: str = "on_time"
    at_least: Fraction = attrs.field(default=Fraction(70), converter=_amount)
    points_: Fraction = attrs.field(default=Fraction(50), converter=_amount, alias="points")
    per_point_below: Fraction = attrs.field(default=Fraction(1), converter=_amount)
    name: str = "threshold"

    def __attrs_post_init__(self) -> None:
        if self.rate not in RATES:
            raise InvalidInput(f"未知指标率 {self.rate!r}", f"unknown rate {self.rate!r}", field="rate")

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        rate = metrics.rate(self.rate)
        value = rate.value
        if value is None or value * 100 >= self.at_least:
            return PartResult(
                self.name, self.points_, f"{self.rate} {rate.percent()} 达标，得 {_fmt(self.points_)} 分"
            )
        short = self.at_least - value * 100
        earned = max(Fraction(0), self.points_ - short * self.per_point_below)
        return PartResult(
            self.name,
            earned,
            f"{self.rate} {rate.percent()} 低于 {_fmt(self.at_least)}%，"
            f"差 {_fmt(short)} 个百分点，得 {_fmt(earned)} 分",
        )


@attrs.frozen
class FailureDeductions:
    """``per_failure`` points off per failed verification (返工); a task failed ``repeated_from``
    times or more costs ``per_repeated_failure`` for each of its failures instead. Each deduction is
    multiplied by the weight of the task's source (1 where ``source_weights`` does not name it)."""

    per_failure: Fraction = attrs.field(default=Fraction(1, 5), converter=_amount)
    repeated_from: int | None = 3
    per_repeated_failure: Fraction = attrs.field(default=Fraction(1, 2), converter=_amount)
    source_weights: Mapping[str, Fraction] = attrs.field(factory=dict, converter=_weights)
    name: str = "failure_deductions"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        total = Fraction(0)
        terms: list[str] = []
        for group in metrics.problems:
            if not group.failures:
                continue
            repeated = self.repeated_from is not None and group.failures >= self.repeated_from
            each = self.per_repeated_failure if repeated else self.per_failure
            weight = self.source_weights.get(group.source, Fraction(1))
            amount = group.failures * each * weight * group.count
            total += amount
            terms.append(f"{group.count}件×{group.failures}次×{_fmt(each)}×{_fmt(weight)}({group.source})")
        return PartResult(self.name, -total, f"扣 {_fmt(total)} 分：" + ("；".join(terms) or "无返工"))


@attrs.frozen
class EscalatingDeductions:
    """Per problem, the deduction of the furthest step it reached: ``found`` (发现), ``late`` (未按期
    整改), ``again`` (回潮, found again) — times its source weight; summed per category (the task's
    indicator) and capped there by ``caps[indicator]`` or else ``cap``. Only tasks from ``sources``
    count as problems (default: every source but the office's own decomposition)."""

    found: Fraction = attrs.field(default=Fraction(3, 10), converter=_amount)
    late: Fraction = attrs.field(default=Fraction(1), converter=_amount)
    again: Fraction = attrs.field(default=Fraction(2), converter=_amount)
    cap: Fraction | None = attrs.field(default=None, converter=_optional_amount)
    caps: Mapping[str, Fraction] = attrs.field(factory=dict, converter=_caps)
    sources: frozenset[str] = attrs.field(
        default=frozenset(s.value for s in TaskSource if s is not TaskSource.OFFICE),
        converter=_sources,
    )
    source_weights: Mapping[str, Fraction] = attrs.field(factory=dict, converter=_weights)
    name: str = "escalating_deductions"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        per_category: dict[str, Fraction] = {}
        for group in metrics.problems:
            if group.source not in self.sources:
                continue
            step = self.again if group.recurred else self.late if group.late else self.found
            weight = self.source_weights.get(group.source, Fraction(1))
            per_category[group.indicator] = per_category.get(group.indicator, Fraction(0)) + (
                step * weight * group.count
            )
        total = Fraction(0)
        terms: list[str] = []
        for category, amount in sorted(per_category.items()):
            cap = self.caps.get(category, self.cap)
            taken = amount if cap is None else min(amount, cap)
            total += taken
            capped = f"（封顶 {_fmt(cap)}）" if cap is not None and amount > cap else ""
            terms.append(f"{category} {_fmt(amount)}{capped}")
        return PartResult(self.name, -total, f"扣 {_fmt(total)} 分：" + ("；".join(terms) or "无问题"))


@attrs.frozen
class Adjustments:
    """The period's bonuses (加分: the positive adjustments, capped at ``bonus_cap``) and manual
    deductions (the negative ones, uncapped) given to the unit."""

    bonus_cap: Fraction | None = attrs.field(default=None, converter=_optional_amount)
    name: str = "adjustments"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        mine = [a for a in adjustments if a.unit == metrics.unit]
        bonus = sum((a.points for a in mine if a.points > 0), Fraction(0))
        minus = sum((a.points for a in mine if a.points < 0), Fraction(0))
        if self.bonus_cap is not None:
            bonus = min(bonus, self.bonus_cap)
        reasons = "；".join(f"{a.reason or '—'} {_fmt(a.points)}" for a in mine) or "无"
        return PartResult(self.name, bonus + minus, f"加 {_fmt(bonus)} 扣 {_fmt(-minus)}：{reasons}")


def _parts(value: Sequence[ScorePart]) -> tuple[ScorePart, ...]:
    parts = tuple(value)
    for part in parts:
        if not isinstance(part, ScorePart):
            raise InvalidInput(
                f"评分项 {part!r} 须有 name 和 points(metrics, adjustments)",
                f"score part {part!r} needs a name and points(metrics, adjustments)",
                field="parts",
            )
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise InvalidInput("评分项名称重复", f"score part names repeat: {names}", field="parts")
    return parts


@attrs.frozen
class ScoreScheme:
    """A score scheme: ``base`` plus every part's points, kept within ``minimum``..``maximum``.
    ``red_at_least`` / ``black_below`` are the 红榜 / 黑榜 thresholds of its rankings."""

    name: str
    label_zh: str
    parts: tuple[ScorePart, ...] = attrs.field(converter=_parts)
    base: Fraction = attrs.field(default=Fraction(0), converter=_number)
    minimum: Fraction | None = attrs.field(default=Fraction(0), converter=_optional_number)
    maximum: Fraction | None = attrs.field(default=Fraction(100), converter=_optional_number)
    red_at_least: Fraction | None = attrs.field(default=None, converter=_optional_number)
    black_below: Fraction | None = attrs.field(default=None, converter=_optional_number)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput("评分办法须有名称", "a score scheme needs a name", field="name")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise InvalidInput("minimum 不能大于 maximum", "minimum must not exceed maximum", field="minimum")

    def score(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment] = ()) -> Score:
        """The unit's score: base + Σ parts, clamped to the bounds."""
        results = tuple(part.points(metrics, adjustments) for part in self.parts)
        total = self.base + sum((r.points for r in results), Fraction(0))
        if self.maximum is not None:
            total = min(total, self.maximum)
        if self.minimum is not None:
            total = max(total, self.minimum)
        return Score(metrics.unit, metrics.period, self.name, total, results, metrics)


_PART_TYPES: Mapping[str, type] = {
    "weighted_rates": WeightedRates,
    "threshold": Threshold,
    "failure_deductions": FailureDeductions,
    "escalating_deductions": EscalatingDeductions,
    "adjustments": Adjustments,
}
_SCHEME_KEYS = {"name", "label", "parts", "base", "minimum", "maximum", "red_at_least", "black_below"}


def _part_from_mapping(data: Mapping[str, Any], index: int) -> ScorePart:
    if not isinstance(data, Mapping) or data.get("type") not in _PART_TYPES:
        raise InvalidInput(
            f"第 {index + 1} 个评分项的 type 必须是 {', '.join(_PART_TYPES)} 之一",
            f"part {index + 1}: type must be one of {', '.join(_PART_TYPES)}",
            field="parts",
        )
    kind = _PART_TYPES[data["type"]]
    options = {k: v for k, v in data.items() if k != "type"}
    allowed = {a.alias for a in attrs.fields(kind)}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInput(
            f"评分项 {data['type']} 不认识参数 {unknown}",
            f"part {data['type']} has no option {unknown}; it takes {sorted(allowed)}",
            field="parts",
        )
    part: ScorePart = kind(**options)
    return part


def scheme_from_mapping(data: Mapping[str, Any]) -> ScoreScheme:
    """A scheme from plain data (a dict, a TOML table): ``name``, ``label``, ``parts`` (each a table
    with a ``type`` and the part's options), optional ``base``, ``minimum``, ``maximum``,
    ``red_at_least``, ``black_below``. Any mistake is an :class:`InvalidInput` now."""
    if not isinstance(data, Mapping):
        raise InvalidInput("评分办法必须是映射", "a score scheme must be a mapping", field="scheme")
    unknown = sorted(set(data) - _SCHEME_KEYS)
    if unknown:
        raise InvalidInput(
            f"评分办法不认识字段 {unknown}", f"a scheme has no field {unknown}", field="scheme"
        )
    parts = data.get("parts")
    if not isinstance(parts, Sequence) or isinstance(parts, str) or not parts:
        raise InvalidInput("parts 必须是非空列表", "parts must be a non-empty list", field="parts")
    extra = {k: data[k] for k in ("base", "minimum", "maximum", "red_at_least", "black_below") if k in data}
    return ScoreScheme(
        name=str(data.get("name", "")),
        label_zh=str(data.get("label", data.get("name", ""))),
        parts=tuple(_part_from_mapping(p, i) for i, p in enumerate(parts)),
        **extra,
    )


_DOUBLE_FOR_LEADERS_AND_MEDIA = {"leader": 2, "media": 2}

EXAMPLE_SCHEMES: tuple[Mapping[str, Any], ...] = (
    {
        "name": "weighted_rates",
        "label": "百分制加权（处置30·按期20·返工20·超期20·延期10）",
        "parts": [
            {
                "type": "weighted_rates",
                "weights": {"disposal": 30, "on_time": 20, "rework": 20, "overdue": 20, "extension": 10},
            },
            {"type": "adjustments", "bonus_cap": 5},
        ],
        "red_at_least": 90,
        "black_below": 60,
    },
    {
        "name": "threshold_deductions",
        "label": "按期率达标得分加返工扣分（领导交办、媒体曝光加倍）",
        "maximum": 50,
        "parts": [
            {"type": "threshold", "rate": "on_time", "at_least": 70, "points": 50, "per_point_below": 1},
            {
                "type": "failure_deductions",
                "per_failure": "0.2",
                "repeated_from": 3,
                "per_repeated_failure": "0.5",
                "source_weights": _DOUBLE_FOR_LEADERS_AND_MEDIA,
            },
        ],
    },
    {
        "name": "escalating_deductions",
        "label": "问题逐级扣分（发现0.3·未按期1·回潮2，每类封顶）",
        "base": 100,
        "parts": [
            {"type": "escalating_deductions", "found": "0.3", "late": 1, "again": 2, "cap": 5},
            {"type": "adjustments", "bonus_cap": 3},
        ],
        "red_at_least": 95,
        "black_below": 85,
    },
)
"""The schemes of DOMAIN.md as data. ``weighted_rates``: the 100-point weighted scheme with bonuses
(capped at 5) and 红榜 ≥ 90, 黑榜 < 60. ``threshold_deductions``: on-time ≥ 70 % earns 50, minus 1 per
point below; 0.2 per failed verification, 0.5 each for a task failed three times or more; doubled
for leaders' and media items. ``escalating_deductions``: 100 minus 0.3 / 1 / 2 per problem found /
late / recurred, at most 5 per indicator, plus bonuses (capped at 3)."""


def builtin_schemes() -> dict[str, ScoreScheme]:
    """The :data:`EXAMPLE_SCHEMES`, built."""
    return {data["name"]: scheme_from_mapping(data) for data in EXAMPLE_SCHEMES}
