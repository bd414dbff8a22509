"""Test doubles and a contract suite for notification channels.

:class:`RecordingChannel` keeps every message it is sent and can be told to fail or hang, for host
apps testing their notifications. :class:`ChannelContract` is the test suite every channel should
pass: subclass it in your tests (the class name must start with ``Test``) and provide the fixtures
it names::

    from campaignflow.testing.channels import ChannelContract

    class TestMyChannel(ChannelContract):
        @pytest.fixture
        def channel(self, my_receiver):  # the channel, pointed at a receiver you control
            return MyChannel(url=my_receiver.url)

        @pytest.fixture
        def address(self):  # an address the channel accepts
            return "ops@example.org"

        @pytest.fixture
        def received(self, my_receiver):  # what the receiver got: its idempotency keys, in order
            return lambda: [m.key for m in my_receiver.messages]

        @pytest.fixture
        def refusing_channel(self, my_receiver):  # pointed at a receiver that refuses everything
            my_receiver.refuse = True
            return MyChannel(url=my_receiver.url)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from campaignflow.clock import FixedClock
from campaignflow.delivery import DeliveryPolicy
from campaignflow.domain.contacts import Contact, ContactRole
from campaignflow.domain.messages import Channel, Event, Message, RateLimit
from campaignflow.engine import Engine
from campaignflow.errors import ChannelError
from campaignflow.hookspecs import hookimpl
from campaignflow.testing import DEMO_NOW, assign_sample, seed_units

__all__ = [
    "ChannelContract",
    "ChannelPlugin",
    "RecordingChannel",
    "sample_message",
    "sqlite_engine",
]


class RecordingChannel:
    """A channel that keeps what it is sent, in order (thread-safe).

    ``fail(n)`` makes the next ``n`` sends raise (a retryable :class:`ChannelError` unless you
    pass another exception); ``hang(n, release)`` makes them block until ``release`` is set.
    """

    def __init__(self, name: str = "recording", *, rate_limit: RateLimit | None = None) -> None:
        self.name = name
        self.rate_limit = rate_limit
        self.messages: list[Message] = []
        self.attempts = 0
        self._script: deque[tuple[str, Any]] = deque()  # ("fail", error | None) / ("hang", event)
        self._lock = threading.Lock()

    def fail(self, times: int = 1, error: BaseException | None = None) -> None:
        for _ in range(times):
            self._script.append(("fail", error))

    def hang(self, times: int, release: threading.Event) -> None:
        for _ in range(times):
            self._script.append(("hang", release))

    def send(self, message: Message) -> None:
        with self._lock:
            self.attempts += 1
            step: tuple[str, Any] = self._script.popleft() if self._script else ("ok", None)
        action, value = step
        if action == "fail":
            raise value or ChannelError("测试渠道拒收", "the recording channel was told to fail")
        if action == "hang":
            release: threading.Event = value
            release.wait()
        with self._lock:
            self.messages.append(message)

    @property
    def keys(self) -> list[str]:
        """The idempotency keys received, in order (duplicates kept)."""
        with self._lock:
            return [m.idempotency_key for m in self.messages]


class ChannelPlugin:
    """A plugin providing the given channels (register it with ``Engine(plugins=[...])``)."""

    def __init__(self, *channels: Channel, name: str = "test-channels") -> None:
        self.name = name
        self.channels = channels

    @hookimpl
    def campaignflow_channels(self) -> tuple[Channel, ...]:
        return self.channels


def sqlite_engine(
    path: str | Path,
    *,
    plugins: tuple[object, ...] = (),
    clock: FixedClock | None = None,
    delivery: DeliveryPolicy | None = None,
) -> Engine:
    """An engine on a SQLite file with the city units seeded, on a fixed clock (``DEMO_NOW``),
    with only the ``plugins`` given (installed entry points are not loaded). Close it after use."""
    engine = Engine(
        f"sqlite:///{path}",
        clock=clock or FixedClock(DEMO_NOW),
        plugins=plugins,
        load_entry_points=False,
        delivery=delivery,
    )
    seed_units(engine)
    return engine


def sample_message(channel: str, address: str, *, key: str = "task-1:1:cgj:liu:x") -> Message:
    """A complete message (交办 of a sample task to 刘洋 of 市城管局) for ``channel`` at ``address``."""
    now = DEMO_NOW
    event = Event(
        event="assign",
        task_id="task-1",
        seq=1,
        at=now,
        actor="wang",
        kind="sanitation.blind_spot",
        title="背街小巷卫生死角整治",
        campaign="2026创卫",
        indicator="B3.2",
        unit="cgj",
        office_unit="cwb",
        state="assigned",
        deadline=now + timedelta(days=30),
    )
    return Message(
        idempotency_key=key,
        channel=channel,
        address=address,
        person_id="liu",
        person="刘洋",
        role="liaison",
        unit="cgj",
        language="zh",
        subject="【任务交办】背街小巷卫生死角整治",
        body="刘洋：任务“背街小巷卫生死角整治”已交办给贵单位。",
        event=event,
    )


class ChannelContract:
    """What every channel must do. Subclass with fixtures ``channel``, ``address``, ``received``
    (a callable returning the idempotency keys the receiver got, in order) and
    ``refusing_channel`` (the channel pointed at a receiver that refuses)."""

    def test_has_a_name_and_send(self, channel: Channel) -> None:
        assert isinstance(channel, Channel)
        assert isinstance(channel.name, str)
        assert channel.name.strip()
        limit = getattr(channel, "rate_limit", None)
        assert limit is None or isinstance(limit, RateLimit)

    def test_the_idempotency_key_reaches_the_receiver(
        self, channel: Channel, address: str, received: Callable[[], list[str]]
    ) -> None:
        message = sample_message(channel.name, address, key="contract:1:cgj:liu:" + channel.name)
        channel.send(message)
        assert received() == [message.idempotency_key]

    def test_a_retry_carries_the_same_key(
        self, channel: Channel, address: str, received: Callable[[], list[str]]
    ) -> None:
        message = sample_message(channel.name, address, key="contract:2:cgj:liu:" + channel.name)
        channel.send(message)
        channel.send(message)
        assert received() == [message.idempotency_key, message.idempotency_key]

    def test_a_refusal_raises(self, refusing_channel: Channel, address: str) -> None:
        with pytest.raises(Exception):  # noqa: B017, PT011  any exception: the dispatcher retries
            refusing_channel.send(sample_message(refusing_channel.name, address))

    def test_through_the_engine(
        self, channel: Channel, address: str, received: Callable[[], list[str]], tmp_path: Path
    ) -> None:
        """交办 → dispatch: the unit's liaison gets one message on this channel, keyed
        ``<task>:<seq>:<unit>:<person>:<channel>``."""
        engine = sqlite_engine(tmp_path / "contract.db", plugins=(ChannelPlugin(channel),))
        try:
            engine.set_contacts(
                "cgj",
                [Contact(id="liu", name="刘洋", role=ContactRole.LIAISON, addresses={channel.name: address})],
            )
            task = assign_sample(engine)
            report = engine.dispatch()
            assert (report.delivered, report.failed, report.dead) == (1, 0, 0)
            assert received() == [f"{task.id}:1:cgj:liu:{channel.name}"]
        finally:
            engine.close()


@pytest.fixture
def recording_channel() -> RecordingChannel:
    """A fresh :class:`RecordingChannel` named ``recording``."""
    return RecordingChannel()
