"""Scores (考核): the metrics of a unit in a period, the score schemes that turn them into points,
multi-period totals and rankings. Pure values and arithmetic: the counts come from SQL
(:mod:`campaignflow.store.metrics`), nothing here reads a database or a clock.

All arithmetic is exact (:class:`fractions.Fraction`): a scheme's numbers are read from their
decimal text (``0.2`` is two tenths, not the nearest binary float), so a hand-computed expectation
is met to the last digit. Scores are published rounded half-up to two decimals; ties are judged on
the published figure (see :func:`rank`). The counting rules are in docs/scoring.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Protocol, runtime_checkable

import attrs

from campaignflow.errors import InvalidInput

__all__ = [
    "RATES",
    "Adjustment",
    "Number",
    "PartResult",
    "Period",
    "ProblemGroup",
    "Ranked",
    "Rate",
    "Score",
    "ScorePart",
    "UnitMetrics",
    "cumulative",
    "exact",
    "published",
    "rank",
]

Number = int | float | str | Decimal | Fraction


def exact(value: Number, name: str = "value") -> Fraction:
    """``value`` as an exact fraction; a float is read from its shortest decimal text (0.2 → 1/5)."""
    if isinstance(value, bool):
        raise InvalidInput(f"{name} 必须是数字", f"{name} must be a number", field=name)
    try:
        if isinstance(value, float):
            return Fraction(repr(value))
        if isinstance(value, (int, str, Decimal, Fraction)):
            return Fraction(value)
    except (ValueError, ZeroDivisionError, ArithmeticError):
        pass
    raise InvalidInput(
        f"{name} 必须是数字，得到 {value!r}", f"{name} must be a number, got {value!r}", field=name
    )


def published(value: Fraction) -> Decimal:
    """The figure a bulletin prints: rounded half-up (四舍五入) to two decimals."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


_FIRST_DAY, _LAST_END = date(1900, 1, 1), date(9001, 1, 1)  # deadlines lie in 1970–9000; near
# year 1 or 9999 turning a day into a zoned datetime overflows


@attrs.frozen
class Period:
    """A scoring period (考核周期): the days ``start`` ≤ day < ``end`` in the campaign's timezone.

    A task belongs to the period holding the day its (current, exclusive) deadline ends on."""

    label: str
    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date):
                raise InvalidInput(f"{name} 必须是日期", f"{name} must be a date", field=name)
        if not (self.start >= _FIRST_DAY and self.end <= _LAST_END):
            raise InvalidInput(
                "考核周期须在 1900 年至 9000 年之间",
                "a period must lie within the years 1900 to 9000",
                field="period",
            )
        if not self.start < self.end:
            raise InvalidInput(
                "考核周期的开始日期必须早于结束日期",
                "a period's start must come before its (exclusive) end",
                field="period",
            )

    @classmethod
    def parse(cls, text: str) -> Period:
        """A period from how offices name it: ``2026-11`` (a month), ``2026-W45`` (an ISO week),
        ``2026-Q4`` (a quarter), ``2026`` (a year) or ``2026-11-01..2026-11-30`` (inclusive days)."""
        value = text.strip() if isinstance(text, str) else ""
        try:
            if ".." in value:
                first, last = (date.fromisoformat(part.strip()) for part in value.split("..", 1))
                return cls(f"{first:%Y-%m-%d}至{last:%Y-%m-%d}", first, last + timedelta(days=1))
            if re.fullmatch(r"\d{4}-W\d{2}", value):
                year, week = int(value[:4]), int(value[6:])
                start = date.fromisocalendar(year, week, 1)
                return cls(f"{year}年第{week}周", start, start + timedelta(days=7))
            if re.fullmatch(r"\d{4}-Q[1-4]", value):
                year, quarter = int(value[:4]), int(value[6])
                start = date(year, quarter * 3 - 2, 1)
                end = date(year + 1, 1, 1) if quarter == 4 else date(year, quarter * 3 + 1, 1)
                return cls(f"{year}年第{quarter}季度", start, end)
            if re.fullmatch(r"\d{4}-\d{2}", value):
                year, month = int(value[:4]), int(value[5:])
                start = date(year, month, 1)
                end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
                return cls(f"{year}年{month}月", start, end)
            if re.fullmatch(r"\d{4}", value):
                year = int(value)
                return cls(f"{year}年度", date(year, 1, 1), date(year + 1, 1, 1))
        except (ValueError, OverflowError):  # no such day, or past 9999-12-31 (9999-W52, ..9999-12-31)
            pass
        raise InvalidInput(
            f"无法识别的考核周期 {text!r}：请写 2026-11、2026-W45、2026-Q4、2026 或 2026-11-01..2026-11-30",
            f"cannot read the period {text!r}: write 2026-11, 2026-W45, 2026-Q4, 2026 "
            "or 2026-11-01..2026-11-30",
            field="period",
        )


