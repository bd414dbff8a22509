"""Joint work (牵头/配合) and verification by several inspectors (会签 / 或签 / n-of-m): pure values
and the rules that judge them.

A joint task keeps its one responsible unit (the lead unit, 牵头单位: ``Task.unit``) and names
support units (配合单位). Each support unit supplies its own part of the evidence (evidence records
carry the supplying ``unit``); the lead unit alone starts, reports the self-check and may be
reassigned by the office. A task may also require a verification mode:

=========  ======================================  =============================================
mode       satisfied when                          sent back to rectifying (返工) when
=========  ======================================  =============================================
all_of     every listed verifier unit passed it    the first verdict fails (会签: one fail)
any_of     one listed verifier unit passed it      every listed verifier unit failed it (或签)
n_of_m     n verdicts passed (of m verifiers)      so many failed that n passes cannot be reached
=========  ======================================  =============================================

One inspector and one unit cast at most one verdict per round (a round ends when the task is sent
back); no verifier comes from the lead or a support unit (separation of duties).

| rule        | code(s)                                                  | checked before           |
|-------------|----------------------------------------------------------|--------------------------|
| 牵头配合    | ``support_unit_unknown``, ``support_unit_is_lead``,       | assign, reassign         |
|             | ``verifier_unit_unknown``, ``verifier_unit_is_party``    |                          |
| 配合佐证    | ``support_parts_missing``                                | submit_self_check        |
| 配合佐证    | ``evidence_part_empty``, ``evidence_part_time``          | add_evidence             |
| 会签或签    | ``verdict_required``, ``verdict_not_listed``,             | record_verdict,          |
|             | ``verdict_twice``, ``verdict_independent``               | pass/fail_verification   |
| 会签或签    | ``verdict_inspection``, ``verdict_reason``               | record_verdict           |
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from campaignflow.domain.model import Inspection
from campaignflow.domain.rules import ActionContext, Rule
from campaignflow.domain.serial import dt_from_json, dt_to_json, inspection_from_json, inspection_to_json
from campaignflow.errors import InvalidInput, Missing

__all__ = [
    "JOINT_CATALOGUE",
    "JOINT_RULES",
    "JOINT_TRIGGERS",
    "JointContext",
    "JointWork",
    "Verdict",
    "Verification",
    "VerificationMode",
    "joint_rules",
    "unit_ids",
]


class VerificationMode(enum.StrEnum):
    """How many verifiers must pass a task (the stored names)."""

    ALL_OF = "all_of"  # 会签: every listed verifier unit
    ANY_OF = "any_of"  # 或签: any one listed verifier unit
    N_OF_M = "n_of_m"  # n passes out of m verifiers

    @property
    def label_zh(self) -> str:
        return {"all_of": "会签", "any_of": "或签", "n_of_m": "多人验收（n/m）"}[self.value]


def _mode(value: object) -> VerificationMode:
    try:
        return VerificationMode(str(value))
    except ValueError:
        known = [m.value for m in VerificationMode]
        raise InvalidInput(
            f"未知验收方式 {value!r}，应为 {known} 之一",
            f"unknown verification mode {value!r}; expected one of {known}",
            field="verification",
        ) from None


def unit_ids(value: object, name: str) -> tuple[str, ...]:
    """A list of unit ids: strings, not blank, stripped, no repeats (else :class:`InvalidInput`)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidInput(f"{name} 必须是单位编号列表", f"{name} must be a list of unit ids", field=name)
    ids: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"{name} 中的单位编号不能为空", f"{name} holds a blank unit id", field=name)
        if item.strip() in ids:
            raise InvalidInput(
                f"{name} 中单位 {item.strip()!r} 重复", f"{name} names {item.strip()!r} twice", field=name
            )
        ids.append(item.strip())
    return tuple(ids)


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput("n、m 必须是非负整数", "n and m must be non-negative ints", field="verification")
    return value


def _verifier_units(value: object) -> tuple[str, ...]:
    return unit_ids(value, "verification.units")


