"""Plugins: their rules join the built-in 四有四定 result, fail closed, and can never take a
built-in rule away; broken plugins fail when the Engine is built; entry points are discovered."""

from __future__ import annotations

import functools
import importlib.metadata
import sys
import types
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest

from campaignflow import (
    ActionContext,
    Actor,
    AttributeField,
    DefinitionError,
    Engine,
    Evidence,
    KindSchema,
    Missing,
    PluginError,
    PluginLoadError,
    Rule,
    RuleViolation,
    TaskState,
    hookimpl,
)
from campaignflow.plugins import ENTRY_POINT_GROUP
from campaignflow.testing import (
    assign_sample,
    sample_deployment,
    sample_evidence,
    sample_plan,
    snapshot,
)

BOARD = "health_education.board"


def board_area(ctx: ActionContext) -> Iterable[Missing]:
    """宣传栏面积不少于 3 平方米 (the seed's 宣传栏面积达不到3平方米)."""
    area = ctx.attributes.get("area_m2", 0)
    if not isinstance(area, (int, float)) or area < 3:
        yield Missing(
            code="board_area",
            rule="宣传栏",
            message_zh="宣传栏面积不得小于 3 平方米",
            message_en="the publicity board must be at least 3 m²",
            field="attributes.area_m2",
        )


class BoardPlugin:
    name = "health-education-test"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        return [Rule("宣传栏面积", {"assign"}, board_area, {"board_area"}, kinds={BOARD})]


def _assign(engine: Engine, office: Actor, **overrides: Any) -> Any:
    fields: dict[str, Any] = {"kind": BOARD, "title": "更新宣传栏", "attributes": {"area_m2": 2.4}}
    fields.update(overrides)
    return assign_sample(engine, by=office, **fields)


# --- a plugin rule joins the built-in result ------------------------------------------------------


def test_a_plugin_rule_blocks_and_reports_with_the_builtin_items(
    make_engine: Callable[..., Engine], office: Actor
) -> None:
    engine = make_engine(plugins=[BoardPlugin()])
    with pytest.raises(RuleViolation) as refused:
        _assign(engine, office, standard="  ", leader="")
    assert refused.value.codes == ("fixed_task_standard", "fixed_leader", "board_area")
    assert "宣传栏面积不得小于 3 平方米" in refused.value.message_zh
    assert "具体标准不能为空" in refused.value.message_zh
    assert "board_area: the publicity board must be at least 3 m²" in refused.value.message_en
    assert engine.tasks().items == ()

    # only the plugin's item left: still refused
    with pytest.raises(RuleViolation) as refused:
        _assign(engine, office)
    assert refused.value.codes == ("board_area",)
    # the plugin's rule satisfied: allowed
    assert _assign(engine, office, attributes={"area_m2": 3.5}).state is TaskState.ASSIGNED
    # other kinds are not the plugin's business
    assert _assign(engine, office, kind="sanitation.blind_spot").state is TaskState.ASSIGNED


def test_without_the_plugin_the_same_action_passes(make_engine: Callable[..., Engine], office: Actor) -> None:
    with_plugin = make_engine(plugins=[BoardPlugin()])
    with pytest.raises(RuleViolation):
        _assign(with_plugin, office)
    without = make_engine()
    task = _assign(without, office)
    assert task.state is TaskState.ASSIGNED
    assert without.policy_fingerprint != with_plugin.policy_fingerprint


def test_plugin_rules_apply_to_later_triggers_by_the_tasks_kind(
    make_engine: Callable[..., Engine], office: Actor, staff: Actor
) -> None:
    def two_photos(ctx: ActionContext) -> Iterable[Missing]:
        kinds = {item.kind for item in ctx.evidence}
        if not {"photo.before", "photo.after"} <= kinds:
            yield Missing(
                "blind_spot_photos", "卫生死角", "须有整改前后照片", "needs before and after photos"
            )

    class Sanitation:
        name = "sanitation-test"

        @hookimpl
        def campaignflow_rules(self, triggers: frozenset[str]) -> list[Rule]:
            assert "submit_self_check" in triggers
            return [
                Rule(
                    "卫生死角照片",
                    {"submit_self_check"},
                    two_photos,
                    {"blind_spot_photos"},
                    kinds={"sanitation.blind_spot"},
                )
            ]

    engine = make_engine(plugins=[Sanitation()])
    task = assign_sample(engine, by=office, kind="sanitation.blind_spot")
    engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    now = engine.clock.now()
    with pytest.raises(RuleViolation) as refused:
        engine.submit_self_check(task.id, by=staff, evidence=[])
    assert refused.value.codes == ("has_rectification", "blind_spot_photos")
    with pytest.raises(RuleViolation) as refused:
        engine.submit_self_check(task.id, by=staff, evidence=[sample_evidence(now)])
    assert refused.value.codes == ("blind_spot_photos",)
    photos = [
        Evidence("photo.before", "evidence://b.jpg", "a" * 64, now, "刘洋"),
        Evidence("photo.after", "evidence://a.jpg", "b" * 64, now, "刘洋"),
    ]
    assert engine.submit_self_check(task.id, by=staff, evidence=photos).state is TaskState.SELF_CHECKED


