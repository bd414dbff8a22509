"""Ledgers (台账): a realistic office workbook imports cleanly through the engine; export → import →
export gives equal cells; a malformed ledger imports nothing and reports every problem."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from campaignflow import Engine, FixedClock, LedgerError, TaskSource, export_ledger, import_ledger
from campaignflow.testing import actors, assign_sample, seed_units

from .workbooks import HEADERS, UNITS, good_rows, write_ledger

OFFICE = actors()["office"]


@pytest.fixture
def fresh(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    """A second, empty SQLite database (no units registered)."""
    engine = Engine(f"sqlite:///{tmp_path}/second.db", clock=clock, load_entry_points=False)
    yield engine
    engine.close()


def test_a_realistic_office_ledger_imports_cleanly(engine: Engine, tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "台账.xlsx")
    seen: list[tuple[int, int]] = []
    report = import_ledger(
        engine, path, by=OFFICE, campaign="2026创卫", progress=lambda d, t: seen.append((d, t))
    )
    assert report.skipped_blank_rows == 1
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    tasks = {t.external_ref: t for t in report.tasks}
    assert list(tasks) == ["T-001", "T-002", "T-003", "T-004"]
    t1, t2, t3, t4 = tasks.values()
    assert (t1.unit, t1.leader, t1.source, t1.site, t1.grid) == (
        "cgj",
        "张三",
        TaskSource.INSPECTION,
        "解放路",
        "JF-03",
    )
    assert t1.measures == ("每日巡查", "发现即清")
    assert (t2.unit, t2.leader, t2.source, t2.measures) == (
        "wsj",
        "李四",
        TaskSource.MEDIA,
        ("布放毒饵站", "每周检查"),
    )
    assert (t3.unit, t3.source) == ("jd-cg", TaskSource.LEDGER)  # no source given: 台账导入
    assert (t4.unit, t4.source) == ("sq-ft", TaskSource.CITIZEN)
    days = [
        engine.deadline_of(d)
        for d in (date(2026, 11, 20), date(2026, 11, 25), date(2026, 12, 1), date(2026, 11, 30))
    ]
    assert [t.deadline for t in (t1, t2, t3, t4)] == days  # a date cell, a serial, text, a =DATE() formula
    for task in report.tasks:
        (entry,) = engine.history(task.id)  # a new assignment with its own history entry
        assert (entry.trigger, entry.actor_id) == ("assign", OFFICE.id)
        assert engine.verify_history(task.id) is None


def test_export_import_export_gives_equal_cells(engine: Engine, fresh: Engine, tmp_path: Path) -> None:
    import_ledger(engine, write_ledger(tmp_path / "in.xlsx"), by=OFFICE, campaign="2026创卫")
    assign_sample(engine, title="=1+1 不是公式", standard="-减号开头", site="<b>站点</b>")  # through the API
    first = export_ledger(engine, tmp_path / "first.xlsx", campaign="2026创卫")
    assert first == 5
    with pytest.raises(LedgerError):  # "=…" is refused on import (formula injection) …
        import_ledger(fresh, tmp_path / "first.xlsx", by=OFFICE, campaign="2026创卫")
    assert fresh.tasks().items == ()
    engine.cancel(engine.tasks().items[-1].id, by=OFFICE, reason="撤销")  # … so leave that one out
    export_ledger(engine, tmp_path / "first.xlsx", campaign="2026创卫")
    book = openpyxl.load_workbook(tmp_path / "first.xlsx")
    sheet = book["任务台账"]
    sheet.delete_rows(sheet.max_row)  # the cancelled task cannot be imported as a new assignment
    book.save(tmp_path / "first.xlsx")

    report = import_ledger(fresh, tmp_path / "first.xlsx", by=OFFICE, campaign="2026创卫")
    assert len(report.units) == 5  # the 责任单位 sheet registered the units
    export_ledger(fresh, tmp_path / "second.xlsx", campaign="2026创卫")
    import_back = openpyxl.load_workbook(tmp_path / "first.xlsx")
    second = openpyxl.load_workbook(tmp_path / "second.xlsx")
    assert import_back.sheetnames == second.sheetnames == ["任务台账", "责任单位"]
    for name in second.sheetnames:
        left = list(import_back[name].iter_rows(values_only=True))
        right = list(second[name].iter_rows(values_only=True))
        assert left == right
    assert len(list(second["任务台账"].iter_rows(min_row=4))) == 4


def test_csv_round_trip_and_a_gb18030_file(engine: Engine, fresh: Engine, tmp_path: Path) -> None:
    import_ledger(engine, write_ledger(tmp_path / "in.xlsx"), by=OFFICE, campaign="2026创卫")
    assert export_ledger(engine, tmp_path / "first.csv", campaign="2026创卫") == 4
    seed_units(fresh)
    import_ledger(fresh, tmp_path / "first.csv", by=OFFICE, campaign="2026创卫")
    export_ledger(fresh, tmp_path / "second.csv", campaign="2026创卫")
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "second.csv").read_bytes()
    # Excel on a Chinese Windows saves CSV as GBK/GB18030
    text = (tmp_path / "first.csv").read_text(encoding="utf-8-sig").replace("2026创卫", "2026创文")
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    report = import_ledger(fresh, tmp_path / "gbk.csv", by=OFFICE, campaign="2026创文")
    assert next(t.title for t in report.tasks) == "背街小巷卫生死角整治"


def _problems(error: LedgerError) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in error.problems]


def _bad(rows_change: dict[int, dict[int, object]]) -> list[list[object]]:
    rows = good_rows()
    for index, changes in rows_change.items():
        for column, value in changes.items():
            rows[index][column] = value
    return rows


# columns of good_rows(): 0 编号, 1 指标, 2 名称, 3 标准, 4 措施, 5 单位, 6 领导, 7 时限, 8 来源, 9 点位, 10 网格, 11 状态
# Excel rows: data starts at 4; a blank row follows the second data row, so rows are 4, 5, 7, 8.
MALFORMED = {
    "missing column": (
        {"headers": [h for h in HEADERS if h != "完成\n时限"], "rows": [r[:7] + r[8:] for r in good_rows()]},
        [(3, "完成时限")],
        "缺少必填列",
    ),
    "bad date": ({"rows": _bad({0: {7: "2026-13-45"}})}, [(4, "完成时限")], "无法识别"),
    "text where a date belongs": ({"rows": _bad({1: {7: "下周五"}})}, [(5, "完成时限")], "无法识别"),
    "text where a number belongs": ({"serials": {0: "一"}}, [(4, "序号")], "正整数"),
    "serial out of range": ({"rows": _bad({0: {7: 99999999}})}, [(4, "完成时限")], "不是有效日期"),
    "unknown unit": ({"rows": _bad({2: {5: "市教育局"}})}, [(7, "责任单位")], "未知责任单位"),
    "blank required cell": ({"rows": _bad({3: {3: None}})}, [(8, "具体标准")], "不能为空"),
    "duplicate reference": ({"rows": _bad({3: {0: "T-001"}})}, [(8, "任务编号")], "与第 4 行重复"),
    "duplicate content": (
        {
            "rows": _bad(
                {
                    1: {
                        0: "T-009",
                        1: "B3.2",
                        2: "背街小巷卫生死角整治",
                        5: "市城管局",
                        7: datetime(2026, 11, 20),
                    }
                }
            )
        },
        [(5, "任务名称")],
        "重复",
    ),
    "merged cells in data rows": ({"merge": "D4:D5"}, [(4, "任务名称")], "合并单元格"),
    "formula without cached value": (
        {"cache": False},
        [(4, "序号"), (5, "序号"), (7, "序号"), (8, "完成时限"), (8, "序号")],
        "没有计算结果",
    ),
    "formula injection": (
        {"rows": _bad({0: {2: '=HYPERLINK("http://evil.example","点我")'}})},
        [(4, "任务名称")],
        "公式注入",
    ),
    "zero-width isolate": ({"rows": _bad({1: {3: "标准\u2066隐藏"}})}, [(5, "具体标准")], "控制字符"),
    "bidi override": ({"rows": _bad({1: {6: "李\u202e四"}})}, [(5, "责任领导")], "控制字符"),
    "overlong text": ({"rows": _bad({2: {2: "长" * 501}})}, [(7, "任务名称")], "超过 500 个字符"),
    "script as a unit": (
        {"rows": _bad({2: {5: "<script>alert(1)</script>"}})},
        [(7, "责任单位")],
        "未知责任单位",
    ),
    "unknown source": ({"rows": _bad({0: {8: "小道消息"}})}, [(4, "任务来源")], "未知任务来源"),
    "a closed task": ({"rows": _bad({0: {11: "已验收"}})}, [(4, "状态")], "新交办"),
    "a deadline already past": ({"rows": _bad({3: {7: datetime(2026, 10, 1)}})}, [(8, "完成时限")], ""),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_ledger_imports_nothing_and_names_every_problem(
    engine: Engine, tmp_path: Path, case: str
) -> None:
    options, expected, words = MALFORMED[case]
    path = write_ledger(tmp_path / "bad.xlsx", **options)  # type: ignore[arg-type]
    before = engine.units()
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    error = caught.value
    assert _problems(error) == expected
    assert all(words in p.message_zh for p in error.problems if p.column == expected[-1][1])
    assert all(p.message_en for p in error.problems)
    assert error.code == "ledger_invalid"
    assert "未导入任何内容" in error.message_zh
    assert engine.tasks().items == ()  # nothing imported: not even the good rows
    assert engine.units() == before


def test_every_problem_of_a_ledger_is_reported_at_once(engine: Engine, tmp_path: Path) -> None:
    rows = _bad({0: {7: "明天"}, 1: {5: "市教育局", 2: None}, 2: {0: "T-001"}, 3: {3: "=1+1"}})
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, write_ledger(tmp_path / "bad.xlsx", rows), by=OFFICE, campaign="2026创卫")
    assert _problems(caught.value) == [
        (4, "完成时限"),
        (5, "任务名称"),
        (5, "责任单位"),
        (7, "任务编号"),
        (8, "具体标准"),
    ]
    assert len(caught.value.problems) == 5  # each once: the formula cell is not also "blank"
    assert "第 4 行「完成时限」" in str(caught.value)


def test_units_sheet_problems_are_reported_with_the_sheet_name(engine: Engine, tmp_path: Path) -> None:
    units = [["x1", "单位一", "", "", "nowhere"], ["x2", None, "", "", None], ["x1", "重复", "", "", None]]
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, write_ledger(tmp_path / "u.xlsx", units=units), by=OFFICE, campaign="2026创卫")
    assert _problems(caught.value) == [
        (3, "责任单位!上级单位"),
        (4, "责任单位!单位名称"),
        (5, "责任单位!单位编码"),
    ]
    assert [u.id for u in engine.units()] == ["cgj", "cwb", "jd-cg", "sq-ft", "wsj"]


def test_a_units_sheet_registers_units_before_the_tasks(fresh: Engine, tmp_path: Path) -> None:
    report = import_ledger(
        fresh, write_ledger(tmp_path / "u.xlsx", units=UNITS), by=OFFICE, campaign="2026创卫"
    )
    assert [u.id for u in report.units] == ["cwb", "cgj", "wsj", "jd-cg", "sq-ft"]  # parents first
    assert fresh.unit("sq-ft").parent == "jd-cg"
    assert len(report.tasks) == 4


def test_a_reference_already_in_the_campaign_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "a.xlsx")
    import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    assert _problems(caught.value) == [(4, "任务编号"), (5, "任务编号"), (7, "任务编号"), (8, "任务编号")]
    assert len(engine.tasks().items) == 4


@pytest.mark.parametrize("name", ["notes.txt", "missing.xlsx"])
def test_a_file_that_is_not_a_ledger_is_refused(engine: Engine, tmp_path: Path, name: str) -> None:
    from campaignflow import InvalidInput

    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello")
    with pytest.raises(InvalidInput):
        import_ledger(engine, tmp_path / name, by=OFFICE, campaign="2026创卫")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInput) as caught:
        import_ledger(engine, tmp_path / "broken.xlsx", by=OFFICE, campaign="2026创卫")
    assert "无法读取" in caught.value.message_zh


def test_a_csv_with_control_characters_and_formula_text_is_refused(engine: Engine, tmp_path: Path) -> None:
    header = "序号,任务编号,指标编号,任务名称,具体标准,主要措施,责任单位,责任领导,完成时限"
    lines = [
        "台账",
        header,
        "1,A1,B1,标准\x07响铃,标准,措施,cgj,,2026-11-20",
        "2,A2,B1,名称,@SUM(1+1),措施,cgj,,46346",
        "3,A3,B1,'-减号开头,标准,措施,cgj,,2026/11/21",
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    assert _problems(caught.value) == [(3, "任务名称"), (4, "具体标准")]
    assert engine.tasks().items == ()
    path.write_text("\n".join([lines[0], header, lines[4]]) + "\n", encoding="utf-8")
    (task,) = import_ledger(engine, path, by=OFFICE, campaign="2026创卫").tasks
    assert task.title == "-减号开头"  # the CSV guard quote is taken off


def test_a_ledger_goes_in_with_one_bulk_statement_per_table(engine: Engine, tmp_path: Path) -> None:
    import sqlalchemy as sa

    inserts: dict[str, list[bool]] = {}

    def seen(
        _conn: object, _cursor: object, statement: str, _params: object, _context: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            table = statement.split()[2].strip('"').split(".")[-1].strip('"')
            inserts.setdefault(table, []).append(many)

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", seen)
    try:
        report = import_ledger(engine, write_ledger(tmp_path / "台账.xlsx"), by=OFFICE, campaign="2026创卫")
    finally:
        sa.event.remove(engine.sqlalchemy_engine, "before_cursor_execute", seen)
    assert len(report.tasks) == 4
    tasks = next(v for k, v in inserts.items() if k.endswith("tasks"))
    history = next(v for k, v in inserts.items() if k.endswith("history"))
    assert (len(tasks), len(history)) == (1, 1)  # one executemany each, not one insert per row
    assert all(engine.verify_history(t.id) is None for t in report.tasks)


def test_an_indicator_sheet_builds_the_campaigns_tree_with_the_tasks(engine: Engine, tmp_path: Path) -> None:
    from .workbooks import INDICATORS

    path = write_ledger(tmp_path / "指标.xlsx", indicators=INDICATORS)
    report = import_ledger(engine, path, by=OFFICE, campaign="2026创卫")
    assert [i.code for i in report.indicators] == ["B1", "B1.1", "B3", "B3.2", "C2"]
    tree = {i.code: i for i in engine.indicators("2026创卫")}
    assert (tree["B3.2"].weight, tree["B3.2"].lead_unit, tree["B3.2"].standard) == (
        5.0,
        "cgj",
        "无积存垃圾、无卫生死角",
    )
    assert tree["C2"].lead_unit is None
    assert engine.campaign("2026创卫").name == "2026创卫"  # a campaign first named by the ledger
    assert len(report.tasks) == 4


def test_an_indicator_sheet_merges_into_a_registered_campaigns_tree(engine: Engine, tmp_path: Path) -> None:
    from campaignflow.domain.structure import Campaign, Indicator

    from .workbooks import INDICATORS

    engine.register_campaign(
        Campaign(id="2026创卫", name="2026年创卫", kind="创卫"),
        [Indicator(code="A1", name="组织管理", weight=5), Indicator(code="B3", name="旧名称", weight=1)],
    )
    import_ledger(
        engine, write_ledger(tmp_path / "m.xlsx", indicators=INDICATORS), by=OFFICE, campaign="2026创卫"
    )
    tree = {i.code: i for i in engine.indicators("2026创卫")}
    assert set(tree) == {"A1", "B1", "B1.1", "B3", "B3.2", "C2"}
    assert tree["B3"].name == "市容环境卫生"  # the sheet's row replaces the registered one
    assert engine.campaign("2026创卫").kind == "创卫"  # the campaign itself is kept


def test_indicator_sheet_problems_name_sheet_row_and_column_and_import_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    from .workbooks import INDICATORS

    bad = [list(r) for r in INDICATORS]
    bad[1][4] = "不存在的局"  # B1.1: unknown lead unit
    bad[2][3] = "很多"  # B3: weight is not a number
    bad[4][0] = "C 2"  # a malformed code
    del bad[0]  # B1 missing: B1.1's parent is not in the tree
    with pytest.raises(LedgerError) as caught:
        import_ledger(
            engine, write_ledger(tmp_path / "bad.xlsx", indicators=bad), by=OFFICE, campaign="2026创卫"
        )
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found >= {(2, "测评指标!牵头单位"), (3, "测评指标!权重"), (5, "测评指标!编码")}
    assert any(p.row == 2 and "上级" in p.message_zh for p in caught.value.problems)
    assert all(p.message_en for p in caught.value.problems)
    assert engine.tasks().items == ()
    from campaignflow import NotFound

    with pytest.raises(NotFound):
        engine.campaign("2026创卫")  # the tree is not written either


def test_a_task_naming_an_indicator_outside_the_sheets_tree_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    from .workbooks import INDICATORS

    tree = [r for r in INDICATORS if r[0] != "C2"]  # row 7's task names C2
    with pytest.raises(LedgerError) as caught:
        import_ledger(
            engine, write_ledger(tmp_path / "c.xlsx", indicators=tree), by=OFFICE, campaign="2026创卫"
        )
    assert [(p.row, p.column) for p in caught.value.problems] == [(7, "指标编号")]


@pytest.mark.parametrize("campaign", ["2026\ud800创卫", "创\x00卫", "长" * 129])
def test_a_campaign_no_database_can_store_is_a_ledger_error(
    engine: Engine, tmp_path: Path, campaign: str
) -> None:
    with pytest.raises(LedgerError) as refused:
        import_ledger(engine, write_ledger(tmp_path / "台账.xlsx"), by=OFFICE, campaign=campaign)
    assert [p.column for p in refused.value.problems] == ["campaign"]
    assert engine.tasks().items == ()
