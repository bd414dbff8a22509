"""E-mail notifications for campaignflow through :mod:`smtplib`.

A contact's address on the ``email`` channel is an e-mail address. Each message is one mail, plain
text in UTF-8, from the channel's ``sender`` to that address, with the subject and body campaignflow
rendered (Chinese by default, English for a contact whose language is ``en``).

Delivery is at least once, so the mail says which message it is: its ``Message-ID`` is
``<{key}@{domain}>`` with the idempotency key percent-encoded (``:`` may not stand in a Message-ID),
the same on every retry, and ``X-Campaignflow-Idempotency-Key`` carries the key as it is. A mail
client or an archive that has seen the Message-ID drops the repeat.

What is retried (:class:`~campaignflow.errors.ChannelError`; ``retryable=False`` parks the message
as a dead letter at once): a timeout, a refused connection, a dropped connection and any 4xx reply
(greylisting, a full mailbox, "try again later") are retried; a 5xx reply (no such user, relaying
denied, authentication failed) is not.
"""

from __future__ import annotations

import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage
from email.utils import formatdate

from campaignflow import ChannelError, InvalidInput, Message, RateLimit, hookimpl

__all__ = ["KEY_HEADER", "SmtpChannel", "SmtpPlugin", "idempotency_key_of", "message_id", "plugin"]

KEY_HEADER = "X-Campaignflow-Idempotency-Key"


def message_id(key: str, domain: str) -> str:
    """The ``Message-ID`` of the mail for idempotency key ``key``: ``<percent-encoded key@domain>``."""
    return f"<{urllib.parse.quote(key, safe='')}@{domain}>"


def idempotency_key_of(message_id_header: str) -> str:
    """The idempotency key back from a ``Message-ID`` written by :func:`message_id`."""
    local = message_id_header.strip().removeprefix("<").removesuffix(">").rpartition("@")[0]
    return urllib.parse.unquote(local)


class SmtpChannel:
    """Send each message as one mail through an SMTP server.

    ``security``: ``"none"``, ``"starttls"`` (upgrade on the submission port, 587) or ``"ssl"``
    (implicit TLS, 465). ``username``/``password`` log in when given. ``domain`` is the right-hand
    side of the Message-ID (default: the sender's domain).
    """

    def __init__(
        self,
        name: str = "email",
        *,
        host: str = "localhost",
        port: int = 25,
        sender: str = "campaignflow@localhost",
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        domain: str | None = None,
        rate_limit: RateLimit | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise InvalidInput(
                f"security 只能是 none、starttls 或 ssl，不能是 {security!r}",
                f"security must be 'none', 'starttls' or 'ssl', not {security!r}",
                field="security",
            )
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.domain = domain or sender.rpartition("@")[2] or "localhost"
        self.rate_limit = rate_limit
        self.ssl_context = ssl_context

    def mail(self, message: Message) -> EmailMessage:
        """The mail for ``message``."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(message.event.at.timestamp(), localtime=False, usegmt=True)
        mail["Message-ID"] = message_id(message.idempotency_key, self.domain)
        mail[KEY_HEADER] = message.idempotency_key
        mail.set_content(message.body, charset="utf-8")  # after it: set_content drops Content-* headers
        mail["Content-Language"] = "en" if message.language == "en" else "zh-CN"
        return mail

    def send(self, message: Message) -> None:
        if "@" not in message.address:
            raise ChannelError(
                f"{self.name} 地址不是电子邮件地址：{message.address!r}",
                f"{self.name} address is not an e-mail address: {message.address!r}",
                retryable=False,
            )
        mail = self.mail(message)
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self.ssl_context)
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise self._refused(code, reply) from error
        except smtplib.SMTPResponseException as error:
            raise self._refused(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # timeouts, refused or dropped connections
            raise ChannelError(
                f"{self.name} 无法投递到 {self.host}:{self.port}：{type(error).__name__}: {error}",
                f"{self.name} could not deliver through {self.host}:{self.port}: "
                f"{type(error).__name__}: {error}",
            ) from error

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.ssl_context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _refused(self, code: int, reply: bytes | str) -> ChannelError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        retryable = not 500 <= code < 600
        return ChannelError(
            f"{self.name} 邮件服务器答复 {code} {text}" + ("，稍后重试" if retryable else "，不再重试"),
            f"{self.name} mail server answered {code} {text}" + ("" if retryable else " (not retried)"),
            retryable=retryable,
            smtp_code=code,
        )


class SmtpPlugin:
    """Provides the given SMTP channels (by default one ``email`` channel to ``localhost:25``).

    The entry point registers ``plugin``, the default, which hands mail to the machine's own mail
    server. To use another server, register your own under the same name, which takes the entry
    point's place: ``Engine(..., plugins=[SmtpPlugin(SmtpChannel(host=..., port=587, ...))])``.
    """

    name = "notify-smtp"

    def __init__(self, *channels: SmtpChannel) -> None:
        self.channels = channels or (SmtpChannel(),)

    @hookimpl
    def campaignflow_channels(self) -> tuple[SmtpChannel, ...]:
        return self.channels


plugin = SmtpPlugin()
"""The instance the ``campaignflow`` entry point names: ``email`` through ``localhost:25``."""
