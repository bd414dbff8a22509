"""Two inspectors record their verdicts on one 会签 task at the same instant, on PostgreSQL: both
read the task and the round's verdicts before either writes (a rule holds each at a barrier), so
both hold the same version. Exactly one verdict is recorded; the other gets ConflictError and
writes nothing: no verdict row, no history row."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest

from campaignflow import (
    ActionContext,
    Actor,
    ConflictError,
    Engine,
    FixedClock,
    Missing,
    Role,
    Rule,
    TaskState,
    Verification,
)
from campaignflow.testing import (
    actors,
    assign_sample,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
    seed_units,
)

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgresql"])]


def test_two_verdicts_read_together_and_exactly_one_is_recorded(
    database_url: tuple[str, str | None], clock: FixedClock
) -> None:
    url, schema = database_url
    barrier = threading.Barrier(2, timeout=30)

    def lockstep(ctx: ActionContext) -> Iterable[Missing]:
        if ctx.joint is not None and ctx.joint.verdict is not None:
            barrier.wait()  # both have read the task and the round's verdicts
        return ()

    rule = Rule("lockstep", {"record_verdict"}, lockstep, {"lockstep"})
    engines = [Engine(url, schema=schema, clock=clock, rules=[rule], load_entry_points=False) for _ in (0, 1)]
    try:
        engines[0].migrate()
        seed_units(engines[0])
        people = actors()
        task = assign_sample(engines[0], verification=Verification.all_of("wsj", "cwb", "sq-ft"))
        engines[0].start(
            task.id, by=people["staff"], plan=sample_plan(task, engines[0]), deployment=sample_deployment()
        )
        engines[0].submit_self_check(task.id, by=people["staff"], evidence=[sample_evidence(clock.now())])
        voters = [Actor("chen", "wsj", Role.INSPECTOR), Actor("wu", "cwb", Role.INSPECTOR)]
        outcomes: list[Any] = [None, None]

        def vote(i: int) -> None:
            try:
                outcomes[i] = engines[i].record_verdict(
                    task.id,
                    by=voters[i],
                    passed=True,
                    inspection=sample_inspection(clock.now(), unit=voters[i].unit, inspector=voters[i].id),
                )
            except ConflictError as lost:
                outcomes[i] = lost

        threads = [threading.Thread(target=vote, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "Task"]
        [winner] = [o for o in outcomes if not isinstance(o, ConflictError)]
        assert winner.state is TaskState.SELF_CHECKED
        stored = engines[0].get(task.id)
        assert stored.version == winner.version
        assert len(engines[0].history(task.id)) == stored.version
        assert len(engines[0].verdicts(task.id)) == 1
        assert engines[0].verify_history(task.id) is None
    finally:
        for engine in engines:
            engine.close()
