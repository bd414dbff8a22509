"""Ledger import speed (issue 10): ``import_ledger`` against raw ``executemany`` of the same rows.

    .venv/bin/python benchmarks/bench_import.py [--rows 5000] [--reps 5]

On one temporary SQLite file (the engine's own settings), in the same run:

- **import (xlsx / csv)**: ``import_ledger`` of a generated N-row ledger (``.xlsx`` written with
  openpyxl, ``.csv`` as UTF-8) into a fresh campaign: reading the file, checking every cell, the
  full ``assign`` checks of every row, and the bulk insert (``Engine.assign_many``), one
  transaction.
- **raw executemany**: the tasks, history and outbox rows that import wrote, inserted again (new
  ids, another campaign) with one ``executemany`` per table and a commit, through SQLAlchemy Core:
  no file, no checks: the floor.

Every figure is rows/s, the median of ``--reps`` repetitions (≥ 5); the ratio import ÷ raw (issue
10's target: ≥ 0.5) is printed and written as JSON to ``benchmarks/results/`` (gitignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa

from campaignflow import Engine, FixedClock, import_ledger
from campaignflow.ledger.layout import TASK_COLUMNS
from campaignflow.testing import DEMO_NOW, actors

UNITS = 50


def _rows(count: int, tag: str) -> list[list[Any]]:
    due = DEMO_NOW.date() + timedelta(days=30)
    return [
        [
            n + 1,
            f"{tag}-{n:06d}",
            "B3.2",
            f"背街小巷第 {n} 段环境整治",
            "无积存垃圾、无卫生死角",
            "每日巡查；发现即清",
            f"bench-{n % UNITS:02d}",
            None,
            due,
            "督查发现" if n % 3 else None,
            f"点位{n}",
            f"G-{n % 20:02d}",
            None,
        ]
        for n in range(count)
    ]


def _write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("任务台账")
    sheet.append([c.header for c in TASK_COLUMNS])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c.header for c in TASK_COLUMNS])
        for row in rows:
            out.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    return path


def _written(engine: Engine, campaign: str) -> tuple[list[dict[str, Any]], ...]:
    """The task, history and outbox rows one import wrote (to insert again, raw)."""
    t, h, o = engine.tables.tasks, engine.tables.history, engine.tables.outbox
    with engine.begin() as conn:
        tasks = [dict(r) for r in conn.execute(sa.select(t).where(t.c.campaign == campaign)).mappings()]
        ids = [r["id"] for r in tasks]
        history: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            history += [dict(r) for r in conn.execute(sa.select(h).where(h.c.task_id.in_(chunk))).mappings()]
            outbox += [dict(r) for r in conn.execute(sa.select(o).where(o.c.task_id.in_(chunk))).mappings()]
    for row in history + outbox:
        row.pop("id")  # autoincrement keys: the database numbers the new rows
    return tasks, history, outbox


def _raw(engine: Engine, written: tuple[list[dict[str, Any]], ...], campaign: str) -> float:
    """Seconds to insert ``written`` again (new ids, ``campaign``) with one executemany per table."""
    tasks, history, outbox = written
    new_id = {r["id"]: str(uuid.uuid4()) for r in tasks}
    task_rows = [{**r, "id": new_id[r["id"]], "campaign": campaign} for r in tasks]
    history_rows = [{**r, "task_id": new_id[r["task_id"]]} for r in history]
    outbox_rows = [
        {**r, "task_id": new_id[r["task_id"]], "idempotency_key": f"{campaign}:{n}"}
        for n, r in enumerate(outbox)
    ]
    t, h, o = engine.tables.tasks.insert(), engine.tables.history.insert(), engine.tables.outbox.insert()
    started = time.perf_counter()
    with engine.sqlalchemy_engine.begin() as conn:
        conn.execute(t, task_rows)
        conn.execute(h, history_rows)
        if outbox_rows:
            conn.execute(o, outbox_rows)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    if args.reps < 5:
        parser.error("--reps must be at least 5 (medians of fewer are noise)")
    office = actors()["office"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = Engine(f"sqlite:///{folder}/bench.db", clock=FixedClock(DEMO_NOW), load_entry_points=False)
        engine.migrate()
        for n in range(UNITS):
            engine.register_unit(f"bench-{n:02d}", name=f"单位{n:02d}", leader=f"领导{n:02d}")
        files = {
            "xlsx": _write_xlsx(folder / "ledger.xlsx", _rows(args.rows, "X")),
            "csv": _write_csv(folder / "ledger.csv", _rows(args.rows, "C")),
        }
        times: dict[str, list[float]] = {"xlsx": [], "csv": [], "raw": []}
        for rep in range(args.reps + 1):  # repetition 0 warms up and is not counted
            for kind, path in files.items():
                campaign = f"bench-{kind}-{rep}"
                started = time.perf_counter()
                report = import_ledger(engine, path, by=office, campaign=campaign)
                elapsed = time.perf_counter() - started
                assert len(report.tasks) == args.rows
                if rep:
                    times[kind].append(elapsed)
            raw = _raw(engine, _written(engine, f"bench-csv-{rep}"), f"bench-raw-{rep}")
            if rep:
                times["raw"].append(raw)
        engine.close()
    rate = {kind: args.rows / statistics.median(values) for kind, values in times.items()}
    result = {
        "rows": args.rows,
        "reps": args.reps,
        "rows_per_s": {k: round(v, 1) for k, v in rate.items()},
        "ratio_xlsx_vs_raw": round(rate["xlsx"] / rate["raw"], 3),
        "ratio_csv_vs_raw": round(rate["csv"] / rate["raw"], 3),
        # each repetition's own ratio (its raw time over its import time), for the spread
        "ratios": {
            kind: {
                "median": round(statistics.median(per), 3),
                "min": round(min(per), 3),
                "max": round(max(per), 3),
            }
            for kind in ("xlsx", "csv")
            for per in ([r / t for r, t in zip(times["raw"], times[kind], strict=True)],)
        },
        "target": 0.5,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    print(f"ledger import, {args.rows} rows, median of {args.reps} (SQLite, same file, same run)")
    for kind in ("xlsx", "csv", "raw"):
        print(f"  {kind:>4}: {rate[kind]:>10,.0f} rows/s")
    print(f"  import ÷ raw executemany: xlsx {result['ratio_xlsx_vs_raw']}, csv {result['ratio_csv_vs_raw']}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_import.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
