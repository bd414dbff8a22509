"""Delivery from the outbox, after commit: claim, expand, address, send, mark.

An action writes its outbox rows in its own transaction (:func:`outbox_rows`): one ``message`` row
per unit the built-in table notifies, and one ``expand`` row per plugin implementing
``campaignflow_notifications`` (its hook runs here, after commit, never inside the action). The
dispatcher then:

1. claims due rows under a lease (:class:`~campaignflow.store.outbox.OutboxStore`);
2. ``expand`` rows: asks the plugin for its notices and writes one ``message`` row per notice;
3. ``message`` rows: looks the unit's people up in the contact directory, renders each person's text
   (their language, Chinese by default) and sends one :class:`Message` per person and channel they
   have an address on, carrying a stable idempotency key (``<row key>:<person>:<channel>``);
4. marks the row delivered, or records the fault, counts the attempt and sets the next one with
   exponential backoff; after ``max_attempts`` (or a non-retryable :class:`ChannelError`) the row is
   a dead letter until re-queued. A channel over its rate limit defers the row without counting.

Delivery is at least once: a message whose acceptance was not recorded (a crash, a lost lease, a
send that answered after its timeout) is sent again with the same key; receivers deduplicate by it.
Deliveries of a row that already succeeded are remembered on the row and not repeated.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import attrs
import sqlalchemy as sa

from campaignflow.domain.clock import Clock
from campaignflow.domain.contacts import Contact
from campaignflow.domain.messages import (
    DEFAULT_ROLES,
    Event,
    Message,
    Notice,
    RateLimit,
    Template,
    event_from_json,
    event_to_json,
    render,
)
from campaignflow.domain.model import HistoryEntry, Task
from campaignflow.domain.notifications import recipients
from campaignflow.errors import ChannelError, DefinitionError, InvalidInput
from campaignflow.plugins import PluginHost
from campaignflow.store.outbox import OutboxEntry, OutboxStore

__all__ = ["DeliveryPolicy", "DispatchReport", "Dispatcher", "outbox_rows"]

log = logging.getLogger("campaignflow.delivery")


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    zero: Any = timedelta(0) if isinstance(value, timedelta) else 0
    if isinstance(value, bool) or value <= zero:
        raise InvalidInput(
            f"{attribute.name} 必须大于 0", f"{attribute.name} must be positive", field=attribute.name
        )


@attrs.frozen(kw_only=True)
class DeliveryPolicy:
    """How the dispatcher retries and paces. The defaults suit a dispatcher run every few seconds.

    ``backoff`` doubles per failed attempt up to ``backoff_max``; after ``max_attempts`` failed
    attempts a row is a dead letter. ``send_timeout`` (seconds) bounds one ``send`` or one
    notification hook: past it the attempt counts as failed (the call is abandoned, not killed, so a
    late success only means a duplicate the receiver drops). ``lease`` must outlast a whole batch.
    ``rate_limits`` override the channels' own ``rate_limit``.
    """

    max_attempts: int = attrs.field(default=8, validator=_positive)
    backoff: timedelta = attrs.field(default=timedelta(seconds=30), validator=_positive)
    backoff_max: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive)
    send_timeout: float = attrs.field(default=10.0, validator=_positive)
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=_positive)
    batch: int = attrs.field(default=20, validator=_positive)
    rate_limits: Mapping[str, RateLimit] = attrs.field(factory=dict)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: backoff, 2×backoff, 4×… capped."""
        delay: timedelta = self.backoff * (2 ** max(attempts - 1, 0))
        return min(delay, self.backoff_max)


@attrs.frozen
class DispatchReport:
    """What one :meth:`Dispatcher.run` did. ``lost_leases`` counts rows whose outcome could not be
    recorded because another dispatcher had re-claimed them (their messages may arrive twice)."""

    claimed: int = 0
    sent: int = 0
    delivered: int = 0
    expanded: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    lost_leases: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )


def outbox_rows(
    task: Task, entry: HistoryEntry, *, previous_unit: str | None, notifiers: Sequence[str]
) -> list[dict[str, Any]]:
    """The outbox rows of one step: the built-in recipients' messages and one expansion per
    notifying plugin. Cheap and free of plugin code: it runs inside the action's transaction."""
    event = Event(
        event=entry.trigger,
        task_id=task.id,
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor_id,
        kind=task.kind,
        title=task.title,
        campaign=task.campaign,
        indicator=task.indicator,
        unit=task.unit,
        office_unit=task.office_unit,
        state=task.state.value,
        deadline=task.deadline,
        reason=entry.reason,
        previous_unit=previous_unit,
    )
    body = event_to_json(event)
    base = {"task_id": task.id, "event": entry.trigger, "created_at": entry.at}
    rows = [
        {
            **base,
            "kind": "message",
            "recipient": unit,
            "payload": {**body, "roles": [r.value for r in DEFAULT_ROLES]},
            "idempotency_key": f"{task.id}:{entry.seq}:{unit}",
        }
        for unit in recipients(entry.trigger, task, previous_unit)
    ]
    rows.extend(
        {
            **base,
            "kind": "expand",
            "recipient": plugin,
            "payload": body,
            "idempotency_key": f"{task.id}:{entry.seq}:@{plugin}",
        }
        for plugin in notifiers
    )
    return rows


