"""The scoring metrics as SQL aggregations (SQLAlchemy Core): one grouped query per period for the
counts, one for the problem groups. No task is loaded into Python; the database returns one row per
unit (and per problem group), however many tasks the period holds.

The counting rules (docs/scoring.md):

- a task belongs to the period holding the day its current deadline ends on (deadlines are
  exclusive: ``start`` < deadline ≤ ``end``), and to the unit that holds it now;
- cancelled tasks and tasks suspended (挂起) right now are in no denominator;
- a task is completed when its history has a ``verified`` entry (archived tasks were verified
  first); it is on time when that first ``verified`` entry is before the deadline;
- verifications and failures are the ``pass_verification`` / ``fail_verification`` history rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from campaignflow.domain.scoring import Period, ProblemGroup, UnitMetrics
from campaignflow.store.tables import Tables

__all__ = ["overdue_tasks", "period_bounds", "state_counts", "unit_metrics"]

_EXCLUDED = ("cancelled", "suspended")


def period_bounds(period: Period, timezone: tzinfo) -> tuple[datetime, datetime]:
    """The instants a period spans: midnight of ``start`` to midnight of ``end`` in ``timezone``."""
    return (
        datetime.combine(period.start, time.min, timezone),
        datetime.combine(period.end, time.min, timezone),
    )


def _seconds(
    conn: sa.Connection, later: ColumnElement[datetime], earlier: ColumnElement[datetime]
) -> ColumnElement[int]:
    """``later − earlier`` in whole seconds, in the database's own date arithmetic."""
    if conn.dialect.name == "sqlite":
        days = sa.func.julianday(later) - sa.func.julianday(earlier)
        return sa.cast(sa.func.round(days * 86400), sa.Integer)
    return sa.cast(sa.func.round(sa.extract("epoch", later - earlier)), sa.BigInteger)


