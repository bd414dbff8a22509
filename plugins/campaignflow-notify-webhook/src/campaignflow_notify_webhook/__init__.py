"""Notification channels over HTTP for campaignflow: generic JSON webhooks and the DingTalk (钉钉)
and WeCom (企业微信) group robots.

A contact's address on these channels is a URL: the receiver's endpoint for ``webhook``, the
robot's webhook URL (with its ``access_token`` / ``key``) for ``dingtalk`` and ``wecom``. A DingTalk
robot with 加签 (signing) needs its secret: give it to :class:`DingTalkChannel` (``secret=``), or per
robot in the address's fragment, ``https://oapi.dingtalk.com/robot/send?access_token=…#secret=SEC…``
(a fragment is never sent over the wire).

Every request carries the message's idempotency key twice: the header ``Idempotency-Key`` and the
payload's ``idempotency_key`` field (the robots' text ends with it too, so people in the group can
tell a repeat), because delivery is at least once.

What counts as delivered, retried or refused (:class:`~campaignflow.errors.ChannelError`,
``retryable=False`` parks the message as a dead letter at once):

* a timeout or a connection failure: retried;
* HTTP 2xx: delivered, except a robot's answer with a non-zero ``errcode``;
* HTTP 408, 429 and 5xx: retried; any other HTTP 4xx (and 3xx): refused, not retried;
* a robot's ``errcode``: its rate limits (DingTalk 130101/410100/90030, WeCom 45009) and
  "system busy" (-1) are retried; any other code (a bad token, a signature mismatch, a keyword
  missing) is refused.

The robots allow 20 messages a minute each, so their channels default to that :class:`RateLimit`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from campaignflow import ChannelError, Message, RateLimit, hookimpl
from campaignflow.domain.messages import event_to_json

__all__ = [
    "DINGTALK_RETRYABLE",
    "WECOM_RETRYABLE",
    "DingTalkChannel",
    "WeComChannel",
    "WebhookChannel",
    "WebhookPlugin",
    "dingtalk_sign",
    "plugin",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 429})
DINGTALK_RETRYABLE = frozenset({-1, 130101, 410100, 90030})
"""DingTalk errcodes worth retrying: -1 system busy; 130101 and 410100 "send too fast, exceed 20
times per minute" (older and newer code for the same limit); 90030 "webhook over limit" (a quota)."""
WECOM_RETRYABLE = frozenset({-1, 45009})
"""WeCom errcodes worth retrying: system busy, and the API frequency limit."""
ROBOT_LIMIT = RateLimit(20, timedelta(minutes=1))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(key=secret, "<timestamp>\\n<secret>")), not yet urlencoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class WebhookChannel:
    """POST each message as JSON to the contact's URL.

    The payload: ``idempotency_key``, ``channel``, ``subject``, ``body``, ``recipient`` (person id,
    name, role, unit, language), ``attempt`` and ``event`` (the committed step, as
    :func:`~campaignflow.domain.messages.event_to_json` writes it). ``headers`` are added to every
    request (an ``Authorization``, say).
    """

    def __init__(
        self,
        name: str = "webhook",
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.rate_limit = rate_limit

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "idempotency_key": message.idempotency_key,
            "channel": message.channel,
            "subject": message.subject,
            "body": message.body,
            "recipient": {
                "id": message.person_id,
                "name": message.person,
                "role": message.role,
                "unit": message.unit,
                "language": message.language,
            },
            "attempt": message.attempt,
            "event": event_to_json(message.event),
        }

    def url(self, message: Message) -> str:
        return urllib.parse.urldefrag(message.address).url

    def send(self, message: Message) -> None:
        answer = self._post(self.url(message), self.payload(message), message)
        self.check_answer(answer, message)

    def check_answer(self, answer: bytes, message: Message) -> None:
        """Any 2xx answer means delivered (the robots look inside)."""

    def _post(self, url: str, payload: dict[str, Any], message: Message) -> bytes:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ChannelError(
                f"{self.name} 地址不是 http(s) 网址：{url!r}",
                f"{self.name} address is not an http(s) URL: {url!r}",
                retryable=False,
            )
        request = urllib.request.Request(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={
                **self.headers,
                "Content-Type": "application/json; charset=utf-8",
                IDEMPOTENCY_HEADER: message.idempotency_key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
            retryable = status >= 500 or status in RETRYABLE_STATUS
            raise ChannelError(
                f"{self.name} 接收方答复 HTTP {status}" + ("，稍后重试" if retryable else "，不再重试"),
                f"{self.name} receiver answered HTTP {status}" + ("" if retryable else " (not retried)"),
                retryable=retryable,
                status=status,
            ) from None
        except TimeoutError as error:
            raise ChannelError(
                f"{self.name} 在 {self.timeout:g} 秒内没有答复",
                f"{self.name} got no answer within {self.timeout:g} s",
            ) from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise ChannelError(
                    f"{self.name} 在 {self.timeout:g} 秒内没有答复",
                    f"{self.name} got no answer within {self.timeout:g} s",
                ) from error
            raise ChannelError(
                f"{self.name} 无法连接：{reason}", f"{self.name} could not connect: {reason}"
            ) from error


class _Robot(WebhookChannel):
    """A group robot: HTTP 200 with ``{"errcode": 0}`` is delivered; other errcodes as the robot says."""

    retryable_errcodes: frozenset[int] = frozenset()

    def __init__(
        self, name: str, *, timeout: float = 10.0, rate_limit: RateLimit | None = ROBOT_LIMIT
    ) -> None:
        super().__init__(name, timeout=timeout, rate_limit=rate_limit)

    def text(self, message: Message) -> str:
        return f"#### {message.subject}\n\n{message.body}\n\n> {message.idempotency_key}"

    def check_answer(self, answer: bytes, message: Message) -> None:
        try:
            data = json.loads(answer)
            errcode = int(data["errcode"])
        except (ValueError, TypeError, KeyError) as error:
            raise ChannelError(
                f"{self.name} 机器人的答复无法识别：{answer[:200]!r}",
                f"{self.name} robot answered something unexpected: {answer[:200]!r}",
            ) from error
        if errcode != 0:
            retryable = errcode in self.retryable_errcodes
            errmsg = str(data.get("errmsg", ""))
            raise ChannelError(
                f"{self.name} 机器人拒收：errcode {errcode}（{errmsg}）"
                + ("，稍后重试" if retryable else ""),
                f"{self.name} robot refused: errcode {errcode} ({errmsg})",
                retryable=retryable,
                errcode=errcode,
            )


class DingTalkChannel(_Robot):
    """A DingTalk (钉钉) group robot; markdown messages, signed when it has a secret (加签)."""

    retryable_errcodes = DINGTALK_RETRYABLE

    def __init__(
        self,
        name: str = "dingtalk",
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        rate_limit: RateLimit | None = ROBOT_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, timeout=timeout, rate_limit=rate_limit)
        self.secret = secret
        self.clock = clock

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": self.text(message)},
            "idempotency_key": message.idempotency_key,
        }

    def url(self, message: Message) -> str:
        url, fragment = urllib.parse.urldefrag(message.address)
        secret = urllib.parse.parse_qs(fragment).get("secret", [self.secret])[0]
        if not secret:
            return url
        timestamp = int(self.clock() * 1000)
        query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})
        return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"


