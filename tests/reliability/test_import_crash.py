"""Crash injection into the all-or-nothing writers: a process running the real ledger import
(``import_ledger`` on a multi-thousand-row workbook) or a batch decomposition (``engine.decompose``)
is killed with SIGKILL (kill -9) in the middle, again and again, on SQLite and on PostgreSQL.

The kill point lives in the test worker, never in the library: a SQLAlchemy ``after_cursor_execute``
hook counts the statements the process runs and kills the process right after the Nth one, or right
after the first statement that writes a given table (the decomposition's three bulk inserts), or in
the ``commit`` event, just before the COMMIT reaches the database. N is planned over the whole run:
a calibration run on a scratch database counts the statements a complete import executes, and the
kills are spread evenly over that range (one N drawn from each slice, seeded).

After every kill the parent checks that nothing of that ledger or batch was written — no task, no
history row, no outbox row, no unit — and that the database still answers and takes a write (SQLite
rolls its hot journal back; PostgreSQL aborts the dead session's transaction). After the last kill
one clean run imports everything, exactly once: one task per row, one history row per task, each
reference once.
"""

from __future__ import annotations

import csv
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Engine, FixedClock, import_ledger
from campaignflow.testing import CITY_UNITS, DEMO_NOW, actors, seed_units
from tests.conftest import require_postgres
from tests.ledger.workbooks import write_ledger
from tests.reliability.harness import Figures, kill_self, report_crash, run_until_exit

pytestmark = pytest.mark.slow

ROWS = 2000  # a district's ledger: thousands of rows, well above one page of anything
IMPORT_KILLS = 10  # per backend: nine spread over the statements, one in the COMMIT
BATCH_ROWS = 1000
DECOMPOSE_POINTS = ("nth", "after:tasks", "after:history", "after:outbox", "commit")
DECOMPOSE_KILLS = 5  # per backend: one at each point
CAMPAIGN = "2026创卫"
OFFICE = actors()["office"]
UNIT_IDS = [unit_id for unit_id, *_rest in CITY_UNITS]


# --- the databases --------------------------------------------------------------------------


def _database(backend: str, tmp_path: Path, name: str) -> Iterator[tuple[str, str | None]]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/{name}.db", None
        return
    url = require_postgres()
    schema = f"cfk_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, Any]]:
    """(backend, the database under test, a scratch database for the calibration run)."""
    backend = str(request.param)
    target = _database(backend, tmp_path, "target")
    scratch = _database(backend, tmp_path, "scratch")
    try:
        yield backend, next(target), next(scratch)
    finally:
        for generator in (target, scratch):
            generator.close()


def _engine(db: tuple[str, str | None]) -> Engine:
    url, schema = db
    return Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), load_entry_points=False)


def _prepare(db: tuple[str, str | None]) -> None:
    engine = _engine(db)
    engine.migrate()
    seed_units(engine)
    engine.close()


# --- the inputs -----------------------------------------------------------------------------


def _ledger_rows(count: int) -> list[list[object]]:
    """``count`` distinct, valid task rows (without 序号), units by id and by name, dates of
    every kind a real ledger mixes."""
    names = {unit_id: name for unit_id, name, *_rest in CITY_UNITS}
    rows: list[list[object]] = []
    for n in range(count):
        unit = UNIT_IDS[n % len(UNIT_IDS)]
        day = date(2026, 12, 1) + timedelta(days=n % 60)
        due: object = datetime(day.year, day.month, day.day) if n % 2 else day.strftime("%Y年%m月%d日")
        rows.append(
            [
                f"K-{n:05d}",
                f"B{n % 7}.{n % 3}",
                f"第{n}号点位卫生整治（背街小巷）",
                "无积存垃圾、无卫生死角、无乱堆乱放",
                "每日巡查；发现即清；建立台账",
                names[unit] if n % 3 else unit,
                None,
                due,
                "督查发现" if n % 5 == 0 else None,
                f"解放路{n}号",
                f"JF-{n % 40:02d}",
                "已交办" if n % 4 == 0 else None,
            ]
        )
    return rows


