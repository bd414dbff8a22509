"""`campaignflow structure load`: all of a file, or nothing and every bad row, exit 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from campaignflow import Engine, FixedClock
from campaignflow.cli import main
from campaignflow.testing import DEMO_NOW


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = Engine(url, clock=FixedClock(DEMO_NOW), load_entry_points=False)
    engine.migrate()
    engine.close()
    return url


def test_load_prints_what_it_loaded(tmp_path: Path) -> None:
    url = _database(tmp_path)
    path = tmp_path / "n.toml"
    path.write_text(
        '[[units]]\nid = "qu"\nname = "区"\n[[grids]]\nid = "G1"\nname = "一网格"\nunit = "qu"\n', "utf-8"
    )
    result = CliRunner().invoke(main, ["structure", "load", "--url", url, str(path)])
    assert result.exit_code == 0, result.output
    assert "单位 1 个" in result.output
    assert "grids 1" in result.output
    engine = Engine(url, load_entry_points=False)
    assert engine.grid("G1").unit == "qu"
    engine.close()


def test_a_bad_file_loads_nothing_and_exits_1(tmp_path: Path) -> None:
    url = _database(tmp_path)
    path = tmp_path / "n.toml"
    path.write_text(
        '[[units]]\nid = "qu"\nname = "区"\n[[grids]]\nid = "G1"\nname = "一网格"\nunit = "nobody"\n', "utf-8"
    )
    result = CliRunner().invoke(main, ["structure", "load", "--url", url, str(path)])
    assert result.exit_code == 1
    assert "网格 第 1 行 unit" in result.output
    engine = Engine(url, load_entry_points=False)
    assert engine.units() == []
    engine.close()
