"""Engine definitions are validated when built; extra rules add to 四有四定, never replace it."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from campaignflow import (
    ActionContext,
    DefinitionError,
    Engine,
    FixedClock,
    Lifecycle,
    Missing,
    Rule,
    RuleViolation,
    TransitionSpec,
)
from campaignflow.domain.lifecycle import default_lifecycle
from campaignflow.testing import DEMO_NOW, assign_sample, seed_units


def test_a_lifecycle_trigger_without_a_role_is_refused_at_construction() -> None:
    specs = [*default_lifecycle().specs, TransitionSpec("strike_off", ("verified",), "archived")]
    with pytest.raises(DefinitionError, match="role table"):
        Engine("sqlite://", lifecycle=Lifecycle(specs))


def test_a_rule_on_an_unknown_trigger_is_refused_at_construction() -> None:
    with pytest.raises(DefinitionError, match="unknown triggers"):
        Engine("sqlite://", rules=[Rule("x", {"approve"}, lambda c: [], {"x"})])


def board_area(ctx: ActionContext) -> Iterable[Missing]:
    # 宣传栏面积不少于 3 平方米: a department rule a plugin would bring.
    if ctx.title and "宣传栏" in ctx.title:
        yield Missing(
            "board_area", "定任务", "宣传栏面积须注明", "the board area must be given", "attributes"
        )


def test_extra_rules_are_reported_together_with_the_builtin_ones() -> None:
    engine = Engine(
        "sqlite://",
        clock=FixedClock(DEMO_NOW),
        rules=[Rule("board_area", {"assign"}, board_area, {"board_area"})],
    )
    try:
        seed_units(engine)
        with pytest.raises(RuleViolation) as info:
            assign_sample(engine, title="社区健康教育宣传栏", standard="")
        assert info.value.codes == ("fixed_task_standard", "board_area")
        assert assign_sample(engine).title  # a task the extra rule does not concern still passes
        plain = Engine("sqlite://")
        assert plain.policy_fingerprint != engine.policy_fingerprint
        plain.close()
    finally:
        engine.close()
