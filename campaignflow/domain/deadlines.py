"""Where a task's time limit comes from when the office does not name one: a deadline policy.

The policy is an injected object with one method (:class:`DeadlinePolicy`), asked at assignment
with what is known about the task (campaign, indicator, unit, kind, urgency). :class:`DeadlineTable`
is a ready policy: the first matching row wins. A plugin can answer the same question through the
``campaignflow_deadline_policy`` hook (same request, same ``Limit | None`` answer); the Engine's
own policy wins whenever it answers, and the plugins are asked only where it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from campaignflow.domain.calendar import Limit
from campaignflow.errors import InvalidInput

__all__ = ["DeadlinePolicy", "DeadlineRequest", "DeadlineRule", "DeadlineTable"]


@attrs.frozen(kw_only=True)
class DeadlineRequest:
    """What a policy may look at: the assignment being made. ``urgency`` is the task attribute
    ``"urgency"`` (e.g. ``"urgent"``, ``"normal"``) when the host sets one."""

    campaign: str
    indicator: str
    unit: str
    kind: str
    attributes: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def urgency(self) -> str | None:
        value = self.attributes.get("urgency")
        return str(value) if value is not None else None


@runtime_checkable
class DeadlinePolicy(Protocol):
    """Gives the time limit of an assignment that names neither ``due`` nor ``limit``."""

    def limit_for(self, request: DeadlineRequest) -> Limit | None:
        """The limit, or None when the policy has nothing to say (定进度 then refuses)."""
        ...


@attrs.frozen
class DeadlineRule:
    """One row of a :class:`DeadlineTable`: the fields given must all match (None matches any)."""

    limit: Limit
    indicator: str | None = None
    unit: str | None = None
    kind: str | None = None
    urgency: str | None = None

    def matches(self, request: DeadlineRequest) -> bool:
        wanted = (
            (self.indicator, request.indicator),
            (self.unit, request.unit),
            (self.kind, request.kind),
            (self.urgency, request.urgency),
        )
        return all(expected is None or expected == actual for expected, actual in wanted)


class DeadlineTable:
    """A deadline policy as a table, first match wins: e.g. urgent problems 24 urgent hours,
    indicator B3.2 5 working days, everything else 15 calendar days."""

    def __init__(self, rules: Iterable[DeadlineRule]) -> None:
        self.rules: tuple[DeadlineRule, ...] = tuple(rules)
        for rule in self.rules:
            if not isinstance(rule, DeadlineRule) or not isinstance(rule.limit, Limit):
                raise InvalidInput(
                    "时限表的每一行都必须是带 Limit 的 DeadlineRule",
                    "every row of a deadline table must be a DeadlineRule with a Limit",
                    field="deadline_policy",
                )

    def limit_for(self, request: DeadlineRequest) -> Limit | None:
        for rule in self.rules:
            if rule.matches(request):
                return rule.limit
        return None
