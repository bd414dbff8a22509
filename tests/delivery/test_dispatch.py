"""Outbox delivery on SQLite and PostgreSQL: addressing people, templates, retries with backoff,
dead letters and re-queueing, rate limits, faults that fail open, leases and the claim's index."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    Actor,
    ChannelError,
    Contact,
    ContactRole,
    DefinitionError,
    DeliveryPolicy,
    Engine,
    Event,
    FixedClock,
    InvalidInput,
    NotFound,
    Notice,
    RateLimit,
    TaskState,
    Template,
    hookimpl,
)
from campaignflow.testing import assign_sample, drive_to
from campaignflow.testing.channels import ChannelContract, ChannelPlugin, RecordingChannel

LIU = Contact(id="liu", name="刘洋", role=ContactRole.LIAISON, addresses={"recording": "liu@cgj"})
ZHANG = Contact(id="zhang", name="张三", role="leader", addresses={"recording": "zhang@cgj"}, language="en")
DUTY = Contact(id="duty", name="值班室", role="other", addresses={"recording": "duty@cgj"})
WANG = Contact(id="wang", name="王建国", role="leader", addresses={"recording": "wang@cwb"})

POLICY = DeliveryPolicy(max_attempts=3, backoff=timedelta(seconds=30), send_timeout=2.0)


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def engine(make_engine: Callable[..., Engine], channel: RecordingChannel) -> Engine:
    engine = make_engine(plugins=[ChannelPlugin(channel)], delivery=POLICY)
    engine.set_contacts("cgj", [ZHANG, LIU, DUTY])
    engine.set_contacts("cwb", [WANG])
    return engine


def _entry(engine: Engine, task_id: str, index: int = 0) -> Any:
    return engine.outbox(task_id)[index]


# --- the contact directory ----------------------------------------------------------------------


def test_contacts_are_kept_per_unit_in_order(engine: Engine) -> None:
    assert engine.contacts("cgj") == [ZHANG, LIU, DUTY]
    engine.set_contacts("cgj", [LIU])
    assert engine.contacts("cgj") == [LIU]
    assert engine.contacts("wsj") == []


def test_bad_contacts_change_nothing(engine: Engine) -> None:
    with pytest.raises(NotFound):
        engine.set_contacts("nowhere", [LIU])
    with pytest.raises(InvalidInput):
        engine.set_contacts("cgj", [LIU, LIU])
    with pytest.raises(InvalidInput):
        engine.set_contacts("cgj", ["刘洋"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        Contact(id="x", name="x", role="boss", addresses={})
    with pytest.raises(InvalidInput):
        Contact(id="x", name="x", role="leader", addresses={"email": ""})
    assert engine.contacts("cgj") == [ZHANG, LIU, DUTY]


# --- delivery -------------------------------------------------------------------------------------


def test_a_step_reaches_the_units_leader_and_liaison_in_their_language(
    engine: Engine, channel: RecordingChannel
) -> None:
    task = assign_sample(engine)
    assert engine.pending_notifications()  # written in the action's transaction
    report = engine.dispatch()
    assert (report.claimed, report.delivered, report.sent) == (1, 1, 2)
    first, second = channel.messages
    assert [m.idempotency_key for m in channel.messages] == [
        f"{task.id}:1:cgj:zhang:recording",
        f"{task.id}:1:cgj:liu:recording",
    ]
    assert (first.address, first.language, first.role) == ("zhang@cgj", "en", "leader")
    assert first.subject == "[Assigned] 背街小巷卫生死角整治"
    assert second.subject == "【任务交办】背街小巷卫生死角整治"
    assert second.body.startswith("刘洋：任务“背街小巷卫生死角整治”（2026创卫 B3.2）已交办给贵单位")
    assert "完成时限：2026-12-02" in second.body
    assert second.event.task_id == task.id
    assert engine.pending_notifications() == []
    assert engine.dispatch().claimed == 0
    [row] = engine.outbox(task.id)
    assert row.published_at == engine.clock.now()
    assert row.delivered == tuple(sorted(channel.keys))


def test_a_reason_reaches_the_message(engine: Engine, channel: RecordingChannel, inspector: Actor) -> None:
    task = drive_to(engine, TaskState.SELF_CHECKED)
    engine.dispatch()
    channel.messages.clear()
    engine.fail_verification(task.id, by=inspector, reason="仍有积存垃圾")
    engine.dispatch()
    bodies = {m.person: m.body for m in channel.messages}
    assert "理由：仍有积存垃圾" in bodies["刘洋"]
    assert "Reason: 仍有积存垃圾" in bodies["张三"]
    assert "王建国" in bodies  # the office hears of it too


def test_no_channel_is_a_clear_error(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine()
    assign_sample(engine)
    with pytest.raises(DefinitionError, match="campaignflow_channels"):
        engine.dispatch()


# --- retries, backoff, dead letters ----------------------------------------------------------------


def test_failures_back_off_exponentially_then_park_and_requeue(
    engine: Engine, channel: RecordingChannel
) -> None:
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    task = assign_sample(engine)
    start = clock.now()
    channel.fail(6)  # three attempts, two people each

    report = engine.dispatch()
    assert (report.failed, report.delivered) == (1, 0)
    row = _entry(engine, task.id)
    assert row.attempts == 1
    assert row.next_attempt_at == start + timedelta(seconds=30)
    assert "the recording channel was told to fail" in (row.last_error or "")
    assert engine.dispatch().claimed == 0  # not due yet

    clock.advance(seconds=30)
    assert engine.dispatch().failed == 1
    row = _entry(engine, task.id)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)  # doubled

    clock.advance(seconds=60)
    assert engine.dispatch().dead == 1  # max_attempts = 3
    [dead] = engine.dead_letters()
    assert (dead.id, dead.attempts, dead.dead_at) == (row.id, 3, clock.now())
    clock.advance(hours=5)
    assert engine.dispatch().claimed == 0  # a dead letter waits for a person

    assert engine.requeue([dead.id]) == 1
    assert engine.dead_letters() == []
    assert engine.dispatch().delivered == 1
    assert sorted(channel.keys) == sorted(
        [f"{task.id}:1:cgj:liu:recording", f"{task.id}:1:cgj:zhang:recording"]
    )


def test_a_delivery_that_succeeded_is_not_repeated_on_retry(
    engine: Engine, channel: RecordingChannel
) -> None:
    task = assign_sample(engine)
    channel.fail(1)  # the first person's send fails, the second's succeeds
    assert engine.dispatch().failed == 1
    assert channel.keys == [f"{task.id}:1:cgj:liu:recording"]
    assert _entry(engine, task.id).delivered == (f"{task.id}:1:cgj:liu:recording",)
    engine.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert engine.dispatch().delivered == 1
    assert channel.keys == [f"{task.id}:1:cgj:liu:recording", f"{task.id}:1:cgj:zhang:recording"]


def test_a_permanent_refusal_parks_at_once(engine: Engine, channel: RecordingChannel) -> None:
    task = assign_sample(engine)
    channel.fail(1, ChannelError("地址无效", "HTTP 404: no such robot", retryable=False))
    assert engine.dispatch().dead == 1
    [dead] = engine.dead_letters()
    assert dead.task_id == task.id
    assert "HTTP 404" in (dead.last_error or "")


def test_an_unreadable_row_is_parked_and_the_others_still_go(
    engine: Engine, channel: RecordingChannel, caplog: pytest.LogCaptureFixture
) -> None:
    bad, good = assign_sample(engine), assign_sample(engine)
    row = _entry(engine, bad.id)
    broken = {k: v for k, v in row.payload.items() if k != "seq"}  # as a hand-written row might be
    outbox = engine.tables.outbox
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == row.id).values(payload=broken))
    with caplog.at_level("ERROR", logger="campaignflow.delivery"):
        report = engine.dispatch()
    assert (report.dead, report.delivered) == (1, 1)
    [dead] = engine.dead_letters()
    assert (dead.id, dead.attempts) == (row.id, 1)  # parked at once, not retried
    assert "unreadable payload" in (dead.last_error or "")
    assert f"outbox row {row.id}: unreadable payload" in caplog.text
    assert all(key.startswith(good.id) for key in channel.keys)
    assert engine.dispatch().claimed == 0


def test_a_unit_without_contacts_is_retried_then_parked_visibly(
    engine: Engine, channel: RecordingChannel, office: Actor
) -> None:
    task = assign_sample(engine, unit="wsj")  # nobody of 市卫生局 is in the directory
    assert engine.dispatch().failed == 1
    assert "'wsj' has no contact" in (_entry(engine, task.id).last_error or "")
    engine.set_contacts(
        "wsj", [Contact(id="chen", name="陈静", role="liaison", addresses={"recording": "chen@wsj"})]
    )
    engine.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert engine.dispatch().delivered == 1
    assert channel.keys == [f"{task.id}:1:wsj:chen:recording"]


def test_a_hanging_channel_fails_open(make_engine: Callable[..., Engine], staff: Actor) -> None:
    channel = RecordingChannel()
    release = threading.Event()
    engine = make_engine(plugins=[ChannelPlugin(channel)], delivery=DeliveryPolicy(send_timeout=0.2))
    engine.set_contacts("cgj", [LIU])
    try:
        task = assign_sample(engine)
        channel.hang(1, release)
        report = engine.dispatch()
        assert report.failed == 1
        assert "no answer within 0.2 s" in (_entry(engine, task.id).last_error or "")
        assert engine.get(task.id).state is TaskState.ASSIGNED  # the step stands
    finally:
        release.set()


# --- notification plugins fail open -------------------------------------------------------------


class CopyOffice:
    """Copies every 交办 to the office's leader, with its own text; can be told to break."""

    name = "copy-office"

    def __init__(self) -> None:
        self.broken = False
        self.calls = 0

    @hookimpl
    def campaignflow_notifications(self, event: Event) -> list[Notice]:
        self.calls += 1
        if self.broken:
            raise ConnectionError("directory service unreachable")
        if event.event != "assign":
            return []
        return [
            Notice(
                unit=event.office_unit,
                roles=("leader",),
                tag="copy",
                templates={"zh": Template("【抄送】{title}", "{person}：已向{unit}交办“{title}”。")},
            )
        ]


