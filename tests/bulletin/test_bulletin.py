"""The bulletin (考核排名通报): a self-contained Chinese HTML page and a workbook, with the ranking,
the 红榜/黑榜, the overdue items and the two charts; opened in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from campaignflow import Engine, FixedClock, InvalidInput, Period, build_bulletin, render_html, write_bulletin
from campaignflow.testing import assign_sample, drive_to

NOVEMBER = Period("2026年11月", date(2026, 11, 1), date(2026, 12, 1))
IN_CI = bool(os.environ.get("CI"))


def _campaign(engine: Engine, clock: FixedClock) -> None:
    """城管局 finishes both its tasks on time; 城关街道 leaves one overdue (one with a hostile title)."""
    for _ in range(2):
        drive_to(engine, "verified", assign_sample(engine, due=date(2026, 11, 10)).id)
    assign_sample(engine, unit="jd-cg", due=date(2026, 11, 5), title='<script>alert("x")</script>菜市场整治')
    assign_sample(engine, unit="jd-cg", due=date(2026, 11, 28))
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=engine.timezone))


def test_the_html_bulletin_is_complete_and_self_contained(engine: Engine, clock: FixedClock) -> None:
    _campaign(engine, clock)
    bulletin = build_bulletin(engine, NOVEMBER, "weighted_rates", campaign="2026创卫")
    # 城管局: 100; 城关街道 (2 due, 1 overdue): disposal 0 + on time 0 + rework (none) 20
    # + overdue (1 − 1/2) × 20 = 10 + extension 10 = 40 → black (< 60)
    assert [(x.rank, x.unit_name, str(x.points), x.red, x.black) for x in bulletin.lines] == [
        (1, "市城管局", "100.00", True, False),
        (2, "城关街道办事处", "40.00", False, True),
    ]
    (item,) = bulletin.overdue
    assert (item.unit_name, item.deadline, item.days_overdue) == ("城关街道办事处", date(2026, 11, 5), 15)
    assert bulletin.states == {"城关街道办事处": {"assigned": 2}, "市城管局": {"verified": 2}}
    page = render_html(bulletin)
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert "2026创卫 2026年11月考核排名通报" in page
    assert "2026年11月01日至2026年11月30日" in page
    assert "<script" not in page  # the hostile title is escaped, and the page has no script
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;菜市场整治" in page
    assert not re.search(r"https?://|src=|href=|@import|url\(", page)  # nothing from elsewhere
    assert page.count("<svg") == 2
    assert "红榜" in page
    assert "黑榜" in page
    assert '<tr class="black"><td>2</td><td>城关街道办事处</td><td>40.00</td>' in page


def test_the_workbook_bulletin(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    _campaign(engine, clock)
    bulletin = build_bulletin(engine, NOVEMBER, "weighted_rates", campaign="2026创卫")
    path = write_bulletin(bulletin, tmp_path / "通报.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["考核排名", "红黑榜", "超期任务", "任务状态"]
    ranking = list(book["考核排名"].iter_rows(min_row=3, values_only=True))
    assert ranking == [
        (1, "市城管局", 100.0, 2, "100.00%", "0.00%", "0.00%", "红榜"),
        (2, "城关街道办事处", 40.0, 2, "0.00%", "50.00%", "—", "黑榜"),
    ]
    (overdue,) = book["超期任务"].iter_rows(min_row=3, values_only=True)
    assert overdue[3] == '<script>alert("x")</script>菜市场整治'  # kept as text in a cell
    assert list(book["任务状态"].iter_rows(min_row=2, values_only=True)) == [
        ("责任单位", "已交办", "已验收", "合计"),
        ("城关街道办事处", 2, 0, 2),
        ("市城管局", 0, 2, 2),
    ]
    with pytest.raises(InvalidInput):
        write_bulletin(bulletin, tmp_path / "通报.pdf")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium package is not installed (.ci/run installs it with apt-get)"
        if IN_CI:
            pytest.fail(f"CI must run the browser test: {message}")
        pytest.skip(message)
    return found


def _open(browser: str, page: Path, shot: Path) -> str:
    """Load ``page`` in headless Chromium, screenshot it; returns the browser's log (stderr)."""
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing may be fetched from anywhere
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def _console_errors(log: str) -> list[str]:
    """The page's console messages in Chromium's log (``…:CONSOLE:1] "text", source: …``). Headless
    Chromium logs them all at one level, so every console message counts: the bulletin has no
    script, and a failed load or a blocked resource would log one too."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


@pytest.mark.slow
def test_the_bulletin_opens_in_headless_chromium_without_console_errors(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    browser = _chromium()
    _campaign(engine, clock)
    page = write_bulletin(
        build_bulletin(engine, NOVEMBER, "weighted_rates", campaign="2026创卫"), tmp_path / "b.html"
    )
    shot = tmp_path / "b.png"
    log = _open(browser, page, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5000  # a rendered page, not an empty canvas
    assert _console_errors(log) == []
    # The check can fail: a page that logs an error is caught.
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html><body><script>console.error("坏了")</script></body></html>')
    (error,) = _console_errors(_open(browser, broken, tmp_path / "broken.png"))
    assert "坏了" in error