def _in_period(t: sa.Table, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """A deadline is exclusive (a due date's deadline is the next midnight), so a task belongs to
    the period holding the day its deadline ends on: ``start`` < deadline ≤ ``end``."""
    return (t.c.deadline > start, t.c.deadline <= end)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def unit_metrics(
    conn: sa.Connection,
    tables: Tables,
    period: Period,
    *,
    timezone: tzinfo,
    now: datetime,
    campaign: str | None = None,
    units: Sequence[str] | None = None,
) -> list[UnitMetrics]:
    """Every unit's :class:`UnitMetrics` for ``period`` (units with nothing due are left out unless
    named in ``units``, which then also limits the answer to them), ordered by unit id."""
    t, h = tables.tasks, tables.history
    start, end = period_bounds(period, timezone)
    done = (
        sa.select(h.c.task_id, sa.func.min(h.c.at).label("done_at"))
        .where(h.c.to_state == "verified", h.c.at <= now)
        .group_by(h.c.task_id)
        .subquery("done")
    )
    checks = (
        sa.select(
            h.c.task_id,
            sa.func.count().label("n"),
            _count(h.c.trigger == "fail_verification").label("fails"),
        )
        .where(h.c.trigger.in_(("pass_verification", "fail_verification")), h.c.at <= now)
        .group_by(h.c.task_id)
        .subquery("checks")
    )
    conditions = [*_in_period(t, start, end), t.c.state.not_in(_EXCLUDED)]
    if campaign is not None:
        conditions.append(t.c.campaign == campaign)
    if units is not None:
        conditions.append(t.c.unit.in_(list(units)))
    joined = t.outerjoin(done, done.c.task_id == t.c.id).outerjoin(checks, checks.c.task_id == t.c.id)
    completed = done.c.done_at.is_not(None)
    fails = sa.func.coalesce(checks.c.fails, 0)
    overdue = sa.and_(done.c.done_at.is_(None), t.c.deadline <= now)
    late = sa.or_(overdue, done.c.done_at >= t.c.deadline)
    recurred = sa.or_(t.c.recurrence_of.is_not(None), t.c.recurrence_count > 0)
    close = _seconds(conn, done.c.done_at, t.c.created_at) - t.c.suspended_seconds
    counts = (
        sa.select(
            t.c.unit,
            sa.func.count().label("due"),
            _count(completed).label("completed"),
            _count(done.c.done_at < t.c.deadline).label("on_time"),
            _count(overdue).label("overdue"),
            _count(t.c.extension_count > 0).label("extended"),
            _count(sa.and_(completed, fails == 0)).label("first_pass"),
            sa.func.coalesce(sa.func.sum(checks.c.n), 0).label("verifications"),
            sa.func.coalesce(sa.func.sum(checks.c.fails), 0).label("fails"),
            _count(recurred).label("recurrences"),
            sa.func.coalesce(sa.func.sum(sa.case((completed, close), else_=0)), 0).label("close_seconds"),
        )
        .select_from(joined)
        .where(*conditions)
        .group_by(t.c.unit)
    )
    late_flag = sa.case((late, 1), else_=0)
    recurred_flag = sa.case((recurred, 1), else_=0)
    groups = (
        sa.select(
            t.c.unit,
            t.c.indicator,
            t.c.source,
            fails.label("fails"),
            late_flag.label("late"),
            recurred_flag.label("recurred"),
            sa.func.count().label("n"),
        )
        .select_from(joined)
        .where(*conditions)
        .group_by(t.c.unit, t.c.indicator, t.c.source, fails, late_flag, recurred_flag)
    )
    problems: dict[str, list[ProblemGroup]] = {}
    for row in conn.execute(groups):
        problems.setdefault(row.unit, []).append(
            ProblemGroup(
                row.indicator, row.source, int(row.fails), bool(row.late), bool(row.recurred), int(row.n)
            )
        )
    found = {
        row.unit: UnitMetrics(
            unit=row.unit,
            period=period,
            due=int(row.due),
            completed=int(row.completed),
            completed_on_time=int(row.on_time),
            overdue=int(row.overdue),
            extended=int(row.extended),
            first_pass=int(row.first_pass),
            verifications=int(row.verifications),
            failed_verifications=int(row.fails),
            recurrences=int(row.recurrences),
            close_seconds=int(row.close_seconds),
            problems=tuple(
                sorted(
                    problems.get(row.unit, ()),
                    key=lambda g: (g.indicator, g.source, g.failures, g.late, g.recurred),
                )
            ),
        )
        for row in conn.execute(counts)
    }
    for unit in units or ():
        found.setdefault(
            unit,
            UnitMetrics(
                unit=unit,
                period=period,
                due=0,
                completed=0,
                completed_on_time=0,
                overdue=0,
                extended=0,
                first_pass=0,
                verifications=0,
                failed_verifications=0,
                recurrences=0,
                close_seconds=0,
            ),
        )
    return [found[unit] for unit in sorted(found)]


def state_counts(
    conn: sa.Connection,
    tables: Tables,
    period: Period,
    *,
    timezone: tzinfo,
    campaign: str | None = None,
) -> dict[str, dict[str, int]]:
    """{unit: {state: tasks}} of the tasks whose deadline falls in ``period`` (every state, the
    cancelled and suspended ones included: a bulletin shows where all the period's work stands)."""
    t = tables.tasks
    start, end = period_bounds(period, timezone)
    query = sa.select(t.c.unit, t.c.state, sa.func.count().label("n")).where(*_in_period(t, start, end))
    if campaign is not None:
        query = query.where(t.c.campaign == campaign)
    found: dict[str, dict[str, int]] = {}
    for row in conn.execute(query.group_by(t.c.unit, t.c.state)):
        found.setdefault(row.unit, {})[row.state] = int(row.n)
    return found


def overdue_tasks(
    conn: sa.Connection,
    tables: Tables,
    period: Period,
    *,
    timezone: tzinfo,
    now: datetime,
    campaign: str | None = None,
    limit: int = 200,
) -> list[sa.Row[tuple[str, str, str, str, datetime, str]]]:
    """The period's overdue tasks by the counting rules (due, past the deadline, never verified),
    oldest deadline first: (id, unit, indicator, title, deadline, state), at most ``limit``."""
    t, h = tables.tasks, tables.history
    start, end = period_bounds(period, timezone)
    verified = sa.select(h.c.task_id).where(h.c.to_state == "verified", h.c.at <= now)
    query = sa.select(t.c.id, t.c.unit, t.c.indicator, t.c.title, t.c.deadline, t.c.state).where(
        *_in_period(t, start, end),
        t.c.deadline <= now,
        t.c.state.not_in(_EXCLUDED),
        t.c.id.not_in(verified),
    )
    if campaign is not None:
        query = query.where(t.c.campaign == campaign)
    return list(conn.execute(query.order_by(t.c.deadline, t.c.id).limit(limit)))
