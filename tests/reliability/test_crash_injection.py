"""Crash injection: a dispatcher process is killed with SIGKILL (kill -9) at chosen points, again
and again, and restarted; a real HTTP receiver outside it (the webhook channel of
``campaignflow-notify-webhook``) counts what arrives.

The kill points are deterministic and live in the test, never in the library:

``before_send``
    a test channel (the webhook channel, subclassed here) kills its own process at its Nth send,
    before the request leaves;
``after_send``
    the same channel kills its process right after the receiver answered the Nth request, before
    the dispatcher could record the delivery;
``in_mark``
    a SQLAlchemy cursor hook kills the process right after the Nth "delivered" UPDATE ran, before
    its transaction commits (the mark is lost with the process).

N is drawn from a seeded generator, so most kills land mid-batch (rows claimed, some delivered and
marked, the rest leased to a dead process until the lease runs out). Each restart runs on a clock
past the dead process's leases. After the last kill a clean dispatcher drains what is left.

What must hold: every notification reached the receiver at least once (none lost), every row is
marked published and none is a dead letter, and every duplicate the receiver got carries an
idempotency key it has already seen, with the same content: dropping by key loses nothing. The raw
number of duplicates is reported per kill.

The importer and the batch decomposition are killed the same way in ``test_import_crash.py``
(there "nothing half-written" is checked after every single kill, so it runs its own loop).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from campaignflow_notify_webhook import WebhookChannel

from campaignflow import Contact, DeliveryPolicy, Engine, FixedClock, Message
from campaignflow.testing import DEMO_NOW, assign_sample, seed_units
from campaignflow.testing.channels import ChannelPlugin
from tests.reliability.harness import SPAWN, Figures, Receiver, kill_self, report_crash, run_until_exit

pytestmark = pytest.mark.slow

KILLS = 36  # at least 30; 12 per kill point
POINTS = ("before_send", "after_send", "in_mark")
POLICY = DeliveryPolicy(lease=timedelta(minutes=1), batch=5, send_timeout=5.0)
PEOPLE = (("liu", "刘洋"), ("zhou", "周敏"))  # two people per message row: a kill can split a row


class KillingWebhook(WebhookChannel):
    """The real webhook channel, killing its own process at the Nth send (test-only)."""

    def __init__(self, point: str, nth: int) -> None:
        super().__init__(timeout=5.0)
        self.point, self.nth, self.sends = point, nth, 0

    def send(self, message: Message) -> None:
        self.sends += 1
        if self.point == "before_send" and self.sends == self.nth:
            kill_self()
        super().send(message)
        if self.point == "after_send" and self.sends == self.nth:
            kill_self()


def _dispatcher(db: str, at: datetime, point: str, nth: int, results: Any) -> None:
    """Drain the outbox; die at the planned point (``point == "none"``: never)."""
    engine = Engine(
        f"sqlite:///{db}",
        clock=FixedClock(at),
        plugins=[ChannelPlugin(KillingWebhook(point, nth))],
        load_entry_points=False,
        delivery=POLICY,
    )
    marks = [0]

    def kill_in_mark(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "delivered" in statement:
            marks[0] += 1
            if marks[0] == nth:
                kill_self()

    if point == "in_mark":
        sa.event.listen(engine.sqlalchemy_engine, "after_cursor_execute", kill_in_mark)
    try:
        delivered = 0
        while (report := engine.dispatch()).claimed:
            delivered += report.delivered
        results.put(("done", delivered))
    except BaseException:
        report_crash(results)
    finally:
        engine.close()


@attrs.frozen
class Kill:
    """One planned kill: where, at which occurrence, and the raw duplicates the restart produced."""

    point: str
    nth: int
    killed: bool
    duplicates_after: int


def crash_loop(
    run: Callable[[int, str, int], int | None],
    measure: Callable[[], int],
    *,
    kills: int,
    points: tuple[str, ...],
    top_up: Callable[[], None],
    seed: int = 9,
) -> list[Kill]:
    """Run ``run(index, point, nth)`` (one process; returns its exit code) until ``kills`` runs
    were killed, cycling through ``points`` with N drawn from a seeded generator; ``top_up`` adds
    work when a run finished without meeting its kill point. ``measure`` gives the raw duplicate
    count so far; each kill is credited with the duplicates the next run produced."""
    rng = random.Random(seed)
    done: list[Kill] = []
    index = 0
    while len([k for k in done if k.killed]) < kills:
        point = points[len(done) % len(points)]
        nth = rng.randint(1, 7)
        before = measure()
        code = run(index, point, nth)
        index += 1
        if done:  # the duplicates this run produced belong to the previous kill's recovery
            last = done[-1]
            done[-1] = attrs.evolve(last, duplicates_after=last.duplicates_after + measure() - before)
        if code == -9:
            done.append(Kill(point, nth, True, 0))
        else:
            assert code == 0, f"run {index} ({point} #{nth}) exited {code}"
            top_up()
    before = measure()
    assert run(index, "none", 0) == 0
    done[-1] = attrs.evolve(done[-1], duplicates_after=done[-1].duplicates_after + measure() - before)
    return done


def test_kill_9_dispatchers_lose_nothing(tmp_path: Path, figures: Figures) -> None:
    db = str(tmp_path / "crash.db")
    engine = Engine(f"sqlite:///{db}", clock=FixedClock(DEMO_NOW), load_entry_points=False)
    seed_units(engine)
    with Receiver() as receiver:
        engine.set_contacts(
            "cgj",
            [
                Contact(id=pid, name=name, role="liaison", addresses={"webhook": receiver.url})
                for pid, name in PEOPLE
            ],
        )
        tasks: list[str] = []

        def top_up() -> None:
            tasks.extend(assign_sample(engine).id for _ in range(12))

        def duplicates() -> int:
            keys = receiver.keys()
            return len(keys) - len(set(keys))

        def run(index: int, point: str, nth: int) -> int | None:
            at = DEMO_NOW + index * (POLICY.lease + timedelta(seconds=1))  # past the dead leases
            outcome = run_until_exit(_dispatcher, (db, at, point, nth), timeout=120, context=SPAWN)
            crashed = [m[-1] for m in outcome.messages if m[0] == "crashed"]
            assert not crashed, crashed
            return outcome.exitcodes[0]

        top_up()
        kills = crash_loop(run, duplicates, kills=KILLS, points=POINTS, top_up=top_up)
        received = list(receiver.received)

    expected = {f"{t}:1:cgj:{pid}:webhook" for t in tasks for pid, _name in PEOPLE}
    counts = Counter(key for key, _body in received)
    lost = expected - set(counts)
    raw_duplicates = sum(n - 1 for n in counts.values())
    # the receiver drops a repeat by its key alone: the repeat must be the same notification
    first: dict[str, Any] = {}
    differing = 0
    for key, body in received:
        content = {k: v for k, v in body.items() if k != "attempt"}
        if first.setdefault(key, content) != content:
            differing += 1
    o = engine.tables.outbox
    with engine.sqlalchemy_engine.connect() as conn:
        unpublished = conn.execute(sa.select(sa.func.count()).where(o.c.published_at.is_(None))).scalar_one()
        dead = conn.execute(sa.select(sa.func.count()).where(o.c.dead_at.is_not(None))).scalar_one()
    engine.close()

    killed = [k for k in kills if k.killed]
    per_point = {p: sum(k.duplicates_after for k in killed if k.point == p) for p in POINTS}
    print(
        f"\n[crash] {len(killed)} kills, {len(received)} requests received, {len(counts)} distinct, "
        f"{raw_duplicates} raw duplicates; per point {per_point}",
        file=sys.stderr,
    )
    print(
        "[crash] raw duplicates per kill: "
        + " ".join(f"{k.point}#{k.nth}:{k.duplicates_after}" for k in killed)
    )
    figures.add("crash_kills", len(killed))
    for point in POINTS:
        figures.add(f"crash_kills:{point}", sum(1 for k in killed if k.point == point))
        figures.add(f"crash_raw_duplicates:{point}", per_point[point])
    figures.add("crash_notifications_expected", len(expected))
    figures.add("crash_requests_received", len(received))
    figures.zero("crash_lost", len(lost))
    figures.zero("crash_duplicates_after_dedup", len(counts) - len(expected) + differing)

    assert len(killed) >= 30
    assert not lost, sorted(lost)[:5]
    assert set(counts) == expected  # nothing invented either
    assert differing == 0, "a repeated key carried different content: dropping it would lose news"
    assert unpublished == 0
    assert dead == 0
    assert raw_duplicates == sum(k.duplicates_after for k in kills)
    # a kill after a send and before its mark must cause a repeat: the check is not vacuous
    assert per_point["after_send"] > 0
    assert per_point["in_mark"] > 0