class WeComChannel(_Robot):
    """A WeCom (企业微信) group robot; markdown messages."""

    retryable_errcodes = WECOM_RETRYABLE

    def __init__(
        self, name: str = "wecom", *, timeout: float = 10.0, rate_limit: RateLimit | None = ROBOT_LIMIT
    ) -> None:
        super().__init__(name, timeout=timeout, rate_limit=rate_limit)

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "msgtype": "markdown",
            "markdown": {"content": self.text(message)},
            "idempotency_key": message.idempotency_key,
        }


class WebhookPlugin:
    """Provides the channels given, by default ``webhook``, ``dingtalk`` and ``wecom``.

    The entry point registers ``plugin``, the defaults. To configure them (a DingTalk secret, an
    ``Authorization`` header, timeouts), register your own under the same name, which replaces the
    entry point's: ``Engine(..., plugins=[WebhookPlugin(DingTalkChannel(secret="SEC…"), ...)])``.
    """

    name = "notify-webhook"

    def __init__(self, *channels: WebhookChannel) -> None:
        self.channels = channels or (WebhookChannel(), DingTalkChannel(), WeComChannel())

    @hookimpl
    def campaignflow_channels(self) -> tuple[WebhookChannel, ...]:
        return self.channels


plugin = WebhookPlugin()
"""The instance the ``campaignflow`` entry point names: the three channels with their defaults."""
