"""The HTTP channels against a real local HTTP server: the contract every channel passes, what is
retried and what is not, DingTalk's signature, the robots' own errcodes, and delivery through an
engine's outbox (retry with the same key, dead letter, re-queue)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from campaignflow_notify_webhook import (
    DingTalkChannel,
    WebhookChannel,
    WebhookPlugin,
    WeComChannel,
    dingtalk_sign,
    plugin,
)
from webhook_receiver import Answer, Receiver

from campaignflow import ChannelError, Contact, DeliveryPolicy, Engine
from campaignflow.domain.contacts import ContactRole
from campaignflow.testing import assign_sample
from campaignflow.testing.channels import ChannelContract, sample_message, sqlite_engine

# --- the contract, for each of the three channels ------------------------------------------------


class _Contract(ChannelContract):
    @pytest.fixture
    def address(self, receiver: Receiver) -> str:
        return receiver.url + "/hook?access_token=t0ken"

    @pytest.fixture
    def received(self, receiver: Receiver) -> Callable[[], list[str]]:
        return receiver.keys


class TestWebhookContract(_Contract):
    @pytest.fixture
    def channel(self) -> WebhookChannel:
        return WebhookChannel(timeout=5)

    @pytest.fixture
    def refusing_channel(self, receiver: Receiver) -> WebhookChannel:
        receiver.default = Answer(status=403, body={"error": "forbidden"})
        return WebhookChannel(timeout=5)


class TestDingTalkContract(_Contract):
    @pytest.fixture
    def channel(self) -> DingTalkChannel:
        return DingTalkChannel(secret="SECtest", timeout=5)

    @pytest.fixture
    def refusing_channel(self, receiver: Receiver) -> DingTalkChannel:
        receiver.default = Answer(body={"errcode": 310000, "errmsg": "sign not match"})
        return DingTalkChannel(secret="SECwrong", timeout=5)


class TestWeComContract(_Contract):
    @pytest.fixture
    def channel(self) -> WeComChannel:
        return WeComChannel(timeout=5)

    @pytest.fixture
    def refusing_channel(self, receiver: Receiver) -> WeComChannel:
        receiver.default = Answer(body={"errcode": 93000, "errmsg": "invalid webhook url"})
        return WeComChannel(timeout=5)


# --- the generic webhook ---------------------------------------------------------------------------


def test_the_payload_carries_the_key_the_text_and_the_event(receiver: Receiver) -> None:
    message = sample_message("webhook", receiver.url + "/in", key="t1:3:cgj:liu:webhook")
    WebhookChannel(headers={"Authorization": "Bearer abc"}).send(message)
    [got] = receiver.received
    assert got.path == "/in"
    assert got.headers["Idempotency-Key"] == got.payload["idempotency_key"] == "t1:3:cgj:liu:webhook"
    assert got.headers["Authorization"] == "Bearer abc"
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    assert got.payload["subject"] == "【任务交办】背街小巷卫生死角整治"
    assert got.payload["recipient"] == {
        "id": "liu",
        "name": "刘洋",
        "role": "liaison",
        "unit": "cgj",
        "language": "zh",
    }
    assert got.payload["event"]["event"] == "assign"
    assert got.payload["event"]["task_id"] == "task-1"


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (500, True),
        (502, True),
        (503, True),
        (429, True),
        (408, True),
        (400, False),
        (404, False),
        (410, False),
    ],
)
def test_server_errors_are_retried_and_client_errors_are_not(
    receiver: Receiver, status: int, retryable: bool
) -> None:
    receiver.answer(Answer(status=status, body={"error": "x"}))
    with pytest.raises(ChannelError) as failed:
        WebhookChannel().send(sample_message("webhook", receiver.url))
    assert failed.value.retryable is retryable
    assert f"HTTP {status}" in failed.value.message_en


def test_a_receiver_that_does_not_answer_in_time_is_retried(receiver: Receiver) -> None:
    receiver.answer(Answer(delay=2.0))
    with pytest.raises(ChannelError) as failed:
        WebhookChannel(timeout=0.3).send(sample_message("webhook", receiver.url))
    assert failed.value.retryable is True
    assert "0.3 s" in failed.value.message_en
    assert len(receiver.received) == 1  # it did arrive: at least once, hence the key


def test_a_closed_port_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChannelError) as failed:
        WebhookChannel(timeout=2).send(sample_message("webhook", f"http://127.0.0.1:{port}/"))
    assert failed.value.retryable is True
    assert "could not connect" in failed.value.message_en


def test_an_address_that_is_no_url_is_refused_for_good() -> None:
    with pytest.raises(ChannelError) as failed:
        WebhookChannel().send(sample_message("webhook", "ops@example.org"))
    assert failed.value.retryable is False


# --- DingTalk ---------------------------------------------------------------------------------------


def _documented_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented Python sample, verbatim in substance."""
    string_to_sign = f"{timestamp}\n{secret}"
    hmac_code = hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(hmac_code))


def test_dingtalk_signs_with_timestamp_and_secret(receiver: Receiver) -> None:
    channel = DingTalkChannel(secret="SEC000demo", clock=lambda: 1_790_000_000.123)
    channel.send(sample_message("dingtalk", receiver.url + "/robot/send?access_token=abc"))
    [got] = receiver.received
    assert got.query["access_token"] == "abc"
    assert got.query["timestamp"] == "1790000000123"
    assert urllib.parse.quote_plus(got.query["sign"]) == _documented_sign("SEC000demo", "1790000000123")
    assert dingtalk_sign("SEC000demo", 1790000000123) == got.query["sign"]
    assert got.payload["msgtype"] == "markdown"
    assert got.payload["markdown"]["title"] == "【任务交办】背街小巷卫生死角整治"
    assert got.payload["markdown"]["text"].endswith("> task-1:1:cgj:liu:x")
    assert got.payload["idempotency_key"] == got.headers["Idempotency-Key"] == "task-1:1:cgj:liu:x"


