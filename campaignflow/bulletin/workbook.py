"""The bulletin as an Excel workbook: the ranking, the 红榜/黑榜, the overdue items and the task
states per unit, one sheet each, in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Font

from campaignflow.bulletin.model import STATE_ORDER, Bulletin

__all__ = ["write_workbook"]


def _sheet(book: Any, title: str, heading: str, headers: list[str], rows: list[list[object]]) -> None:
    sheet = book.create_sheet(title)
    sheet.cell(1, 1, heading).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
    for column, header in enumerate(headers, start=1):
        sheet.cell(2, column, header).font = Font(bold=True)
        sheet.column_dimensions[openpyxl.utils.get_column_letter(column)].width = 16
    for offset, values in enumerate(rows, start=3):
        for column, value in enumerate(values, start=1):
            cell: Any = sheet.cell(offset, column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text, never a formula


def write_workbook(bulletin: Bulletin, path: str | Path) -> Path:
    """Write the bulletin to ``path`` (.xlsx)."""
    book = openpyxl.Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    _sheet(
        book,
        "考核排名",
        bulletin.title,
        ["名次", "责任单位", "得分", "应办结任务", "按期完成率", "超期率", "返工率", "红黑榜"],
        [
            [
                line.rank,
                line.unit_name,
                float(line.points),
                line.due,
                line.on_time.percent(),
                line.overdue.percent(),
                line.rework.percent(),
                "红榜" if line.red else "黑榜" if line.black else "",
            ]
            for line in bulletin.lines
        ],
    )
    _sheet(
        book,
        "红黑榜",
        f"{bulletin.title}　红黑榜",
        ["榜单", "名次", "责任单位", "得分"],
        [["红榜", x.rank, x.unit_name, float(x.points)] for x in bulletin.red]
        + [["黑榜", x.rank, x.unit_name, float(x.points)] for x in bulletin.black],
    )
    _sheet(
        book,
        "超期任务",
        f"{bulletin.title}　超期任务",
        ["序号", "责任单位", "指标", "任务", "完成时限", "超期天数"],
        [
            [n, x.unit_name, x.indicator, x.title, x.deadline, x.days_overdue]
            for n, x in enumerate(bulletin.overdue, start=1)
        ],
    )
    used = [s for s in STATE_ORDER if any(s in counts for counts in bulletin.states.values())]
    _sheet(
        book,
        "任务状态",
        f"{bulletin.title}　各单位任务状态",
        ["责任单位", *(bulletin.state_label(s) for s in used), "合计"],
        [
            [unit, *(counts.get(s, 0) for s in used), sum(counts.values())]
            for unit, counts in bulletin.states.items()
        ],
    )
    file = Path(path)
    book.properties.creator = "campaignflow"
    book.properties.created = book.properties.modified = bulletin.issued_at.replace(tzinfo=None)
    book.save(file)
    return file
