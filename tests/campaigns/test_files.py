"""Structure files: TOML, YAML and .xlsx (Chinese headers), checked row by row, loaded atomically."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from campaignflow import Engine, NotFound
from campaignflow.domain.structure import Indicator
from campaignflow.errors import InvalidInput, StructureFileError

TOML = """
[campaign]
id = "2027创文"
name = "2027年全国文明城市测评"
kind = "创文"
periods = ["2027-03", "2027-04"]
separation = "subtree"
recurrence_days = 60
require_support_parts = false

[[indicators]]
code = "C1"
name = "公共环境"
weight = 30
lead = "cgj"

[[indicators]]
code = "C1.1"
name = "主次干道"
standard = "路面整洁"
weight = 10

[[units]]
id = "qu-nc"
name = "南城区"
leader = "区长"

[[units]]
id = "jd-nh"
name = "南湖街道"
leader = "主任"
parent = "qu-nc"

[[grids]]
id = "G-NH-1"
name = "南湖一网格"
unit = "jd-nh"

[[sites]]
id = "S-NHGY"
name = "南湖公园"
unit = "jd-nh"
grid = "G-NH-1"

[[scopes]]
office = "cwb"
root = "qu-nc"
"""


def test_a_toml_file_loads_everything(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "structure.toml"
    path.write_text(TOML, encoding="utf-8")
    engine.load_structure(path)
    campaign = engine.campaign("2027创文")
    assert (campaign.periods, campaign.separation.value, campaign.recurrence_days) == (
        ("2027-03", "2027-04"),
        "subtree",
        60,
    )
    assert [i.code for i in engine.indicators("2027创文")] == ["C1", "C1.1"]
    assert campaign.require_support_parts is False
    assert engine.unit("jd-nh").parent == "qu-nc"
    assert engine.site("S-NHGY").grid == "G-NH-1"
    assert engine.responsible_unit("2027创文", site="S-NHGY").unit == "jd-nh"
    assert [s.root for s in engine.office_scopes("cwb")] == ["qu-nc"]


def test_a_yaml_file_with_chinese_section_names(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "network.yaml"
    path.write_text(
        "单位:\n  - 编号: qu-nc\n    名称: 南城区\n网格:\n  - 编号: G-1\n    名称: 一网格\n    责任单位: qu-nc\n",
        encoding="utf-8",
    )
    engine.load_structure(path)
    assert engine.grid("G-1").unit == "qu-nc"


def _workbook(
    path: Path, indicator_rows: list[list[object]], site_rows: list[list[object]], parts: object = "否"
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "创建活动"
    for row in (
        ["项目", "内容"],
        ["编号", "2027创卫"],
        ["名称", "国家卫生城市复审"],
        ["类型", "创卫"],
        ["周期", 2027],
        ["配合单位须交材料", parts],
    ):
        sheet.append(row)
    tree = book.create_sheet("测评体系")
    for row in (["编码", "指标名称", "具体标准", "分值", "牵头单位"], *indicator_rows):
        tree.append(row)
    sites = book.create_sheet("点位")
    for row in (["编号", "名称", "责任单位", "所属网格"], *site_rows):
        sites.append(row)
    book.save(path)


def test_an_xlsx_workbook_with_chinese_headers(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "测评体系.xlsx"
    _workbook(
        path,
        [["B3", "市容环境卫生", "", 20, "cgj"], ["B3.2", "背街小巷", "无卫生死角", 5.5, None]],
        [["S-1", "城关菜市场", "jd-cg", None]],
    )
    engine.load_structure(path)
    assert engine.campaign("2027创卫").periods == ("2027",)
    assert engine.campaign("2027创卫").require_support_parts is False  # 否
    assert [(i.code, i.weight, i.lead_unit) for i in engine.indicators("2027创卫")] == [
        ("B3", 20.0, "cgj"),
        ("B3.2", 5.5, None),
    ]
    assert engine.site("S-1").unit == "jd-cg"


def test_every_bad_row_is_named_and_nothing_is_loaded(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    _workbook(
        path,
        [
            ["B3", "市容环境卫生", "", "二十", "cgj"],
            ["B3.2", "背街小巷", "", 5, None],
            ["B9.1", "孤儿", "", 1, None],
        ],
        [["S-1", "城关菜市场", "jd-cg", None], ["S-2", "", "jd-cg", None]],
    )
    with pytest.raises(StructureFileError) as refused:
        engine.load_structure(path)
    found = {(p.sheet, p.row, p.field) for p in refused.value.problems}
    assert found == {("测评体系", 2, "weight"), ("测评体系", 4, "parent"), ("点位", 3, "name")}
    assert "第 2 行" in refused.value.message_zh
    assert "row 2" in refused.value.message_en
    with pytest.raises(NotFound):
        engine.campaign("2027创卫")
    with pytest.raises(NotFound):
        engine.site("S-1")


def test_rows_valid_alone_but_not_against_the_database_load_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "structure.toml"
    path.write_text(TOML.replace('unit = "jd-nh"\ngrid', 'unit = "nowhere"\ngrid'), encoding="utf-8")
    with pytest.raises(StructureFileError) as refused:
        engine.load_structure(path)
    assert [(p.sheet, p.row, p.field) for p in refused.value.problems] == [("点位", 1, "unit")]
    with pytest.raises(NotFound):
        engine.unit("qu-nc")  # the file's units were not written either


def test_a_unit_cycle_inside_a_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "loop.toml"
    path.write_text(
        '[[units]]\nid = "a"\nname = "甲"\nparent = "b"\n[[units]]\nid = "b"\nname = "乙"\nparent = "a"\n',
        encoding="utf-8",
    )
    with pytest.raises(StructureFileError) as refused:
        engine.load_structure(path)
    assert refused.value.problems[0].field == "parent"
    assert "成环" in refused.value.problems[0].message_zh


@pytest.mark.parametrize(
    ("name", "text"), [("x.csv", "a,b"), ("x.toml", "[[units]\n"), ("x.toml", "[[planets]]\nid=1\n")]
)
def test_unreadable_files_are_typed_errors(engine: Engine, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StructureFileError):
        engine.load_structure(path)


def test_a_campaigns_support_parts_default_must_be_yes_or_no(engine: Engine, tmp_path: Path) -> None:
    from campaignflow.errors import StructureFileError

    path = tmp_path / "maybe.xlsx"
    _workbook(path, [["B3", "市容环境卫生", "", 20, "cgj"]], [], parts="也许")
    with pytest.raises(StructureFileError) as caught:
        engine.load_structure(path)
    assert [(p.sheet, p.field) for p in caught.value.problems] == [("创建活动", "require_support_parts")]


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_a_cell_no_database_can_store_is_a_row_problem_not_a_driver_error(
    engine: Engine, tmp_path: Path, text: str
) -> None:
    escaped = text.encode("unicode_escape").decode("ascii")
    path = tmp_path / "places.yaml"
    path.write_text(f'网格:\n  - 编号: "G{escaped}"\n    名称: 一网格\n    责任单位: cgj\n', encoding="utf-8")
    with pytest.raises(StructureFileError) as refused:
        engine.load_structure(path)
    assert [(p.row, p.field) for p in refused.value.problems] == [(1, "id")]


def test_an_indicator_standard_must_be_storable_text() -> None:
    with pytest.raises(InvalidInput):
        Indicator(code="B1", name="环境", standard=["不是文字"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Indicator(code="B1", name="环境", standard="a\ud800")


@pytest.mark.parametrize(
    ("field", "value"), [("编号", "u" * 65), ("责任领导", "长" * 101), ("名称", "a\ud800")]
)
def test_a_unit_cell_wider_than_its_column_is_a_row_problem(
    engine: Engine, tmp_path: Path, field: str, value: str
) -> None:
    cells = {"编号": "qu-x", "名称": "新区", "责任领导": "区长", field: value}
    body = "".join(f'    {k}: "{v.encode("unicode_escape").decode("ascii")}"\n' for k, v in cells.items())
    path = tmp_path / "units.yaml"
    path.write_text("单位:\n  -\n" + body, encoding="utf-8")
    with pytest.raises(StructureFileError) as refused:
        engine.load_structure(path)
    assert [p.row for p in refused.value.problems] == [1]