@attrs.frozen
class Rate:
    """A ratio with its explicit denominator. ``value`` is None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    def percent(self) -> str:
        """``"66.67%"``, or ``"—"`` with nothing counted."""
        value = self.value
        return "—" if value is None else f"{published(value * 100)}%"


@attrs.frozen
class ProblemGroup:
    """``count`` due tasks of a unit that share indicator, source, failed verifications, lateness
    and recurrence: what per-problem deductions are computed from."""

    indicator: str
    source: str
    failures: int
    late: bool  # overdue and unfinished, or finished after the deadline
    recurred: bool  # 回潮
    count: int


@attrs.frozen(kw_only=True)
class UnitMetrics:
    """The counts of one unit in one period (docs/scoring.md states what each one counts)."""

    unit: str
    period: Period
    due: int  # tasks whose deadline falls in the period, neither cancelled nor suspended
    completed: int  # of those, verified (and perhaps archived) by now
    completed_on_time: int  # of those, verified before the deadline
    overdue: int  # due tasks past their deadline and not verified
    extended: int  # due tasks with at least one approved extension
    first_pass: int  # completed tasks whose first verification passed
    verifications: int  # verification results (pass or fail) recorded for due tasks
    failed_verifications: int  # of those, failures (返工)
    recurrences: int  # due tasks that are a 回潮 of an earlier problem
    close_seconds: int  # total time from assignment to verification of the completed, less suspensions
    problems: tuple[ProblemGroup, ...] = ()

    @property
    def on_time_rate(self) -> Rate:
        """按期完成率 = completed on time / due."""
        return Rate(self.completed_on_time, self.due)

    @property
    def disposal_rate(self) -> Rate:
        """处置率 = completed / due."""
        return Rate(self.completed, self.due)

    @property
    def first_pass_rate(self) -> Rate:
        """一次验收通过率 = passed at the first verification / verified (completed)."""
        return Rate(self.first_pass, self.completed)

    @property
    def rework_rate(self) -> Rate:
        """返工率 = failed verifications / verifications."""
        return Rate(self.failed_verifications, self.verifications)

    @property
    def overdue_rate(self) -> Rate:
        """超期率 = overdue and unfinished / due."""
        return Rate(self.overdue, self.due)

    @property
    def extension_rate(self) -> Rate:
        """延期率 = extended / due."""
        return Rate(self.extended, self.due)

    @property
    def mean_days_to_close(self) -> Fraction | None:
        """平均办结天数 over the completed tasks (suspended time not counted); None if none."""
        if not self.completed:
            return None
        return Fraction(self.close_seconds, self.completed * 86400)

    def rate(self, name: str) -> Rate:
        """A rate by its name in :data:`RATES`."""
        if name not in RATES:
            raise InvalidInput(
                f"未知指标率 {name!r}，可用：{', '.join(RATES)}",
                f"unknown rate {name!r}; known: {', '.join(RATES)}",
                field="rate",
            )
        rate: Rate = getattr(self, f"{name}_rate")
        return rate


RATES: Mapping[str, bool] = {
    "on_time": True,
    "disposal": True,
    "first_pass": True,
    "rework": False,
    "overdue": False,
    "extension": False,
}
"""The rates a scheme can name, and whether more is better (False: a weighted scheme counts
``1 − rate``)."""


def _points(value: Number) -> Fraction:
    return exact(value, "points")


@attrs.frozen
class Adjustment:
    """A bonus (加分, positive) or a manual deduction (扣分, negative) given to a unit in a period."""

    unit: str
    points: Fraction = attrs.field(converter=_points)
    reason: str = ""


@attrs.frozen
class PartResult:
    """What one part of a scheme gave a unit: signed points and the working, in Chinese."""

    part: str
    points: Fraction
    detail_zh: str


@runtime_checkable
class ScorePart(Protocol):
    """One part of a score scheme. Built-in parts are in :mod:`campaignflow.domain.schemes`; a plugin
    may bring its own: anything with a ``name`` and this ``points`` method."""

    @property
    def name(self) -> str: ...

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult: ...


@attrs.frozen
class Score:
    """A unit's score in a period under a scheme: the exact points and how they were made up."""

    unit: str
    period: Period
    scheme: str
    points: Fraction
    parts: tuple[PartResult, ...]
    metrics: UnitMetrics

    @property
    def published(self) -> Decimal:
        return published(self.points)


