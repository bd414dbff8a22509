"""The ``campaignflow`` command: the demo, the migrations, and clean errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from campaignflow import Engine, cli
from campaignflow.demo import DEMO_APPLICATION_ID, run_demo
from campaignflow.domain.model import TaskState
from campaignflow.errors import RuleViolation
from campaignflow.store.schema import HEAD

WIDE = {"COLUMNS": "120"}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the command in an empty temporary directory (the demo writes to the current one)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli.main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_demo_runs_through_every_path(in_tmp: Path) -> None:
    code, out, err = _run(CliRunner(), "demo", env=WIDE)
    assert code == 0, err
    assert err == ""
    assert (in_tmp / "campaignflow-demo.db").is_file()  # the default path, in the current directory
    # the refused assignment lists every missing item, with its code and Chinese message
    for code_, message in [
        ("fixed_task_standard", "具体标准不能为空"),
        ("fixed_task_measures", "至少要有一条主要措施"),
        ("fixed_department", "必须指定一个已登记的责任单位"),
        ("fixed_leader", "必须指定责任单位登记的责任领导"),
        ("fixed_schedule", "完成时限必须晚于当前时间"),
    ]:
        line = next(line for line in out.splitlines() if code_ in line)
        assert message in line
    # the other refusals
    assert "[permission_denied]" in out
    assert "不能验收自己的任务" in out
    assert "reason_required" in out
    # the summary table and the counts per state
    for header in ("任务台账", "任务", "责任单位", "状态", "返工次数", "完成时限", "各状态任务数"):
        assert header in out
    for label in ("已交办", "整改中", "已自查", "已验收", "已归档", "已撤销"):
        assert label in out
    assert "宣传栏面积达不到3平方米" in out
    assert "2026-11-16" in out  # its deadline, as a local date
    assert "历史哈希链校验：12/12 个任务完整" in out
    assert "Traceback" not in out
    # it ends with the quarter's bulletin, ranked and written out
    assert "2026创卫 2026年第4季度考核排名通报" in out
    assert "bulletin written: campaignflow-demo-bulletin.html" in out
    page = (in_tmp / "campaignflow-demo-bulletin.html").read_text(encoding="utf-8")
    assert "2026创卫 2026年第4季度考核排名通报" in page
    assert page.count("<svg") == 2


def test_demo_output_is_identical_across_runs(in_tmp: Path) -> None:
    runner = CliRunner()
    first = _run(runner, "demo", "--db", "again.db")
    page = (in_tmp / "campaignflow-demo-bulletin.html").read_bytes()
    second = _run(runner, "demo", "--db", "again.db")  # recreates the file
    assert first[0] == second[0] == 0
    assert first == second
    assert (in_tmp / "campaignflow-demo-bulletin.html").read_bytes() == page  # the bulletin too


def test_run_demo_is_deterministic_and_counts_states(tmp_path: Path) -> None:
    outputs = []
    for name in ("one.db", "two.db"):
        buffer = io.StringIO()
        result = run_demo(str(tmp_path / name), Console(file=buffer, width=100))
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    assert result.tasks == 12
    assert sum(result.counts.values()) == 12
    assert dict(result.counts) == {
        TaskState.ASSIGNED: 2,
        TaskState.RECTIFYING: 4,
        TaskState.SELF_CHECKED: 1,
        TaskState.VERIFIED: 1,
        TaskState.ARCHIVED: 3,
        TaskState.CANCELLED: 1,
        TaskState.RETURNED: 0,
        TaskState.SUSPENDED: 0,
    }
    assert result.refused == 5
    assert result.reworks == 2
    assert result.intact_chains == 12
    assert result.notifications > 0
    # no task id (a random UUID) leaks into the output
    engine = Engine(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        ids = [task.id for task in engine.tasks(limit=100).items]
    finally:
        engine.close()
    assert len(ids) == 12
    assert not any(task_id in outputs[1] or task_id[:8] in outputs[1] for task_id in ids)


def test_demo_refuses_to_overwrite_a_file_it_did_not_make(in_tmp: Path) -> None:
    precious = in_tmp / "precious.db"
    precious.write_text("not a demo database")
    code, out, err = _run(CliRunner(), "demo", "--db", "precious.db")
    assert precious.read_text() == "not a demo database"
    assert code == 1
    assert "[invalid_input]" in err
    assert "拒绝覆盖" in err
    assert "refusing to overwrite" in err
    assert "Traceback" not in out + err


def test_demo_database_is_stamped(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    run_demo(str(path), Console(file=io.StringIO()))
    header = path.read_bytes()[:100]
    assert int.from_bytes(header[68:72], "big") == DEMO_APPLICATION_ID


def test_db_upgrade_then_current_prints_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    code, out, err = _run(runner, "db", "upgrade", "--url", url)
    assert code == 0, err
    assert f"revision: {HEAD}" in out
    code, out, err = _run(runner, "db", "current", "--url", url)
    assert code == 0, err
    assert f"revision: {HEAD} (head)" in out


def test_db_upgrade_with_prefix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    runner = CliRunner()
    assert _run(runner, "db", "upgrade", "--url", url, "--prefix", "wf_")[0] == 0
    code, out, _err = _run(runner, "db", "current", "--url", url, "--prefix", "wf_")
    assert code == 0
    assert f"{HEAD} (head)" in out
    code, out, _err = _run(runner, "db", "current", "--url", url)  # the default prefix: untouched
    assert code == 0
    assert "not migrated" in out


def test_db_current_of_a_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, out, err = _run(CliRunner(), "db", "current", "--url", f"sqlite:///{missing}")
    assert code == 1
    assert "不存在" in err
    assert "does not exist" in err
    assert not missing.exists()
    assert "Traceback" not in out + err


def test_database_errors_are_clean(tmp_path: Path) -> None:
    # a directory is not a database file: SQLAlchemy's OperationalError, reported without traceback
    code, out, err = _run(CliRunner(), "db", "upgrade", "--url", f"sqlite:///{tmp_path}")
    assert code == 1
    assert "database error" in err
    assert "Traceback" not in out + err


def test_campaignflow_error_exits_non_zero_without_traceback(
    monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    from campaignflow.domain.rules import missing

    def refuse(db_path: str, console: Console, **_options: object) -> None:
        raise RuleViolation([missing("fixed_leader", "leader"), missing("fixed_schedule", "due")])

    monkeypatch.setattr(cli, "run_demo", refuse)
    result = CliRunner().invoke(cli.main, ["demo"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[rule_violation]" in result.stderr
    assert "不符合四有四定要求" in result.stderr  # Chinese
    assert "the 四有四定 rules refuse" in result.stderr  # and English
    assert "fixed_leader: 定领导：必须指定责任单位登记的责任领导" in result.stderr
    assert "fixed_schedule" in result.stderr
    assert "Traceback" not in result.output


def test_bad_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli.main, ["db", "current", "--url", "not a url"])
    assert result.exit_code == 2
    assert "not a database URL" in result.stderr


def test_db_upgrade_on_each_backend(database_url: tuple[str, str | None]) -> None:
    """SQLite and (with a server) PostgreSQL in a schema of its own, through the shared fixture."""
    url, schema = database_url
    where = ["--url", url, *(["--schema", schema] if schema else [])]
    runner = CliRunner()
    code, out, err = _run(runner, "db", "current", *where)
    if schema:  # PostgreSQL: an empty schema
        assert code == 0, err
        assert "not migrated" in out
    else:  # SQLite: no file yet, and `db current` does not create one
        assert code == 1
    code, out, err = _run(runner, "db", "upgrade", *where)
    assert code == 0, err
    code, out, err = _run(runner, "db", "current", *where)
    assert code == 0, err
    assert f"{HEAD} (head)" in out


# --- campaignflow sweep -------------------------------------------------------------------------


def _overdue_database(tmp_path: Path, due: str = "2026-11-06") -> tuple[str, str]:
    from datetime import date

    from campaignflow import FixedClock
    from campaignflow.testing import DEMO_NOW, assign_sample, seed_units

    url = f"sqlite:///{tmp_path}/sweep.db"
    engine = Engine(url, clock=FixedClock(DEMO_NOW))
    seed_units(engine)
    task = assign_sample(engine, due=date.fromisoformat(due))
    engine.close()
    return url, task.id


def _clock_at(monkeypatch: pytest.MonkeyPatch, at: str) -> None:
    """The command's engine reads this fixed time instead of the system clock."""
    from datetime import datetime

    from campaignflow import FixedClock
    from campaignflow.testing import SHANGHAI

    moment = datetime.fromisoformat(at).replace(tzinfo=SHANGHAI)
    monkeypatch.setattr("campaignflow.engine.SystemClock", lambda: FixedClock(moment))


