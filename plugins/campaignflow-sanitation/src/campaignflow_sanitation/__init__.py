"""环卫/城管 (sanitation and city management) rules for campaignflow.

Two kinds of task, from what campaign reports count and inspectors check:

``sanitation.blind_spot`` — 卫生死角 ("清理……卫生死角10处，做到及时发现、及时清理"). The self-check
must show the spot before and after: at least one ``photo`` evidence item with the attribute
``stage="before"`` (整改前) and one with ``stage="after"`` (整改后), and the before photo may not be
taken later than the after photo. Code ``sanitation_photos``.

``sanitation.bait_station`` — 毒饵站 ("安装……毒饵站20个"; "毒饵站内药物摆放一个月两次更换"). The task
must state how many stations (``station_count``, a whole number ≥ 1, checked at 交办 by the attribute
schema, code ``task_attributes``); the self-check must include a refill record, evidence of kind
``sanitation.refill_record`` whose ``refilled_on`` is a date (schema, code ``evidence_attributes``)
on or before the day of the self-check and not before the task was assigned (code
``sanitation_refill``).

Photos stay an ordinary evidence kind: this plugin declares no schema for ``photo`` (that would bind
every other department's photos too); it only looks at the ``stage`` of the photos of its own tasks.

Register it explicitly with ``Engine(..., plugins=[campaignflow_sanitation.plugin])`` or let the
``campaignflow`` entry point load it (name ``sanitation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from campaignflow import ActionContext, AttributeField, Evidence, KindSchema, Missing, Rule, hookimpl

__all__ = [
    "BAIT_STATION",
    "BLIND_SPOT",
    "CODES",
    "REFILL_RECORD",
    "Sanitation",
    "plugin",
]

BLIND_SPOT = "sanitation.blind_spot"
"""Task kind: a 卫生死角 to clean up and keep clean."""
BAIT_STATION = "sanitation.bait_station"
"""Task kind: 毒饵站 to set up and keep stocked (除四害)."""
REFILL_RECORD = "sanitation.refill_record"
"""Evidence kind: a dated record of refilling the bait stations (投药记录)."""

CODES: dict[str, tuple[str, str]] = {
    "sanitation_photos": ("整改前后照片", "before-and-after photos"),
    "sanitation_refill": ("投药记录", "refill record"),
}
"""The rule codes this plugin reports (besides the schema codes), with the rule's zh/en names."""

STAGES = {"before": "整改前", "after": "整改后"}


def _missing(code: str, zh: str, en: str, field: str = "evidence") -> Missing:
    return Missing(code=code, rule=CODES[code][0], message_zh=zh, message_en=en, field=field)


def _photos(evidence: Iterable[Evidence], stage: str) -> list[Evidence]:
    return [item for item in evidence if item.kind == "photo" and item.attributes.get("stage") == stage]


def blind_spot_photos(ctx: ActionContext) -> Iterator[Missing]:
    """卫生死角: photos from before and after the clean-up, the before one taken first."""
    found = {stage: _photos(ctx.evidence, stage) for stage in STAGES}
    for stage, label in STAGES.items():
        if not found[stage]:
            yield _missing(
                "sanitation_photos",
                f"卫生死角须附{label}照片（photo，stage={stage}）",
                f"a blind-spot task needs a photo taken {stage} the clean-up (photo, stage={stage})",
            )
    if found["before"] and found["after"]:
        first_before = min(item.taken_at for item in found["before"])
        last_after = max(item.taken_at for item in found["after"])
        if first_before > last_after:
            yield _missing(
                "sanitation_photos",
                "整改前照片的拍摄时间晚于整改后照片",
                "the before photo was taken later than the after photo",
            )


def bait_station_refill(ctx: ActionContext) -> Iterator[Missing]:
    """毒饵站: a refill record dated between the assignment and today."""
    records = [item for item in ctx.evidence if item.kind == REFILL_RECORD]
    if not records:
        yield _missing(
            "sanitation_refill",
            f"毒饵站须附投药记录（{REFILL_RECORD}，注明投药日期 refilled_on）",
            f"a bait-station task needs a refill record ({REFILL_RECORD} with refilled_on)",
        )
        return
    today = ctx.local_date(ctx.now)
    assigned = ctx.local_date(ctx.task.created_at) if ctx.task is not None else None
    for number, item in enumerate(ctx.evidence, start=1):
        if item.kind != REFILL_RECORD:
            continue
        try:
            refilled = date.fromisoformat(item.attributes["refilled_on"])
        except (KeyError, TypeError, ValueError):
            continue  # not a date: the schema reports it (evidence_attributes)
        field = f"evidence[{number - 1}].attributes.refilled_on"
        if refilled > today:
            yield _missing(
                "sanitation_refill",
                f"投药记录的投药日期 {refilled} 晚于今天",
                f"the refill record is dated {refilled}, after today",
                field,
            )
        elif assigned is not None and refilled < assigned:
            yield _missing(
                "sanitation_refill",
                f"投药记录的投药日期 {refilled} 早于任务交办日 {assigned}，不能证明本次整改",
                f"the refill record is dated {refilled}, before the task was assigned on {assigned}",
                field,
            )


class Sanitation:
    """The 环卫/城管 plugin: two task kinds, one evidence kind, two rules."""

    name = "sanitation"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        return [
            Rule(
                "环卫·卫生死角整改前后照片",
                {"submit_self_check"},
                blind_spot_photos,
                {"sanitation_photos"},
                kinds={BLIND_SPOT},
            ),
            Rule(
                "环卫·毒饵站投药记录",
                {"submit_self_check"},
                bait_station_refill,
                {"sanitation_refill"},
                kinds={BAIT_STATION},
            ),
        ]

    @hookimpl
    def campaignflow_task_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(kind=BLIND_SPOT, label_zh="卫生死角", fields=()),
            KindSchema(
                kind=BAIT_STATION,
                label_zh="毒饵站",
                fields=[AttributeField(name="station_count", type="int", minimum=1, label_zh="毒饵站数量")],
            ),
        ]

    @hookimpl
    def campaignflow_evidence_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(
                kind=REFILL_RECORD,
                label_zh="投药记录",
                fields=[AttributeField(name="refilled_on", type="date", label_zh="投药日期")],
            )
        ]


plugin = Sanitation()
"""The instance the ``campaignflow`` entry point names."""
