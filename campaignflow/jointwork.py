"""Joint work on the :class:`~campaignflow.Engine`: support units (牵头/配合) with their own parts
of the evidence, and verification by several inspectors (会签 all-of, 或签 any-of, n-of-m).

Every action here goes through the engine's one action path (role table, lifecycle, rules,
version-guarded update, one hash-chained history row, outbox). A verdict is one action: the one that
completes the required verification fires ``pass_verification`` (→ verified), the one that makes it
unreachable fires ``fail_verification`` (→ rectifying, rework +1), any other fires
``record_verdict`` (the task stays self-checked). The task's joint arrangement and the verdicts live
in their own tables (:mod:`campaignflow.store.jointstore`), written in the action's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from campaignflow.domain.clock import Clock
from campaignflow.domain.joint import JOINT_TRIGGERS, JointContext, JointWork, Verdict, Verification, unit_ids
from campaignflow.domain.model import Evidence, Inspection, Task
from campaignflow.domain.roles import Actor
from campaignflow.domain.serial import evidence_to_json, inspection_to_json
from campaignflow.domain.text import check_text
from campaignflow.engineparts import EngineParts
from campaignflow.errors import ConflictError, InvalidInput, NotFound
from campaignflow.store.jointstore import JointStore
from campaignflow.store.repository import Repository

if TYPE_CHECKING:
    from campaignflow.store.structure import StructureStore

__all__ = ["JointActions", "joint_request"]

_VERDICT_TRIGGERS = frozenset({"record_verdict", "pass_verification", "fail_verification"})
_ASSIGNING = frozenset({"assign", "reassign"})


def joint_request(support_units: object, verification: object, require_parts: object) -> JointWork | None:
    """Check the joint arguments of an assignment (types only; the rules judge the units)."""
    support = unit_ids(support_units, "support_units") if support_units is not None else ()
    if verification is not None and not isinstance(verification, Verification):
        raise InvalidInput(
            "verification 必须是 Verification（Verification.all_of / any_of / n_of_m）",
            "verification must be a Verification (Verification.all_of / any_of / n_of_m)",
            field="verification",
        )
    if require_parts is None:  # the campaign's default, read in the transaction (campaign_default)
        require_parts = True
    if not isinstance(require_parts, bool):
        raise InvalidInput(
            "require_support_parts 必须是布尔值",
            "require_support_parts must be a bool",
            field="require_support_parts",
        )
    work = JointWork(support_units=support, require_parts=require_parts, verification=verification)
    return work if work.is_joint else None


def _verdict_trigger(verification: Verification | None, verdicts: Sequence[Verdict], verdict: Verdict) -> str:
    """The trigger a verdict fires, given the round's earlier verdicts."""
    if verification is None:  # a single verifier: the verdict decides (today's pass/fail)
        return "pass_verification" if verdict.passed else "fail_verification"
    passes = sum(v.passed for v in verdicts) + verdict.passed
    fails = len(verdicts) + 1 - passes
    outcome = verification.outcome(passes, fails)
    if outcome == "pass":
        return "pass_verification"
    if outcome == "fail":
        return "fail_verification"
    return "record_verdict"


_READ: Any = object()
"""No joint arrangement was passed: read it."""


