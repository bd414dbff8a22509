"""The e-mail channel against a real SMTP server (aiosmtpd) that receives and parses each mail:
the contract every channel passes, the Message-ID, 4xx retried and 5xx not, timeouts, and
delivery through an engine's outbox (retry with the same Message-ID, dead letter, re-queue)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from campaignflow_notify_smtp import (
    KEY_HEADER,
    SmtpChannel,
    SmtpPlugin,
    idempotency_key_of,
    message_id,
    plugin,
)
from smtp_receiver import Server

from campaignflow import ChannelError, Contact, DeliveryPolicy, Engine
from campaignflow.domain.contacts import ContactRole
from campaignflow.testing import assign_sample
from campaignflow.testing.channels import ChannelContract, sample_message, sqlite_engine


def _channel(server: Server, timeout: float = 5) -> SmtpChannel:
    return SmtpChannel(host=server.host, port=server.port, sender="cwb@city.example", timeout=timeout)


class TestSmtpContract(ChannelContract):
    @pytest.fixture
    def channel(self, smtp_server: Server) -> SmtpChannel:
        return _channel(smtp_server)

    @pytest.fixture
    def address(self) -> str:
        return "liu@cgj.city.example"

    @pytest.fixture
    def received(self, smtp_server: Server) -> Callable[[], list[str]]:
        return lambda: [idempotency_key_of(mail["Message-ID"]) for mail in smtp_server.mailbox.mails]

    @pytest.fixture
    def refusing_channel(self, smtp_server: Server) -> SmtpChannel:
        smtp_server.mailbox.refuse["liu@cgj.city.example"] = "550 5.1.1 no such user"
        return _channel(smtp_server)


def test_the_mail_as_received(smtp_server: Server) -> None:
    message = sample_message("email", "liu@cgj.city.example", key="01a1:3:cgj:liu:email")
    _channel(smtp_server).send(message)
    [mail] = smtp_server.mailbox.mails
    assert smtp_server.mailbox.envelopes == [("cwb@city.example", ["liu@cgj.city.example"])]
    assert mail["Message-ID"] == "<01a1%3A3%3Acgj%3Aliu%3Aemail@city.example>"
    assert mail[KEY_HEADER] == "01a1:3:cgj:liu:email"
    assert mail["Subject"] == "【任务交办】背街小巷卫生死角整治"
    assert mail["From"] == "cwb@city.example"
    assert mail["To"] == "liu@cgj.city.example"
    assert mail["Content-Language"] == "zh-CN"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "刘洋：任务“背街小巷卫生死角整治”已交办给贵单位。"


def test_a_message_id_round_trips_any_key() -> None:
    for key in ("t:1:cgj:liu:email", "任务:2:城管:刘 洋:email", "a@b<c>"):
        header = message_id(key, "city.example")
        assert header.count("@") == 1
        assert ":" not in header
        assert idempotency_key_of(header) == key


def test_an_english_contact_gets_an_english_mail(smtp_server: Server) -> None:
    message = attrs.evolve(
        sample_message("email", "liu@cgj.city.example"), language="en", subject="[Assigned] x"
    )
    _channel(smtp_server).send(message)
    assert smtp_server.mailbox.mails[0]["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        ("451 4.3.0 try again later", True),
        ("452 4.2.2 mailbox full", True),
        ("554 5.7.1 message rejected", False),
    ],
)
def test_a_4xx_is_retried_and_a_5xx_is_not(smtp_server: Server, reply: str, retryable: bool) -> None:
    smtp_server.mailbox.script.append(reply)
    with pytest.raises(ChannelError) as failed:
        _channel(smtp_server).send(sample_message("email", "liu@cgj.city.example"))
    assert failed.value.retryable is retryable
    assert reply.split(maxsplit=1)[0] in failed.value.message_en
    assert smtp_server.mailbox.mails == []


def test_an_unknown_recipient_is_not_retried(smtp_server: Server) -> None:
    smtp_server.mailbox.refuse["nobody@cgj.city.example"] = "550 5.1.1 no such user"
    with pytest.raises(ChannelError) as failed:
        _channel(smtp_server).send(sample_message("email", "nobody@cgj.city.example"))
    assert failed.value.retryable is False
    assert "550" in failed.value.message_en


def test_a_server_that_does_not_answer_in_time_is_retried(smtp_server: Server) -> None:
    smtp_server.mailbox.delay = 2.0
    with pytest.raises(ChannelError) as failed:
        _channel(smtp_server, timeout=0.3).send(sample_message("email", "liu@cgj.city.example"))
    assert failed.value.retryable is True
    assert "timed out" in failed.value.message_en


def test_a_closed_port_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChannelError) as failed:
        SmtpChannel(host="127.0.0.1", port=port, timeout=2).send(sample_message("email", "a@b.example"))
    assert failed.value.retryable is True


def test_an_address_that_is_no_mailbox_is_refused_for_good() -> None:
    with pytest.raises(ChannelError) as failed:
        SmtpChannel().send(sample_message("email", "13800000000"))
    assert failed.value.retryable is False


def test_security_must_be_known() -> None:
    with pytest.raises(ValueError, match="security"):
        SmtpChannel(security="tls")


# --- through the engine's outbox --------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path, smtp_server: Server) -> Iterator[Engine]:
    engine = sqlite_engine(
        tmp_path / "outbox.db",
        plugins=(SmtpPlugin(_channel(smtp_server)),),
        delivery=DeliveryPolicy(max_attempts=3, backoff=timedelta(seconds=30)),
    )
    engine.set_contacts(
        "cgj",
        [
            Contact(
                id="zhang",
                name="张三",
                role=ContactRole.LEADER,
                addresses={"email": "zhang@cgj.city.example"},
            ),
            Contact(
                id="liu", name="刘洋", role=ContactRole.LIAISON, addresses={"email": "liu@cgj.city.example"}
            ),
        ],
    )
    yield engine
    engine.close()


def test_a_4xx_is_retried_with_the_same_message_id(engine: Engine, smtp_server: Server) -> None:
    task = assign_sample(engine)
    smtp_server.mailbox.script.append("451 4.3.0 greylisted, try again later")
    first = engine.dispatch()
    assert first.failed == 1
    engine.clock.advance(minutes=5)
    engine.dispatch()
    keys = sorted(idempotency_key_of(mail["Message-ID"]) for mail in smtp_server.mailbox.mails)
    assert keys == [f"{task.id}:1:cgj:liu:email", f"{task.id}:1:cgj:zhang:email"]
    assert [mail["To"] for mail in smtp_server.mailbox.mails if "liu" in mail["To"]] == [
        "liu@cgj.city.example"
    ]


def test_a_5xx_is_a_dead_letter_at_once_and_requeue_delivers_it(engine: Engine, smtp_server: Server) -> None:
    task = assign_sample(engine)
    smtp_server.mailbox.refuse["liu@cgj.city.example"] = "550 5.1.1 no such user"
    engine.dispatch()
    [dead] = engine.dead_letters()
    assert dead.attempts == 1
    assert "550" in dead.last_error
    assert [mail["To"] for mail in smtp_server.mailbox.mails] == ["zhang@cgj.city.example"]

    del smtp_server.mailbox.refuse["liu@cgj.city.example"]  # the mailbox was created
    assert engine.requeue([dead.id]) == 1
    assert engine.dispatch().delivered == 1
    assert engine.dead_letters() == []
    received = [idempotency_key_of(mail["Message-ID"]) for mail in smtp_server.mailbox.mails]
    assert received[-1] == f"{task.id}:1:cgj:liu:email"


def test_the_entry_point_plugin_sends_through_the_local_mail_server() -> None:
    [channel] = plugin.campaignflow_channels()
    assert (channel.name, channel.host, channel.port) == ("email", "localhost", 25)