def _bounded(key: str, limit: int = 200) -> str:
    """``key``, or (past the column's width) its head and a digest of the whole: still stable."""
    if len(key) <= limit:
        return key
    return f"{key[: limit - 33]}~{hashlib.sha256(key.encode()).hexdigest()[:32]}"


class _Timeout(Exception):
    pass


class _LeaseLost(Exception):
    pass


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()`` on a daemon thread; its result, its exception, or :class:`_Timeout`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, name="campaignflow-delivery", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _Timeout(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class _Limiter:
    """Sliding-window rate limits per channel, for this process."""

    def __init__(self, limits: Mapping[str, RateLimit]) -> None:
        self.limits = dict(limits)
        self._sent: dict[str, deque[datetime]] = {name: deque() for name in limits}
        self._lock = threading.Lock()

    def wait(self, channel: str, now: datetime) -> datetime | None:
        """None (and count one send) if ``channel`` may send now, else when it may."""
        limit = self.limits.get(channel)
        if limit is None:
            return None
        with self._lock:
            window = self._sent[channel]
            while window and window[0] <= now - limit.per:
                window.popleft()
            if len(window) >= limit.count:
                return window[0] + limit.per
            window.append(now)
            return None


def _fault(error: BaseException) -> str:
    if isinstance(error, ChannelError):
        return error.message_en
    if isinstance(error, _Timeout):
        return f"timeout: {error}"
    return f"{type(error).__name__}: {error}"


@attrs.frozen
class _Outcome:
    delivered: tuple[str, ...]
    sent: int
    error: str | None = None
    retryable: bool = True
    defer_until: datetime | None = None


class Dispatcher:
    """Delivers one engine's outbox. Safe to run in many threads and processes at once."""

    def __init__(
        self,
        sa_engine: sa.Engine,
        *,
        store: OutboxStore,
        plugins: PluginHost,
        clock: Clock,
        timezone: tzinfo,
        policy: DeliveryPolicy,
        ready: Callable[[], None],
    ) -> None:
        self._sa = sa_engine
        self._store = store
        self._plugins = plugins
        self._clock = clock
        self._timezone = timezone
        self.policy = policy
        self._ready = ready
        self._limiter = _Limiter(plugins.rate_limits(policy.rate_limits))

    def run(self, *, limit: int | None = None) -> DispatchReport:
        """Claim up to ``limit`` (default: the policy's batch) due rows and deliver them."""
        if not self._plugins.channels:
            raise DefinitionError(
                "没有可用的通知渠道：请注册提供 campaignflow_channels 的插件",
                "no notification channel is registered: add a plugin implementing campaignflow_channels",
            )
        batch = self.policy.batch if limit is None else limit
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise InvalidInput("limit 必须是正整数", "limit must be a positive int", field="limit")
        self._ready()
        token = uuid.uuid4().hex
        now = self._clock.now()
        with self._sa.begin() as conn:
            claimed = self._store.claim(
                conn, now=now, until=now + self.policy.lease, token=token, limit=batch
            )
        report = DispatchReport(claimed=len(claimed))
        for entry in claimed:
            report = report + self._handle(entry, token)
        return report

    def _handle(self, entry: OutboxEntry, token: str) -> DispatchReport:
        now = self._clock.now()
        rows: list[dict[str, Any]] = []
        try:
            event_from_json(entry.payload)
        except (KeyError, TypeError, ValueError) as error:
            # A row nobody can read (written by hand, or by a broken migration) is parked at once as
            # a dead letter, never retried: left pending it would block or slow every dispatch.
            fault = _fault(error)
            log.error("outbox row %s: unreadable payload (%s); parked as a dead letter", entry.id, fault)
            outcome = _Outcome((), 0, f"unreadable payload: {fault}", retryable=False)
        else:
            if entry.kind == "expand":
                outcome, rows = self._expand(entry)
            else:
                outcome = self._deliver(entry, now)
        attempts = entry.attempts
        fields: dict[str, Any] = {"published_at": None, "dead_at": None, "next_attempt_at": None}
        counts: dict[str, int] = {"sent": outcome.sent}
        if outcome.error is None and outcome.defer_until is None:
            fields["published_at"] = now
            counts["expanded" if entry.kind == "expand" else "delivered"] = 1
        elif outcome.error is None:
            fields["next_attempt_at"] = outcome.defer_until
            counts["deferred"] = 1
        else:
            attempts += 1
            if not outcome.retryable or attempts >= self.policy.max_attempts:
                fields["dead_at"] = now
                counts["dead"] = 1
            else:
                fields["next_attempt_at"] = now + self.policy.delay(attempts)
                counts["failed"] = 1
            log.warning(
                "outbox row %s (%s %s → %s) attempt %s failed: %s",
                entry.id,
                entry.event,
                entry.kind,
                entry.recipient,
                attempts,
                outcome.error,
            )
        try:
            with self._sa.begin() as conn:
                if rows:
                    self._store.add(conn, rows)
                kept = self._store.finish(
                    conn,
                    entry,
                    token=token,
                    attempts=attempts,
                    last_error=outcome.error if outcome.error is not None else entry.last_error,
                    delivered=(*entry.delivered, *outcome.delivered),
                    **fields,
                )
                if not kept:
                    raise _LeaseLost
        except _LeaseLost:
            log.warning("outbox row %s: lease lost to another dispatcher; outcome not recorded", entry.id)
            return DispatchReport(sent=outcome.sent, lost_leases=1)
        return DispatchReport(**counts)

    # --- expansion ------------------------------------------------------------------------------

    def _expand(self, entry: OutboxEntry) -> tuple[_Outcome, list[dict[str, Any]]]:
        event = event_from_json(entry.payload)
        plugin = entry.recipient
        try:
            notices: list[Notice] = _within(
                self.policy.send_timeout, lambda: self._plugins.notices(plugin, event)
            )
        except Exception as error:
            return _Outcome((), 0, f"plugin {plugin!r}: {_fault(error)}"), []
        rows: list[dict[str, Any]] = []
        for notice in notices:
            tag = f":{notice.tag}" if notice.tag else ""
            rows.append(
                {
                    "task_id": entry.task_id,
                    "event": entry.event,
                    "kind": "message",
                    "recipient": notice.unit,
                    "payload": {
                        **entry.payload,
                        "roles": [r.value for r in notice.roles],
                        "plugin": plugin,
                        "templates": {k: [t.subject, t.body] for k, t in notice.templates.items()},
                    },
                    "idempotency_key": _bounded(f"{entry.idempotency_key}:{notice.unit}{tag}"),
                    "created_at": entry.created_at,
                }
            )
        return _Outcome((), 0), rows

    # --- delivery -------------------------------------------------------------------------------

    def _people(self, unit: str, roles: Iterable[str]) -> list[Contact]:
        wanted = set(roles)
        with self._sa.connect() as conn:
            return [c for c in self._store.contacts(conn, unit) if c.role.value in wanted]

    def _deliver(self, entry: OutboxEntry, now: datetime) -> _Outcome:
        payload = entry.payload
        event = event_from_json(payload)
        templates = {k: Template(*v) for k, v in payload.get("templates", {}).items()}
        people = self._people(entry.recipient, payload.get("roles", [r.value for r in DEFAULT_ROLES]))
        done = set(entry.delivered)
        delivered: list[str] = []
        sent = 0
        errors: list[str] = []
        retryable = True
        defer: datetime | None = None
        targets = 0
        for person in people:
            for channel_name, address in person.addresses.items():
                channel = self._plugins.channels.get(channel_name)
                if channel is None:
                    continue
                targets += 1
                key = f"{entry.idempotency_key}:{person.id}:{channel_name}"
                if key in done:
                    continue
                wait = self._limiter.wait(channel_name, now)
                if wait is not None:
                    defer = wait if defer is None else min(defer, wait)
                    continue
                try:
                    subject, body = render(
                        event, person, language=person.language, timezone=self._timezone, templates=templates
                    )
                    message = Message(
                        idempotency_key=key,
                        channel=channel_name,
                        address=address,
                        person_id=person.id,
                        person=person.name,
                        role=person.role.value,
                        unit=entry.recipient,
                        language=person.language,
                        subject=subject,
                        body=body,
                        event=event,
                        attempt=entry.attempts + 1,
                    )
                    sent += 1
                    _within(self.policy.send_timeout, functools.partial(channel.send, message))
                except Exception as error:
                    errors.append(f"{person.id}@{channel_name}: {_fault(error)}")
                    if isinstance(error, ChannelError) and not error.retryable:
                        retryable = False
                    continue
                delivered.append(key)
        if targets == 0:
            return _Outcome(
                (),
                0,
                f"unit {entry.recipient!r} has no contact with an address on a registered channel "
                f"({', '.join(sorted(self._plugins.channels))}) for roles {payload.get('roles')}",
            )
        if errors:
            return _Outcome(tuple(delivered), sent, "; ".join(errors), retryable)
        return _Outcome(tuple(delivered), sent, None, True, defer)