@attrs.frozen
class Verification:
    """A task's verification requirement. Build with :meth:`all_of`, :meth:`any_of` or :meth:`n_of_m`.

    ``units``: the verifier units (an inspector of each may cast one verdict); for ``n_of_m`` they
    may be left out, and then inspectors of any independent units vote, ``m`` of them at most.
    """

    mode: VerificationMode = attrs.field(converter=_mode)
    units: tuple[str, ...] = attrs.field(default=(), converter=_verifier_units)
    n: int = attrs.field(default=0, converter=_count)
    m: int = attrs.field(default=0, converter=_count)

    def __attrs_post_init__(self) -> None:
        if self.mode is not VerificationMode.N_OF_M:
            if not self.units or self.n or self.m:
                raise InvalidInput(
                    f"{self.mode.label_zh}须列出验收单位（不另给 n、m）",
                    f"{self.mode.value} needs the verifier units (and no n or m)",
                    field="verification",
                )
            return
        panel = len(self.units) if self.units else self.m
        if self.units and self.m not in (0, len(self.units)):
            raise InvalidInput(
                "列出验收单位时 m 即单位个数",
                "with verifier units listed, m is their number",
                field="verification",
            )
        if not 1 <= self.n <= panel:
            raise InvalidInput(
                "n/m 验收须满足 1 ≤ n ≤ m",
                f"n_of_m needs 1 <= n <= m (n={self.n}, m={panel})",
                field="verification",
            )

    @classmethod
    def all_of(cls, *units: str) -> Verification:
        """会签: every listed unit must pass the task; one fail sends it back."""
        return cls(VerificationMode.ALL_OF, units)

    @classmethod
    def any_of(cls, *units: str) -> Verification:
        """或签: one listed unit's pass is enough; back only when every listed unit failed it."""
        return cls(VerificationMode.ANY_OF, units)

    @classmethod
    def n_of_m(cls, n: int, *, units: Iterable[str] = (), m: int = 0) -> Verification:
        """n passes of m verifiers (the listed ``units``, or any ``m`` independent inspectors)."""
        return cls(VerificationMode.N_OF_M, tuple(units), n, m)

    @property
    def panel(self) -> int:
        """m: how many verdicts can be cast in one round."""
        return len(self.units) if self.units else self.m

    @property
    def needed(self) -> int:
        """How many passes make the task verified."""
        if self.mode is VerificationMode.ALL_OF:
            return len(self.units)
        if self.mode is VerificationMode.ANY_OF:
            return 1
        return self.n

    def outcome(self, passes: int, fails: int) -> str | None:
        """``"pass"`` when satisfied, ``"fail"`` when it can no longer be, else None (keep voting)."""
        if passes >= self.needed:
            return "pass"
        if fails > self.panel - self.needed:
            return "fail"
        return None

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "units": list(self.units), "n": self.n, "m": self.m}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verification:
        return cls(data["mode"], tuple(data.get("units", ())), data.get("n", 0), data.get("m", 0))


@attrs.frozen(kw_only=True)
class Verdict:
    """One inspector's verdict on a task in one round (a round ends when the task is sent back)."""

    inspector: str
    unit: str
    passed: bool
    round: int
    at: datetime
    reason: str = ""
    inspection: Inspection | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "inspector": self.inspector,
            "unit": self.unit,
            "verdict": "pass" if self.passed else "fail",
            "round": self.round,
            "at": dt_to_json(self.at),
            "reason": self.reason,
            "inspection": inspection_to_json(self.inspection) if self.inspection else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        record = data.get("inspection")
        return cls(
            inspector=data["inspector"],
            unit=data["unit"],
            passed=data["verdict"] == "pass",
            round=data["round"],
            at=dt_from_json(data["at"]),
            reason=data.get("reason", ""),
            inspection=inspection_from_json(record) if record else None,
        )