# --- faults fail closed -------------------------------------------------------------------------


class Exploding:
    name = "exploding"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        def check(_ctx: ActionContext) -> Iterable[Missing]:
            raise RuntimeError("the rules service is down")

        return [Rule("会爆炸的规则", {"start"}, check, {"never"})]


def test_a_raising_rule_refuses_cleanly_naming_the_plugin(
    make_engine: Callable[..., Engine], office: Actor, staff: Actor
) -> None:
    engine = make_engine(plugins=[Exploding()])
    task = assign_sample(engine, by=office)
    before = snapshot(engine, task.id)
    with pytest.raises(PluginError) as refused:
        engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    error = refused.value
    assert error.plugin == "exploding"
    assert (error.task_id, error.state, error.trigger, error.actor) == (task.id, "assigned", "start", "liu")
    assert "exploding" in error.message_zh
    assert "RuntimeError: the rules service is down" in error.message_en
    assert isinstance(error.__cause__, RuntimeError)
    assert snapshot(engine, task.id) == before


def test_an_undeclared_code_from_a_plugin_fails_closed(
    make_engine: Callable[..., Engine], office: Actor, staff: Actor
) -> None:
    class Sloppy:
        name = "sloppy"

        @hookimpl
        def campaignflow_rules(self) -> list[Rule]:
            def check(_ctx: ActionContext) -> Iterable[Any]:
                yield "not a Missing"

            return [Rule("马虎的规则", {"start"}, check, {"sloppy_code"})]

    engine = make_engine(plugins=[Sloppy()])
    task = assign_sample(engine, by=office)
    before = snapshot(engine, task.id)
    with pytest.raises(PluginError, match="sloppy"):
        engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    assert snapshot(engine, task.id) == before


# --- built-ins cannot be switched off -----------------------------------------------------------


def _plugin(name: str, **hooks: Callable[..., Any]) -> types.SimpleNamespace:
    return types.SimpleNamespace(name=name, **hooks)


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        (Rule("定领导", {"assign"}, lambda _c: (), {"lenient_leader"}), "name"),
        (Rule("宽松领导", {"assign"}, lambda _c: (), {"fixed_leader"}), "code"),
        (Rule("宽松属性", {"assign"}, lambda _c: (), {"task_attributes"}), "schema code"),
    ],
)
def test_a_plugin_cannot_replace_a_builtin_rule(rule: Rule, why: str, clock: Any) -> None:
    plugin = _plugin("lenient", campaignflow_rules=lambda: [rule])
    with pytest.raises(PluginLoadError, match="lenient") as refused:
        Engine("sqlite://", clock=clock, plugins=[plugin], load_entry_points=False)
    assert refused.value.plugin == "lenient", why
    assert isinstance(refused.value, DefinitionError)


def test_a_hook_wrapper_cannot_sit_between_the_engine_and_plugins(clock: Any) -> None:
    class Wrapper:
        name = "wrapper"

        @hookimpl(wrapper=True)
        def campaignflow_rules(self) -> Any:
            result = yield
            return [r for r in result if False]

    with pytest.raises(PluginLoadError, match="wrapper"):
        Engine("sqlite://", clock=clock, plugins=[Wrapper()], load_entry_points=False)


def test_builtin_rules_hold_whatever_plugins_answer(
    make_engine: Callable[..., Engine], office: Actor
) -> None:
    """A plugin answering "all fine" for every trigger changes nothing about 四有四定."""
    every = frozenset({"assign", "start", "submit_self_check", "pass_verification", "reassign", "cancel"})
    allow = _plugin("allow-all", campaignflow_rules=lambda: [Rule("一律放行", every, lambda _c: (), {"ok"})])
    engine = make_engine(plugins=[allow])
    with pytest.raises(RuleViolation) as refused:
        assign_sample(engine, by=office, due=engine.clock.now().date() - timedelta(days=1), leader="")
    assert refused.value.codes == ("fixed_leader", "fixed_schedule")


def test_the_builtin_rules_come_first_and_are_all_there(make_engine: Callable[..., Engine]) -> None:
    from campaignflow.domain.rules import BUILTIN_RULES

    engine = make_engine(plugins=[BoardPlugin()])
    assert engine.rules.rules[: len(BUILTIN_RULES)] == BUILTIN_RULES
    assert engine.rules.rules[-1].source == "health-education-test"


