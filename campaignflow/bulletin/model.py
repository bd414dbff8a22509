"""What a bulletin (考核排名通报) says about one period: the ranking under a scheme, the 红榜 and 黑榜,
the overdue items and where every unit's tasks stand. Built from the SQL metrics; rendered as
HTML (:mod:`campaignflow.bulletin.html`) or as a workbook (:mod:`campaignflow.bulletin.workbook`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from campaignflow.domain.labels import STATE_ZH
from campaignflow.domain.schemes import ScoreScheme
from campaignflow.domain.scoring import Adjustment, Period, Rate
from campaignflow.engine import Engine
from campaignflow.errors import InvalidInput
from campaignflow.scoring import ranking, scheme_named, score_period
from campaignflow.store.metrics import overdue_tasks, state_counts

__all__ = ["Bulletin", "BulletinLine", "OverdueItem", "build_bulletin"]

STATE_ORDER = (
    "assigned",
    "rectifying",
    "self_checked",
    "verified",
    "archived",
    "returned",
    "suspended",
    "cancelled",
)


@attrs.frozen
class BulletinLine:
    """One unit's line of the ranking."""

    rank: int
    unit: str
    unit_name: str
    points: Decimal
    red: bool
    black: bool
    due: int
    on_time: Rate
    overdue: Rate
    rework: Rate


@attrs.frozen
class OverdueItem:
    unit_name: str
    indicator: str
    title: str
    deadline: date  # the day the deadline ends on
    days_overdue: int


@attrs.frozen
class Bulletin:
    title: str
    campaign: str | None
    period: Period
    scheme: str
    scheme_label: str
    issued_at: datetime
    lines: tuple[BulletinLine, ...]
    overdue: tuple[OverdueItem, ...]
    states: Mapping[str, Mapping[str, int]]  # unit name → state → tasks

    @property
    def red(self) -> tuple[BulletinLine, ...]:
        return tuple(line for line in self.lines if line.red)

    @property
    def black(self) -> tuple[BulletinLine, ...]:
        return tuple(line for line in self.lines if line.black)

    @staticmethod
    def state_label(state: str) -> str:
        return STATE_ZH.get(state, state)


def build_bulletin(
    engine: Engine,
    period: Period,
    scheme: str | ScoreScheme,
    *,
    campaign: str | None = None,
    adjustments: Sequence[Adjustment] = (),
    title: str | None = None,
) -> Bulletin:
    """The bulletin of ``period`` under ``scheme``, as of the engine's clock."""
    chosen = scheme_named(engine, scheme) if isinstance(scheme, str) else scheme
    if not isinstance(chosen, ScoreScheme):
        raise InvalidInput("scheme 必须是评分办法", "scheme must be a score scheme", field="scheme")
    scores = score_period(engine, period, chosen, campaign=campaign, adjustments=adjustments)
    names = {u.id: u.name for u in engine.units()}
    by_unit = {s.unit: s for s in scores}
    lines = tuple(
        BulletinLine(
            rank=r.rank,
            unit=r.unit,
            unit_name=names.get(r.unit, r.unit),
            points=r.points,
            red=r.red,
            black=r.black,
            due=by_unit[r.unit].metrics.due,
            on_time=by_unit[r.unit].metrics.on_time_rate,
            overdue=by_unit[r.unit].metrics.overdue_rate,
            rework=by_unit[r.unit].metrics.rework_rate,
        )
        for r in ranking(scores, chosen)
    )
    now = engine.clock.now()
    today = now.astimezone(engine.timezone).date()
    with engine.begin() as conn:
        rows = overdue_tasks(
            conn, engine.tables, period, timezone=engine.timezone, now=now, campaign=campaign
        )
        counts = state_counts(conn, engine.tables, period, timezone=engine.timezone, campaign=campaign)
    overdue = []
    for row in rows:
        ends = (row.deadline - timedelta(microseconds=1)).astimezone(engine.timezone).date()
        overdue.append(
            OverdueItem(names.get(row.unit, row.unit), row.indicator, row.title, ends, (today - ends).days)
        )
    states = {
        names.get(unit, unit): {s: counts[unit][s] for s in STATE_ORDER if s in counts[unit]}
        for unit in sorted(counts, key=lambda u: names.get(u, u))
    }
    heading = title or f"{campaign + ' ' if campaign else ''}{period.label}考核排名通报"
    return Bulletin(
        heading, campaign, period, chosen.name, chosen.label_zh, now, lines, tuple(overdue), states
    )
