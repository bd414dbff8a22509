"""The deadline clock in the engine, on SQLite and PostgreSQL: relative limits on the work calendar,
the deadline policy, unknown years, extensions and suspensions by configuration, and the sweep:
each escalation recorded once, never a new task version, never in the way of a unit's action."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    Actor,
    CalendarYearUnknown,
    DefinitionError,
    Engine,
    FixedClock,
    InvalidInput,
    Limit,
    RuleViolation,
    TaskState,
    china_calendar,
)
from campaignflow.calendars import EXAMPLE_2027
from campaignflow.domain.deadlines import DeadlineRule, DeadlineTable
from campaignflow.domain.escalation import EscalationLadder, EscalationStep
from campaignflow.testing import (
    DEMO_NOW,
    SHANGHAI,
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_plan,
)


def _assign(engine: Engine, **fields: Any) -> Any:
    """The sample task, with no deadline unless ``fields`` give one (due, limit)."""
    values: dict[str, Any] = {
        "by": actors()["office"],
        "title": "背街小巷卫生死角整治",
        "standard": "无积存垃圾、无卫生死角",
        "measures": ["每日巡查", "发现即清"],
        "unit": "cgj",
        "campaign": "2026创卫",
        "indicator": "B3.2",
        "kind": "sanitation.blind_spot",
    }
    values.update(fields)
    return engine.assign(**values)


def _task_count(engine: Engine) -> int:
    return len(engine.tasks(limit=1000).items)


def _engine_like(engine: Engine, clock: FixedClock, **options: Any) -> Engine:
    """Another engine on the same database with other options."""
    return Engine(engine.sqlalchemy_engine, clock=clock, schema=engine.tables.schema, **options)


# --- relative limits ---------------------------------------------------------------------------


def test_a_limit_is_counted_on_the_work_calendar_from_the_clock(engine: Engine, office: Actor) -> None:
    task = engine.assign(
        by=office,
        title="农贸市场周边占道经营整治",
        standard="无占道经营",
        measures=["早晚巡查"],
        unit="cgj",
        campaign="2026创卫",
        indicator="B3.2",
        limit=Limit.working_days(5),
    )
    # Monday 2 Nov 2026 09:00 + 5 working days: Tue 3 … Mon 9 Nov, ends at 24:00 that day
    assert task.deadline == datetime(2026, 11, 10, tzinfo=SHANGHAI)
    assert task.deadline_basis is not None
    assert task.deadline_basis["limit"] == {"kind": "working_days", "amount": 5}
    assert task.deadline_basis["warnings"] == []
    [entry] = engine.history(task.id)
    assert entry.payload["deadline_basis"] == dict(task.deadline_basis)
    assert engine.get(task.id).deadline_basis == task.deadline_basis
    assert engine.verify_history(task.id) is None


def test_due_and_limit_together_are_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="either due or limit"):
        _assign(engine, due=date(2026, 12, 1), limit=Limit.working_days(5))
    with pytest.raises(InvalidInput):
        _assign(engine, limit=5)  # type: ignore[arg-type]
    assert _task_count(engine) == 0


def test_a_deadline_into_2027_raises_and_writes_nothing(engine: Engine, clock: FixedClock) -> None:
    clock.set(datetime(2026, 12, 21, 9, tzinfo=SHANGHAI))
    with pytest.raises(CalendarYearUnknown) as caught:
        engine.assign(
            by=actors()["office"],
            title="t",
            standard="s",
            measures=["m"],
            unit="cgj",
            campaign="c",
            indicator="i",
            limit=Limit.working_days(10),
        )
    assert caught.value.year == 2027
    assert _task_count(engine) == 0
    assert engine.pending_notifications() == []


def test_a_deadline_into_2027_with_an_override_file(engine: Engine, clock: FixedClock) -> None:
    clock.set(datetime(2026, 12, 21, 9, tzinfo=SHANGHAI))
    other = _engine_like(engine, clock, calendar=china_calendar([EXAMPLE_2027]))
    try:
        task = _assign(other, limit=Limit.working_days(10))
    finally:
        other.close()
    assert task.deadline == datetime(2027, 1, 6, tzinfo=SHANGHAI)
    assert task.deadline_basis is not None
    assert any("not official" in source for source in task.deadline_basis["calendar"])


def test_weekdays_for_unknown_years_records_the_warning_on_the_task(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 12, 21, 9, tzinfo=SHANGHAI))
    other = _engine_like(engine, clock, calendar=china_calendar(unknown_years="weekdays"))
    try:
        task = _assign(other, limit=Limit.working_days(10))
    finally:
        other.close()
    assert task.deadline == datetime(2027, 1, 5, tzinfo=SHANGHAI)
    assert task.deadline_basis is not None
    [warning] = task.deadline_basis["warnings"]
    assert warning["code"] == "calendar_year_assumed"
    assert warning["year"] == 2027
    assert engine.history(task.id)[0].payload["deadline_basis"]["warnings"] == [warning]


def test_a_retried_assignment_with_a_limit_returns_the_first_task(engine: Engine, clock: FixedClock) -> None:
    first = _assign(engine, limit=Limit.working_days(5), external_ref="12345-0001")
    clock.advance(hours=3)
    again = _assign(engine, limit=Limit.working_days(5), external_ref="12345-0001")
    assert again.id == first.id
    assert _task_count(engine) == 1


# --- the deadline policy -----------------------------------------------------------------------

POLICY = DeadlineTable(
    [
        DeadlineRule(Limit.urgent_hours(24), urgency="urgent"),
        DeadlineRule(Limit.working_days(5), indicator="B3.2"),
        DeadlineRule(Limit.calendar_days(15), kind="greening"),
    ]
)


def test_the_deadline_policy_gives_the_limit(engine: Engine, clock: FixedClock) -> None:
    other = _engine_like(engine, clock, deadline_policy=POLICY)
    try:
        by_indicator = _assign(other)
        urgent = _assign(other, attributes={"urgency": "urgent"})
        greening = _assign(other, indicator="A1", kind="greening")
        explicit = assign_sample(other, due=date(2026, 12, 31))
        with pytest.raises(RuleViolation) as caught:
            _assign(other, indicator="A1")  # no row matches: 定进度 refuses
    finally:
        other.close()
    assert by_indicator.deadline == datetime(2026, 11, 10, tzinfo=SHANGHAI)
    assert urgent.deadline == datetime(2026, 11, 3, 9, tzinfo=SHANGHAI)
    assert greening.deadline == datetime(2026, 11, 18, tzinfo=SHANGHAI)
    assert explicit.deadline == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert explicit.deadline_basis is None
    assert caught.value.codes == ("fixed_schedule",)


def test_clock_options_are_checked(engine: Engine, clock: FixedClock) -> None:
    for options in (
        {"deadline_policy": object()},
        {"calendar": "china"},
        {"escalation": ["remind"]},
        {"max_extensions": -1},
        {"max_extensions": True},
    ):
        with pytest.raises(InvalidInput):
            _engine_like(engine, clock, **options)
    with pytest.raises(InvalidInput):
        DeadlineTable([Limit.working_days(1)])  # type: ignore[list-item]


# --- extensions and suspensions by configuration -----------------------------------------------


def test_max_extensions_is_configurable(engine: Engine, clock: FixedClock, staff: Actor) -> None:
    strict = _engine_like(engine, clock, max_extensions=0)
    try:
        task = assign_sample(strict)
        with pytest.raises(RuleViolation) as caught:
            strict.request_extension(task.id, by=staff, due=date(2027, 1, 31), reason="雨季")
    finally:
        strict.close()
    assert caught.value.codes == ("extension_limit",)
    assert engine.history(task.id)[-1].trigger == "assign"


def test_a_suspension_that_keeps_the_clock_running(engine: Engine, clock: FixedClock, office: Actor) -> None:
    """挂账 without stopping the clock (local policy): the time is still reported."""
    running = _engine_like(engine, clock, suspension_pauses_clock=False)
    try:
        task = drive_to(running, "rectifying")
        running.suspend(task.id, by=office, reason="等待管网改造")
        clock.advance(days=4)
        assert running.suspended_time(task.id) == timedelta(days=4)
        resumed = running.resume(task.id, by=office)
    finally:
        running.close()
    assert resumed.deadline == task.deadline
    assert resumed.suspended_seconds == 4 * 86400
    assert engine.suspended_time(task.id) == timedelta(days=4)


def test_reason_arguments_are_type_checked(engine: Engine, staff: Actor) -> None:
    task = assign_sample(engine)
    with pytest.raises(InvalidInput):
        engine.return_assignment(task.id, by=staff, reason=3)  # type: ignore[arg-type]


# --- the sweep ----------------------------------------------------------------------------------


def _overdue(engine: Engine, clock: FixedClock, count: int = 1) -> list[str]:
    """``count`` tasks due Friday 6 Nov 2026; the clock then stands at Saturday 7 Nov 09:00."""
    clock.set(DEMO_NOW)
    ids = [assign_sample(engine, due=date(2026, 11, 6)).id for _ in range(count)]
    clock.set(datetime(2026, 11, 7, 9, tzinfo=SHANGHAI))
    return ids


def _escalation_rows(engine: Engine) -> int:
    with engine.sqlalchemy_engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(engine.tables.escalations)).scalar_one()
        )


def test_sweeping_twice_records_each_step_once(engine: Engine, clock: FixedClock) -> None:
    [task_id] = _overdue(engine, clock)
    before = engine.get(task_id)
    first = engine.sweep()
    second = engine.sweep()
    assert [(r.task_id, r.level) for r in first.recorded] == [(task_id, "supervise")]
    assert second.recorded == ()
    assert first.examined == second.examined == 1
    after = engine.get(task_id)
    assert after.escalation_level == "supervise"
    assert after.version == before.version  # no new version, no new history entry
    assert engine.history(task_id) == engine.history(task_id)[:1]
    [record] = engine.escalations(task_id)
    assert record.label_zh == "督办"
    assert record.task_version == before.version
    assert record.history_head == before.history_head
    assert record.actor_id == "system"
    assert engine.verify_escalations(task_id) is None
    rows = [r for r in engine.notifications(task_id) if r["event"].startswith("escalate_")]
    assert sorted(r["recipient"] for r in rows) == ["cgj", "cwb"]
    assert {r["payload"]["event_zh"] for r in rows} == {"督办"}


def test_a_sweeper_that_read_a_stale_level_records_nothing(engine: Engine, clock: FixedClock) -> None:
    """The unique (task, deadline, level) is the guarantee, not the level column: a second sweeper
    that saw the task before the first committed writes no second record and no second notice."""
    [task_id] = _overdue(engine, clock)
    engine.sweep()
    outbox = len(engine.notifications(task_id))
    with engine.begin() as conn:
        conn.execute(sa.update(engine.tables.tasks).values(escalation_level=None))
    assert engine.sweep().recorded == ()
    assert _escalation_rows(engine) == 1
    assert len(engine.notifications(task_id)) == outbox
    assert engine.get(task_id).escalation_level is None  # the stale sweeper did not write the level


def test_a_late_sweep_jumps_to_the_step_due(engine: Engine, clock: FixedClock) -> None:
    [task_id] = _overdue(engine, clock)
    clock.set(datetime(2026, 11, 30, 9, tzinfo=SHANGHAI))  # 16 working days late
    [record] = engine.sweep().recorded
    assert record.level == "public_notice"
    assert [r.level for r in engine.escalations(task_id)] == ["public_notice"]
    assert engine.sweep().examined == 0  # at the top of the ladder the task leaves the sweep


def test_tasks_filter_by_escalation_level(engine: Engine, clock: FixedClock) -> None:
    overdue = _overdue(engine, clock, 2)
    clock.set(DEMO_NOW)
    later = assign_sample(engine, due=date(2026, 12, 31))
    clock.set(datetime(2026, 11, 7, 9, tzinfo=SHANGHAI))
    engine.sweep()
    assert [t.id for t in engine.tasks(escalation="supervise").items] == overdue
    assert engine.tasks(escalation="remind").items == ()
    assert later.id not in [t.id for t in engine.tasks(escalation="supervise").items]
    with pytest.raises(InvalidInput):
        engine.tasks(escalation="bulletin")


def test_closed_returned_and_self_checked_tasks_are_not_swept(engine: Engine, clock: FixedClock) -> None:
    clock.set(DEMO_NOW)
    checked = drive_to(engine, "self_checked")
    returned = assign_sample(engine)
    engine.return_assignment(returned.id, by=actors()["staff"], reason="属街道管辖")
    clock.set(datetime(2026, 12, 31, 9, tzinfo=SHANGHAI))
    report = engine.sweep()
    assert report.examined == 0
    assert engine.escalations(checked.id) == []


def test_the_sweep_reports_a_year_it_cannot_judge(engine: Engine, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 28, 9, tzinfo=SHANGHAI))
    task = assign_sample(engine, due=date(2027, 1, 8))
    fine = assign_sample(engine, due=date(2026, 12, 1))
    clock.set(datetime(2027, 1, 7, 9, tzinfo=SHANGHAI))
    report = engine.sweep()
    assert [(p.task_id, p.code) for p in report.problems] == [(task.id, "calendar_year_unknown")]
    assert [r.task_id for r in report.recorded] == [fine.id]


def test_a_custom_ladder(engine: Engine, clock: FixedClock) -> None:
    ladder = EscalationLadder([EscalationStep("remind", "催办", -1), EscalationStep("supervise", "督办", 1)])
    [task_id] = _overdue(engine, clock)
    custom = _engine_like(engine, clock, escalation=ladder)
    try:
        [record] = custom.sweep().recorded
    finally:
        custom.close()
    assert record.task_id == task_id
    assert record.level == "remind"  # the end of Fri 6 Nov + 1 working day is not yet reached


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [EscalationStep("bulletin", "通报", 0)],
        [EscalationStep("notice", "通报", 0)],
        [EscalationStep("remind", "催办", 0), EscalationStep("remind2", "再催办", 0)],
        [EscalationStep("remind", "催办", 0), EscalationStep("remind", "催办", 1)],
        [EscalationStep("Remind", "催办", 0)],
        [EscalationStep("remind", "催办", 0, ("mayor",))],
    ],
)
def test_a_bad_ladder_is_refused_when_built(steps: list[EscalationStep]) -> None:
    with pytest.raises(DefinitionError):
        EscalationLadder(steps)


def test_sweep_arguments_are_checked(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        engine.sweep(batch=0)
    with pytest.raises(InvalidInput):
        engine.sweep(actor="system")  # type: ignore[arg-type]


def test_the_sweep_walks_batches(engine: Engine, clock: FixedClock) -> None:
    ids = _overdue(engine, clock, 5)
    report = engine.sweep(batch=2)
    assert sorted(r.task_id for r in report.recorded) == sorted(ids)
    assert engine.sweep(batch=2).recorded == ()


# --- a unit's action and a sweep at the same time -----------------------------------------------


def test_a_unit_action_during_a_sweep_is_not_refused(engine: Engine, clock: FixedClock, staff: Actor) -> None:
    """A sweep holds its transaction open (the task claimed and escalated, uncommitted) while the
    unit starts rectifying: the unit waits for the sweep's commit and then succeeds."""
    [task_id] = _overdue(engine, clock)
    task = engine.get(task_id)
    outcome: list[object] = []

    def unit_acts() -> None:
        try:
            outcome.append(
                engine.start(
                    task_id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment()
                )
            )
        except Exception as error:  # the assertion below shows it
            outcome.append(error)

    with engine.begin() as conn:
        report = engine.sweep(connection=conn)
        assert len(report.recorded) == 1
        worker = threading.Thread(target=unit_acts)
        worker.start()
        time.sleep(0.5)  # the unit is now waiting on the sweep's lock
        assert outcome == []
    worker.join(timeout=30)
    [result] = outcome
    assert not isinstance(result, Exception), result
    stored = engine.get(task_id)
    assert stored.state is TaskState.RECTIFYING
    assert stored.version == task.version + 1
    assert stored.escalation_level == "supervise"
    assert engine.verify_history(task_id) is None


def test_an_action_that_read_the_task_before_the_sweep_still_succeeds(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    [task_id] = _overdue(engine, clock)
    task = engine.get(task_id)  # the unit's screen shows this version
    engine.sweep()
    started = engine.start(task_id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    assert started.version == task.version + 1
    assert engine.get(task_id).escalation_level == "supervise"  # the action did not write it back
