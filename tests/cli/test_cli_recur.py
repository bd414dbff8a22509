"""``campaignflow recur``: creates the coming instances of recurring duties once, lists refusals
and exits 1 when there are any."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaignflow import Engine, FixedClock, cli
from campaignflow.testing import SHANGHAI, seed_units

DUTIES = """
[[duty]]
id = "board"
office = "cwb"
rule = "FREQ=MONTHLY;BYMONTHDAY=1,16"
start = 2026-01-01
title = "更换健康教育宣传栏内容"
standard = "宣传栏内容定期更换"
measures = ["更换并拍照留档"]
unit = "wsj"
campaign = "2026创卫"
indicator = "A2.1"
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env={"COLUMNS": "160"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    moment = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)
    monkeypatch.setattr("campaignflow.engine.SystemClock", lambda: FixedClock(moment))
    url = f"sqlite:///{tmp_path}/campaign.db"
    engine = Engine(url, load_entry_points=False)
    engine.migrate()
    seed_units(engine)
    engine.close()
    schedules = tmp_path / "duties.toml"
    schedules.write_text(DUTIES, encoding="utf-8")
    return url, schedules


def test_recur_creates_once_however_often_it_runs(setup: tuple[str, Path]) -> None:
    url, schedules = setup
    code, out, err = _run("recur", "--url", url, "--schedules", str(schedules), "--until", "2026-12-02")
    assert code == 0, err
    assert "board:2026-11-01" in out  # a Sunday: due Monday 2 November
    assert "created 3, existing 0, refused 0" in out
    code, out, err = _run("recur", "--url", url, "--schedules", str(schedules), "--until", "2026-12-02")
    assert code == 0, err
    assert "created 0, existing 3, refused 0" in out
    engine = Engine(url, migrate=False, load_entry_points=False)
    try:
        assert len(engine.tasks().items) == 3
    finally:
        engine.close()


def test_recur_lists_refusals_and_exits_1(setup: tuple[str, Path]) -> None:
    url, schedules = setup
    schedules.write_text(DUTIES.replace('unit = "wsj"', 'unit = "nowhere"'), encoding="utf-8")
    code, out, err = _run("recur", "--url", url, "--schedules", str(schedules), "--until", "2026-11-20")
    assert code == 1
    assert "refused board:2026-11-01" in err
    assert "refused 2" in out


def test_recur_with_a_bad_file_is_a_clean_error(setup: tuple[str, Path]) -> None:
    url, schedules = setup
    schedules.write_text("[[duty]]\nid = 1\n", encoding="utf-8")
    code, _out, err = _run("recur", "--url", url, "--schedules", str(schedules))
    assert code == 1
    assert "schedules" in err or "duty" in err
