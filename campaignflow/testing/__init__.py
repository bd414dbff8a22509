"""Test doubles and builders for host apps and plugins: a fixed clock, a seeded unit registry,
valid plan/deployment/evidence/inspection builders, and a snapshot to prove a refusal changed
nothing. The Chinese step library for pytest-bdd lives in :mod:`campaignflow.testing.steps`."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from campaignflow.clock import FixedClock
from campaignflow.domain.model import (
    Deployment,
    Evidence,
    HistoryEntry,
    Inspection,
    Person,
    Plan,
    PlanStep,
    Task,
    TaskState,
)
from campaignflow.domain.roles import Actor, Role
from campaignflow.engine import Engine

__all__ = [
    "CITY_UNITS",
    "DEMO_NOW",
    "FixedClock",
    "Snapshot",
    "actors",
    "assign_sample",
    "drive_to",
    "sample_deployment",
    "sample_evidence",
    "sample_inspection",
    "sample_plan",
    "seed_units",
    "snapshot",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
"""A Monday morning: the fixed time demos and the shipped specs run at."""

# (id, name, leader, parent, liaison): the seed's offices and units (创卫办, 城管局, 卫生局, a street
# office and one of its communities).
CITY_UNITS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("cwb", "市创卫办", "王建国", None, "周敏"),
    ("cgj", "市城管局", "张三", None, "刘洋"),
    ("wsj", "市卫生局", "李四", None, "陈静"),
    ("jd-cg", "城关街道办事处", "赵五", None, "孙丽"),
    ("sq-ft", "芳草堤社区", "钱六", "jd-cg", "吴芳"),
)


def seed_units(engine: Engine) -> None:
    """Register :data:`CITY_UNITS` (parents first)."""
    for unit_id, name, leader, parent, liaison in CITY_UNITS:
        engine.register_unit(unit_id, name=name, leader=leader, parent=parent, liaison=liaison)


def actors() -> dict[str, Actor]:
    """One actor per role over :data:`CITY_UNITS`: office, staff of 城管局, inspector of 卫生局 …"""
    return {
        "office": Actor("wang", "cwb", Role.OFFICE),
        "staff": Actor("liu", "cgj", Role.UNIT),
        "other_staff": Actor("sun", "jd-cg", Role.UNIT),
        "inspector": Actor("chen", "wsj", Role.INSPECTOR),
        "own_inspector": Actor("gao", "cgj", Role.INSPECTOR),
        "system": Actor.system(),
    }


def sample_plan(task: Task, engine: Engine) -> Plan:
    """A valid one-step plan whose milestone is the day before the deadline."""
    last = (task.deadline - timedelta(microseconds=1)).astimezone(engine.timezone).date()
    return Plan([PlanStep("清理积存垃圾并建立长效保洁制度", last)])


def sample_deployment() -> Deployment:
    return Deployment([Person("刘洋", "现场负责人", "13800000000")], resources=["清运车 1 辆"])


def sample_evidence(at: datetime, content: bytes = b"photo-after") -> Evidence:
    return Evidence(
        kind="photo",
        uri="evidence://after.jpg",
        sha256=hashlib.sha256(content).hexdigest(),
        taken_at=at,
        taken_by="刘洋",
        note="整改后照片",
    )


def sample_inspection(at: datetime, unit: str = "wsj", inspector: str = "陈静") -> Inspection:
    return Inspection(inspector=inspector, inspector_unit=unit, inspected_at=at, conclusion="符合标准")


def assign_sample(
    engine: Engine,
    *,
    by: Actor | None = None,
    unit: str = "cgj",
    due: date | None = None,
    **overrides: Any,
) -> Task:
    """Assign a complete, valid task (city unit registry assumed seeded)."""
    now = engine.clock.now().astimezone(engine.timezone)
    fields: dict[str, Any] = {
        "title": "背街小巷卫生死角整治",
        "standard": "无积存垃圾、无卫生死角",
        "measures": ["每日巡查", "发现即清"],
        "campaign": "2026创卫",
        "indicator": "B3.2",
        "kind": "general",
    }
    fields.update(overrides)
    return engine.assign(
        by=by or actors()["office"],
        unit=unit,
        due=due or (now.date() + timedelta(days=30)),
        **fields,
    )


@attrs.frozen
class Snapshot:
    """Everything an action could change for one task."""

    task: Task
    history: tuple[HistoryEntry, ...]
    outbox: tuple[tuple[Any, ...], ...]


def snapshot(engine: Engine, task_id: str) -> Snapshot:
    """Task, history and outbox of ``task_id`` as stored now (compare two to prove nothing moved)."""
    rows = tuple(
        (r["id"], r["event"], r["recipient"], r["idempotency_key"]) for r in engine.notifications(task_id)
    )
    return Snapshot(engine.get(task_id), tuple(engine.history(task_id)), rows)


_HAPPY_PATH = ("assigned", "rectifying", "self_checked", "verified", "archived")


def drive_to(engine: Engine, state: str | TaskState, task_id: str | None = None) -> Task:
    """Drive a new (or the given) task along the happy path until it reaches ``state``.

    Uses the actors of :func:`actors` and the sample builders; a :class:`FixedClock` on the engine
    is advanced an hour before each step so history times differ.
    """
    a = actors()
    target = _HAPPY_PATH.index(TaskState(state).value)
    task = engine.get(task_id) if task_id else assign_sample(engine)
    while _HAPPY_PATH.index(task.state.value) < target:
        if isinstance(engine.clock, FixedClock):
            engine.clock.advance(hours=1)
        now = engine.clock.now()
        if task.state is TaskState.ASSIGNED:
            task = engine.start(
                task.id, by=a["staff"], plan=sample_plan(task, engine), deployment=sample_deployment()
            )
        elif task.state is TaskState.RECTIFYING:
            task = engine.submit_self_check(
                task.id, by=a["staff"], report="已按标准整改", evidence=[sample_evidence(now)]
            )
        elif task.state is TaskState.SELF_CHECKED:
            task = engine.pass_verification(task.id, by=a["inspector"], inspection=sample_inspection(now))
        else:
            task = engine.archive(task.id, by=a["office"])
    return task