def test_dingtalk_takes_a_robot_secret_from_the_address_fragment(receiver: Receiver) -> None:
    channel = DingTalkChannel(secret="SECdefault", clock=lambda: 1_790_000_000.0)
    channel.send(sample_message("dingtalk", receiver.url + "/robot/send?access_token=abc#secret=SECgroup2"))
    [got] = receiver.received
    assert got.query["sign"] == dingtalk_sign("SECgroup2", 1790000000000)
    assert "secret" not in got.query
    assert "SECgroup2" not in got.path + str(got.query)


def test_dingtalk_without_a_secret_sends_unsigned(receiver: Receiver) -> None:
    DingTalkChannel().send(sample_message("dingtalk", receiver.url + "/robot/send?access_token=abc"))
    assert set(receiver.received[0].query) == {"access_token"}


@pytest.mark.parametrize(
    ("make", "errcode", "retryable"),
    [
        (DingTalkChannel, 130101, True),  # send too fast, exceed 20 times per minute
        (DingTalkChannel, 410100, True),  # the same, newer code
        (DingTalkChannel, 90030, True),  # webhook over limit
        (DingTalkChannel, -1, True),  # system busy
        (DingTalkChannel, 310000, False),  # keywords not in content / sign not match / ip not allowed
        (DingTalkChannel, 300001, False),  # token is not exist
        (WeComChannel, 45009, True),  # api freq out of limit
        (WeComChannel, -1, True),
        (WeComChannel, 93000, False),  # invalid webhook url
        (WeComChannel, 40008, False),  # invalid message type
    ],
)
def test_the_robots_errcodes_as_the_robots_define_them(
    receiver: Receiver, make: type[WebhookChannel], errcode: int, retryable: bool
) -> None:
    receiver.answer(Answer(status=200, body={"errcode": errcode, "errmsg": "refused"}))
    with pytest.raises(ChannelError) as failed:
        make().send(sample_message("x", receiver.url + "/send?key=k"))
    assert failed.value.retryable is retryable
    assert f"errcode {errcode}" in failed.value.message_en


def test_a_robot_answer_that_is_not_json_is_retried(receiver: Receiver) -> None:
    receiver.answer(Answer(status=200, body=b"<html>gateway</html>"))
    with pytest.raises(ChannelError) as failed:
        WeComChannel().send(sample_message("wecom", receiver.url))
    assert failed.value.retryable is True


def test_wecom_sends_markdown_with_the_key(receiver: Receiver) -> None:
    WeComChannel().send(sample_message("wecom", receiver.url + "/cgi-bin/webhook/send?key=k1"))
    [got] = receiver.received
    assert got.query == {"key": "k1"}
    assert got.payload["msgtype"] == "markdown"
    assert got.payload["markdown"]["content"].startswith("#### 【任务交办】")
    assert got.payload["idempotency_key"] == "task-1:1:cgj:liu:x"


def test_the_robots_keep_to_twenty_a_minute() -> None:
    for channel in (DingTalkChannel(), WeComChannel()):
        assert channel.rate_limit is not None
        assert (channel.rate_limit.count, channel.rate_limit.per) == (20, timedelta(minutes=1))
    assert WebhookChannel().rate_limit is None


# --- through the engine's outbox --------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path, receiver: Receiver) -> Iterator[Engine]:
    channels = WebhookPlugin(WebhookChannel(timeout=2), DingTalkChannel(secret="SECx", timeout=2))
    engine = sqlite_engine(
        tmp_path / "outbox.db",
        plugins=(channels,),
        delivery=DeliveryPolicy(max_attempts=3, backoff=timedelta(seconds=30)),
    )
    engine.set_contacts(
        "cgj",
        [
            Contact(
                id="liu",
                name="刘洋",
                role=ContactRole.LIAISON,
                addresses={
                    "webhook": receiver.url + "/ops",
                    "dingtalk": receiver.url + "/robot/send?access_token=a",
                },
            )
        ],
    )
    yield engine
    engine.close()


def test_a_5xx_is_retried_with_the_same_key_and_then_delivered(engine: Engine, receiver: Receiver) -> None:
    task = assign_sample(engine)
    receiver.answer(Answer(status=503), Answer(status=200, body={"errcode": 130101, "errmsg": "too fast"}))
    first = engine.dispatch()
    assert first.failed == 1
    assert first.delivered == 0
    engine.clock.advance(minutes=5)
    assert engine.dispatch().delivered == 1
    keys = receiver.keys()
    assert sorted(set(keys)) == [f"{task.id}:1:cgj:liu:dingtalk", f"{task.id}:1:cgj:liu:webhook"]
    assert len(keys) == 4  # each failed once, then arrived; every retry carried its key


def test_a_4xx_is_a_dead_letter_at_once_and_requeue_delivers_it(engine: Engine, receiver: Receiver) -> None:
    engine.set_contacts(
        "cgj", [Contact(id="liu", name="刘洋", role=ContactRole.LIAISON, addresses={"webhook": receiver.url})]
    )
    assign_sample(engine)
    receiver.answer(Answer(status=404, body={"error": "no such hook"}))
    assert engine.dispatch().dead == 1
    [dead] = engine.dead_letters()
    assert dead.attempts == 1
    assert "HTTP 404" in dead.last_error
    assert engine.requeue([dead.id]) == 1
    assert engine.dispatch().delivered == 1
    assert engine.dead_letters() == []


def test_the_entry_point_plugin_provides_three_channels() -> None:
    assert [c.name for c in plugin.campaignflow_channels()] == ["webhook", "dingtalk", "wecom"]