def _write_csv(path: Path, rows: list[list[object]]) -> Path:
    headers = ["序号", "任务编号", "指标编号", "任务名称", "具体标准", "主要措施", "责任单位"]
    headers += ["责任领导", "完成时限", "任务来源", "点位", "网格", "状态"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for n, row in enumerate(rows, start=1):
            cells = [c.strftime("%Y-%m-%d") if isinstance(c, datetime) else c for c in row]
            writer.writerow([n, *["" if c is None else c for c in cells]])
    return path


# --- the workers (module level: spawn pickles them by name) ---------------------------------


def _arm(engine: Engine, point: str, nth: int, counted: list[int]) -> None:
    """Kill this process at ``point``: ``nth`` (after the Nth statement), ``after:<table>``
    (after the first statement writing that table), ``commit`` (as the COMMIT is issued) or
    ``none`` (only count the statements into ``counted``)."""
    target = point.partition(":")[2]
    prefix = engine.tables.tasks.name.removesuffix("tasks")
    tasks_written = [False]

    def inserts_into(statement: str, table: str) -> bool:
        head = statement.lstrip()[:200].split("(", 1)[0].rstrip().rstrip('"')
        return head.upper().startswith("INSERT") and head.endswith(prefix + table)

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted[0] += 1
        if point == "nth" and counted[0] == nth:
            kill_self()
        if target and inserts_into(statement, target):
            kill_self()
        tasks_written[0] = tasks_written[0] or inserts_into(statement, "tasks")

    def commit(_conn: Any) -> None:
        # only the COMMIT of the transaction that wrote the tasks: earlier reads commit too
        if point == "commit" and tasks_written[0]:
            kill_self()

    sa.event.listen(engine.sqlalchemy_engine, "after_cursor_execute", after)
    sa.event.listen(engine.sqlalchemy_engine, "commit", commit)


def _importer(db: tuple[str, str | None], path: str, point: str, nth: int, results: Any) -> None:
    engine = _engine(db)
    counted = [0]
    _arm(engine, point, nth, counted)
    try:
        report = import_ledger(engine, path, by=OFFICE, campaign=CAMPAIGN)
        results.put(("done", len(report.tasks), counted[0]))
    except BaseException:
        report_crash(results)
    finally:
        engine.close()


def _decomposer(db: tuple[str, str | None], rows: int, point: str, nth: int, results: Any) -> None:
    engine = _engine(db)
    counted = [0]
    batch = [
        {"unit": UNIT_IDS[n % len(UNIT_IDS)], "site": f"第{n}号点位", "external_ref": f"D-{n:05d}"}
        for n in range(rows)
    ]
    try:
        _arm(engine, point, nth, counted)
        report = engine.decompose(
            CAMPAIGN,
            "B3.2",
            batch,
            by=OFFICE,
            title="背街小巷卫生死角整治",
            standard="无积存垃圾、无卫生死角",
            measures=["每日巡查", "发现即清"],
            due=date(2026, 12, 31),
        )
        results.put(("done", len(report.tasks), counted[0]))
    except BaseException:
        report_crash(results)
    finally:
        engine.close()


# --- the checks -----------------------------------------------------------------------------


def _counts(db: tuple[str, str | None]) -> dict[str, int]:
    """Row counts of every table an import or a decomposition writes, after a write proved the
    database usable (a unit's liaison updated and set back, committed)."""
    engine = _engine(db)
    try:
        t = engine.tables
        engine.register_unit("cwb", name="市创卫办", leader="王建国", liaison="值班员")
        engine.register_unit("cwb", name="市创卫办", leader="王建国", liaison="周敏")
        with engine.sqlalchemy_engine.connect() as conn:
            found = {
                name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in (
                    ("tasks", t.tasks),
                    ("history", t.history),
                    ("outbox", t.outbox),
                    ("units", t.units),
                )
            }
            refs = conn.execute(
                sa.select(t.tasks.c.external_ref, sa.func.count()).group_by(t.tasks.c.external_ref)
            ).all()
        found["refs_twice"] = sum(1 for _ref, n in refs if n > 1)
        return found
    finally:
        engine.close()


def _plan(total: int, kills: int, seed: int) -> list[int]:
    """One kill point from each of ``kills`` equal slices of ``1..total``: spread over the run."""
    rng = random.Random(seed)
    width = total / kills
    return [
        rng.randint(int(k * width) + 1, max(int(k * width) + 1, int((k + 1) * width))) for k in range(kills)
    ]


def _run(worker: Callable[..., None], args: tuple[Any, ...]) -> tuple[int | None, list[Any]]:
    outcome = run_until_exit(worker, args, timeout=240)
    crashed = [m[-1] for m in outcome.messages if m[0] == "crashed"]
    assert not crashed, crashed
    return outcome.exitcodes[0], outcome.messages


def _crash_and_rerun(
    worker: Callable[..., None],
    source: object,
    databases: tuple[str, Any, Any],
    plan: Callable[[int], list[tuple[str, int]]],
    expected: int,
) -> tuple[list[tuple[str, int]], dict[str, int], dict[str, int]]:
    """Calibrate on the scratch database, kill the worker at every planned point on the target,
    checking after each that nothing moved, then run it cleanly. Returns the kills, the counts
    before and after the clean run."""
    _backend, target, scratch = databases
    _prepare(scratch)
    code, messages = _run(worker, (scratch, source, "none", 0))
    assert code == 0
    assert messages[0][:2] == ("done", expected)
    statements = int(messages[0][2])
    calibrated = _counts(scratch)

    _prepare(target)
    before = _counts(target)
    kills = plan(statements)
    for point, nth in kills:
        code, messages = _run(worker, (target, source, point, nth))
        assert code == -9, f"{point} #{nth} of {statements}: the worker was not killed ({messages})"
        assert _counts(target) == before, f"half-written after a kill at {point} #{nth}"
    code, messages = _run(worker, (target, source, "none", 0))
    assert code == 0
    assert messages[0][:2] == ("done", expected)
    after = _counts(target)
    assert after == calibrated, "the clean run after the kills wrote what a first run writes"
    return kills, before, after


def test_kill_9_importer_half_imports_nothing(
    databases: tuple[str, Any, Any], tmp_path: Path, figures: Figures
) -> None:
    backend = databases[0]
    rows = _ledger_rows(ROWS)
    if backend == "sqlite":  # both formats offices send: a workbook here, a CSV export on PostgreSQL
        ledger = write_ledger(tmp_path / "台账.xlsx", rows, blank_after=None)
    else:
        ledger = _write_csv(tmp_path / "台账.csv", rows)

    def plan(statements: int) -> list[tuple[str, int]]:
        return [("nth", n) for n in _plan(statements, IMPORT_KILLS - 1, seed=6)] + [("commit", 0)]

    kills, before, after = _crash_and_rerun(_importer, str(ledger), databases, plan, ROWS)
    doubled = after["refs_twice"]
    print(
        f"\n[import-crash:{backend}] {len(kills)} kills at statements "
        f"{[n for _p, n in kills]} (+ commit); tasks {before['tasks']} -> {after['tasks']}",
        file=sys.stderr,
    )
    figures.add(f"import_kills:{backend}", len(kills))
    figures.add(f"import_rows:{backend}", ROWS)
    figures.zero("import_half_written", 0)  # asserted after every kill by _crash_and_rerun
    figures.zero("import_doubled", doubled)
    assert after["tasks"] - before["tasks"] == ROWS
    assert after["history"] - before["history"] == ROWS  # one assign entry per task
    assert after["outbox"] > before["outbox"]
    assert doubled == 0
    assert len(kills) >= 10


def test_kill_9_decompose_writes_nothing_half(databases: tuple[str, Any, Any], figures: Figures) -> None:
    backend = databases[0]

    def plan(statements: int) -> list[tuple[str, int]]:
        nths = iter(_plan(statements, DECOMPOSE_KILLS // len(DECOMPOSE_POINTS), seed=5))
        return [(p, next(nths) if p == "nth" else 0) for p in DECOMPOSE_POINTS]

    kills, before, after = _crash_and_rerun(_decomposer, BATCH_ROWS, databases, plan, BATCH_ROWS)
    figures.add(f"decompose_kills:{backend}", len(kills))
    figures.zero("decompose_doubled", after["refs_twice"])
    assert after["tasks"] - before["tasks"] == BATCH_ROWS
    assert after["history"] - before["history"] == BATCH_ROWS
    assert after["refs_twice"] == 0
    assert {p for p, _n in kills} == set(DECOMPOSE_POINTS)
