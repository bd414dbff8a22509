"""Ledgers as offices keep them, built for the tests: merged title rows, a header with line breaks
and asterisks, 序号 as ``=ROW()-3`` formulas whose cached values Excel saved, dates as date cells,
as serial numbers and as a ``=DATE()`` formula, a blank row, and a 责任单位 sheet."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl

HEADERS = [
    "序号",
    "任务\n编号",
    "指标编号",
    "*任务名称",
    "具体标准",
    "主要措施",
    "责任单位",
    "责任领导",
    "完成\n时限",
    "任务来源",
    "点位",
    "网格",
    "状态",
]

# 责任单位 sheet rows: id, name, leader, liaison, parent
UNITS = [
    ["cwb", "市创卫办", "王建国", "周敏", None],
    ["cgj", "市城管局", "张三", "刘洋", None],
    ["wsj", "市卫生局", "李四", "陈静", None],
    ["sq-ft", "芳草堤社区", "钱六", "吴芳", "jd-cg"],  # child listed before its parent
    ["jd-cg", "城关街道办事处", "赵五", "孙丽", None],
]


def serial(day: date) -> int:
    """Excel's 1900-system serial number of ``day``."""
    return (day - date(1899, 12, 30)).days


def good_rows() -> list[list[object]]:
    return [
        [
            "T-001",
            "B3.2",
            "背街小巷卫生死角整治",
            "无积存垃圾、无卫生死角",
            "每日巡查；发现即清",
            "市城管局",
            "张三",
            datetime(2026, 11, 20),
            "督查发现",
            "解放路",
            "JF-03",
            "已交办",
        ],
        [
            "T-002",
            "B1.1",
            "农贸市场病媒生物防制",
            "鼠迹、蝇类密度达标",
            "布放毒饵站\n每周检查",
            "wsj",
            None,
            serial(date(2026, 11, 25)),
            "媒体曝光",
            None,
            None,
            None,
        ],
        [
            "T-003",
            "C2",
            "健康教育宣传栏更新",
            "宣传栏每两月更新一次",
            "更新内容；留存底稿",
            "城关街道办事处",
            "赵五",
            "2026年12月1日",
            None,
            None,
            None,
            None,
        ],
        [
            "T-004",
            "B3.2",
            "小区楼道堆物清理",
            "楼道无堆物",
            "逐户告知；集中清运",
            "芳草堤社区",
            "钱六",
            "=DATE(2026,11,30)",
            "群众投诉",
            "芳草堤3号楼",
            "FC-01",
            None,
        ],
    ]


def rewrite_sheet_xml(path: Path, edit: Callable[[str], str], sheet: int = 1) -> Path:
    """Rewrite the XML of worksheet ``sheet`` of the workbook at ``path`` through ``edit``: what
    Excel writes and openpyxl cannot (cached formula results, odd cells)."""
    member = f"xl/worksheets/sheet{sheet}.xml"
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[member] = edit(parts[member].decode("utf-8")).encode("utf-8")
    temporary = path.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    shutil.move(temporary, path)
    return path


def patch_cached(path: Path, cached: dict[str, object], sheet: int = 1) -> None:
    """Write Excel's cached results into formula cells (openpyxl saves formulas without them)."""

    def edit(xml: str) -> str:
        for ref, value in cached.items():
            xml, count = re.subn(
                rf'(<c r="{ref}"[^>]*>)<f>(.*?)</f>(?:<v\s*/>|<v></v>)?(?=</c>)',
                rf"\1<f>\2</f><v>{value}</v>",
                xml,
            )
            assert count == 1, ref
        return xml

    rewrite_sheet_xml(path, edit, sheet)


def write_ledger(  # noqa: PLR0912  one branch per kind of defect a test asks for
    path: Path,
    rows: list[list[object]] | None = None,
    *,
    headers: list[str] | None = None,
    units: list[list[object]] | None = None,
    blank_after: int | None = 2,
    cache: bool = True,
    merge: str | None = None,
    serials: dict[int, object] | None = None,
    indicators: list[list[object]] | None = None,
) -> Path:
    """A realistic task ledger at ``path``; ``rows`` without the 序号 column (added as formulas)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "任务台账"
    columns = headers or HEADERS
    sheet["A1"] = "城关区2026年创建国家卫生城市任务台账"
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet["A2"] = "填报单位：市创卫办　　　　填报日期：2026年11月2日"
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    for column, header in enumerate(columns, start=1):
        sheet.cell(3, column, header)
    cached: dict[str, object] = {}
    excel_row = 4
    for index, values in enumerate(rows if rows is not None else good_rows()):
        if serials and index in serials:
            sheet.cell(excel_row, 1, serials[index])  # typed in by hand instead of the formula
        else:
            shift = 1 if blank_after is not None and index >= blank_after else 0
            sheet.cell(excel_row, 1, f"=ROW()-{3 + shift}")
            cached[f"A{excel_row}"] = index + 1
        for column, value in enumerate(values, start=2):
            cell = sheet.cell(excel_row, column, value)
            if isinstance(value, str) and value.startswith("=DATE("):
                year, month, day = (int(x) for x in value[6:-1].split(","))
                cached[cell.coordinate] = serial(date(year, month, day))
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd"
        excel_row += 1
        if blank_after is not None and index + 1 == blank_after:
            excel_row += 1  # a blank row, as offices leave between sections
    if merge:
        sheet.merge_cells(merge)
    if units is not None:
        unit_sheet = book.create_sheet("责任单位")
        unit_sheet["A1"] = "责任单位名录"
        unit_sheet.merge_cells("A1:E1")
        for column, header in enumerate(["单位编码", "单位名称", "责任领导", "联络员", "上级单位"], start=1):
            unit_sheet.cell(2, column, header)
        for offset, values in enumerate(units, start=3):
            for column, value in enumerate(values, start=1):
                unit_sheet.cell(offset, column, value)
    if indicators is not None:
        indicator_sheet = book.create_sheet("测评指标")
        for column, header in enumerate(["编码", "名称", "具体标准", "权重", "牵头单位"], start=1):
            indicator_sheet.cell(1, column, header)
        for offset, values in enumerate(indicators, start=2):
            for column, value in enumerate(values, start=1):
                indicator_sheet.cell(offset, column, value)
    book.save(path)
    if cache:
        patch_cached(path, cached)
    return path


# 测评指标 sheet rows: code, name, standard, weight, lead unit (the tree of good_rows' indicators)
INDICATORS = [
    ["B1", "病媒生物防制", None, 10, "wsj"],
    ["B1.1", "农贸市场病媒防制", "鼠迹、蝇类密度达标", 4, "wsj"],
    ["B3", "市容环境卫生", None, 20, "cgj"],
    ["B3.2", "背街小巷", "无积存垃圾、无卫生死角", "5", "cgj"],
    ["C2", "健康教育", "宣传栏每两月更新一次", 6, None],
]
