"""Exporting the current ledger in the layout it is imported from: a merged title row, the export
time, the header row, one task per row; a ``责任单位`` sheet lists the units. Text cells are written
as text, never as formulas; a CSV cell that Excel would take for a formula gets a leading ``'``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from campaignflow.domain.model import Task, Unit
from campaignflow.engine import Engine
from campaignflow.errors import InvalidInput
from campaignflow.ledger.importing import Progress
from campaignflow.ledger.layout import TASK_COLUMNS, UNIT_COLUMNS, UNIT_SHEET

__all__ = ["export_ledger", "ledger_rows"]

_WIDTHS = {"序号": 6, "任务名称": 30, "具体标准": 30, "主要措施": 30, "责任单位": 16, "完成时限": 12}


def _tasks(engine: Engine, campaign: str) -> Iterator[Task]:
    after: str | None = None
    while True:
        page = engine.tasks(campaign=campaign, after=after, limit=1000)
        yield from page.items
        if page.next_cursor is None:
            return
        after = page.next_cursor


def _due_date(engine: Engine, task: Task) -> date:
    """The day a deadline is written as: the day it ends on (a date's deadline is the next midnight)."""
    return (task.deadline - timedelta(microseconds=1)).astimezone(engine.timezone).date()


def ledger_rows(engine: Engine, campaign: str, progress: Progress | None = None) -> list[list[object]]:
    """The campaign's tasks (creation order) as ledger rows, in :data:`TASK_COLUMNS` order."""
    names = {u.id: u.name for u in engine.units()}
    rows: list[list[object]] = []
    tasks = list(_tasks(engine, campaign))
    for number, task in enumerate(tasks, start=1):
        rows.append(
            [
                number,
                task.external_ref or task.id,
                task.indicator,
                task.title,
                task.standard,
                "；".join(task.measures),
                names.get(task.unit, task.unit),
                task.leader,
                _due_date(engine, task),
                task.source.label_zh,
                task.site,
                task.grid,
                task.state.label_zh,
            ]
        )
        if progress is not None:
            progress(number, len(tasks))
    return rows


def _unit_rows(units: list[Unit]) -> list[list[object]]:
    return [[u.id, u.name, u.leader, u.liaison, u.parent] for u in units]


def _title(sheet: Worksheet, text: str, row: int, width: int) -> None:
    sheet.cell(row, 1, text).font = Font(bold=row == 1, size=16 if row == 1 else 11)
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet.cell(row, 1).alignment = Alignment(horizontal="center" if row == 1 else "left")


def _fill(sheet: Worksheet, first: int, headers: list[str], rows: list[list[object]]) -> None:
    for column, header in enumerate(headers, start=1):
        sheet.cell(first, column, header).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = _WIDTHS.get(header, 14)
    for offset, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            cell: Any = sheet.cell(first + offset, column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: "=…" is never written as a formula
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_ledger(
    engine: Engine,
    path: str | Path,
    *,
    campaign: str,
    progress: Progress | None = None,
) -> int:
    """Write ``campaign``'s ledger to ``path`` (``.xlsx``: task and unit sheets; ``.csv``: the task
    sheet, UTF-8 with BOM so Excel opens it as Chinese). Returns the number of tasks written."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInput("只能导出 .xlsx 或 .csv", "the ledger is written as .xlsx or .csv", field="path")
    rows = ledger_rows(engine, campaign, progress)
    headers = [c.header for c in TASK_COLUMNS]
    title = f"{campaign} 任务台账"
    stamp = f"导出时间：{engine.clock.now().astimezone(engine.timezone):%Y-%m-%d %H:%M}"
    if suffix == ".csv":
        with file.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([title])
            writer.writerow([stamp])
            writer.writerow(headers)
            writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        return len(rows)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "任务台账"
    _title(sheet, title, 1, len(headers))
    _title(sheet, stamp, 2, len(headers))
    _fill(sheet, 3, headers, rows)
    sheet.freeze_panes = "A4"
    units = book.create_sheet(UNIT_SHEET)
    unit_headers = [c.header for c in UNIT_COLUMNS]
    _title(units, "责任单位名录", 1, len(unit_headers))
    _fill(units, 2, unit_headers, _unit_rows(engine.units()))
    book.properties.creator = "campaignflow"
    book.properties.created = book.properties.modified = engine.clock.now().replace(tzinfo=None)
    book.save(file)
    return len(rows)