@attrs.frozen
class Ranked:
    """One line of a ranking: ``rank`` (competition ranking, 1, 2, 2, 4), the unit and its points."""

    rank: int
    unit: str
    points: Decimal
    red: bool = False  # 红榜
    black: bool = False  # 黑榜


def rank(
    points: Mapping[str, Fraction | Decimal | int],
    *,
    red_at_least: Number | None = None,
    black_below: Number | None = None,
) -> tuple[Ranked, ...]:
    """Rank units by points, highest first.

    Tie rule: points are compared as published (rounded half-up to two decimals), so two units a
    bulletin shows with equal scores share a rank; the next rank skips (standard competition
    ranking 1, 2, 2, 4). Tied units are listed by unit id, so the order is deterministic and does
    not depend on the order ``points`` came in. ``red_at_least`` / ``black_below`` mark the 红榜
    (published score ≥ threshold) and 黑榜 (published score < threshold).
    """
    shown = {unit: published(Fraction(value)) for unit, value in points.items()}
    red = exact(red_at_least, "red_at_least") if red_at_least is not None else None
    black = exact(black_below, "black_below") if black_below is not None else None
    order = sorted(shown, key=lambda unit: (-shown[unit], unit))
    lines: list[Ranked] = []
    for position, unit in enumerate(order, start=1):
        place = lines[-1].rank if lines and shown[lines[-1].unit] == shown[unit] else position
        value = Fraction(shown[unit])
        lines.append(
            Ranked(
                place,
                unit,
                shown[unit],
                red=red is not None and value >= red,
                black=black is not None and value < black,
            )
        )
    return tuple(lines)


def cumulative(
    periods: Sequence[Mapping[str, Fraction | Decimal | int]],
    weights: Sequence[Number] = ("0.15", "0.25", "0.60"),
    *,
    missing: Number | None = None,
) -> dict[str, Fraction]:
    """A multi-period total: Σ weightᵢ × scoreᵢ (the national 创文 cycle: Y1 × 15 % + Y2 × 25 % +
    Y3 × 60 %). The weights must add up to 1 and match the periods one to one. A unit absent from
    a period is an error naming it, unless ``missing`` gives the score it counts with."""
    factors = [exact(w, "weights") for w in weights]
    if len(factors) != len(periods) or not factors:
        raise InvalidInput(
            f"权重个数（{len(factors)}）必须与周期个数（{len(periods)}）相同",
            f"{len(factors)} weights for {len(periods)} periods: give one weight per period",
            field="weights",
        )
    if sum(factors) != 1 or any(f < 0 for f in factors):
        raise InvalidInput(
            "各周期权重必须非负且合计为 1（100%）",
            "the weights must be non-negative and add up to 1 (100 %)",
            field="weights",
        )
    fill = exact(missing, "missing") if missing is not None else None
    units: set[str] = set()
    for scores in periods:
        units |= set(scores)
    totals: dict[str, Fraction] = {}
    for unit in sorted(units):
        total = Fraction(0)
        for index, (scores, factor) in enumerate(zip(periods, factors, strict=True)):
            if unit in scores:
                total += factor * Fraction(scores[unit])
            elif fill is not None:
                total += factor * fill
            else:
                raise InvalidInput(
                    f"单位 {unit!r} 缺少第 {index + 1} 个周期的得分",
                    f"unit {unit!r} has no score in period {index + 1}; pass missing= to count one",
                    field="periods",
                )
        totals[unit] = total
    return totals
