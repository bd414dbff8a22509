"""The mailbox fixture: a real aiosmtpd server on 127.0.0.1, started for a test, stopped after it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from smtp_receiver import Mailbox, Server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield Server("127.0.0.1", controller.port, mailbox)
    finally:
        controller.stop()
