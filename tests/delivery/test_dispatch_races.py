"""Two dispatcher processes draining one PostgreSQL outbox at once: nothing is lost, and the
number of messages delivered twice is counted and reported (``FOR UPDATE SKIP LOCKED`` plus
leases should make it zero)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Contact, Engine, FixedClock
from campaignflow.testing import DEMO_NOW, assign_sample
from campaignflow.testing.channels import ChannelPlugin
from tests.reliability.harness import SPAWN, FileChannel, fail_on_crash, report_crash, run_in_processes

TASKS = 300
TIMEOUT = 120


def _dispatcher(url: str, schema: str, out: str, start: Any, results: Any) -> None:
    engine = Engine(
        url,
        schema=schema,
        clock=FixedClock(DEMO_NOW),
        plugins=[ChannelPlugin(FileChannel(out))],
        load_entry_points=False,
    )
    claimed = delivered = lost = 0
    try:
        start.wait(30)
        while True:
            report = engine.dispatch(limit=7)
            if report.claimed == 0:
                break
            claimed += report.claimed
            delivered += report.delivered
            lost += report.lost_leases
        results.put(("ok", claimed, delivered, lost))
    except BaseException:
        start.abort()
        report_crash(results)
    finally:
        engine.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_dispatchers_at_once_lose_nothing(
    make_engine: Any, backend: str, tmp_path: Path, record_property: Any
) -> None:
    engine: Engine = make_engine(plugins=[ChannelPlugin(FileChannel(str(tmp_path / "unused")))])
    engine.set_contacts("cgj", [Contact(id="liu", name="刘洋", role="liaison", addresses={"file": "inbox"})])
    tasks = [assign_sample(engine) for _ in range(TASKS)]
    expected = {f"{t.id}:1:cgj:liu:file" for t in tasks}
    url = engine.sqlalchemy_engine.url.render_as_string(hide_password=False)
    schema = engine.tables.schema
    assert schema is not None

    start = SPAWN.Barrier(2)
    outs = [str(tmp_path / f"received-{n}.txt") for n in range(2)]
    outcomes = fail_on_crash(
        run_in_processes(_dispatcher, [(url, schema, out, start) for out in outs], timeout=TIMEOUT)
    )

    assert all(o[0] == "ok" for o in outcomes), outcomes
    received = [line for out in outs if Path(out).exists() for line in Path(out).read_text().splitlines()]
    counts = Counter(received)
    duplicates = sum(n - 1 for n in counts.values())
    shares = [o[2] for o in outcomes]
    record_property("delivered_per_dispatcher", shares)
    record_property("duplicates", duplicates)
    print(f"\ntwo dispatchers: {shares} rows each, {duplicates} duplicate messages, {len(counts)} distinct")

    assert set(counts) == expected  # nothing lost, nothing invented
    assert duplicates == 0
    assert sum(shares) == TASKS
    assert sum(o[3] for o in outcomes) == 0  # no lease was lost
    assert all(share > 0 for share in shares), "both dispatchers should have taken a share"
    o = engine.tables.outbox
    with engine.sqlalchemy_engine.connect() as conn:
        pending = conn.execute(sa.select(sa.func.count()).where(o.c.published_at.is_(None))).scalar_one()
    assert pending == 0


def test_two_dispatchers_on_one_sqlite_file_lose_nothing(tmp_path: Path) -> None:
    """On SQLite the claim runs under BEGIN IMMEDIATE: two engines on one file, in two threads."""
    import threading

    from campaignflow.testing.channels import RecordingChannel, sqlite_engine

    channel = RecordingChannel("file")
    engines = [sqlite_engine(tmp_path / "shared.db", plugins=(ChannelPlugin(channel),)) for _ in range(2)]
    try:
        engines[0].set_contacts(
            "cgj", [Contact(id="liu", name="刘洋", role="liaison", addresses={"file": "x"})]
        )
        tasks = [assign_sample(engines[0]) for _ in range(60)]
        errors: list[BaseException] = []

        def drain(engine: Engine) -> None:
            try:
                while engine.dispatch(limit=3).claimed:
                    pass
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sorted(channel.keys) == sorted(f"{t.id}:1:cgj:liu:file" for t in tasks)
    finally:
        for engine in engines:
            engine.close()
