"""What the engine's mixins (clock actions, joint work, decomposition, policy versions …) use of
:class:`~campaignflow.Engine` itself, declared once for the type checker.

At run time :class:`EngineParts` is ``object``; under type checking it declares the engine's
internal steps with the signatures :mod:`campaignflow.engine` implements, so each mixin inherits
them instead of repeating them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["EngineParts"]

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    import sqlalchemy as sa

    from campaignflow.domain.model import HistoryEntry, Task
    from campaignflow.domain.roles import Actor
    from campaignflow.store.direct import Direct

    class EngineParts:
        _direct: Direct

        def _tx(self, connection: object | None) -> contextlib.AbstractContextManager[sa.Connection]: ...

        def _act(
            self,
            trigger: str,
            task_id: str,
            by: Actor,
            connection: object | None,
            *,
            context: Mapping[str, Any] | Callable[[sa.Connection], Mapping[str, Any]],
            change: Callable[[Task, Mapping[str, Any]], Mapping[str, Any]],
            payload: Mapping[str, Any] | None = None,
            payload_of: Callable[[Task, Task], Mapping[str, Any]] | None = None,
            reason: str | None = None,
            after: Callable[[sa.Connection, Task], None] | None = None,
        ) -> Task: ...

        @staticmethod
        def _history_entry(
            task_id: str,
            seq: int,
            prev: str,
            *,
            actor: Actor,
            trigger: str,
            from_state: str | None,
            to_state: str,
            reason: str,
            payload: dict[str, Any],
            now: datetime,
        ) -> HistoryEntry: ...

        def _step(
            self,
            task: Task,
            *,
            actor: Actor,
            trigger: str,
            from_state: str,
            to_state: str,
            reason: str,
            payload: Mapping[str, Any],
            now: datetime,
            changes: Mapping[str, Any] | None = None,
        ) -> tuple[Task, HistoryEntry]: ...

else:
    EngineParts = object