# --- attribute schemas ----------------------------------------------------------------------------


class Schemas:
    name = "schemas"

    @hookimpl
    def campaignflow_task_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(
                kind="sanitation.bait_station",
                label_zh="毒饵站",
                fields=[
                    AttributeField(name="station_count", type="int", minimum=1, label_zh="毒饵站数量"),
                    AttributeField(name="street", label_zh="所在街巷"),
                ],
            )
        ]

    @hookimpl
    def campaignflow_evidence_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(
                kind="refill_record",
                label_zh="投药记录",
                fields=[AttributeField(name="refilled_on", type="date", label_zh="投药日期")],
            )
        ]


def test_task_attributes_are_checked_at_assign_with_the_other_items(
    make_engine: Callable[..., Engine], office: Actor
) -> None:
    engine = make_engine(plugins=[Schemas()])
    with pytest.raises(RuleViolation) as refused:
        assign_sample(
            engine, by=office, kind="sanitation.bait_station", attributes={"station_count": 0}, measures=[]
        )
    items = refused.value.missing
    assert [m.code for m in items] == ["fixed_task_measures", "task_attributes", "task_attributes"]
    assert items[1].field == "attributes.station_count"
    assert "毒饵站数量" in items[1].message_zh
    assert "不能小于 1" in items[1].message_zh
    assert "缺少属性“所在街巷”" in items[2].message_zh
    task = assign_sample(
        engine,
        by=office,
        kind="sanitation.bait_station",
        attributes={"station_count": 12, "street": "北关街"},
    )
    assert task.attributes["station_count"] == 12


def test_evidence_attributes_are_checked_at_self_check(
    make_engine: Callable[..., Engine], office: Actor, staff: Actor
) -> None:
    engine = make_engine(plugins=[Schemas()])
    task = assign_sample(engine, by=office)
    engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    now = engine.clock.now()
    record = Evidence(
        "refill_record", "evidence://r.pdf", "c" * 64, now, "刘洋", attributes={"refilled_on": "11/02"}
    )
    before = snapshot(engine, task.id)
    with pytest.raises(RuleViolation) as refused:
        engine.submit_self_check(task.id, by=staff, evidence=[sample_evidence(now), record])
    [item] = refused.value.missing
    assert (item.code, item.field) == ("evidence_attributes", "evidence[1].attributes.refilled_on")
    assert "第 2 项佐证材料（投药记录）" in item.message_zh
    assert snapshot(engine, task.id) == before
    good = Evidence(
        "refill_record", "evidence://r.pdf", "c" * 64, now, "刘洋", attributes={"refilled_on": "2026-11-01"}
    )
    assert engine.submit_self_check(task.id, by=staff, evidence=[good]).state is TaskState.SELF_CHECKED


def test_evidence_attributes_are_checked_when_a_unit_adds_its_part(
    make_engine: Callable[..., Engine], office: Actor, staff: Actor
) -> None:
    engine = make_engine(plugins=[Schemas()])
    task = assign_sample(engine, by=office, support_units=["jd-cg"])
    engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    record = Evidence(
        "refill_record",
        "evidence://r.pdf",
        "c" * 64,
        engine.clock.now(),
        "孙丽",
        attributes={"refilled_on": "?"},
    )
    street = Actor("sun", "jd-cg", "unit")
    before = snapshot(engine, task.id)
    with pytest.raises(RuleViolation) as refused:
        engine.add_evidence(task.id, by=street, evidence=[record])
    assert refused.value.codes == ("evidence_attributes",)
    assert snapshot(engine, task.id) == before


def test_a_kind_declared_twice_is_refused_at_construction(clock: Any) -> None:
    twin = _plugin("twin", campaignflow_task_kinds=lambda: Schemas().campaignflow_task_kinds())
    with pytest.raises(PluginLoadError, match="twin") as refused:
        Engine("sqlite://", clock=clock, plugins=[Schemas(), twin], load_entry_points=False)
    assert "schemas" in refused.value.message_en


# --- broken plugins fail at construction ----------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "needle"),
    [
        (_plugin("typo", campaignflow_rulez=lambda: []), "campaignflow_rulez"),
        (_plugin("bad-args", campaignflow_rules=lambda nonsense: []), "nonsense"),
        (_plugin("raises", campaignflow_rules=lambda: 1 / 0), "ZeroDivisionError"),
        (_plugin("not-rules", campaignflow_rules=lambda: ["定任务"]), "not a Rule"),
        (
            _plugin("bad-trigger", campaignflow_rules=lambda: [Rule("x", {"approve"}, lambda _c: (), {"x"})]),
            "approve",
        ),
        (_plugin("no-name-kind", campaignflow_task_kinds=lambda: [object()]), "KindSchema"),
        (_plugin("bad-channel", campaignflow_channels=lambda: [object()]), "send"),
    ],
    ids=lambda value: value.name if isinstance(value, types.SimpleNamespace) else "",
)
def test_a_broken_plugin_fails_when_the_engine_is_built(plugin: Any, needle: str, clock: Any) -> None:
    with pytest.raises(PluginLoadError) as refused:
        Engine("sqlite://", clock=clock, plugins=[plugin], load_entry_points=False)
    assert refused.value.plugin == plugin.name
    assert plugin.name in str(refused.value)
    assert needle in refused.value.message_en


