"""The engine end to end, on SQLite and PostgreSQL: paths, history, outbox, reading."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaignflow import (
    Actor,
    Engine,
    FixedClock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
    TaskState,
)
from campaignflow.domain.history import GENESIS
from campaignflow.testing import (
    assign_sample,
    drive_to,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
)


def run_to(engine: Engine, clock: FixedClock, state: str, task_id: str | None = None) -> str:
    return drive_to(engine, state, task_id).id


def test_full_path_with_one_rework(
    engine: Engine, clock: FixedClock, office: Actor, staff: Actor, inspector: Actor
) -> None:
    task = assign_sample(engine, attributes={"board_area_m2": 3.0}, external_ref="12345-001")
    assert (task.state, task.version, task.rework_count) == (TaskState.ASSIGNED, 1, 0)
    assert task.leader == "张三"  # defaulted from the registry
    assert task.office_unit == "cwb"
    assert task.policy_fingerprint == engine.policy_fingerprint
    task = engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    task = engine.submit_self_check(
        task.id, by=staff, report="已清理", evidence=[sample_evidence(clock.now())]
    )
    task = engine.fail_verification(task.id, by=inspector, reason="墙角仍有垃圾")
    assert (task.state, task.rework_count) == (TaskState.RECTIFYING, 1)
    task = engine.submit_self_check(
        task.id, by=staff, report="再次清理", evidence=[sample_evidence(clock.now(), b"again")]
    )
    task = engine.pass_verification(task.id, by=inspector, inspection=sample_inspection(clock.now()))
    task = engine.archive(task.id, by=office)
    assert (task.state, task.version, task.rework_count) == (TaskState.ARCHIVED, 7, 1)

    stored = engine.get(task.id)
    assert stored == task
    assert stored.attributes == {"board_area_m2": 3.0}
    assert len(stored.evidence) == 2
    assert stored.self_check_report == "再次清理"
    assert stored.inspection is not None
    assert stored.inspection.inspector_unit == "wsj"

    history = engine.history(task.id)
    assert [h.trigger for h in history] == [
        "assign",
        "start",
        "submit_self_check",
        "fail_verification",
        "submit_self_check",
        "pass_verification",
        "archive",
    ]
    assert [h.seq for h in history] == list(range(1, 8))
    assert history[0].from_state is None
    assert history[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(history))
    assert history[-1].hash == stored.history_head
    assert history[3].reason == "墙角仍有垃圾"
    assert history[3].actor_id == inspector.id
    assert engine.verify_history(task.id) is None


def test_every_step_writes_outbox_rows_with_stable_keys(engine: Engine, clock: FixedClock) -> None:
    task_id = run_to(engine, clock, "archived")
    rows = engine.notifications(task_id)
    assert [(r["event"], r["recipient"]) for r in rows] == [
        ("assign", "cgj"),
        ("start", "cwb"),
        ("submit_self_check", "cwb"),
        ("pass_verification", "cgj"),
        ("pass_verification", "cwb"),
        ("archive", "cgj"),
    ]
    keys = [r["idempotency_key"] for r in rows]
    assert len(set(keys)) == len(keys)
    assert keys[0] == f"{task_id}:1:cgj"
    assert all(r["published_at"] is None for r in rows)
    assert rows[0]["payload"]["event_zh"] == "任务交办"


def test_reassign_moves_the_task_and_tells_both_units(engine: Engine, office: Actor) -> None:
    task = assign_sample(engine)
    moved = engine.reassign(task.id, by=office, unit="jd-cg", reason="属地在城关街道")
    assert (moved.unit, moved.leader, moved.state, moved.version) == ("jd-cg", "赵五", TaskState.ASSIGNED, 2)
    entry = engine.history(task.id)[-1]
    assert entry.payload == {
        "from_unit": "cgj",
        "from_leader": "张三",
        "to_unit": "jd-cg",
        "to_leader": "赵五",
    }
    assert entry.reason == "属地在城关街道"
    last = [r["recipient"] for r in engine.notifications(task.id) if r["event"] == "reassign"]
    assert last == ["cgj", "jd-cg"]


def test_reassign_checks_the_new_unit_and_leader(engine: Engine, office: Actor) -> None:
    task = assign_sample(engine)
    with pytest.raises(RuleViolation) as info:
        engine.reassign(task.id, by=office, unit="nowhere", reason="")
    assert info.value.codes == ("fixed_department", "fixed_leader", "reason_required")
    with pytest.raises(RuleViolation) as info:
        engine.reassign(task.id, by=office, unit="jd-cg", leader="张三", reason="错派")
    assert info.value.codes == ("fixed_leader",)


@pytest.mark.parametrize("state", ["assigned", "rectifying", "self_checked", "verified"])
def test_cancel_from_any_open_state(engine: Engine, clock: FixedClock, office: Actor, state: str) -> None:
    task_id = run_to(engine, clock, state)
    task = engine.cancel(task_id, by=office, reason="指标调整")
    assert task.state is TaskState.CANCELLED
    assert engine.history(task_id)[-1].reason == "指标调整"


@pytest.mark.parametrize("state", ["archived", "cancelled"])
def test_nothing_leaves_a_terminal_state(
    engine: Engine, clock: FixedClock, office: Actor, state: str
) -> None:
    task_id = run_to(engine, clock, "archived" if state == "archived" else "assigned")
    if state == "cancelled":
        engine.cancel(task_id, by=office, reason="撤销")
    with pytest.raises(InvalidTransition) as info:
        engine.cancel(task_id, by=office, reason="再撤销")
    assert info.value.state == state
    assert info.value.trigger == "cancel"


def test_allowed_combines_paths_and_roles(
    engine: Engine,
    clock: FixedClock,
    office: Actor,
    staff: Actor,
    other_staff: Actor,
    inspector: Actor,
    own_inspector: Actor,
) -> None:
    task_id = run_to(engine, clock, "assigned")
    assert engine.allowed(task_id, office) == {"reassign", "cancel", "approve_extension", "reject_extension"}
    assert engine.allowed(task_id, staff) == {"start", "request_extension", "return_assignment"}
    assert engine.allowed(task_id, other_staff) == set()
    run_to(engine, clock, "self_checked", task_id)
    # record_verdict (登记验收意见) is open on every self-checked task: with one verifier it is the
    # same as pass/fail_verification (docs/joint-work.md).
    assert engine.allowed(task_id, inspector) == {"pass_verification", "fail_verification", "record_verdict"}
    assert engine.allowed(task_id, own_inspector) == set()
    assert engine.allowed(task_id, office) == {"cancel"}
    assert engine.allowed(task_id, Actor.system()) == set()


def test_unknown_task_is_not_found(engine: Engine, staff: Actor) -> None:
    with pytest.raises(NotFound) as info:
        engine.start("no-such-task", by=staff, plan=None, deployment=None)
    assert isinstance(info.value, LookupError)
    with pytest.raises(NotFound):
        engine.get("no-such-task")
    with pytest.raises(NotFound):
        engine.history("no-such-task")


def test_keyset_pages_and_filters(engine: Engine, clock: FixedClock, office: Actor) -> None:
    ids = []
    for i in range(25):
        clock.advance(seconds=1)
        unit = "cgj" if i % 2 else "jd-cg"
        ids.append(assign_sample(engine, unit=unit, campaign="2026创卫" if i < 20 else "2026创文").id)
    engine.cancel(ids[0], by=office, reason="重复")
    assert ids == sorted(ids)  # time-ordered ids: keyset order is creation order

    seen: list[str] = []
    cursor = None
    while True:
        page = engine.tasks(limit=10, after=cursor)
        seen.extend(t.id for t in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids
    assert len(engine.tasks(limit=25).items) == 25
    assert engine.tasks(limit=25).next_cursor is None
    assert [t.id for t in engine.tasks(unit="cgj", limit=100).items] == ids[1::2]
    assert len(engine.tasks(campaign="2026创文").items) == 5
    assert [t.id for t in engine.tasks(state="cancelled").items] == [ids[0]]
    assert len(engine.tasks(state=TaskState.ASSIGNED, campaign="2026创卫", unit="jd-cg").items) == 9


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 1001}, {"limit": True}, {"state": "done"}])
def test_bad_page_arguments(engine: Engine, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        engine.tasks(**bad)  # type: ignore[arg-type]


def test_a_date_deadline_is_the_end_of_that_day_in_the_campaign_zone(engine: Engine) -> None:
    task = assign_sample(engine, due=date(2026, 12, 10))
    shanghai_midnight = datetime(2026, 12, 11, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert task.deadline == shanghai_midnight
    assert engine.get(task.id).deadline == shanghai_midnight
    assert engine.get(task.id).deadline.tzinfo is not None


def test_the_campaign_timezone_is_configurable(
    database_url: tuple[str, str | None], clock: FixedClock
) -> None:
    url, schema = database_url
    engine = Engine(url, clock=clock, timezone="Asia/Urumqi", schema=schema)
    try:
        engine.migrate()
        assert engine.deadline_of(date(2026, 12, 10)) == datetime(
            2026, 12, 11, tzinfo=ZoneInfo("Asia/Urumqi")
        )
    finally:
        engine.close()
    with pytest.raises(InvalidInput):
        Engine("sqlite://", timezone="Mars/Olympus")


def test_an_aware_datetime_deadline_is_kept_as_given(engine: Engine) -> None:
    due = datetime(2026, 11, 3, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert assign_sample(engine, due=due).deadline == due  # type: ignore[arg-type]


def test_date_deadline_today_is_still_open_this_morning(engine: Engine, clock: FixedClock) -> None:
    today = clock.now().date()
    assert assign_sample(engine, due=today).deadline > clock.now()
    with pytest.raises(RuleViolation) as info:
        assign_sample(engine, due=today - timedelta(days=1))
    assert info.value.codes == ("fixed_schedule",)


def test_unit_registry(engine: Engine) -> None:
    assert engine.unit("sq-ft").parent == "jd-cg"
    engine.register_unit("cgj", name="市城市管理局", leader="张三丰")
    assert engine.unit("cgj").leader == "张三丰"
    assert [u.id for u in engine.units()] == ["cgj", "cwb", "jd-cg", "sq-ft", "wsj"]
    with pytest.raises(NotFound):
        engine.register_unit("x", name="某单位", parent="nope")
    with pytest.raises(InvalidInput):
        engine.register_unit("  ", name="某单位")
    with pytest.raises(NotFound):
        engine.unit("nope")


def test_tasks_made_in_the_same_millisecond_page_in_creation_order(engine: Engine) -> None:
    ids = [assign_sample(engine).id for _ in range(12)]  # the fixed clock does not move
    assert [t.id for t in engine.tasks(limit=100).items] == ids


def test_a_host_transaction_on_a_fresh_in_memory_database() -> None:
    """One pooled connection, schema not yet created: the first action migrates inside the host's
    transaction, and a host rollback takes the schema, the host row and the task with it."""
    import sqlalchemy as sa

    from campaignflow.testing import DEMO_NOW, actors

    engine = Engine("sqlite://", clock=FixedClock(DEMO_NOW))
    try:
        with engine.sqlalchemy_engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE host_log (msg TEXT)"))
        conn = engine.sqlalchemy_engine.connect()
        tx = conn.begin()
        conn.execute(sa.text("INSERT INTO host_log VALUES ('交办前')"))
        engine.register_unit("cgj", name="市城管局", leader="张三", connection=conn)
        task = assign_sample(engine, by=actors()["office"], connection=conn)
        assert engine.get(task.id, connection=conn).state is TaskState.ASSIGNED
        assert [t.id for t in engine.tasks(connection=conn).items] == [task.id]
        assert engine.allowed(task.id, actors()["staff"], connection=conn) == {
            "start",
            "request_extension",
            "return_assignment",
        }
        assert engine.unit("cgj", connection=conn).leader == "张三"
        assert [r["recipient"] for r in engine.notifications(task.id, connection=conn)] == ["cgj"]
        tx.rollback()
        conn.close()
        with engine.sqlalchemy_engine.connect() as check:
            assert check.execute(sa.text("SELECT count(*) FROM host_log")).scalar_one() == 0
        assert engine.schema_revision() is None
    finally:
        engine.close()