@attrs.frozen(kw_only=True)
class JointWork:
    """A task's joint arrangement: its support units, whether each must supply its part of the
    evidence before the self-check, and the verification it requires (None: one verifier)."""

    support_units: tuple[str, ...] = ()
    require_parts: bool = True
    verification: Verification | None = None

    @property
    def is_joint(self) -> bool:
        return bool(self.support_units) or self.verification is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "support_units": list(self.support_units),
            "require_parts": self.require_parts,
            "verification": self.verification.to_json() if self.verification else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JointWork:
        found = data.get("verification")
        return cls(
            support_units=tuple(data.get("support_units", ())),
            require_parts=bool(data.get("require_parts", True)),
            verification=Verification.from_json(found) if found else None,
        )


@attrs.frozen(kw_only=True)
class JointContext:
    """What the joint rules see of one action (in :attr:`ActionContext.joint`)."""

    work: JointWork
    lead: str  # the lead unit (at reassign: the unit the task moves to)
    registered: frozenset[str] = frozenset()  # which of the named support/verifier units exist
    verdicts: tuple[Verdict, ...] = ()  # this round's verdicts so far
    verdict: Verdict | None = None  # the verdict being cast (record_verdict and its outcomes)

    @property
    def parties(self) -> frozenset[str]:
        """The lead and the support units: no verifier may come from them."""
        return frozenset((self.lead, *self.work.support_units))


# code -> (rule label, Chinese message, English message)
JOINT_CATALOGUE: dict[str, tuple[str, str, str]] = {
    "support_unit_unknown": (
        "牵头配合",
        "配合单位必须是已登记的单位",
        "every support unit must be a registered unit",
    ),
    "support_unit_is_lead": (
        "牵头配合",
        "配合单位不能是牵头（责任）单位本身",
        "a support unit cannot be the lead (responsible) unit",
    ),
    "verifier_unit_unknown": (
        "会签或签",
        "验收单位必须是已登记的单位",
        "every verifier unit must be a registered unit",
    ),
    "verifier_unit_is_party": (
        "会签或签",
        "验收单位不能是牵头单位或配合单位（检查与整改分离）",
        "a verifier unit cannot be the lead or a support unit (separation of duties)",
    ),
    "support_parts_missing": (
        "配合佐证",
        "每个配合单位都须先提交本单位的佐证材料，牵头单位才能提交自查",
        "every support unit must supply its part of the evidence before the self-check",
    ),
    "evidence_part_empty": ("配合佐证", "至少要有一项佐证材料", "at least one evidence item is required"),
    "evidence_part_time": (
        "配合佐证",
        "佐证材料的形成时间不能晚于当前时间",
        "evidence cannot be dated after now",
    ),
    "verdict_required": (
        "会签或签",
        "此任务须多方验收：请逐一登记验收意见（record_verdict）",
        "this task needs several verifiers: record each verdict with record_verdict",
    ),
    "verdict_not_listed": (
        "会签或签",
        "该单位不在此任务的验收单位之列",
        "this unit is not one of the task's verifier units",
    ),
    "verdict_twice": (
        "会签或签",
        "同一检查人或同一单位在本轮已登记过验收意见",
        "this inspector or unit has already given a verdict in this round",
    ),
    "verdict_independent": (
        "会签或签",
        "检查记录不能出自牵头单位或配合单位（检查与整改分离）",
        "the inspection cannot come from the lead or a support unit (separation of duties)",
    ),
    "verdict_inspection": (
        "会签或签",
        "通过意见须附检查记录，写明检查人及其已登记的所属单位，且时间不晚于当前",
        "a pass verdict needs an inspection record naming the inspector and their registered "
        "unit, dated no later than now",
    ),
    "verdict_reason": ("会签或签", "不通过意见必须说明理由", "a fail verdict needs a reason"),
}

JOINT_TRIGGERS = frozenset(
    {"assign", "reassign", "submit_self_check", "add_evidence", "record_verdict"}
    | {"pass_verification", "fail_verification"}
)
"""The triggers whose action needs the task's joint arrangement."""


def _missing(code: str, field: str, detail: Iterable[str] = ()) -> Missing:
    rule, zh, en = JOINT_CATALOGUE[code]
    shown = sorted(detail)
    if shown:
        zh, en = f"{zh}：{'、'.join(shown)}", f"{en}: {', '.join(shown)}"
    return Missing(code=code, rule=rule, message_zh=zh, message_en=en, field=field)


