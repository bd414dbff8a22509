"""Every error campaignflow raises, with messages in Chinese and English.

The tree::

    CampaignflowError
    ├── InvalidInput (ValueError)        bad argument: wrong type, malformed hash, naive datetime …
    │   ├── InvalidEvidenceName          an evidence name that is not a sha256 (``..``, a path …)
    │   ├── UnitCycle                    a unit's parent would make the hierarchy loop
    │   ├── StructureFileError           a campaign or network file has bad rows (``.problems``)
    │   └── LedgerError                  a ledger (台账) cannot be imported: ``.problems`` lists
    │                                    every bad row and column at once; nothing was imported
    ├── DefinitionError                  a lifecycle / rule / configuration mistake (programmer error)
    ├── SchemaNotReady                   the database is not migrated to the library's schema
    ├── CheckpointInvalid                a history checkpoint file is malformed, forged or unsigned
    ├── DossierError                     a dossier cannot be built (e.g. the task's history is broken)
    ├── EvidenceError                    the evidence store cannot produce a file as recorded
    │   └── EvidenceNotFound (LookupError)   no file with that sha256 in the store
    ├── NotFound (LookupError)           no task / unit with that id
    ├── ChannelError                     a notification channel could not deliver (raised by
    │                                    channels; ``retryable=False`` parks the message at once)
    ├── CalendarYearUnknown (LookupError) the work calendar has no holiday schedule for a year
    └── ActionRefused                    the action was refused; nothing was written
        ├── RuleViolation                四有四定 items missing (``.missing`` lists every one)
        ├── PermissionDenied             the actor's role or unit may not fire this trigger
        ├── InvalidTransition            no such path from the task's current state
        ├── ConflictError                another action changed the task first (lost version race),
        │                                or an ``external_ref`` was reused with different content
        ├── BatchRefused                 a batch (decomposition, inspection round) refused as a whole;
        │                                ``.refused`` lists every refused row and why
        ├── PolicyUnavailable            the task's policy names a rule set version not installed
        └── PluginError                  a plugin's rule raised (fails closed); ``.plugin`` names it
            └── PluginLoadError          (also a DefinitionError) a plugin is broken: raised when the
                                         Engine is built, never at the first transition

Every error carries a stable ``code`` (host apps match on it), ``message_zh`` and ``message_en``;
``str(error)`` shows both. Refusals also carry the ``task_id``, ``state``, ``trigger`` and ``actor``
they concern, where known. This module imports only the standard library and attrs.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "ActionRefused",
    "BatchRefused",
    "CalendarYearUnknown",
    "CampaignflowError",
    "ChannelError",
    "CheckpointInvalid",
    "ConflictError",
    "DefinitionError",
    "DossierError",
    "EvidenceError",
    "EvidenceNotFound",
    "FileProblem",
    "InvalidEvidenceName",
    "InvalidInput",
    "InvalidTransition",
    "LedgerError",
    "LedgerProblem",
    "Missing",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "PluginLoadError",
    "PolicyUnavailable",
    "RefusedRow",
    "RuleViolation",
    "SchemaNotReady",
    "StructureFileError",
    "UnitCycle",
]


@attrs.frozen
class Missing:
    """One missing 四有四定 item (or another rule failure) in a refusal.

    ``code`` is stable (e.g. ``"fixed_leader"``); ``rule`` is the Chinese rule label (``"定领导"``);
    ``field`` names the argument the caller should fix.
    """

    code: str
    rule: str
    message_zh: str
    message_en: str
    field: str = ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.rule}: {self.message_zh} / {self.message_en}"


class CampaignflowError(Exception):
    """Root of every campaignflow error."""

    code: str = "campaignflow_error"

    def __init__(self, message_zh: str, message_en: str, *, code: str | None = None, **context: Any) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        if code is not None:
            self.code = code
        self.context: dict[str, Any] = context
        super().__init__(f"{message_zh} / {message_en}")


class InvalidInput(CampaignflowError, ValueError):
    """An argument is malformed (wrong type, naive datetime, bad hash, unknown state name …)."""

    code = "invalid_input"

    def __init__(self, message_zh: str, message_en: str, *, field: str = "", **context: Any) -> None:
        self.field = field
        super().__init__(message_zh, message_en, field=field, **context)


class UnitCycle(InvalidInput):
    """Giving a unit that parent would make the unit hierarchy loop (``.cycle`` names the units)."""

    code = "unit_cycle"

    def __init__(self, cycle: list[str] | tuple[str, ...]) -> None:
        self.cycle: tuple[str, ...] = tuple(cycle)
        path = " → ".join(self.cycle)
        super().__init__(
            f"单位上下级关系成环：{path}", f"the unit hierarchy would loop: {path}", field="parent"
        )


@attrs.frozen
class FileProblem:
    """One bad row of a structure file: where (``sheet``, ``row``, ``field``) and why."""

    sheet: str
    row: int
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        where = f"row {self.row} of {self.sheet}, {self.field}"
        return f"{self.sheet} 第 {self.row} 行 {self.field}：{self.message_zh} / {where}: {self.message_en}"


class StructureFileError(InvalidInput):
    """A campaign or unit-network file has bad rows; ``problems`` lists every one. Nothing was loaded."""

    code = "structure_file"

    def __init__(self, path: str, problems: list[FileProblem] | tuple[FileProblem, ...]) -> None:
        self.path = path
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        zh = "；".join(f"{p.sheet} 第 {p.row} 行 {p.field}：{p.message_zh}" for p in self.problems[:20])
        en = "; ".join(f"{p.sheet} row {p.row} {p.field}: {p.message_en}" for p in self.problems[:20])
        super().__init__(
            f"文件 {path} 有 {len(self.problems)} 处错误，未载入任何内容：{zh}",
            f"{path} has {len(self.problems)} problem(s), nothing was loaded: {en}",
            field=self.problems[0].field if self.problems else "",
            path=path,
        )


@attrs.frozen
class LedgerProblem:
    """One problem in a ledger: the sheet row number as the office sees it (1-based), the column's
    header (or its letter), and what is wrong in Chinese and English."""

    row: int
    column: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message_zh}"


class LedgerError(InvalidInput):
    """A ledger (台账) was refused as a whole: ``problems`` lists every bad row and column; nothing
    was imported (the import is all or nothing)."""

    code = "ledger_invalid"

    def __init__(
        self, problems: tuple[LedgerProblem, ...] | list[LedgerProblem], *, source: str = ""
    ) -> None:
        self.problems: tuple[LedgerProblem, ...] = tuple(problems)
        zh = "；".join(str(p) for p in self.problems[:20])
        en = "; ".join(f"row {p.row} {p.column}: {p.message_en}" for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(
            f"台账 {source} 有 {len(self.problems)} 处错误，未导入任何内容：{zh}"
            + (f" 等（另有 {more} 处）" if more > 0 else ""),
            f"ledger {source} has {len(self.problems)} problem(s), nothing was imported: {en}"
            + (f" (and {more} more)" if more > 0 else ""),
            field="ledger",
        )


class DefinitionError(CampaignflowError):
    """A lifecycle, rule set or engine configuration is wrong; raised when it is built, not later."""

    code = "definition_error"


class SchemaNotReady(CampaignflowError):
    """The database has not been migrated to the schema this version of the library needs."""

    code = "schema_not_ready"


class InvalidEvidenceName(InvalidInput):
    """An evidence store was asked for a name that is not a 64-hex sha256 (a path, ``..`` …)."""

    code = "invalid_evidence_name"


class CheckpointInvalid(CampaignflowError):
    """A history checkpoint cannot be trusted: malformed, truncated, edited, signed with another key,
    or given without the key or anchor that would make it trustworthy."""

    code = "checkpoint_invalid"


class DossierError(CampaignflowError):
    """A dossier (专卷) cannot be built: the task's history fails verification."""

    code = "dossier_error"


