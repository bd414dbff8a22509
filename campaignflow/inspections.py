"""Inspection rounds on the Engine: findings become rectification tasks (限期整改), 回潮 is linked.

``engine.record_round(round, findings, by=office)`` writes the round, its findings and one task per
finding in ONE transaction (all or none; :class:`~campaignflow.errors.BatchRefused` lists every
refused finding). Each task:

- goes to the unit the territorial rule names (the finding's site, else its grid, else the
  indicator's lead department: :meth:`~campaignflow.Engine.responsible_unit`), the reason recorded;
- gets the deadline ``limit=`` gives, else the one the deadline policy (``Engine(deadline_policy=)``,
  then the ``campaignflow_deadline_policy`` plugins) gives for its campaign, indicator, unit and
  kind, with the finding's ``severity``, the round's ``round_kind`` and ``source`` as attributes;
- has its photos in the engine's evidence store, when it has one (else the finding is refused);
- carries its source (:attr:`InspectionRound.task_source`), site and grid, and the finding (round,
  kind, team, day, description, photos, severity) in its first history row;
- is checked by the full 四有四定 rules and the office's scope, like any assignment;
- is a 回潮 (recurrence) when a task of the same campaign at the same site for the same indicator
  was archived within the campaign's ``recurrence_days`` (or ``recurrence_days=``) before now:
  ``recurrence_of`` names that task and ``recurrence_count`` counts along the chain.

A covert round's team is hidden from units in :meth:`~campaignflow.Engine.history` (``viewer=``)
and in dossiers; the stored history keeps it, so the hash chain stays whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from campaignflow.decompose import DecomposeActions
from campaignflow.delivery import outbox_rows
from campaignflow.domain.calendar import Limit
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.domain.inspections import Finding, InspectionRound
from campaignflow.domain.lifecycle import NEW
from campaignflow.domain.model import HistoryEntry, Task, TaskState
from campaignflow.domain.roles import Actor, permission_problem
from campaignflow.domain.rules import ActionContext, RuleSet
from campaignflow.domain.serial import assignment_payload
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.errors import (
    BatchRefused,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RefusedRow,
    RuleViolation,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from campaignflow.store.evidence import EvidenceStore

__all__ = ["DEFAULT_MEASURE", "InspectionActions", "RoundReport"]

DEFAULT_MEASURE = "对照具体标准限期整改到位"


@attrs.frozen
class RoundReport:
    """A recorded round: its id and the task each finding became, in the order of the findings."""

    round_id: str
    tasks: tuple[Task, ...]

    @property
    def recurrences(self) -> tuple[Task, ...]:
        """The tasks that are a 回潮 of an archived one."""
        return tuple(t for t in self.tasks if t.recurrence_of is not None)


class InspectionActions(DecomposeActions):
    """``record_round`` and the round lookups (on top of batch decomposition's bulk writing)."""

    if TYPE_CHECKING:
        evidence_store: EvidenceStore | None

    def record_round(
        self,
        round: InspectionRound,
        findings: Sequence[Finding],
        *,
        by: Actor,
        limit: Limit | None = None,
        kind: str = "general",
        recurrence_days: int | None = None,
        connection: object | None = None,
    ) -> RoundReport:
        """Record an inspection round; every finding becomes a rectification task, or none does."""
        if not isinstance(round, InspectionRound):
            raise InvalidInput(
                "round 必须是 InspectionRound", "round must be an InspectionRound", field="round"
            )
        if not isinstance(kind, str) or not kind.strip():
            raise InvalidInput("kind 不能为空", "kind must be a non-blank str", field="kind")
        check_text(kind, "kind", MAX_LENGTH["kind"])
        given: object = findings  # typed a Sequence, but a caller may pass anything
        items = tuple(given) if isinstance(given, Iterable) and not isinstance(given, str) else ()
        if not items or any(not isinstance(f, Finding) for f in items):
            raise InvalidInput(
                "findings 须为至少一项 Finding", "findings must be at least one Finding", field="findings"
            )
        if not isinstance(by, Actor):
            raise InvalidInput("by 必须是 Actor", "by must be an Actor", field="by")
        problem = permission_problem("assign", by, None)
        if problem:
            raise PermissionDenied(*problem, trigger="assign", actor=by.id)
        if recurrence_days is not None and (
            not isinstance(recurrence_days, int)
            or isinstance(recurrence_days, bool)
            or not 1 <= recurrence_days <= 3660
        ):
            raise InvalidInput(
                "recurrence_days 必须是 1 到 3660 之间的天数",
                "recurrence_days must be a number of days between 1 and 3660",
                field="recurrence_days",
            )
        now = self.clock.now()
        round_id = str(uuid.uuid4())
        with self._tx(connection) as conn:
            campaign = self._structure.campaign(conn, round.campaign)
            days = (
                recurrence_days
                if recurrence_days is not None
                else (campaign.recurrence_days if campaign else 90)
            )
            window = timedelta(days=days)
            # The round's tasks take the campaign's pinned policy (campaignflow.policyversions).
            policy = self._campaign_policy(conn, round.campaign, hosted=connection is not None)
            tasks: list[Task] = []
            entries: list[HistoryEntry] = []
            outbox: list[dict[str, Any]] = []
            refused: list[RefusedRow] = []
            for index, finding in enumerate(items):
                try:
                    task, entry = self._finding_task(
                        conn,
                        round,
                        round_id,
                        index,
                        finding,
                        by=by,
                        now=now,
                        limit=limit,
                        kind=kind,
                        window=window,
                        policy=policy,
                    )
                except (InvalidInput, PermissionDenied, NotFound, RuleViolation) as error:
                    codes = tuple(getattr(error, "codes", ())) or (error.code,)
                    unit = str(error.context.get("unit", "")) if hasattr(error, "context") else ""
                    refused.append(RefusedRow(index, unit, codes, error.message_zh, error.message_en))
                    continue
                tasks.append(task)
                entries.append(entry)
                outbox.extend(outbox_rows(task, entry, previous_unit=None, notifiers=self.plugins.notifiers))
            if refused:
                raise BatchRefused(refused, trigger="assign", actor=by.id)
            self._repo.insert_batch(conn, tasks, entries, outbox)
            self._structure.save_round(
                conn,
                {
                    "id": round_id,
                    "campaign": round.campaign,
                    "kind": round.kind.value,
                    "source": round.task_source.value,
                    "team": list(round.team),
                    "held_on": round.held_on,
                    "office_unit": by.unit,
                    "actor_id": by.id,
                    "created_at": now,
                },
                [
                    {
                        "round_id": round_id,
                        "position": index,
                        "task_id": task.id,
                        "indicator": finding.indicator,
                        "site": finding.site,
                        "grid": finding.grid,
                        "description": finding.description,
                        "photos": list(finding.photos),
                        "severity": finding.severity.value,
                    }
                    for index, (finding, task) in enumerate(zip(items, tasks, strict=True))
                ],
            )
        return RoundReport(round_id, tuple(tasks))

    def _finding_task(
        self,
        conn: sa.Connection,
        round: InspectionRound,
        round_id: str,
        index: int,
        finding: Finding,
        *,
        by: Actor,
        now: datetime,
        limit: Limit | None,
        kind: str,
        window: timedelta,
        policy: tuple[str, RuleSet],
    ) -> tuple[Task, HistoryEntry]:
        campaign = round.campaign
        store = self.evidence_store
        absent = [p for p in finding.photos if store is not None and not store.contains(p)]
        if absent:
            raise InvalidInput(
                f"照片 {absent[0]} 不在证据库中",
                f"photo {absent[0]} is not in the evidence store",
                field="photos",
            )
        responsibility = self._responsible(
            conn, campaign, site=finding.site, grid=finding.grid, indicator=finding.indicator
        )
        unit = self._repo.unit(conn, responsibility.unit)
        if unit is not None:
            try:
                self._check_scope(conn, "assign", by, campaign=campaign, unit=unit.id)
            except PermissionDenied as denied:
                denied.context["unit"] = unit.id
                raise
        indicator = self._structure.indicator(conn, campaign, finding.indicator)
        attributes = {
            "severity": finding.severity.value,
            "round_kind": round.kind.value,
            "source": round.task_source.value,
        }
        deadline, basis = self._deadline(
            None,
            limit,
            now,
            DeadlineRequest(
                campaign=campaign,
                indicator=finding.indicator,
                unit=responsibility.unit,
                kind=kind,
                attributes=attributes,
            ),
        )
        standard = (
            finding.standard if finding.standard is not None else (indicator.standard if indicator else "")
        )
        measures = finding.measures or (DEFAULT_MEASURE,)
        context = ActionContext(
            trigger="assign",
            now=now,
            timezone=self.timezone,
            title=finding.description,
            standard=standard,
            measures=measures,
            unit_id=responsibility.unit,
            unit=unit,
            leader=unit.leader if unit else None,
            deadline=deadline,
            kind=kind,
            attributes=attributes,
            indicator_in_tree=self._structure.indicator_known(conn, campaign, finding.indicator),
        )
        try:
            self._check_rules(context, task_id=None, state=None, actor=by, rules=policy[1])
        except RuleViolation as refused:
            refused.context["unit"] = responsibility.unit
            raise
        assert unit is not None  # 定部门 passed
        assert deadline is not None  # 定进度 passed
        previous = (
            self._structure.last_archived(conn, campaign, finding.site, finding.indicator)
            if finding.site
            else None
        )
        recurs = previous is not None and now - previous[1] <= window
        task = Task(
            id=self._new_id(now),
            campaign=campaign,
            indicator=finding.indicator,
            kind=kind,
            title=finding.description.strip(),
            standard=(standard or "").strip(),
            measures=measures,
            unit=unit.id,
            leader=unit.leader.strip(),
            deadline=deadline,
            state=TaskState.ASSIGNED,
            version=0,
            rework_count=0,
            external_ref=None,
            attributes=attributes,
            policy_fingerprint=policy[0],
            office_unit=by.unit,
            created_at=now,
            updated_at=now,
            deadline_basis=basis,
            source=round.task_source,
            site=finding.site.strip() if finding.site else None,
            grid=finding.grid.strip() if finding.grid else None,
            recurrence_of=previous[0] if recurs and previous else None,
            recurrence_count=previous[2] + 1 if recurs and previous else 0,
        )
        payload = assignment_payload(task, basis)
        payload["finding"] = {
            "round": round_id,
            "position": index,
            "kind": round.kind.value,
            "covert": round.covert,
            "team": list(round.team),
            "held_on": round.held_on.isoformat(),
            "description": finding.description,
            "photos": list(finding.photos),
            "severity": finding.severity.value,
        }
        payload["responsibility"] = responsibility.to_json()
        if task.recurrence_of is not None:
            payload["recurrence_of"] = {"task": task.recurrence_of, "count": task.recurrence_count}
        return self._step(
            task,
            actor=by,
            trigger="assign",
            from_state=NEW,
            to_state=TaskState.ASSIGNED,
            reason="",
            payload=payload,
            now=now,
        )

    def inspection_round(self, round_id: str, *, connection: object | None = None) -> dict[str, Any]:
        """A recorded round with its findings (the office's view: the team in clear)."""
        with self._tx(connection) as conn:
            found = self._structure.round(conn, round_id)
            if found is None:
                raise NotFound("inspection round", round_id)
            return {**found, "findings": self._structure.findings(conn, round_id)}
