"""What plugins and delivery cost: actions per second with and without plugins, the rule-set
evaluation per action, and messages delivered per second by one dispatcher (SQLite).

    .venv/bin/python benchmarks/bench_plugins.py [--tasks 300]

Plugin rules are not pluggy calls on the hot path: they are collected once when the Engine is
built and run as ordinary rules; notification hooks run in the dispatcher, after commit. So the
difference per action is the extra rule checks and one extra outbox row per notifying plugin.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from campaignflow import ActionContext, Contact, Engine, FixedClock, Notice, Rule, hookimpl
from campaignflow.testing import DEMO_NOW, assign_sample, seed_units
from campaignflow.testing.channels import ChannelPlugin, RecordingChannel

TRIGGERS = {"assign", "start", "submit_self_check", "pass_verification", "archive"}


class TenRules:
    name = "ten-rules"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        return [Rule(f"r{n}", TRIGGERS, lambda _ctx: (), {f"r{n}"}) for n in range(10)]


class Notifier:
    name = "notifier"

    @hookimpl
    def campaignflow_notifications(self, event: object) -> list[Notice]:
        return [Notice(unit="cwb", roles=("leader",))]


def assigns_per_second(folder: Path, label: str, plugins: list[object], tasks: int) -> float:
    engine = Engine(
        f"sqlite:///{folder / label}.db", clock=FixedClock(DEMO_NOW), plugins=plugins, load_entry_points=False
    )
    seed_units(engine)
    assign_sample(engine)
    started = time.perf_counter()
    for _ in range(tasks):
        assign_sample(engine)
    rate = tasks / (time.perf_counter() - started)
    engine.close()
    return rate


def evaluate_microseconds(plugins: list[object]) -> float:
    engine = Engine("sqlite://", clock=FixedClock(DEMO_NOW), plugins=plugins, load_entry_points=False)
    ctx = ActionContext(
        trigger="assign",
        now=DEMO_NOW,
        timezone=engine.timezone,
        kind="general",
        title="t",
        standard="s",
        measures=("m",),
        unit_id="x",
        leader="l",
        deadline=DEMO_NOW + timedelta(days=1),
    )
    runs = 20_000
    started = time.perf_counter()
    for _ in range(runs):
        engine.rules.evaluate(ctx)
    engine.close()
    return (time.perf_counter() - started) / runs * 1e6


def messages_per_second(folder: Path, tasks: int) -> float:
    channel = RecordingChannel()
    engine = Engine(
        f"sqlite:///{folder / 'dispatch'}.db",
        clock=FixedClock(DEMO_NOW),
        plugins=[ChannelPlugin(channel)],
        load_entry_points=False,
    )
    seed_units(engine)
    engine.set_contacts(
        "cgj",
        [
            Contact(
                id=f"p{n}",
                name=f"p{n}",
                role="leader" if n == 0 else "liaison",
                addresses={"recording": f"p{n}"},
            )
            for n in range(2)
        ],
    )
    for _ in range(tasks):
        assign_sample(engine)
    started = time.perf_counter()
    while engine.dispatch(limit=50).claimed:
        pass
    rate = len(channel.messages) / (time.perf_counter() - started)
    engine.close()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        bare = assigns_per_second(path, "bare", [], args.tasks)
        loaded = assigns_per_second(path, "plugins", [TenRules(), Notifier()], args.tasks)
        print(f"assign/s without plugins: {bare:8.0f}")
        print(f"assign/s with 10 plugin rules and a notifier: {loaded:8.0f} ({loaded / bare:.0%})")
        print(f"rule-set evaluation, built-in only: {evaluate_microseconds([]):6.1f} µs")
        print(f"rule-set evaluation, +10 plugin rules: {evaluate_microseconds([TenRules()]):6.1f} µs")
        print(
            f"dispatch, messages/s (SQLite, 2 people per row, batches of 50): "
            f"{messages_per_second(path, args.tasks):8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