def _joint_units(ctx: ActionContext) -> Iterable[Missing]:
    joint = ctx.joint
    if joint is None:
        return
    support = joint.work.support_units
    unknown = [u for u in support if u not in joint.registered]
    if unknown:
        yield _missing("support_unit_unknown", "support_units", unknown)
    if joint.lead in support:
        yield _missing("support_unit_is_lead", "support_units", [joint.lead])
    verification = joint.work.verification
    if verification is None:
        return
    unknown = [u for u in verification.units if u not in joint.registered]
    if unknown:
        yield _missing("verifier_unit_unknown", "verification", unknown)
    parties = [u for u in verification.units if u in joint.parties]
    if parties:
        yield _missing("verifier_unit_is_party", "verification", parties)


def _support_parts(ctx: ActionContext) -> Iterable[Missing]:
    joint, task = ctx.joint, ctx.task
    if joint is None or task is None or not joint.work.require_parts:
        return
    supplied = {item.unit for item in (*task.evidence, *ctx.evidence)}
    lacking = [u for u in joint.work.support_units if u not in supplied]
    if lacking:
        yield _missing("support_parts_missing", "evidence", lacking)


def _evidence_part(ctx: ActionContext) -> Iterable[Missing]:
    if not ctx.evidence:
        yield _missing("evidence_part_empty", "evidence")
    elif any(item.taken_at > ctx.now for item in ctx.evidence):
        yield _missing("evidence_part_time", "evidence")


def _verdict(ctx: ActionContext) -> Iterable[Missing]:
    joint = ctx.joint
    if joint is None:
        return
    verdict, verification = joint.verdict, joint.work.verification
    record = ctx.inspection
    if record is not None and record.inspector_unit.strip() in joint.work.support_units:
        yield _missing("verdict_independent", "inspection", [record.inspector_unit.strip()])
    if verdict is None:
        if verification is not None:
            yield _missing("verdict_required", "")
        return
    if verification is not None and verification.units and verdict.unit not in verification.units:
        yield _missing("verdict_not_listed", "by", [verdict.unit])
    if any(v.inspector == verdict.inspector or v.unit == verdict.unit for v in joint.verdicts):
        yield _missing("verdict_twice", "by")
    if ctx.trigger != "record_verdict":
        return  # the completing verdict: 有检查 (pass) and 说明理由 (fail) judge its record
    if verdict.passed:
        if (
            record is None
            or not record.inspector.strip()
            or ctx.inspection_unit is None
            or record.inspected_at > ctx.now
        ):
            yield _missing("verdict_inspection", "inspection")
    elif not (ctx.reason or "").strip():
        yield _missing("verdict_reason", "reason")


def _rule(name: str, triggers: set[str], check: Any, *codes: str) -> Rule:
    return Rule(name, frozenset(triggers), check, frozenset(codes))


JOINT_RULES: tuple[Rule, ...] = (
    _rule(
        "牵头配合",
        {"assign", "reassign"},
        _joint_units,
        "support_unit_unknown",
        "support_unit_is_lead",
        "verifier_unit_unknown",
        "verifier_unit_is_party",
    ),
    _rule("配合佐证（自查）", {"submit_self_check"}, _support_parts, "support_parts_missing"),
    _rule("配合佐证", {"add_evidence"}, _evidence_part, "evidence_part_empty", "evidence_part_time"),
    _rule(
        "会签或签",
        {"record_verdict", "pass_verification", "fail_verification"},
        _verdict,
        "verdict_required",
        "verdict_not_listed",
        "verdict_twice",
        "verdict_independent",
        "verdict_inspection",
        "verdict_reason",
    ),
)


def joint_rules(triggers: Iterable[str]) -> tuple[Rule, ...]:
    """The joint rules limited to the triggers a lifecycle has (a host lifecycle without
    ``add_evidence`` or ``record_verdict`` keeps the rest)."""
    known = frozenset(triggers)
    kept: list[Rule] = []
    for rule in JOINT_RULES:
        present = rule.triggers & known
        if present:
            kept.append(attrs.evolve(rule, triggers=present))
    return tuple(kept)
