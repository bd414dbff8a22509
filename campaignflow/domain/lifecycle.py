"""The task lifecycle, defined once on a single ``transitions`` Machine.

ONE Machine per lifecycle definition, built when the definition is built, never one per task: a
campaign holds hundreds of thousands of tasks, and attaching them as models costs a list scan and
kilobytes each (DESIGN.md, measured facts). The paths are read off the built Machine once, into a
table each action looks its trigger up in. ``transitions`` decides which paths exist; the 四有四定
rules and the role table decide whether an action may happen, and they run before it fires.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import attrs
from transitions import Machine

from campaignflow.domain.model import TaskState
from campaignflow.errors import DefinitionError

__all__ = ["NEW", "TRIGGERS", "Lifecycle", "TransitionSpec", "default_lifecycle"]

NEW = "new"
"""The pseudo-state of a task that does not exist yet (the source of ``assign``)."""


def _names(states: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(s) for s in states)


@attrs.frozen
class TransitionSpec:
    """One path: ``trigger`` leads from any of ``sources`` to ``dest`` (state names, not enums)."""

    trigger: str
    sources: tuple[str, ...] = attrs.field(converter=_names)
    dest: str = attrs.field(converter=str)


_S = TaskState
_DEFAULT: tuple[TransitionSpec, ...] = (
    TransitionSpec("assign", (NEW,), _S.ASSIGNED),
    TransitionSpec("reassign", (_S.ASSIGNED, _S.RETURNED), _S.ASSIGNED),
    TransitionSpec("start", (_S.ASSIGNED,), _S.RECTIFYING),
    TransitionSpec("submit_self_check", (_S.RECTIFYING,), _S.SELF_CHECKED),
    TransitionSpec("fail_verification", (_S.SELF_CHECKED,), _S.RECTIFYING),
    TransitionSpec("pass_verification", (_S.SELF_CHECKED,), _S.VERIFIED),
    TransitionSpec("archive", (_S.VERIFIED,), _S.ARCHIVED),
    TransitionSpec(
        "cancel",
        (_S.ASSIGNED, _S.RECTIFYING, _S.SELF_CHECKED, _S.VERIFIED, _S.RETURNED, _S.SUSPENDED),
        _S.CANCELLED,
    ),
    # The deadline clock: 延期 keeps the state; 回退 and 挂起 leave the unit's path until the office acts.
    *(
        TransitionSpec(trigger, (state,), state)
        for trigger in ("request_extension", "approve_extension", "reject_extension")
        for state in (_S.ASSIGNED, _S.RECTIFYING)
    ),
    TransitionSpec("return_assignment", (_S.ASSIGNED,), _S.RETURNED),
    TransitionSpec("suspend", (_S.RECTIFYING,), _S.SUSPENDED),
    TransitionSpec("resume", (_S.SUSPENDED,), _S.RECTIFYING),
    # 牵头/配合: a support (or the lead) unit adds its part of the evidence while rectifying;
    # 会签/或签: a verdict that neither completes nor defeats the verification keeps the state.
    TransitionSpec("add_evidence", (_S.RECTIFYING,), _S.RECTIFYING),
    TransitionSpec("record_verdict", (_S.SELF_CHECKED,), _S.SELF_CHECKED),
)

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(spec.trigger for spec in _DEFAULT))


class Lifecycle:
    """A validated lifecycle definition with its one Machine."""

    def __init__(self, specs: Iterable[TransitionSpec]) -> None:
        self.specs: tuple[TransitionSpec, ...] = tuple(specs)
        states = [NEW, *(s.value for s in TaskState)]
        self._check(states)
        self._machine = Machine(
            model=None,
            states=states,
            initial=NEW,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        for spec in self.specs:
            self._machine.add_transition(spec.trigger, list(spec.sources), spec.dest)
        # The table is read off the built Machine, so the Machine stays the one source of paths.
        table: dict[tuple[str, str], str] = {}
        for name, event in self._machine.events.items():
            for source, transitions in event.transitions.items():
                table[(source, name)] = str(transitions[0].dest)
        self._table: Mapping[tuple[str, str], str] = table
        self.fingerprint = hashlib.sha256(
            json.dumps(sorted((s, t, d) for (s, t), d in table.items())).encode()
        ).hexdigest()[:16]

    def _check(self, states: list[str]) -> None:
        seen: set[tuple[str, str]] = set()
        for spec in self.specs:
            for state in (*spec.sources, spec.dest):
                if state not in states:
                    raise DefinitionError(
                        f"生命周期定义中有未知状态 {state!r}", f"lifecycle names an unknown state {state!r}"
                    )
            for source in spec.sources:
                if (source, spec.trigger) in seen:
                    raise DefinitionError(
                        f"触发器 {spec.trigger!r} 在状态 {source!r} 下重复定义",
                        f"trigger {spec.trigger!r} is defined twice from {source!r}",
                    )
                seen.add((source, spec.trigger))

    def fire(self, state: str, trigger: str) -> str | None:
        """The state ``trigger`` leads to from ``state``; None if there is no path.

        Answered from the table read off the Machine when the definition was built: the Machine
        has no callbacks or conditions, so firing it again per action (about 20 µs) would only
        repeat that lookup."""
        return self._table.get((state, trigger))

    def triggers_from(self, state: str) -> frozenset[str]:
        """Every trigger with a path out of ``state``."""
        return frozenset(t for (s, t) in self._table if s == state)

    def edges(self) -> tuple[tuple[str, str, str], ...]:
        """(source, trigger, dest) for every path, in definition order."""
        return tuple((src, spec.trigger, spec.dest) for spec in self.specs for src in spec.sources)

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid ``stateDiagram-v2``, generated from the live definition."""
        lines = ["stateDiagram-v2"]
        for src, trigger, dest in self.edges():
            lines.append(f"    {'[*]' if src == NEW else src} --> {dest}: {trigger}")
        lines.append(f"    {TaskState.ARCHIVED.value} --> [*]")
        lines.append(f"    {TaskState.CANCELLED.value} --> [*]")
        return "\n".join(lines)


def default_lifecycle() -> Lifecycle:
    """The built-in lifecycle of DESIGN.md."""
    return Lifecycle(_DEFAULT)
