"""Plugin faults: a rule that raises, a deadline policy that raises, a notification hook that
raises, a channel that raises and a channel that hangs. Transitions still commit or refuse cleanly
(a rule fault fails closed with PluginError and changes nothing; a delivery fault fails open:
the step is committed and its notification waits in the outbox), the fault is logged with the
plugin's name, and the engine stays usable: the same engine carries on once the fault clears.
On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta

import pytest

from campaignflow import (
    ActionContext,
    Contact,
    DeliveryPolicy,
    Engine,
    Event,
    Limit,
    Missing,
    Notice,
    PluginError,
    Rule,
    TaskState,
    hookimpl,
)
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.testing import (
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_plan,
    snapshot,
)
from campaignflow.testing.channels import ChannelPlugin, RecordingChannel
from tests.reliability.harness import Figures

PEOPLE = actors()


class Switch:
    """A fault that can be turned off: the plugins below raise while ``on``."""

    def __init__(self) -> None:
        self.on = True

    def check(self) -> None:
        if self.on:
            raise RuntimeError("the rules service is down")


class FlakyRules:
    name = "flaky-rules"

    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        def check(_ctx: ActionContext) -> Iterable[Missing]:
            self.switch.check()
            return ()

        return [Rule("外部核验", {"start", "submit_self_check"}, check, {"external_check"})]


class FlakyDeadlines:
    name = "flaky-deadlines"

    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    @hookimpl
    def campaignflow_deadline_policy(self, request: DeadlineRequest) -> Limit | None:
        self.switch.check()
        return Limit.working_days(5)


class FlakyNotices:
    name = "flaky-notices"

    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    @hookimpl
    def campaignflow_notifications(self, event: Event) -> list[Notice]:
        self.switch.check()
        return [Notice(unit="wsj")]


def _logged(caplog: pytest.LogCaptureFixture, *needles: str) -> bool:
    return any(all(n in record.getMessage() for n in needles) for record in caplog.records)


def test_a_raising_rule_fails_closed_is_logged_and_the_engine_carries_on(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    switch = Switch()
    engine = make_engine(plugins=[FlakyRules(switch)])
    tasks = [assign_sample(engine) for _ in range(5)]
    caplog.set_level(logging.WARNING, logger="campaignflow")
    for task in tasks:
        before = snapshot(engine, task.id)
        with pytest.raises(PluginError) as refused:
            engine.start(
                task.id, by=PEOPLE["staff"], plan=sample_plan(task, engine), deployment=sample_deployment()
            )
        assert refused.value.plugin == "flaky-rules"
        assert refused.value.message_zh
        assert "RuntimeError" in refused.value.message_en
        assert snapshot(engine, task.id) == before
        figures.add("plugin_faults_injected")
    assert _logged(caplog, "flaky-rules", "外部核验", tasks[-1].id), [r.getMessage() for r in caplog.records]
    # untouched triggers still work while the plugin is down, and everything works once it is back
    assert engine.cancel(tasks[0].id, by=PEOPLE["office"], reason="合并").state is TaskState.CANCELLED
    switch.on = False
    for task in tasks[1:]:
        assert drive_to(engine, "archived", task.id).state is TaskState.ARCHIVED
        assert engine.verify_history(task.id) is None


def test_a_raising_deadline_policy_refuses_the_assign_and_is_logged(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    switch = Switch()
    engine = make_engine(plugins=[FlakyDeadlines(switch)])
    caplog.set_level(logging.WARNING, logger="campaignflow")
    before = len(engine.tasks().items)
    with pytest.raises(PluginError, match="flaky-deadlines"):
        engine.assign(
            by=PEOPLE["office"],
            title="清理",
            standard="无垃圾",
            measures=["巡查"],
            unit="cgj",
            campaign="2026创卫",
            indicator="B3.2",
        )
    figures.add("plugin_faults_injected")
    assert len(engine.tasks().items) == before
    assert _logged(caplog, "flaky-deadlines"), [r.getMessage() for r in caplog.records]
    assert assign_sample(engine).state is TaskState.ASSIGNED  # an explicit due needs no plugin
    switch.on = False
    task = engine.assign(
        by=PEOPLE["office"],
        title="清理",
        standard="无垃圾",
        measures=["巡查"],
        unit="cgj",
        campaign="2026创卫",
        indicator="B3.2",
    )
    assert task.deadline_basis is not None
    assert task.deadline_basis["policy"] == "plugin:flaky-deadlines"


def test_a_raising_notification_hook_fails_open_and_is_retried(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    switch = Switch()
    channel = RecordingChannel("im")
    engine = make_engine(
        plugins=[FlakyNotices(switch), ChannelPlugin(channel)],
        delivery=DeliveryPolicy(backoff=timedelta(seconds=1)),
    )
    for unit in ("cgj", "wsj"):
        engine.set_contacts(
            unit, [Contact(id=f"p-{unit}", name="联络员", role="liaison", addresses={"im": unit})]
        )
    caplog.set_level(logging.WARNING, logger="campaignflow")
    task = assign_sample(engine)  # the step commits whatever the plugin will do later
    report = engine.dispatch()
    figures.add("plugin_faults_injected")
    assert (report.delivered, report.failed) == (1, 1)
    assert _logged(caplog, "flaky-notices", "RuntimeError"), [r.getMessage() for r in caplog.records]
    switch.on = False
    engine.clock.advance(seconds=2)  # type: ignore[attr-defined]
    assert engine.dispatch().expanded == 1
    engine.dispatch()
    assert sorted(channel.keys) == sorted(
        [f"{task.id}:1:cgj:p-cgj:im", f"{task.id}:1:@flaky-notices:wsj:p-wsj:im"]
    )


def test_a_raising_or_hanging_channel_is_bounded_logged_and_retried(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    channel = RecordingChannel("im")
    engine = make_engine(
        plugins=[ChannelPlugin(channel)],
        delivery=DeliveryPolicy(backoff=timedelta(seconds=1), send_timeout=0.3),
    )
    engine.set_contacts("cgj", [Contact(id="liu", name="刘洋", role="liaison", addresses={"im": "liu"})])
    caplog.set_level(logging.WARNING, logger="campaignflow")
    raised, hung = assign_sample(engine), assign_sample(engine)
    release = threading.Event()
    channel.fail(1, RuntimeError("smtp relay refused"))
    channel.hang(1, release)
    try:
        report = engine.dispatch()  # returns although one send never answers
    finally:
        release.set()
    figures.add("plugin_faults_injected", 2)
    assert (report.claimed, report.failed, report.delivered) == (2, 2, 0)
    assert _logged(caplog, "RuntimeError", "smtp relay refused")
    assert _logged(caplog, "no answer within")
    # the engine is usable throughout: actions commit while messages wait, then all are delivered
    assert (
        engine.start(
            raised.id, by=PEOPLE["staff"], plan=sample_plan(raised, engine), deployment=sample_deployment()
        ).version
        == 2
    )
    engine.clock.advance(seconds=5)  # type: ignore[attr-defined]
    while engine.dispatch().claimed:
        pass
    keys = set(channel.keys)  # the hung send may also land late: a duplicate dropped by its key
    assert keys == {f"{raised.id}:1:cgj:liu:im", f"{hung.id}:1:cgj:liu:im"}
    assert engine.pending_notifications() == [] or all(
        row["event"] == "start" for row in engine.pending_notifications()
    )
