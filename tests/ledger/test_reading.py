"""Reading ``.xlsx`` ledgers: python-calamine gives every sheet the cells, merged ranges and
formula cells openpyxl gave (the reader before it), and a sheet the quick XML scan cannot account
for is read by openpyxl."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, time
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Border, Side

from campaignflow import Engine, LedgerError, import_ledger
from campaignflow.ledger import reading
from campaignflow.testing import actors

from .workbooks import INDICATORS, UNITS, good_rows, rewrite_sheet_xml, write_ledger

OFFICE = actors()["office"]


def _patch(path: Path, cells: dict[str, str], sheet: int = 1) -> Path:
    """Replace the XML of some cells (by reference) of ``sheet``: what openpyxl cannot write."""

    def edit(xml: str) -> str:
        for ref, replacement in cells.items():
            xml, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', replacement, xml, flags=re.DOTALL)
            assert count == 1, ref
        return xml

    return rewrite_sheet_xml(path, edit, sheet)


def _odd_workbook(path: Path) -> Path:
    """Every kind of cell a ledger may hold, and what Excel writes that openpyxl does not."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "任务台账"
    sheet.append(["序号", "任务名称", "完成时限", "数", "真假", "时刻", "错误"])
    sheet.append(["x", "甲", datetime(2026, 11, 20), 7, True, time(12, 30), "x"])
    sheet.append(["x", "乙", datetime(2026, 11, 20, 9, 15), 2.5, False, None, "x"])
    sheet.append(["x", "  丙  ", 46346, 10**12, None, None, "x"])
    sheet["C2"].number_format = sheet["C3"].number_format = "yyyy-mm-dd"
    sheet["F2"].number_format = "hh:mm"
    for row in range(5, 12):  # formatted rows below the data, as offices leave them
        sheet.cell(row, 2).border = Border(left=Side(style="thin"))
    sheet.merge_cells("D3:E3")
    book.save(path)
    return _patch(
        path,
        {
            "A2": '<c r="A2"><f t="shared" ref="A2:A4" si="0">ROW()-1</f><v>1</v></c>',
            "A3": '<c r="A3"><f t="shared" si="0"/><v>2</v></c>',
            "A4": '<c r="A4"><f t="shared" si="0"/></c>',  # no cached value
            "G2": '<c r="G2" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
            "G3": '<c r="G3" t="e"><v>#N/A</v></c>',
            "G4": '<c r="G4" t="str"><f>""</f><v></v></c>',
        },
    )


@pytest.mark.parametrize("kind", ["office ledger", "uncached and merged", "odd cells"])
def test_calamine_reads_every_sheet_as_openpyxl_did(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "台账.xlsx"
    if kind == "office ledger":
        write_ledger(path, units=UNITS, indicators=INDICATORS, serials={1: 2.5})
    elif kind == "uncached and merged":
        write_ledger(path, cache=False, merge="D4:D5")
    else:
        _odd_workbook(path)
    sheets = [s for s in reading.read_file(path) if s is not None]
    assert [s.name for s in sheets] == openpyxl.load_workbook(path).sheetnames
    for sheet in sheets:
        assert sheet == reading._openpyxl_sheet(path, sheet.name)  # rows, merges, formula cells
    if kind == "odd cells":
        (odd,) = sheets
        assert odd.rows[1][2:7] == (datetime(2026, 11, 20), 7, True, time(12, 30), "#DIV/0!")
        assert isinstance(odd.rows[1][3], int)
        assert (odd.rows[2][6], odd.rows[3][6], len(odd.rows)) == ("#N/A", None, 11)
        assert (odd.formulas, odd.uncached) == ({(2, 1), (3, 1), (4, 1), (2, 7), (4, 7)}, {(4, 1), (4, 7)})


def test_a_sheet_the_scan_cannot_place_is_read_by_openpyxl(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = good_rows()
    rows[0][2] = '=HYPERLINK("http://evil.example","点我")'
    path = write_ledger(tmp_path / "台账.xlsx", rows)
    _patch(path, {"A5": "<c><f>ROW()-3</f><v>2</v></c>"})  # no cell reference: Excel may omit it
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert reading._scan(xml) is None
    called: list[str] = []
    original = reading._openpyxl_sheet

    def spy(file: Path, name: str) -> reading.RawSheet:
        called.append(name)
        return original(file, name)

    monkeypatch.setattr(reading, "_openpyxl_sheet", spy)
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    assert called == ["任务台账"]
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "任务名称")]
    assert "公式注入" in caught.value.problems[0].message_zh


def test_a_workbook_with_prefixed_elements_is_scanned(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "台账.xlsx")
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = xml.replace(main, main.replace("xmlns=", "xmlns:x="))
    xml = re.sub(r"<(/?)(?=[A-Za-z])", r"<\1x:", xml)  # <x:worksheet>, <x:c>, </x:f> …
    parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    scan = reading._scan(parts["xl/worksheets/sheet1.xml"])
    assert scan is not None
    assert scan.formulas == {(4, 1), (5, 1), (7, 1), (8, 1), (8, 9)}
    (sheet, _units, _indicators) = reading.read_file(path)
    assert sheet == reading._openpyxl_sheet(path, "任务台账")