def test_a_plugin_notice_is_expanded_after_commit_and_delivered(
    make_engine: Callable[..., Engine], channel: RecordingChannel
) -> None:
    plugin = CopyOffice()
    engine = make_engine(plugins=[ChannelPlugin(channel), plugin])
    engine.set_contacts("cwb", [WANG])
    engine.set_contacts("cgj", [LIU])
    task = assign_sample(engine)
    assert plugin.calls == 0  # never inside the action's transaction
    assert [e.kind for e in engine.outbox(task.id)] == ["message", "expand"]
    report = engine.dispatch()
    assert (report.delivered, report.expanded) == (1, 1)
    assert plugin.calls == 1
    report = engine.dispatch()
    assert report.delivered == 1
    copy = channel.messages[-1]
    assert copy.idempotency_key == f"{task.id}:1:@copy-office:cwb:copy:wang:recording"
    assert (copy.subject, copy.body) == (
        "【抄送】背街小巷卫生死角整治",
        "王建国：已向cgj交办“背街小巷卫生死角整治”。",
    )


def test_a_raising_notification_plugin_fails_open(
    make_engine: Callable[..., Engine], channel: RecordingChannel, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = CopyOffice()
    plugin.broken = True
    engine = make_engine(plugins=[ChannelPlugin(channel), plugin], delivery=POLICY)
    engine.set_contacts("cwb", [WANG])
    engine.set_contacts("cgj", [LIU])
    task = assign_sample(engine)  # commits regardless
    assert engine.get(task.id).state is TaskState.ASSIGNED
    with caplog.at_level("WARNING", logger="campaignflow.delivery"):
        report = engine.dispatch()
    assert (report.delivered, report.failed) == (1, 1)
    expand = _entry(engine, task.id, 1)
    assert expand.published_at is None
    assert "plugin 'copy-office': ConnectionError: directory service unreachable" in (expand.last_error or "")
    assert "directory service unreachable" in caplog.text
    plugin.broken = False
    engine.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert engine.dispatch().expanded == 1
    assert engine.dispatch().delivered == 1
    assert channel.keys[-1].endswith(":@copy-office:cwb:copy:wang:recording")


# --- rate limits ----------------------------------------------------------------------------------


def test_a_channel_over_its_rate_limit_defers_without_counting_attempts(
    make_engine: Callable[..., Engine],
) -> None:
    channel = RecordingChannel(rate_limit=RateLimit(2, timedelta(minutes=1)))
    engine = make_engine(plugins=[ChannelPlugin(channel)])
    engine.set_contacts("cgj", [LIU])
    tasks = [assign_sample(engine) for _ in range(5)]
    report = engine.dispatch()
    assert (report.delivered, report.deferred) == (2, 3)
    deferred = [engine.outbox(t.id)[0] for t in tasks[2:]]
    assert {row.attempts for row in deferred} == {0}
    assert {row.next_attempt_at for row in deferred} == {engine.clock.now() + timedelta(minutes=1)}
    assert engine.dispatch().claimed == 0
    engine.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert engine.dispatch().delivered == 2
    engine.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert engine.dispatch().delivered == 1
    assert len(channel.keys) == len(set(channel.keys)) == 5


def test_the_policy_overrides_a_channels_rate_limit(make_engine: Callable[..., Engine]) -> None:
    channel = RecordingChannel(rate_limit=RateLimit(1))
    engine = make_engine(
        plugins=[ChannelPlugin(channel)], delivery=DeliveryPolicy(rate_limits={"recording": RateLimit(3)})
    )
    engine.set_contacts("cgj", [LIU])
    for _ in range(4):
        assign_sample(engine)
    assert engine.dispatch().delivered == 3


def test_bad_policies_are_refused() -> None:
    for bad in ({"max_attempts": 0}, {"backoff": timedelta(0)}, {"send_timeout": -1.0}, {"batch": True}):
        with pytest.raises(InvalidInput):
            DeliveryPolicy(**bad)


# --- leases: a dispatcher that dies mid-send -----------------------------------------------------


def test_a_lost_lease_means_a_duplicate_with_the_same_key(engine: Engine, channel: RecordingChannel) -> None:
    task = assign_sample(engine)
    store = engine._outbox  # a dispatcher that claims and then dies before marking
    now = engine.clock.now()
    with engine.begin() as conn:
        [claimed] = store.claim(conn, now=now, until=now + POLICY.lease, token="dead", limit=10)
    assert engine.dispatch().claimed == 0  # leased
    engine.clock.advance(POLICY.lease)  # type: ignore[attr-defined]
    assert engine.dispatch().delivered == 1  # the lease ran out: delivered by another
    with engine.begin() as conn:  # the first one wakes up: its outcome is not recorded
        assert not store.finish(
            conn, claimed, token="dead", attempts=1, last_error="late", next_attempt_at=None, delivered=()
        )
    row = _entry(engine, task.id)
    assert (row.attempts, row.last_error) == (0, None)


# --- the claim walks the partial index on PostgreSQL ---------------------------------------------


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_claim_is_served_by_the_pending_index(engine: Engine, backend: str) -> None:
    o = engine.tables.outbox
    now = engine.clock.now()
    rows = [
        {
            "task_id": f"t{i}",
            "event": "assign",
            "recipient": "cgj",
            "payload": {},
            "idempotency_key": f"k{i}",
            "created_at": now,
            "published_at": now if i % 500 else None,
        }
        for i in range(20_000)
    ]
    with engine.begin() as conn:
        conn.execute(o.insert(), rows)
        conn.execute(sa.text(f'ANALYZE "{o.schema}"."{o.name}"'))
        claim = engine._outbox._claim
        compiled = claim.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql(
            "EXPLAIN " + str(compiled), {**compiled.params, "now": now, "limit": 20}
        ).scalars()
        text = "\n".join(plan)
    assert "FOR UPDATE SKIP LOCKED" in str(compiled).upper() or "SKIP LOCKED" in str(compiled).upper()
    assert "cf_ix_outbox_pending" in text, text
    assert "Seq Scan" not in text, text


class TestRecordingChannelContract(ChannelContract):
    """The shipped recording channel passes the contract it ships."""

    @pytest.fixture
    def channel(self) -> RecordingChannel:
        return RecordingChannel()

    @pytest.fixture
    def address(self) -> str:
        return "liu@cgj"

    @pytest.fixture
    def received(self, channel: RecordingChannel) -> Callable[[], list[str]]:
        return lambda: channel.keys

    @pytest.fixture
    def refusing_channel(self) -> RecordingChannel:
        refusing = RecordingChannel()
        refusing.fail(10)
        return refusing


def test_a_hanging_notification_plugin_fails_open(make_engine: Callable[..., Engine]) -> None:
    release = threading.Event()

    class Hanging:
        name = "hanging"

        @hookimpl
        def campaignflow_notifications(self, event: Event) -> list[Notice]:
            release.wait()
            return []

    channel = RecordingChannel()
    engine = make_engine(
        plugins=[ChannelPlugin(channel), Hanging()], delivery=DeliveryPolicy(send_timeout=0.2)
    )
    engine.set_contacts("cgj", [LIU])
    try:
        task = assign_sample(engine)
        report = engine.dispatch()
        assert (report.delivered, report.failed) == (1, 1)  # the built-in message still goes out
        assert "plugin 'hanging': timeout: no answer within 0.2 s" in (
            _entry(engine, task.id, 1).last_error or ""
        )
    finally:
        release.set()