def test_sweep_escalates_once_however_often_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, task_id = _overdue_database(tmp_path)
    _clock_at(monkeypatch, "2026-11-30 09:00")  # 16 working days after the deadline
    code, out, err = _run(CliRunner(), "sweep", "--url", url, "--loop", "--interval", "0", "--times", "3")
    assert code == 0, err
    assert out.count(task_id) == 1
    assert "公开曝光 / public_notice" in out
    assert out.count("督办巡查 / sweep") == 3
    assert "recorded 1" in out
    assert "recorded 0" in out
    engine = Engine(url, migrate=False)
    try:
        assert engine.get(task_id).escalation_level == "public_notice"
        assert len(engine.escalations(task_id)) == 1
    finally:
        engine.close()


def test_sweep_reports_a_year_without_a_schedule_and_takes_a_calendar_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaignflow.calendars import EXAMPLE_2027

    url, task_id = _overdue_database(tmp_path, due="2027-01-08")
    _clock_at(monkeypatch, "2027-01-07 09:00")  # 催办 is due, on a 2027 calendar
    code, out, err = _run(CliRunner(), "sweep", "--url", url)
    assert code == 0, err
    assert task_id in err
    assert "2027" in err
    assert "recorded 0" in out
    code, out, err = _run(CliRunner(), "sweep", "--url", url, "--calendar", str(EXAMPLE_2027))
    assert code == 0, err
    assert task_id in out
    assert err == ""


def test_sweep_of_a_missing_database_is_a_clean_error(tmp_path: Path) -> None:
    code, _out, err = _run(CliRunner(), "sweep", "--url", f"sqlite:///{tmp_path}/none.db")
    assert code == 1
    assert "does not exist" in err
