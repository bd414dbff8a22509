"""The office's commands: ``import``, ``export``, ``rank``, ``report`` (on the real clock, so the
ledger's deadlines are set from today)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from campaignflow import cli
from tests.ledger.workbooks import UNITS, good_rows, write_ledger

WIDE = {"COLUMNS": "200"}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env=WIDE)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/office.db"
    assert _run("db", "upgrade", "--url", url)[0] == 0
    return url


def _ledger(path: Path, *, broken: bool = False) -> Path:
    soon = date.today() + timedelta(days=20)
    rows = good_rows()
    for offset, row in enumerate(rows):
        row[7] = datetime.combine(soon + timedelta(days=offset), datetime.min.time())
    if broken:
        rows[1][5] = "市教育局"
        rows[2][7] = "下周五"
    return write_ledger(path, rows, units=UNITS)


def test_import_then_export_rank_and_report(database: str, tmp_path: Path) -> None:
    code, out, err = _run(
        "import",
        "--url",
        database,
        "--campaign",
        "2026创卫",
        "--file",
        str(_ledger(tmp_path / "台账.xlsx")),
        "--office",
        "cwb",
    )
    assert code == 0, err
    assert "已导入 4 项任务、5 个单位（跳过空行 1 行） / imported 4 tasks and 5 units" in out

    code, out, err = _run(
        "export", "--url", database, "--campaign", "2026创卫", "--out", str(tmp_path / "out.xlsx")
    )
    assert code == 0, err
    assert "已导出 4 项任务" in out
    exported = openpyxl.load_workbook(tmp_path / "out.xlsx")["任务台账"]
    assert [row[1] for row in exported.iter_rows(min_row=4, values_only=True)] == [
        "T-001",
        "T-002",
        "T-003",
        "T-004",
    ]

    year = date.today().year
    span = f"{date.today():%Y-%m-%d}..{date.today() + timedelta(days=60):%Y-%m-%d}"
    code, out, err = _run("rank", "--url", database, "--period", span)
    assert code == 0, err
    assert "考核排名" in out
    for name in ("市城管局", "市卫生局", "城关街道办事处", "芳草堤社区"):
        assert name in out  # one task each, none done yet: 20 (rework, none) + 20 (not overdue) + 10 = 50
    assert "50.00" in out
    assert out.count("│ 1 ") >= 4

    code, out, err = _run(
        "rank", "--url", database, "--period", str(year - 2), "--period", str(year - 1), "--period", span
    )
    assert code == 0, err  # the 15/25/60 cumulative total; a year with no tasks counts as 0
    assert f"{year - 2}年度" in out  # a column per period
    assert "30.00" in out  # 0 × 15 % + 0 × 25 % (no tasks those years) + 50 × 60 %

    code, out, err = _run("report", "--url", database, "--period", span, "--out", str(tmp_path / "通报.html"))
    assert code == 0, err
    assert "bulletin written" in out
    assert "考核排名通报" in (tmp_path / "通报.html").read_text(encoding="utf-8")


def test_a_bad_ledger_lists_every_problem_and_imports_nothing(database: str, tmp_path: Path) -> None:
    path = _ledger(tmp_path / "bad.xlsx", broken=True)
    code, out, err = _run(
        "import", "--url", database, "--campaign", "c", "--file", str(path), "--office", "cwb"
    )
    assert code == 1
    assert "ledger_invalid" in err
    assert "未知责任单位“市教育局”" in err
    assert "无法识别" in err
    assert "Traceback" not in out + err
    code, out, err = _run("export", "--url", database, "--campaign", "c", "--out", str(tmp_path / "e.csv"))
    assert "已导出 0 项任务" in out  # nothing was imported


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["rank", "--period", "2026-13"], "无法识别的考核周期"),
        (["rank"], "--period"),
        (["rank", "--period", "2025", "--period", "2026"], "--weights"),
        (["rank", "--period", "2026-11", "--scheme", "lottery"], "没有名为 'lottery' 的评分办法"),
        (["report", "--period", "2026-11", "--out", "x.pdf"], "通报只能写成"),
    ],
)
def test_office_commands_refuse_bad_input(database: str, args: list[str], words: str) -> None:
    code, out, err = _run(*args[:1], "--url", database, *args[1:])
    assert code != 0
    assert words in out + err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("command", "english", "chinese"),
    [
        ("import", "Import a ledger", "导入台账"),
        ("export", "Export the campaign's ledger", "导出任务台账"),
        ("rank", "Rank the units", "考核排名"),
        ("report", "Write the period's bulletin", "考核排名通报"),
    ],
)
def test_help_is_in_chinese_and_english(command: str, english: str, chinese: str) -> None:
    code, out, _err = _run(command, "--help")
    assert code == 0
    assert english in out
    assert chinese in out
