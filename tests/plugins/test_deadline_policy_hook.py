"""The ``campaignflow_deadline_policy`` hook: a plugin gives the time limit of an assignment that
names neither ``due`` nor ``limit``; the Engine's own ``deadline_policy`` wins where it answers; a
faulty policy plugin refuses the assignment, naming itself, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaignflow import (
    Actor,
    DeadlineRule,
    DeadlineTable,
    Engine,
    Limit,
    PluginError,
    RuleViolation,
    hookimpl,
)
from campaignflow.domain.deadlines import DeadlineRequest

SH = ZoneInfo("Asia/Shanghai")
SAMPLE: dict[str, Any] = {
    "title": "农贸市场周边占道经营整治",
    "standard": "无占道经营、无乱堆乱放",
    "measures": ["早晚高峰巡查", "劝导与查处结合"],
    "unit": "cgj",
    "campaign": "2026创卫",
    "indicator": "B3.2",
}


class UrgencyPolicy:
    """Urgent problems 24 continuous hours; indicator B3.2 five working days; others: no answer."""

    name = "urgency-policy"

    def __init__(self) -> None:
        self.asked: list[DeadlineRequest] = []

    @hookimpl
    def campaignflow_deadline_policy(self, request: DeadlineRequest) -> Limit | None:
        self.asked.append(request)
        if request.urgency == "urgent":
            return Limit.urgent_hours(24)
        if request.indicator == "B3.2":
            return Limit.working_days(5)
        return None


def _count(engine: Engine) -> int:
    return len(engine.tasks(limit=1000).items)


def test_a_plugins_policy_sets_the_deadline(make_engine: Callable[..., Engine], office: Actor) -> None:
    plugin = UrgencyPolicy()
    engine = make_engine(plugins=[plugin])
    task = engine.assign(by=office, **SAMPLE)  # Monday 2 November 2026, 09:00
    assert task.deadline == datetime(2026, 11, 10, tzinfo=SH)  # 5 working days, to Mon 9th 24:00
    assert task.deadline_basis is not None
    assert task.deadline_basis["limit"] == {"kind": "working_days", "amount": 5}
    assert task.deadline_basis["policy"] == "plugin:urgency-policy"
    assert engine.history(task.id)[0].payload["deadline_basis"]["policy"] == "plugin:urgency-policy"
    urgent = engine.assign(by=office, attributes={"urgency": "urgent"}, **SAMPLE)
    assert urgent.deadline == datetime(2026, 11, 3, 9, tzinfo=SH)
    [first, second] = plugin.asked
    assert (first.campaign, first.indicator, first.unit, first.kind) == ("2026创卫", "B3.2", "cgj", "general")
    assert second.urgency == "urgent"


def test_an_explicit_due_or_limit_is_not_sent_to_the_plugin(
    make_engine: Callable[..., Engine], office: Actor
) -> None:
    plugin = UrgencyPolicy()
    engine = make_engine(plugins=[plugin])
    task = engine.assign(by=office, limit=Limit.calendar_days(15), **SAMPLE)
    assert task.deadline_basis is not None
    assert "policy" not in task.deadline_basis
    assert plugin.asked == []


def test_removing_the_plugin_falls_back(make_engine: Callable[..., Engine], office: Actor) -> None:
    without = make_engine()
    with pytest.raises(RuleViolation) as refused:  # no policy at all: 定进度 refuses
        without.assign(by=office, **SAMPLE)
    assert "fixed_schedule" in refused.value.codes
    fallback = DeadlineTable([DeadlineRule(Limit.calendar_days(15))])
    engine = make_engine(deadline_policy=fallback)
    task = engine.assign(by=office, **SAMPLE)
    assert task.deadline == datetime(2026, 11, 18, tzinfo=SH)  # 15 calendar days, to Tue 17th 24:00
    assert task.deadline_basis is not None
    assert task.deadline_basis["policy"] == "deadline_policy"


def test_the_engines_own_policy_wins_and_the_plugin_fills_its_gaps(
    make_engine: Callable[..., Engine], office: Actor
) -> None:
    plugin = UrgencyPolicy()
    own = DeadlineTable([DeadlineRule(Limit.calendar_days(3), indicator="B3.2")])
    engine = make_engine(plugins=[plugin], deadline_policy=own)
    mine = engine.assign(by=office, **SAMPLE)
    assert mine.deadline == datetime(2026, 11, 6, tzinfo=SH)  # the engine's 3 calendar days
    assert mine.deadline_basis is not None
    assert mine.deadline_basis["policy"] == "deadline_policy"
    assert plugin.asked == []
    gap = engine.assign(by=office, **{**SAMPLE, "indicator": "C1.1"}, attributes={"urgency": "urgent"})
    assert gap.deadline_basis is not None
    assert gap.deadline_basis["policy"] == "plugin:urgency-policy"


def test_the_first_plugin_that_answers_decides(make_engine: Callable[..., Engine], office: Actor) -> None:
    class Silent:
        name = "silent"

        @hookimpl
        def campaignflow_deadline_policy(self) -> None:
            return None

    class Ten:
        name = "ten-days"

        @hookimpl
        def campaignflow_deadline_policy(self) -> Limit:
            return Limit.calendar_days(10)

    engine = make_engine(plugins=[Silent(), UrgencyPolicy(), Ten()])
    task = engine.assign(by=office, **SAMPLE)
    assert task.deadline_basis is not None
    assert task.deadline_basis["policy"] == "plugin:urgency-policy"
    other = engine.assign(by=office, **{**SAMPLE, "indicator": "C1.1"})
    assert other.deadline_basis is not None
    assert other.deadline_basis["policy"] == "plugin:ten-days"


class Raising:
    name = "broken-policy"

    @hookimpl
    def campaignflow_deadline_policy(self, request: DeadlineRequest) -> Limit:
        raise ConnectionError("the time-limit service is down")


class Wrong:
    name = "wrong-policy"

    @hookimpl
    def campaignflow_deadline_policy(self) -> object:
        return 5  # days? hours? a policy must say: a Limit


@pytest.mark.parametrize(("plugin", "needle"), [(Raising(), "ConnectionError"), (Wrong(), "int")])
def test_a_faulty_policy_plugin_refuses_the_assign_naming_it_and_writes_nothing(
    make_engine: Callable[..., Engine], office: Actor, plugin: Any, needle: str
) -> None:
    engine = make_engine(plugins=[plugin])
    before = _count(engine)
    with pytest.raises(PluginError) as refused:
        engine.assign(by=office, external_ref="ref-1", **SAMPLE)
    error = refused.value
    assert error.plugin == plugin.name
    assert error.trigger == "assign"
    assert plugin.name in error.message_zh
    assert plugin.name in error.message_en
    assert needle in error.message_en
    assert _count(engine) == before
    assert engine.pending_notifications() == []
    # An explicit limit does not ask the broken plugin: the office can still assign.
    assert engine.assign(by=office, limit=Limit.working_days(5), **SAMPLE).deadline is not None