class JointActions(EngineParts):
    """Mixed into :class:`~campaignflow.Engine`; not used on its own."""

    clock: Clock
    timezone: tzinfo
    _repo: Repository
    _joint: JointStore

    if TYPE_CHECKING:

        @property
        def _structure(self) -> StructureStore: ...

    def _campaign_joint(
        self, conn: sa.Connection, campaign: str, work: JointWork | None, explicit: bool | None
    ) -> JointWork | None:
        """An assignment's joint arrangement with the campaign's ``require_support_parts`` when the
        call did not say (a registered campaign's default; otherwise parts are required)."""
        if work is None or explicit is not None or not work.support_units:
            return work
        stored = self._structure.require_support_parts(conn, campaign)
        return work if stored is None else attrs.evolve(work, require_parts=stored)

    # --- reading -----------------------------------------------------------------------------------

    def joint_work(self, task_id: str, *, connection: object | None = None) -> JointWork:
        """The task's joint arrangement: support units, parts required, verification (empty if none)."""
        with self._tx(connection) as conn:
            if self._repo.load(conn, task_id) is None:
                raise NotFound("task", task_id)
            return self._joint.work(conn, task_id) or JointWork()

    def verdicts(self, task_id: str, *, connection: object | None = None) -> list[Verdict]:
        """Every verdict cast on the task (all rounds), in the order they were cast."""
        with self._tx(connection) as conn:
            if self._repo.load(conn, task_id) is None:
                raise NotFound("task", task_id)
            return list(self._joint.verdicts(conn, task_id))

    # --- the actions ---------------------------------------------------------------------------

    def add_evidence(
        self,
        task_id: str,
        *,
        by: Actor,
        evidence: Sequence[Evidence],
        connection: object | None = None,
    ) -> Task:
        """提交本单位佐证材料: staff of the lead or a support unit add their unit's part of the
        evidence while the task is rectifying. Each item is recorded as supplied by ``by.unit``."""
        if not isinstance(by, Actor):
            raise InvalidInput("by 必须是 Actor", "by must be an Actor", field="by")
        if not isinstance(evidence, (list, tuple)):
            raise InvalidInput(
                "evidence 必须是 Evidence 列表", "evidence must be a list of Evidence", field="evidence"
            )
        items: list[Evidence] = []
        for item in evidence:
            if not isinstance(item, Evidence):
                raise InvalidInput(
                    "evidence 必须是 Evidence 列表", "evidence must be a list of Evidence", field="evidence"
                )
            if item.unit and item.unit != by.unit:
                raise InvalidInput(
                    f"佐证材料标明的单位 {item.unit!r} 与提交人所属单位 {by.unit!r} 不符",
                    f"the evidence names the unit {item.unit!r}, but {by.id} is of {by.unit!r}",
                    field="evidence",
                )
            items.append(attrs.evolve(item, unit=by.unit))
        parts = tuple(items)
        return self._act(
            "add_evidence",
            task_id,
            by,
            connection,
            context={"evidence": parts},
            change=lambda t, _: {"evidence": t.evidence + parts},
            payload={"unit": by.unit, "evidence": [evidence_to_json(e) for e in parts]},
        )

    def record_verdict(
        self,
        task_id: str,
        *,
        by: Actor,
        passed: bool,
        inspection: Inspection | None = None,
        reason: str | None = None,
        connection: object | None = None,
    ) -> Task:
        """登记验收意见: one inspector's verdict on a self-checked task that requires several
        verifiers (会签/或签/n-of-m). A pass needs an inspection record, a fail a reason. The verdict
        that satisfies the task's verification passes it; the one that makes it unreachable (under
        会签 the first fail) sends it back to rectifying; any other keeps it self-checked. On a task
        with one verifier it is the same as :meth:`pass_verification` / :meth:`fail_verification`.
        """
        if not isinstance(by, Actor):
            raise InvalidInput("by 必须是 Actor", "by must be an Actor", field="by")
        if not isinstance(passed, bool):
            raise InvalidInput("passed 必须是布尔值", "passed must be a bool", field="passed")
        if inspection is not None and not isinstance(inspection, Inspection):
            raise InvalidInput(
                "inspection 必须是 Inspection", "inspection must be an Inspection", field="inspection"
            )
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("reason 必须是字符串", "reason must be a str", field="reason")
        if reason is not None:
            check_text(reason, "reason")
        if not isinstance(task_id, str):
            raise InvalidInput("task_id 必须是字符串", "task_id must be a str", field="task_id")
        check_text(task_id, "task_id")
        record = inspection
        with self._tx(connection) as conn:
            task = self._repo.load(conn, task_id)
            if task is None:
                raise NotFound("task", task_id)
            work = self._joint.work(conn, task_id)
            verification = work.verification if work else None
            earlier = self._joint.verdicts(conn, task_id, task.rework_count)
            verdict = Verdict(
                inspector=by.id,
                unit=by.unit,
                passed=passed,
                round=task.rework_count,
                at=self.clock.now(),
                reason=(reason or "").strip(),
                inspection=record,
            )
            trigger = _verdict_trigger(verification, earlier, verdict)
            passes = sum(v.passed for v in earlier) + passed
            tally = {"pass": passes, "fail": len(earlier) + 1 - passes}
            if verification is not None:
                tally |= {"needed": verification.needed, "of": verification.panel}

            def context(c: sa.Connection) -> dict[str, Any]:
                unit = self._repo.unit(c, record.inspector_unit.strip()) if record else None
                return {"inspection": record, "inspection_unit": unit, "reason": reason, "verdict": verdict}

            def change(t: Task, _: Mapping[str, Any]) -> dict[str, Any]:
                if trigger == "pass_verification":
                    return {"inspection": record}
                if trigger == "fail_verification":
                    return {"rework_count": t.rework_count + 1, "inspection": record or t.inspection}
                return {}

            return self._act(
                trigger,
                task_id,
                by,
                conn,
                context=context,
                change=change,
                payload={
                    "verdict": "pass" if passed else "fail",
                    "round": verdict.round,
                    "mode": verification.mode.value if verification else "single",
                    "tally": tally,
                    "inspection": inspection_to_json(record) if record else None,
                },
                reason=reason,
            )

    # --- the engine's action path calls these ------------------------------------------------------

    def _joint_work(
        self, conn: sa.Connection, trigger: str, task: Task, stored: Any = _READ
    ) -> JointWork | None:
        """The stored arrangement of ``task`` when ``trigger`` needs it (else None, no query).
        ``stored``: the arrangement's JSON as the action's task read brought it (None: not joint);
        without it, it is read."""
        if trigger not in JOINT_TRIGGERS:
            return None
        if stored is not _READ:
            return JointWork.from_json(stored) if stored is not None else None
        return self._joint.work(conn, task.id)

    def _joint_context(
        self,
        conn: sa.Connection,
        trigger: str,
        task: Task,
        work: JointWork | None,
        extra: Mapping[str, Any],
    ) -> tuple[JointContext | None, dict[str, Any]]:
        """The joint rules' view of the action, and the action's context without the joint keys
        (``verdict`` from :meth:`record_verdict`, ``support_units`` from a reassignment)."""
        rest = dict(extra)
        verdict: Verdict | None = rest.pop("verdict", None)
        support: tuple[str, ...] | None = rest.pop("support_units", None)
        if trigger == "reassign" and support is not None:
            work = attrs.evolve(work or JointWork(), support_units=support)
        if work is None or (not work.is_joint and support is None):
            return None, rest
        lead = task.unit
        if trigger in _ASSIGNING:
            found = rest.get("unit")
            lead = found.id if found is not None else str(rest.get("unit_id") or "").strip()
        registered = self._registered(conn, work) if trigger in _ASSIGNING else frozenset()
        verdicts: tuple[Verdict, ...] = ()
        if verdict is not None and trigger in _VERDICT_TRIGGERS:
            verdicts = self._joint.verdicts(conn, task.id, task.rework_count)
            if _verdict_trigger(work.verification, verdicts, verdict) != trigger:
                raise ConflictError(
                    f"任务 {task.id} 的验收意见已有变化，请刷新后重试",
                    f"task {task.id} received another verdict meanwhile: reload and retry",
                    task_id=task.id,
                    state=task.state.value,
                    trigger=trigger,
                    actor=verdict.inspector,
                )
        context = JointContext(
            work=work, lead=lead, registered=registered, verdicts=verdicts, verdict=verdict
        )
        return context, rest

    def _joint_request(self, conn: sa.Connection, lead: str, work: JointWork | None) -> JointContext | None:
        """The joint rules' view of a new assignment."""
        if work is None:
            return None
        return JointContext(work=work, lead=lead, registered=self._registered(conn, work))

    def _registered(self, conn: sa.Connection, work: JointWork) -> frozenset[str]:
        named = (*work.support_units, *(work.verification.units if work.verification else ()))
        return frozenset(u for u in named if self._repo.unit(conn, u) is not None)

    def _save_joint(
        self,
        conn: sa.Connection,
        task: Task,
        before: JointWork | None,
        joint: JointContext | None,
        now: datetime,
    ) -> None:
        """Write what the action changed of the joint arrangement, and the verdict it recorded."""
        if joint is None:
            return
        if joint.work != before:
            self._joint.save_work(conn, task.id, joint.work, now)
        if joint.verdict is not None:
            self._joint.add_verdict(conn, task.id, joint.verdict, task.version)

    @staticmethod
    def _joint_payload(work: JointWork | None) -> dict[str, Any]:
        """What an assignment's history records of its joint arrangement (nothing when none)."""
        if work is None:
            return {}
        return {"joint": work.to_json()}
