"""The scoring metrics come from SQL aggregations (SQLite and PostgreSQL) and follow the counting
rules of docs/scoring.md: period by (current) deadline, current unit, cancelled and suspended tasks
out of every denominator, completion = the first ``verified`` history entry, rework from the
``fail_verification`` history rows."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
import sqlalchemy as sa

from campaignflow import Engine, FixedClock, InvalidInput, Period, ProblemGroup, period_metrics
from campaignflow.domain.model import Task
from campaignflow.domain.roles import Actor
from campaignflow.testing import (
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
)

NOVEMBER = Period("2026年11月", date(2026, 11, 1), date(2026, 12, 1))
DECEMBER = Period("2026年12月", date(2026, 12, 1), date(2027, 1, 1))
A = actors()


def _start(engine: Engine, task: Task, staff: Actor) -> Task:
    return engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())


def _finish(engine: Engine, clock: FixedClock, task: Task, staff: Actor, *, fails: int = 0) -> Task:
    """start, then (self-check, fail) × fails, then self-check and pass; an hour per step."""
    clock.advance(hours=1)
    task = _start(engine, task, staff)
    for _ in range(fails + 1):
        clock.advance(hours=1)
        engine.submit_self_check(task.id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())])
        clock.advance(hours=1)
        if _ < fails:
            engine.fail_verification(task.id, by=A["inspector"], reason="仍有积存垃圾")
    return engine.pass_verification(task.id, by=A["inspector"], inspection=sample_inspection(clock.now()))


def test_the_counts_of_a_month(engine: Engine, clock: FixedClock) -> None:
    office, staff, street = A["office"], A["staff"], A["other_staff"]
    t1 = assign_sample(engine, due=date(2026, 11, 10))
    t2 = assign_sample(engine, due=date(2026, 11, 10), source="leader", indicator="B1")
    t3 = assign_sample(engine, due=date(2026, 11, 5), source="media")
    t4 = assign_sample(engine, due=date(2026, 11, 12))
    assign_sample(engine, due=date(2026, 12, 5))  # December: another period
    t6 = assign_sample(engine, due=date(2026, 11, 15))
    t7 = assign_sample(engine, due=date(2026, 11, 20))
    t8 = assign_sample(engine, unit="jd-cg", due=date(2026, 11, 18))
    t9 = assign_sample(engine, unit="jd-cg", due=date(2026, 11, 3))
    t10 = assign_sample(engine, due=date(2026, 11, 8), source="covert_inspection")
    with engine.begin() as conn:  # 回潮: the link issue 5's detection writes
        conn.execute(
            sa.update(engine.tables.tasks)
            .where(engine.tables.tasks.c.id == t10.id)
            .values(recurrence_of=t1.id, recurrence_count=1)
        )

    drive_to(engine, "archived", t1.id)  # 10:00 … 12:00 verified, 13:00 archived: closed in 3 h
    clock.set(datetime(2026, 11, 2, 13, 0, tzinfo=engine.timezone))
    _finish(engine, clock, t2, staff, fails=1)  # 14:00 start … 18:00 passed: 9 h, one rework
    engine.cancel(t4.id, by=office, reason="重复交办")
    engine.request_extension(t6.id, by=staff, due=date(2026, 11, 25), reason="需协调施工单位")
    engine.approve_extension(t6.id, by=office)
    _start(engine, t7, staff)
    engine.suspend(t7.id, by=office, reason="冬季无法施工")
    engine.reassign(t8.id, by=office, unit="cgj", reason="属城管职能")
    _start(engine, t3, staff)
    clock.set(datetime(2026, 11, 6, 9, 0, tzinfo=engine.timezone))
    _finish(engine, clock, t9, street)  # passed 11-06 12:00, deadline was 11-04 00:00: late
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=engine.timezone))

    by_unit = {m.unit: m for m in period_metrics(engine, NOVEMBER, campaign="2026创卫")}
    assert set(by_unit) == {"cgj", "jd-cg"}
    cgj = by_unit["cgj"]
    # due: t1 t2 t3 t6 t8 (reassigned in) t10 — not t4 (cancelled), t5 (December), t7 (suspended)
    assert cgj.due == 6
    assert (cgj.completed, cgj.completed_on_time) == (2, 2)  # t1 (archived), t2
    assert cgj.overdue == 3  # t3 (11-05), t8 (11-18), t10 (11-08): unfinished on 11-20
    assert cgj.extended == 1  # t6, its deadline now 11-25: not overdue
    assert (cgj.first_pass, cgj.verifications, cgj.failed_verifications) == (1, 3, 1)
    assert cgj.recurrences == 1  # t10
    assert cgj.close_seconds == 3 * 3600 + 9 * 3600
    assert cgj.on_time_rate.value == Fraction(2, 6)
    assert cgj.overdue_rate.value == Fraction(3, 6)
    assert cgj.extension_rate.value == Fraction(1, 6)
    assert cgj.first_pass_rate.value == Fraction(1, 2)
    assert cgj.rework_rate.value == Fraction(1, 3)
    assert cgj.mean_days_to_close == Fraction(12, 2 * 24)  # (3 h + 9 h) / 2 tasks = 0.25 day
    assert cgj.problems == (
        ProblemGroup("B1", "leader", 1, False, False, 1),  # t2
        ProblemGroup("B3.2", "covert_inspection", 0, True, True, 1),  # t10
        ProblemGroup("B3.2", "media", 0, True, False, 1),  # t3
        ProblemGroup("B3.2", "office", 0, False, False, 2),  # t1, t6
        ProblemGroup("B3.2", "office", 0, True, False, 1),  # t8
    )
    street_ = by_unit["jd-cg"]  # t9 only: t8 went to 城管局
    assert (street_.due, street_.completed, street_.completed_on_time, street_.overdue) == (1, 1, 0, 0)
    assert street_.problems == (ProblemGroup("B3.2", "office", 0, True, False, 1),)  # finished late
    assert street_.mean_days_to_close == Fraction(4 * 24 + 3, 24)  # 11-02 09:00 → 11-06 12:00

    december = period_metrics(engine, DECEMBER)
    assert [(m.unit, m.due) for m in december] == [("cgj", 1)]
    named = period_metrics(engine, NOVEMBER, units=["wsj", "cgj"])
    assert [(m.unit, m.due) for m in named] == [("cgj", 6), ("wsj", 0)]
    assert named[1].on_time_rate.value is None  # nothing due: no rate, not 0 %


def test_a_resumed_task_counts_by_its_moved_deadline_and_its_suspension_is_not_time_to_close(
    engine: Engine, clock: FixedClock
) -> None:
    office, staff = A["office"], A["staff"]
    task = assign_sample(engine, due=date(2026, 11, 29))  # deadline 11-30 00:00
    _start(engine, task, staff)  # assigned and started at 09:00
    clock.advance(hours=1)
    engine.suspend(task.id, by=office, reason="雨季停工")
    clock.advance(days=3)
    engine.resume(task.id, by=office)  # deadline moves 3 days: 12-03 00:00, in December
    assert period_metrics(engine, NOVEMBER) == []
    clock.advance(hours=1)
    engine.submit_self_check(task.id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())])
    clock.advance(hours=1)
    engine.pass_verification(task.id, by=A["inspector"], inspection=sample_inspection(clock.now()))
    (december,) = period_metrics(engine, DECEMBER)
    assert (december.due, december.completed_on_time) == (1, 1)
    # assigned 11-02 09:00, verified 11-05 12:00: 3 days 3 h, less the 3 suspended days
    assert december.close_seconds == 3 * 3600


def test_the_metrics_are_two_queries_whatever_the_number_of_tasks(engine: Engine) -> None:
    for day in range(3, 28):
        assign_sample(engine, due=date(2026, 11, day))
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", record)
    try:
        (metrics,) = period_metrics(engine, NOVEMBER)
    finally:
        sa.event.remove(engine.sqlalchemy_engine, "before_cursor_execute", record)
    assert metrics.due == 25
    aggregations = [s for s in statements if "GROUP BY" in s.upper()]
    assert len(aggregations) == 2
    assert all("count(" in s.lower() for s in aggregations)


def test_a_period_must_run_forwards() -> None:
    from campaignflow import InvalidInput

    with pytest.raises(InvalidInput):
        Period("x", date(2026, 11, 2), date(2026, 11, 1))


def test_a_task_due_on_the_last_day_of_a_period_is_that_periods(engine: Engine) -> None:
    # Deadlines are exclusive: due 11-30 is the instant 12-01 00:00, due 10-31 is 11-01 00:00.
    assign_sample(engine, due=date(2026, 11, 30))
    assign_sample(engine, due=date(2026, 12, 1))
    assign_sample(engine, due=date(2026, 11, 3))
    assert [(m.unit, m.due) for m in period_metrics(engine, NOVEMBER)] == [("cgj", 2)]  # 11-03, 11-30
    assert [(m.unit, m.due) for m in period_metrics(engine, DECEMBER)] == [("cgj", 1)]  # 12-01
    week = Period("第45周", date(2026, 11, 2), date(2026, 11, 9))
    assert [m.due for m in period_metrics(engine, week)] == [1]  # 11-03 only


@pytest.mark.parametrize(
    "options",
    [
        {"campaign": "a\ud800"},
        {"campaign": "a\x00"},
        {"campaign": 5},
        {"units": ["a\ud800"]},
        {"units": "cgj"},
    ],
)
def test_filters_no_database_can_take_are_refused(engine: Engine, options: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as refused:
        period_metrics(engine, Period.parse("2026-11"), **options)  # type: ignore[arg-type]
    assert refused.value.field in ("campaign", "units")
