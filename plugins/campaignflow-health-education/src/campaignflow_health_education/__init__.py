"""健康教育 (health education) rules for campaignflow: the publicity board (宣传栏).

The seed inspection report puts it plainly: "宣传栏面积不够，宣传内容无档可查……面积多数达不到3平方米
要求。宣传栏内容基本能做到两月更换一次，但大都没有标明日期，没有留底稿，考核无档可查。" So a task of
kind ``health_education.board``:

* at 交办 states the board's area, ``area_m2`` (a number, schema code ``task_attributes``), and the
  area is at least 3 m² (code ``health_board_area``);
* at 提交自查 carries the kept draft (留底稿) of the content on the board: evidence of kind
  ``health_education.draft`` whose ``content_date`` (the date marked on the content) is a date
  (schema code ``evidence_attributes``), not after today and at most two calendar months old, since
  the content is changed every two months (code ``health_board_draft``).

Register it explicitly with ``Engine(..., plugins=[campaignflow_health_education.plugin])`` or let
the ``campaignflow`` entry point load it (name ``health-education``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from dateutil.relativedelta import relativedelta

from campaignflow import ActionContext, AttributeField, KindSchema, Missing, Rule, hookimpl

__all__ = ["BOARD", "CODES", "DRAFT", "MIN_AREA_M2", "HealthEducation", "plugin"]

BOARD = "health_education.board"
"""Task kind: a health-education publicity board (宣传栏)."""
DRAFT = "health_education.draft"
"""Evidence kind: the kept draft (留底稿) of the board's content, with the date marked on it."""
MIN_AREA_M2 = 3.0
"""A board must be at least this large (square metres)."""
CONTENT_MONTHS = 2
"""The content is changed every two months: a draft older than that is not the current content."""

CODES: dict[str, tuple[str, str]] = {
    "health_board_area": ("宣传栏面积", "publicity board area"),
    "health_board_draft": ("宣传内容留底稿", "kept draft of the content"),
}
"""The rule codes this plugin reports (besides the schema codes), with the rule's zh/en names."""


def _missing(code: str, zh: str, en: str, field: str) -> Missing:
    return Missing(code=code, rule=CODES[code][0], message_zh=zh, message_en=en, field=field)


def board_area(ctx: ActionContext) -> Iterator[Missing]:
    """宣传栏面积不少于 3 平方米 (a missing or non-numeric area is the schema's to report)."""
    area = ctx.attributes.get("area_m2")
    if isinstance(area, (int, float)) and not isinstance(area, bool) and area < MIN_AREA_M2:
        yield _missing(
            "health_board_area",
            f"宣传栏面积 {area:g} 平方米，达不到 {MIN_AREA_M2:g} 平方米的要求",
            f"the publicity board is {area:g} m², less than the required {MIN_AREA_M2:g} m²",
            "attributes.area_m2",
        )


def board_draft(ctx: ActionContext) -> Iterator[Missing]:
    """The kept draft of the content, dated, the date not in the future nor over two months old."""
    drafts = [(number, item) for number, item in enumerate(ctx.evidence) if item.kind == DRAFT]
    if not drafts:
        yield _missing(
            "health_board_draft",
            f"宣传栏须附宣传内容的留底稿（{DRAFT}，注明内容日期 content_date）",
            f"a publicity board needs the kept draft of its content ({DRAFT} with content_date)",
            "evidence",
        )
        return
    today = ctx.local_date(ctx.now)
    oldest = today - relativedelta(months=CONTENT_MONTHS)
    for number, item in drafts:
        try:
            dated = date.fromisoformat(item.attributes["content_date"])
        except (KeyError, TypeError, ValueError):
            continue  # not a date: the schema reports it (evidence_attributes)
        field = f"evidence[{number}].attributes.content_date"
        if dated > today:
            yield _missing(
                "health_board_draft",
                f"留底稿注明的内容日期 {dated} 晚于今天",
                f"the draft's content is dated {dated}, after today",
                field,
            )
        elif dated < oldest:
            yield _missing(
                "health_board_draft",
                f"留底稿注明的内容日期 {dated} 已超过两个月，宣传内容应当更换",
                f"the draft's content is dated {dated}, more than two months ago: change the content",
                field,
            )


class HealthEducation:
    """The 健康教育 plugin: the publicity board task kind, the draft evidence kind, two rules."""

    name = "health-education"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        return [
            Rule("健康教育·宣传栏面积", {"assign"}, board_area, {"health_board_area"}, kinds={BOARD}),
            Rule(
                "健康教育·宣传内容留底稿",
                {"submit_self_check"},
                board_draft,
                {"health_board_draft"},
                kinds={BOARD},
            ),
        ]

    @hookimpl
    def campaignflow_task_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(
                kind=BOARD,
                label_zh="宣传栏",
                fields=[AttributeField(name="area_m2", type="number", label_zh="宣传栏面积（平方米）")],
            )
        ]

    @hookimpl
    def campaignflow_evidence_kinds(self) -> list[KindSchema]:
        return [
            KindSchema(
                kind=DRAFT,
                label_zh="宣传内容留底稿",
                fields=[AttributeField(name="content_date", type="date", label_zh="内容日期")],
            )
        ]


plugin = HealthEducation()
"""The instance the ``campaignflow`` entry point names."""