def test_a_hook_that_is_not_a_function_is_refused_not_skipped(clock: Any) -> None:
    rule = Rule("宣传栏面积", {"assign"}, board_area, {"board_area"})
    plugin = _plugin("partial", campaignflow_rules=functools.partial(list, [rule]))
    with pytest.raises(PluginLoadError, match="must be a function or method") as refused:
        Engine("sqlite://", clock=clock, plugins=[plugin], load_entry_points=False)
    assert refused.value.plugin == "partial"


def test_two_plugins_with_one_name_are_refused(clock: Any) -> None:
    with pytest.raises(PluginLoadError, match=r"already registered"):
        Engine("sqlite://", clock=clock, plugins=[BoardPlugin(), BoardPlugin()], load_entry_points=False)


# --- entry points -------------------------------------------------------------------------------


def _entry_points(*points: importlib.metadata.EntryPoint) -> Callable[..., Any]:
    def fake(*, group: str) -> tuple[importlib.metadata.EntryPoint, ...]:
        return points if group == ENTRY_POINT_GROUP else ()

    return fake


@pytest.fixture
def installed_plugin(monkeypatch: pytest.MonkeyPatch) -> str:
    """A module ``cf_test_ep`` with a rule, announced as the entry point ``board``."""
    module = types.ModuleType("cf_test_ep")
    module.campaignflow_rules = BoardPlugin().campaignflow_rules  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cf_test_ep", module)
    point = importlib.metadata.EntryPoint(name="board", value="cf_test_ep", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(importlib.metadata, "entry_points", _entry_points(point))
    return "board"


def test_entry_points_are_loaded_by_default_and_can_be_switched_off(
    installed_plugin: str, clock: Any, office: Actor, tmp_path: Any
) -> None:
    loaded = Engine(f"sqlite:///{tmp_path}/a.db", clock=clock)
    off = Engine(f"sqlite:///{tmp_path}/b.db", clock=clock, load_entry_points=False)
    try:
        assert installed_plugin in loaded.plugins.names
        assert installed_plugin not in off.plugins.names
        assert "board_area" in loaded.rules.codes()
        assert "board_area" not in off.rules.codes()
    finally:
        loaded.close()
        off.close()


def test_an_explicit_plugin_wins_over_an_entry_point_of_the_same_name(
    installed_plugin: str, clock: Any
) -> None:
    mine = _plugin(installed_plugin, campaignflow_rules=lambda: [])
    engine = Engine("sqlite://", clock=clock, plugins=[mine])
    try:
        assert engine.plugins.manager.get_plugin(installed_plugin) is mine
        assert "board_area" not in engine.rules.codes()
    finally:
        engine.close()


def test_an_entry_point_that_does_not_import_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch, clock: Any
) -> None:
    point = importlib.metadata.EntryPoint(
        name="gone", value="cf_no_such_module:plugin", group=ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", _entry_points(point))
    with pytest.raises(PluginLoadError) as refused:
        Engine("sqlite://", clock=clock)
    assert refused.value.plugin == "gone"
    assert "cf_no_such_module:plugin" in refused.value.message_en
    assert "ModuleNotFoundError" in refused.value.message_en


def test_plugin_rules_run_in_registration_order(make_engine: Callable[..., Engine], office: Actor) -> None:
    """Items of a refusal come in the order the plugins were registered, and so does the rule set."""

    def refusing(code: str) -> types.SimpleNamespace:
        def check(_ctx: ActionContext) -> Iterable[Missing]:
            yield Missing(code, "扩展", f"{code} 不符合", f"{code} fails", "")

        return _plugin(
            f"plugin-{code}", campaignflow_rules=lambda: [Rule(f"规则{code}", {"assign"}, check, {code})]
        )

    engine = make_engine(plugins=[refusing("first"), refusing("second"), refusing("third")])
    assert [r.source for r in engine.rules.rules if r.source] == [
        "plugin-first",
        "plugin-second",
        "plugin-third",
    ]
    with pytest.raises(RuleViolation) as refused:
        assign_sample(engine, by=office)
    assert refused.value.codes == ("first", "second", "third")