class EvidenceError(CampaignflowError):
    """The evidence store cannot produce a file as it was recorded (missing, or its bytes changed)."""

    code = "evidence_error"


class EvidenceNotFound(EvidenceError, LookupError):
    """No file with that sha256 in the evidence store."""

    code = "evidence_not_found"

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(
            f"证据库中没有文件 {sha256}", f"no evidence file {sha256} in the store", sha256=sha256
        )


class NotFound(CampaignflowError, LookupError):
    """No task or unit with that id."""

    code = "not_found"

    def __init__(self, what: str, ident: str) -> None:
        self.what = what
        self.ident = ident
        labels = {
            "task": "任务",
            "unit": "单位",
            "campaign": "创建活动",
            "indicator": "指标",
            "site": "点位",
            "grid": "网格",
            "responsible unit": "责任单位",
            "inspection round": "检查轮次",
        }
        super().__init__(
            f"找不到{labels.get(what, what)} {ident!r}", f"no {what} {ident!r}", what=what, ident=ident
        )


class CalendarYearUnknown(CampaignflowError, LookupError):
    """The work calendar has no holiday schedule (放假安排) for ``year``: load the year's published
    schedule as an override, or opt in to counting unknown years Monday to Friday."""

    code = "calendar_year_unknown"

    def __init__(self, year: int, known: tuple[int, ...] | list[int] = ()) -> None:
        self.year = year
        self.known: tuple[int, ...] = tuple(known)
        span = f"{min(self.known)}–{max(self.known)}" if self.known else "none"
        super().__init__(
            f"工作日历没有 {year} 年的节假日安排（已有：{span}）：请加载该年的放假安排文件，"
            '或明确选择按周一至周五计算（unknown_years="weekdays"）',
            f"the work calendar has no holiday schedule for {year} (it knows {span}): load that year's "
            'published schedule as an override file, or opt in with unknown_years="weekdays"',
            year=year,
        )


