"""The deadline clock's side of the :class:`~campaignflow.Engine`: 延期 (extension requests and
their approval), 回退 (a unit returns a wrong assignment), 挂起/恢复 (the office suspends and
resumes a task's clock), the sweep and the escalation records.

Every action here is an ordinary lifecycle trigger: it goes through the engine's one action path
(role table, lifecycle, rules, version-guarded update, hash-chained history, outbox). The sweep is
the exception on purpose: it records escalations beside the task's history, never as a new version
(docs/deadlines.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from campaignflow.domain.calendar import WorkCalendar
from campaignflow.domain.clock import Clock
from campaignflow.domain.escalation import Escalation, EscalationLadder, first_escalation_break
from campaignflow.domain.model import Task
from campaignflow.domain.roles import Actor
from campaignflow.domain.serial import dt_to_json
from campaignflow.domain.text import check_text
from campaignflow.engineparts import EngineParts
from campaignflow.errors import InvalidInput, NotFound
from campaignflow.store.escalations import EscalationStore
from campaignflow.store.repository import Repository
from campaignflow.sweeping import SweepReport, sweep

if TYPE_CHECKING:
    pass

__all__ = ["ClockActions"]


def _reason(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput("reason 必须是字符串", "reason must be a str", field="reason")
    if value is not None:
        check_text(value, "reason")
    return value


class ClockActions(EngineParts):
    """Mixed into :class:`~campaignflow.Engine`; not used on its own."""

    clock: Clock
    timezone: tzinfo
    calendar: WorkCalendar
    escalation: EscalationLadder
    max_extensions: int
    suspension_pauses_clock: bool
    _repo: Repository
    _escalations: EscalationStore

    if TYPE_CHECKING:

        def deadline_of(self, due: date | datetime) -> datetime: ...

        def get(self, task_id: str, *, connection: object | None = None) -> Task: ...

    # --- 延期 ------------------------------------------------------------------------------------

    def request_extension(
        self,
        task_id: str,
        *,
        by: Actor,
        due: date | datetime,
        reason: str,
        connection: object | None = None,
    ) -> Task:
        """延期申请: the responsible unit asks, before the deadline and with a reason, for a later
        deadline (a date means the end of that day). At most one request is pending at a time."""
        requested = self.deadline_of(due)
        reason_ = _reason(reason)
        now = self.clock.now()
        return self._act(
            "request_extension",
            task_id,
            by,
            connection,
            context={
                "reason": reason_,
                "requested_deadline": requested,
                "max_extensions": self.max_extensions,
            },
            change=lambda t, _: {
                "extension_request": {
                    "due": dt_to_json(requested),
                    "reason": (reason_ or "").strip(),
                    "requested_at": dt_to_json(now),
                    "by": by.id,
                }
            },
            payload_of=lambda old, _new: {"from": dt_to_json(old.deadline), "to": dt_to_json(requested)},
            reason=reason_,
        )

    def approve_extension(
        self, task_id: str, *, by: Actor, reason: str = "", connection: object | None = None
    ) -> Task:
        """批准延期: the office grants the pending request; the deadline moves, the approval is
        counted (extension rate), and the escalation ladder starts again from the new deadline."""
        reason_ = _reason(reason)

        def change(task: Task, _ctx: Mapping[str, Any]) -> dict[str, Any]:
            request = task.extension_request
            assert request is not None, "the rules refuse an approval with nothing pending"
            moved = datetime.fromisoformat(request["due"]).astimezone(self.timezone)
            return {
                "deadline": moved,
                "extension_count": task.extension_count + 1,
                "extension_request": None,
                "deadline_basis": {
                    "extension": task.extension_count + 1,
                    "previous": dt_to_json(task.deadline),
                    "request": dict(request),
                },
            }

        return self._act(
            "approve_extension",
            task_id,
            by,
            connection,
            context={},
            change=change,
            payload_of=lambda old, new: {
                "from": dt_to_json(old.deadline),
                "to": dt_to_json(new.deadline),
                "count": new.extension_count,
            },
            reason=reason_,
            after=lambda conn, task: self._escalations.clear_level(conn, task.id),
        )

    def reject_extension(
        self, task_id: str, *, by: Actor, reason: str, connection: object | None = None
    ) -> Task:
        """驳回延期申请: the office refuses the pending request, with a reason; the deadline stays."""
        reason_ = _reason(reason)
        return self._act(
            "reject_extension",
            task_id,
            by,
            connection,
            context={"reason": reason_},
            change=lambda t, _: {"extension_request": None},
            payload_of=lambda old, _new: {"request": dict(old.extension_request or {})},
            reason=reason_,
        )

    # --- 回退 ------------------------------------------------------------------------------------

    def return_assignment(
        self, task_id: str, *, by: Actor, reason: str, connection: object | None = None
    ) -> Task:
        """回退: the responsible unit sends back a task that is not its remit, with a reason; the
        task waits (state ``returned``, no escalation) until the office reassigns or cancels it."""
        reason_ = _reason(reason)
        return self._act(
            "return_assignment",
            task_id,
            by,
            connection,
            context={"reason": reason_},
            change=lambda t, _: {"extension_request": None},
            payload={},
            reason=reason_,
        )

    # --- 挂起 / 恢复 ------------------------------------------------------------------------------

    def suspend(self, task_id: str, *, by: Actor, reason: str, connection: object | None = None) -> Task:
        """挂起: the office stops the clock of a task under rectification that cannot progress
        (seasonal or engineering work), with a reason. A suspended task is not escalated."""
        reason_ = _reason(reason)
        now = self.clock.now()
        return self._act(
            "suspend",
            task_id,
            by,
            connection,
            context={"reason": reason_},
            change=lambda t, _: {"suspended_at": now},
            payload={},
            reason=reason_,
        )

    def resume(self, task_id: str, *, by: Actor, reason: str = "", connection: object | None = None) -> Task:
        """恢复: rectification continues. The suspended time is added to the task's total, and —
        where the clock pauses (``Engine(suspension_pauses_clock=True)``, the default) — the deadline
        moves by the same time, so the unit keeps the time it had left."""
        reason_ = _reason(reason)
        now = self.clock.now()
        pauses = self.suspension_pauses_clock

        def change(task: Task, _ctx: Mapping[str, Any]) -> dict[str, Any]:
            began = task.suspended_at
            assert began is not None, "a suspended task records when it was suspended"
            paused = max(timedelta(0), now - began)
            fields: dict[str, Any] = {
                "suspended_at": None,
                "suspended_seconds": task.suspended_seconds + int(paused.total_seconds()),
            }
            if pauses:
                fields["deadline"] = task.deadline + paused
                fields["deadline_basis"] = {
                    "resumed_after_seconds": int(paused.total_seconds()),
                    "previous": dt_to_json(task.deadline),
                }
            return fields

        return self._act(
            "resume",
            task_id,
            by,
            connection,
            context={},
            change=change,
            payload_of=lambda old, new: {
                "suspended_seconds": new.suspended_seconds - old.suspended_seconds,
                "deadline_from": dt_to_json(old.deadline),
                "deadline_to": dt_to_json(new.deadline),
            },
            reason=reason_,
            after=lambda conn, task: self._escalations.clear_level(conn, task.id) if pauses else None,
        )

    def suspended_time(self, task_id: str, *, connection: object | None = None) -> timedelta:
        """The task's total suspended time, the running suspension included (up to now)."""
        task = self.get(task_id, connection=connection)
        total = timedelta(seconds=task.suspended_seconds)
        if task.suspended_at is not None:
            total += max(timedelta(0), self.clock.now() - task.suspended_at)
        return total

    # --- the sweep and its records ----------------------------------------------------------------

    def sweep(
        self, *, actor: Actor | None = None, batch: int = 200, connection: object | None = None
    ) -> SweepReport:
        """Apply the escalation ladder to every open task that is due (催办 before the deadline,
        督办 at it, 挂牌督办 and 公开曝光 after): each step is recorded exactly once per task and
        deadline, however often and however many sweepers run. ``actor`` defaults to the system."""
        engine: Any = self
        return sweep(engine, actor=actor, batch=batch, connection=connection)

    def escalations(self, task_id: str, *, connection: object | None = None) -> list[Escalation]:
        """The task's escalation records, oldest first."""
        with self._tx(connection) as conn:
            if self._repo.load(conn, task_id) is None:
                raise NotFound("task", task_id)
            return self._escalations.of_task(conn, task_id)

    def verify_escalations(self, task_id: str) -> int | None:
        """Recompute the task's escalation chain: the index of the first broken record, or None."""
        return first_escalation_break(self.escalations(task_id))
