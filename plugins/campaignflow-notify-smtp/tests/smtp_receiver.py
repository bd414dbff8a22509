"""A real SMTP server (aiosmtpd) on 127.0.0.1 that parses what it receives and answers as scripted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import deque
from email.message import EmailMessage
from typing import Any

import attrs
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    """The aiosmtpd handler: keeps every mail parsed; ``refuse`` (address → reply) and ``script``
    (replies to the next DATA commands, e.g. ``"451 4.3.0 try again later"``) make it say no."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self.script: deque[str] = deque()
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.script:
                return self.script.popleft()
            raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
            parsed: Any = email.message_from_bytes(raw, policy=email.policy.default)
            self.mails.append(parsed)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@attrs.frozen
class Server:
    """Where the test server listens, and its mailbox."""

    host: str
    port: int
    mailbox: Mailbox
