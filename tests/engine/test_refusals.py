"""Every refused action raises a typed, bilingual error and leaves task, history and outbox as
they were (DESIGN.md invariant 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    ActionRefused,
    Actor,
    CampaignflowError,
    ConflictError,
    Engine,
    FixedClock,
    Inspection,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    Plan,
    RuleViolation,
)
from campaignflow.testing import (
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
    snapshot,
)

A = actors()
Action = Callable[[Engine, str, FixedClock], Any]

# (name, state the task is driven to, the refused action, expected error type, expected codes)
REFUSALS: list[tuple[str, str, Action, type[CampaignflowError], tuple[str, ...]]] = [
    (
        "start without plan or deployment",
        "assigned",
        lambda e, t, c: e.start(t, by=A["staff"], plan=None, deployment=None),
        RuleViolation,
        ("has_plan", "has_deployment"),
    ),
    (
        "start with an empty plan",
        "assigned",
        lambda e, t, c: e.start(t, by=A["staff"], plan=Plan([]), deployment=sample_deployment()),
        RuleViolation,
        ("has_plan",),
    ),
    (
        "start by another unit",
        "assigned",
        lambda e, t, c: e.start(
            t, by=A["other_staff"], plan=sample_plan(e.get(t), e), deployment=sample_deployment()
        ),
        PermissionDenied,
        (),
    ),
    (
        "start by the office",
        "assigned",
        lambda e, t, c: e.start(
            t, by=A["office"], plan=sample_plan(e.get(t), e), deployment=sample_deployment()
        ),
        PermissionDenied,
        (),
    ),
    (
        "self-check without evidence",
        "rectifying",
        lambda e, t, c: e.submit_self_check(t, by=A["staff"], report="好了", evidence=[]),
        RuleViolation,
        ("has_rectification",),
    ),
    (
        "self-check before starting",
        "assigned",
        lambda e, t, c: e.submit_self_check(t, by=A["staff"], evidence=[sample_evidence(c.now())]),
        InvalidTransition,
        (),
    ),
    (
        "pass without inspection record",
        "self_checked",
        lambda e, t, c: e.pass_verification(t, by=A["inspector"], inspection=None),
        RuleViolation,
        ("has_inspection",),
    ),
    (
        "pass with the unit's own inspection record",
        "self_checked",
        lambda e, t, c: e.pass_verification(
            t, by=A["inspector"], inspection=Inspection("高", "cgj", c.now(), "自己验收")
        ),
        RuleViolation,
        ("has_inspection_independent",),
    ),
    (
        "pass by an inspector of the responsible unit",
        "self_checked",
        lambda e, t, c: e.pass_verification(t, by=A["own_inspector"], inspection=sample_inspection(c.now())),
        PermissionDenied,
        (),
    ),
    (
        "pass by the unit itself",
        "self_checked",
        lambda e, t, c: e.pass_verification(t, by=A["staff"], inspection=sample_inspection(c.now())),
        PermissionDenied,
        (),
    ),
    (
        "fail without a reason",
        "self_checked",
        lambda e, t, c: e.fail_verification(t, by=A["inspector"], reason="  "),
        RuleViolation,
        ("reason_required",),
    ),
    (
        "archive before verification",
        "self_checked",
        lambda e, t, c: e.archive(t, by=A["office"]),
        InvalidTransition,
        (),
    ),
    (
        "archive by the inspector",
        "verified",
        lambda e, t, c: e.archive(t, by=A["inspector"]),
        PermissionDenied,
        (),
    ),
    (
        "reassign without a reason",
        "assigned",
        lambda e, t, c: e.reassign(t, by=A["office"], unit="jd-cg", reason=""),
        RuleViolation,
        ("reason_required",),
    ),
    (
        "reassign after rectifying started",
        "rectifying",
        lambda e, t, c: e.reassign(t, by=A["office"], unit="jd-cg", reason="错派"),
        InvalidTransition,
        (),
    ),
    (
        "reassign by a unit",
        "assigned",
        lambda e, t, c: e.reassign(t, by=A["staff"], unit="jd-cg", reason="不归我管"),
        PermissionDenied,
        (),
    ),
    (
        "cancel without a reason",
        "rectifying",
        lambda e, t, c: e.cancel(t, by=A["office"], reason=""),
        RuleViolation,
        ("reason_required",),
    ),
    (
        "cancel by the system actor",
        "assigned",
        lambda e, t, c: e.cancel(t, by=Actor.system(), reason="自动撤销"),
        PermissionDenied,
        (),
    ),
    (
        "cancel an archived task",
        "archived",
        lambda e, t, c: e.cancel(t, by=A["office"], reason="撤销"),
        InvalidTransition,
        (),
    ),
    (
        "evidence that is not Evidence",
        "rectifying",
        lambda e, t, c: e.submit_self_check(t, by=A["staff"], evidence=["photo.jpg"]),
        InvalidInput,
        (),
    ),
    (
        "a plan that is not a Plan",
        "assigned",
        lambda e, t, c: e.start(t, by=A["staff"], plan={"steps": []}, deployment=sample_deployment()),
        InvalidInput,
        (),
    ),
    (
        "an actor that is not an Actor",
        "assigned",
        lambda e, t, c: e.cancel(t, by="wang", reason="撤销"),
        InvalidInput,
        (),
    ),
]


def drive(engine: Engine, clock: FixedClock, state: str) -> str:
    return drive_to(engine, state).id


@pytest.mark.parametrize(
    ("state", "action", "error", "codes"),
    [pytest.param(s, a, e, c, id=name) for name, s, a, e, c in REFUSALS],
)
def test_refusal_changes_nothing(
    engine: Engine,
    clock: FixedClock,
    state: str,
    action: Action,
    error: type[CampaignflowError],
    codes: tuple[str, ...],
) -> None:
    task_id = drive(engine, clock, state)
    before = snapshot(engine, task_id)
    clock.advance(minutes=5)
    with pytest.raises(error) as info:
        action(engine, task_id, clock)
    assert snapshot(engine, task_id) == before
    raised = info.value
    assert raised.message_zh
    assert raised.message_en
    assert raised.code
    if isinstance(raised, RuleViolation):
        assert raised.codes == codes
        assert raised.task_id == task_id
        assert all(m.message_zh and m.message_en for m in raised.missing)
    if isinstance(raised, ActionRefused):
        assert raised.task_id == task_id
        assert raised.state == state


def count_rows(engine: Engine) -> tuple[int, int, int]:
    t = engine.tables
    with engine.begin() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.tasks, t.history, t.outbox)
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"title": "", "standard": " ", "measures": [], "unit": "nowhere"}, RuleViolation),
        ({"by": A["staff"]}, PermissionDenied),
        ({"by": A["inspector"]}, PermissionDenied),
        ({"measures": "每日巡查"}, InvalidInput),  # a str is not a list of measures
        ({"title": 42}, InvalidInput),
        ({"campaign": "  "}, InvalidInput),
        ({"indicator": ""}, InvalidInput),
        ({"attributes": {"x": {1, 2}}}, InvalidInput),
        ({"external_ref": "   "}, InvalidInput),
    ],
)
def test_refused_assignment_writes_nothing(
    engine: Engine, kwargs: dict[str, Any], error: type[CampaignflowError]
) -> None:
    before = count_rows(engine)
    with pytest.raises(error):
        assign_sample(engine, **kwargs)
    assert count_rows(engine) == before


def test_naive_deadline_is_refused(engine: Engine) -> None:
    from datetime import datetime

    before = count_rows(engine)
    with pytest.raises(InvalidInput) as info:
        assign_sample(engine, due=datetime(2026, 12, 1, 18, 0))  # type: ignore[arg-type]
    assert info.value.field == "due"
    assert count_rows(engine) == before


def test_a_stale_read_loses_with_conflict_and_writes_nothing(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The optimistic lock: if the row changed after it was read, the UPDATE matches nothing."""
    task_id = drive(engine, clock, "assigned")
    stale = engine.get(task_id)
    engine.start(task_id, by=A["staff"], plan=sample_plan(stale, engine), deployment=sample_deployment())
    before = snapshot(engine, task_id)
    # Make the engine act on the version it read before the start: as if both read at once.
    monkeypatch.setattr(engine._repo, "load_for_action", lambda conn, tid: (stale, None, None))
    with pytest.raises(ConflictError) as info:
        engine.cancel(task_id, by=A["office"], reason="撤销")
    monkeypatch.undo()
    assert snapshot(engine, task_id) == before
    assert info.value.task_id == task_id


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_concurrent_commit_between_read_and_write_is_a_conflict(engine: Engine, clock: FixedClock) -> None:
    """On PostgreSQL a second session commits while the first is checking its rules: the first
    loses with ConflictError at its version-guarded UPDATE, and writes nothing. (On SQLite the
    IMMEDIATE transaction serialises writers before they read, so this interleaving cannot occur.)"""
    from campaignflow import Rule

    task_id = drive(engine, clock, "assigned")
    schema = engine.tables.schema
    other = Engine(engine.sqlalchemy_engine.url, clock=clock, schema=schema)
    fired: list[bool] = []

    def interfere(ctx: Any) -> list[Any]:
        if not fired:
            fired.append(True)
            other.cancel(task_id, by=A["office"], reason="另一处撤销")
        return []

    racing = Engine(
        engine.sqlalchemy_engine.url,
        clock=clock,
        schema=schema,
        rules=[Rule("interfere", {"start"}, interfere, set())],
    )
    try:
        before = snapshot(engine, task_id)
        task = engine.get(task_id)
        with pytest.raises(ConflictError):
            racing.start(
                task_id, by=A["staff"], plan=sample_plan(task, engine), deployment=sample_deployment()
            )
        after = snapshot(engine, task_id)
        assert after.task.state.value == "cancelled"
        assert after.task.version == before.task.version + 1
        assert [h.trigger for h in after.history] == [*(h.trigger for h in before.history), "cancel"]
    finally:
        other.close()
        racing.close()
