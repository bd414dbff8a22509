"""The sweep: find the open tasks that are due, apply the escalation ladder, record each step once.

``Engine.sweep()`` runs it; ``campaignflow sweep [--loop]`` runs it from the command line. Each
batch is one short transaction: claim up to ``batch`` due tasks in deadline order (an index walk
over open tasks only; ``SKIP LOCKED`` on PostgreSQL), and for each, if a step higher than the one
recorded is due, insert the escalation record (exactly once per task, deadline and level: a unique
constraint), move the task's escalation level (without touching its version) and write the outbox
rows. See docs/deadlines.md for why a unit's concurrent action is never refused because of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from campaignflow.domain.escalation import Escalation, EscalationStep, escalation_hash
from campaignflow.domain.roles import Actor
from campaignflow.domain.serial import dt_to_json
from campaignflow.errors import CalendarYearUnknown, InvalidInput

if TYPE_CHECKING:
    from campaignflow.engine import Engine

__all__ = ["SweepProblem", "SweepReport", "sweep"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BATCH = 1000


@attrs.frozen
class SweepProblem:
    """A task the sweep could not judge (e.g. its deadline runs into a year the calendar lacks)."""

    task_id: str
    code: str
    message_zh: str
    message_en: str


@attrs.frozen
class SweepReport:
    """What one sweep did: the escalations it recorded, the due tasks it looked at, and problems."""

    at: datetime
    recorded: tuple[Escalation, ...]
    examined: int
    problems: tuple[SweepProblem, ...] = ()


def _horizon(now: datetime, lead_working_days: int) -> datetime:
    """A calendar-day bound on the deadlines whose first step can be due by ``now``: N working
    days are never more than N·7/5 + 12 calendar days (the longest run of days off is 9 days)."""
    if lead_working_days <= 0:
        return now
    return now + timedelta(days=-(-lead_working_days * 7 // 5) + 12)


def _due_step(
    engine: Engine, deadline: datetime, now: datetime
) -> tuple[int, EscalationStep, datetime] | None:
    """The highest step due by ``now`` for ``deadline`` (rank, step, when it fell due)."""
    found: tuple[int, EscalationStep, datetime] | None = None
    for rank, step in enumerate(engine.escalation.steps):
        due_at, _warnings = engine.calendar.relative_to(deadline, step.working_days)
        if due_at > now:
            break
        found = (rank, step, due_at)
    return found


def sweep(
    engine: Engine,
    *,
    actor: Actor | None = None,
    batch: int = 200,
    connection: object | None = None,
) -> SweepReport:
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_BATCH:
        raise InvalidInput(
            f"batch 必须在 1 到 {MAX_BATCH} 之间", f"batch must be between 1 and {MAX_BATCH}", field="batch"
        )
    who = actor if actor is not None else Actor.system()
    if not isinstance(who, Actor):
        raise InvalidInput("actor 必须是 Actor", "actor must be an Actor", field="actor")
    now = engine.clock.now()
    ladder = engine.escalation
    horizon = _horizon(now, ladder.lead_days)
    recorded: list[Escalation] = []
    problems: list[SweepProblem] = []
    examined = 0
    after: tuple[datetime, str] = (_EPOCH, "")
    while True:
        with engine._tx(connection) as conn:
            rows = engine._escalations.claim(
                conn, horizon=horizon, after=after, batch=batch, top_level=ladder.levels[-1]
            )
            for row in rows:
                examined += 1
                try:
                    due = _due_step(engine, row["deadline"], now)
                except CalendarYearUnknown as error:
                    problems.append(SweepProblem(row["id"], error.code, error.message_zh, error.message_en))
                    continue
                if due is None or due[0] <= ladder.rank(row["escalation_level"]):
                    continue
                record = _record(engine, conn=conn, row=row, due=due, now=now, actor=who)
                if record is not None:
                    recorded.append(record)
        if len(rows) < batch:
            break
        after = (rows[-1]["deadline"], rows[-1]["id"])
    return SweepReport(at=now, recorded=tuple(recorded), examined=examined, problems=tuple(problems))


def _record(
    engine: Engine,
    *,
    conn: sa.Connection,
    row: Mapping[str, Any],
    due: tuple[int, EscalationStep, datetime],
    now: datetime,
    actor: Actor,
) -> Escalation | None:
    rank, step, due_at = due
    store = engine._escalations
    payload = {
        "label_zh": step.label_zh,
        "state": row["state"],
        "overdue": row["deadline"] <= now,
    }
    fields: dict[str, Any] = {
        "task_id": row["id"],
        "level": step.level,
        "rank": rank,
        "deadline": row["deadline"],
        "due_at": due_at,
        "at": now,
        "actor_id": actor.id,
        "unit": row["unit"],
        "task_version": row["version"],
        "history_head": row["history_head"],
        "payload": payload,
        "prev_hash": store.last_hash(conn, row["id"]),
    }
    record = Escalation(**fields, label_zh=step.label_zh, hash=escalation_hash(**fields))
    if not store.insert(conn, record):
        return None  # another sweeper recorded this step first: nothing more to write
    store.set_level(conn, row["id"], step.level, row["deadline"])
    deadline_key = dt_to_json(row["deadline"])
    recipients = dict.fromkeys(row["unit"] if who == "unit" else row["office_unit"] for who in step.notify)
    engine._repo.add_outbox(
        conn,
        [
            {
                "task_id": row["id"],
                "event": f"escalate_{step.level}",
                "recipient": recipient,
                "payload": {
                    "event": f"escalate_{step.level}",
                    "event_zh": step.label_zh,
                    "task_id": row["id"],
                    "title": row["title"],
                    "campaign": row["campaign"],
                    "indicator": row["indicator"],
                    "unit": row["unit"],
                    "state": row["state"],
                    "deadline": dt_to_json(row["deadline"]),
                    "level": step.level,
                    "seq": row["version"],
                    "reason": "",
                },
                "idempotency_key": f"{row['id']}:escalate:{step.level}:{deadline_key}:{recipient}",
                "created_at": now,
            }
            for recipient in recipients
        ],
    )
    return record