class ActionRefused(CampaignflowError):
    """An action was refused before anything was written: state, history and outbox are unchanged."""

    code = "action_refused"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        task_id: str | None = None,
        state: str | None = None,
        trigger: str | None = None,
        actor: str | None = None,
        **context: Any,
    ) -> None:
        self.task_id = task_id
        self.state = state
        self.trigger = trigger
        self.actor = actor
        super().__init__(
            message_zh,
            message_en,
            code=code,
            task_id=task_id,
            state=state,
            trigger=trigger,
            actor=actor,
            **context,
        )


class RuleViolation(ActionRefused):
    """四有四定 (or another rule) refused the action; ``missing`` lists every failing item at once."""

    code = "rule_violation"

    def __init__(
        self,
        missing: tuple[Missing, ...] | list[Missing],
        *,
        task_id: str | None = None,
        state: str | None = None,
        trigger: str | None = None,
        actor: str | None = None,
    ) -> None:
        self.missing: tuple[Missing, ...] = tuple(missing)
        zh = "；".join(f"{m.rule}：{m.message_zh}" for m in self.missing)
        en = "; ".join(f"{m.code}: {m.message_en}" for m in self.missing)
        super().__init__(
            f"不符合四有四定要求：{zh}",
            f"the 四有四定 rules refuse {trigger or 'the action'}: {en}",
            task_id=task_id,
            state=state,
            trigger=trigger,
            actor=actor,
        )

    @property
    def codes(self) -> tuple[str, ...]:
        """The stable codes of the missing items, in rule order."""
        return tuple(m.code for m in self.missing)


class PermissionDenied(ActionRefused):
    """The actor's role or unit may not fire this trigger on this task."""

    code = "permission_denied"


class InvalidTransition(ActionRefused):
    """The lifecycle has no path for this trigger from the task's current state."""

    code = "invalid_transition"


class ConflictError(ActionRefused):
    """Another action changed the task first (optimistic-lock race), or an idempotency key clashed."""

    code = "conflict"


@attrs.frozen
class RefusedRow:
    """One refused row of a batch: its index (from 0), its unit and the codes and messages of why;
    ``error`` is the refusal itself (its ``context['field']``, a rule violation's ``missing``), for
    callers that report rows their own way (the ledger import names the column)."""

    index: int
    unit: str
    codes: tuple[str, ...]
    message_zh: str
    message_en: str
    error: CampaignflowError | None = attrs.field(default=None, eq=False, repr=False)


class BatchRefused(ActionRefused):
    """A batch was refused as a whole because of the rows in ``refused``: nothing was written."""

    code = "batch_refused"

    def __init__(
        self, refused: list[RefusedRow] | tuple[RefusedRow, ...], *, trigger: str, actor: str
    ) -> None:
        self.refused: tuple[RefusedRow, ...] = tuple(refused)
        zh = "；".join(f"第 {r.index} 行（{r.unit}）：{r.message_zh}" for r in self.refused[:10])
        en = "; ".join(f"row {r.index} ({r.unit}): {r.message_en}" for r in self.refused[:10])
        super().__init__(
            f"批量操作被整体拒绝，{len(self.refused)} 行不符合要求，未写入任何内容：{zh}",
            f"the batch was refused as a whole, {len(self.refused)} row(s) failed "
            f"and nothing was written: {en}",
            trigger=trigger,
            actor=actor,
        )


class PolicyUnavailable(ActionRefused):
    """A task's (or a campaign's) policy names a versioned rule set that is not installed, or a
    policy fingerprint nobody recorded: the task cannot be judged by the rules it was created
    under. Install that version again, or move the task with ``engine.migrate_tasks``."""

    code = "policy_unavailable"


class PluginError(ActionRefused):
    """A plugin failed while the engine relied on it; ``plugin`` names it.

    A plugin's rule that raises (or reports a code it never declared) fails *closed*: the action is
    refused with this error and nothing is written.
    """

    code = "plugin_error"

    def __init__(self, message_zh: str, message_en: str, *, plugin: str, **context: Any) -> None:
        self.plugin = plugin
        super().__init__(message_zh, message_en, plugin=plugin, **context)


class PluginLoadError(PluginError, DefinitionError):
    """A plugin cannot be used: its entry point does not import, a hook implementation does not
    match the contract, or what it declares is invalid. Raised when the Engine is built."""

    code = "plugin_load_error"


class ChannelError(CampaignflowError):
    """A channel could not deliver a message. Channels raise it (any other exception counts as a
    retryable fault too); ``retryable=False`` (e.g. an HTTP 4xx) parks the message as a dead letter
    at once instead of retrying."""

    code = "channel_error"

    def __init__(self, message_zh: str, message_en: str, *, retryable: bool = True, **context: Any) -> None:
        self.retryable = retryable
        super().__init__(message_zh, message_en, retryable=retryable, **context)
