"""Each 四有四定 rule on its own: a test per code that fails if the rule is removed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from campaignflow import (
    DefinitionError,
    Deployment,
    Evidence,
    Inspection,
    Person,
    Plan,
    PlanStep,
    Rule,
    Task,
    TaskState,
    Unit,
)
from campaignflow.domain.lifecycle import TRIGGERS
from campaignflow.domain.rules import BUILTIN_RULES, CATALOGUE, ActionContext, RuleSet, default_rules, missing

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
RULES = default_rules(TRIGGERS)
CGJ = Unit("cgj", "市城管局", "张三")
DEADLINE = datetime(2026, 12, 11, tzinfo=TZ)  # due 2026-12-10, end of day

TASK = Task(
    id="t1",
    campaign="2026创卫",
    indicator="B3.2",
    kind="sanitation.blind_spot",
    title="卫生死角",
    standard="无积存垃圾",
    measures=("每日巡查",),
    unit="cgj",
    leader="张三",
    deadline=DEADLINE,
    state=TaskState.ASSIGNED,
    version=1,
    rework_count=0,
    external_ref=None,
    attributes={},
    policy_fingerprint="x",
    office_unit="cwb",
    created_at=NOW,
    updated_at=NOW,
)
EVIDENCE = Evidence("photo", "evidence://a.jpg", "a" * 64, NOW, "刘洋")


def ctx(trigger: str, **kw: object) -> ActionContext:
    return ActionContext(trigger=trigger, now=NOW, timezone=TZ, **kw)  # type: ignore[arg-type]


def good_assign(**kw: object) -> ActionContext:
    fields: dict[str, object] = {
        "title": "卫生死角",
        "standard": "无积存垃圾",
        "measures": ("每日巡查",),
        "unit_id": "cgj",
        "unit": CGJ,
        "leader": "张三",
        "deadline": DEADLINE,
    }
    fields.update(kw)
    return ctx("assign", **fields)


def good_start(**kw: object) -> ActionContext:
    fields: dict[str, object] = {
        "task": TASK,
        "plan": Plan([PlanStep("清理", date(2026, 12, 10))]),
        "deployment": Deployment([Person("刘洋")]),
    }
    fields.update(kw)
    return ctx("start", **fields)


def codes(context: ActionContext) -> list[str]:
    return [m.code for m in RULES.evaluate(context)]


def test_a_complete_assignment_passes() -> None:
    assert codes(good_assign()) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": ""}, "fixed_task_title"),
        ({"title": " \u3000\t"}, "fixed_task_title"),  # full-width space is blank too
        ({"title": None}, "fixed_task_title"),
        ({"standard": "   "}, "fixed_task_standard"),
        ({"measures": ()}, "fixed_task_measures"),
        ({"measures": ("  ", "")}, "fixed_task_measures"),
        ({"unit": None}, "fixed_department"),
        ({"unit_id": "  ", "unit": None}, "fixed_department"),
        ({"leader": ""}, "fixed_leader"),
        ({"leader": "李四"}, "fixed_leader"),  # not that unit's leader
        ({"unit": Unit("cgj", "市城管局", "")}, "fixed_leader"),  # the unit has no leader on record
        ({"deadline": None}, "fixed_schedule"),
        ({"deadline": NOW}, "fixed_schedule"),  # "after now" is strict
        ({"deadline": NOW - timedelta(days=1)}, "fixed_schedule"),
    ],
)
def test_each_assignment_item_is_its_own_refusal(change: dict[str, object], code: str) -> None:
    found = codes(good_assign(**change))
    assert code in found
    assert set(found) <= {code, "fixed_leader"}  # a missing unit also leaves no leader


def test_every_missing_item_is_reported_at_once() -> None:
    found = codes(ctx("assign", title=" ", standard="", measures=(), unit_id=None, deadline=None))
    assert found == [
        "fixed_task_title",
        "fixed_task_standard",
        "fixed_task_measures",
        "fixed_department",
        "fixed_leader",
        "fixed_schedule",
    ]


def test_a_deadline_one_microsecond_after_now_is_enough() -> None:
    assert codes(good_assign(deadline=NOW + timedelta(microseconds=1))) == []


def test_deadline_in_another_zone_compares_as_an_instant() -> None:
    assert codes(good_assign(deadline=NOW.astimezone(UTC) + timedelta(minutes=1))) == []


def test_start_needs_plan_and_deployment() -> None:
    assert codes(good_start()) == []
    assert codes(good_start(plan=None, deployment=None)) == ["has_plan", "has_deployment"]
    assert codes(good_start(plan=Plan([]))) == ["has_plan"]


@pytest.mark.parametrize(
    "step",
    [
        PlanStep("清理", date(2026, 12, 11)),  # the day after the due date
        PlanStep("清理", date(2026, 11, 1)),  # before the task was assigned
        PlanStep("  ", date(2026, 11, 20)),  # no description
    ],
)
def test_plan_milestones_stay_inside_the_deadline(step: PlanStep) -> None:
    plan = Plan([PlanStep("先做", date(2026, 11, 10)), step])
    assert codes(good_start(plan=plan)) == ["has_plan_milestone"]


def test_milestones_on_the_first_and_last_day_are_inside() -> None:
    plan = Plan([PlanStep("开始", date(2026, 11, 2)), PlanStep("完成", date(2026, 12, 10))])
    assert codes(good_start(plan=plan)) == []


def test_deployment_needs_a_named_person() -> None:
    assert codes(good_start(deployment=Deployment([]))) == ["has_deployment"]
    assert codes(good_start(deployment=Deployment([Person("  ")], resources=["车"]))) == ["has_deployment"]


def test_self_check_needs_evidence() -> None:
    assert codes(ctx("submit_self_check", task=TASK)) == ["has_rectification"]
    assert codes(ctx("submit_self_check", task=TASK, evidence=(EVIDENCE,))) == []


WSJ = Unit("wsj", "市卫生局", "李四")


def verify(record: Inspection | None, unit: Unit | None = WSJ) -> list[str]:
    return codes(ctx("pass_verification", task=TASK, inspection=record, inspection_unit=unit))


def test_verification_needs_an_independent_inspection_record() -> None:
    assert verify(Inspection("陈静", "wsj", NOW)) == []
    assert verify(None) == ["has_inspection"]
    assert verify(Inspection(" ", "wsj", NOW)) == ["has_inspection"]
    assert verify(Inspection("高", "cgj", NOW), unit=CGJ) == ["has_inspection_independent"]


def test_an_inspectors_unit_must_be_registered() -> None:
    # "市城管局" is the responsible unit's *name*: as free text it is no registered unit.
    assert verify(Inspection("高", "市城管局", NOW), unit=None) == ["has_inspection"]


def test_an_inspection_cannot_be_dated_after_now() -> None:
    assert verify(Inspection("陈静", "wsj", NOW + timedelta(minutes=1))) == ["inspection_time"]
    assert verify(Inspection("陈静", "wsj", NOW)) == []


def test_evidence_cannot_be_dated_after_now() -> None:
    later = attrs.evolve(EVIDENCE, taken_at=NOW + timedelta(days=400))
    assert codes(ctx("submit_self_check", task=TASK, evidence=(EVIDENCE, later))) == ["evidence_time"]


def test_reassign_must_move_to_another_unit() -> None:
    same = ctx("reassign", task=TASK, unit_id="cgj", unit=CGJ, leader="张三", reason="换人")
    assert codes(same) == ["reassign_same_unit"]


@pytest.mark.parametrize("trigger", ["fail_verification", "reassign", "cancel"])
def test_reasons_are_required(trigger: str) -> None:
    extra: dict[str, object] = {"unit_id": "wsj", "unit": WSJ, "leader": "李四"}
    kw = extra if trigger == "reassign" else {}
    assert codes(ctx(trigger, task=TASK, reason="  ", **kw)) == ["reason_required"]
    assert codes(ctx(trigger, task=TASK, reason="错派", **kw)) == []


def test_every_catalogue_code_belongs_to_a_builtin_rule() -> None:
    assert RULES.codes() == frozenset(CATALOGUE)
    for code, (rule, zh, en) in CATALOGUE.items():
        assert rule
        assert zh
        assert en, code


def test_extra_rules_add_to_the_builtin_ones() -> None:
    extra = Rule("board_area", {"assign"}, lambda c: [], {"board_area"})
    rules = default_rules(TRIGGERS, [extra])
    assert rules.rules[: len(BUILTIN_RULES)] == BUILTIN_RULES
    assert rules.rules[-1] is extra


def test_rule_sets_are_validated_when_built() -> None:
    with pytest.raises(DefinitionError, match="unknown triggers"):
        RuleSet([Rule("x", {"nope"}, lambda c: [], {"x"})], triggers=TRIGGERS)
    with pytest.raises(DefinitionError, match="twice"):
        RuleSet([*BUILTIN_RULES, BUILTIN_RULES[0]], triggers=TRIGGERS)
    with pytest.raises(DefinitionError, match="callable"):
        RuleSet([Rule("x", {"assign"}, "not callable", {"x"})], triggers=TRIGGERS)  # type: ignore[arg-type]


def test_context_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        good_assign().title = "x"  # type: ignore[misc]


def test_a_rule_may_only_report_the_codes_it_declares() -> None:
    sloppy = Rule("sloppy", {"assign"}, lambda c: [missing("fixed_leader")], {"board_area"})
    with pytest.raises(DefinitionError, match="undeclared"):
        RuleSet([sloppy], triggers=TRIGGERS).evaluate(good_assign())
