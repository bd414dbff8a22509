"""Recurring duties (常态化任务): created ahead of time by the system for the office that owns the
schedule, once per occurrence however often the generator runs, on the work calendar (holidays
and 调休), each under the full 四有四定 rules; a refused occurrence is reported and not written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from campaignflow import (
    ActionContext,
    Actor,
    Engine,
    FixedClock,
    InvalidInput,
    Missing,
    PermissionDenied,
    Role,
    Rule,
    hookimpl,
)
from campaignflow.calendars import EXAMPLE_2027, china_calendar
from campaignflow.recurring import OnDayOff, RecurringDuty, load_schedules

SH = ZoneInfo("Asia/Shanghai")

BOARD = RecurringDuty(
    id="board",
    office="cwb",
    rule="FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1",  # 宣传栏两月更换一次
    start=date(2026, 11, 1),
    title="更换健康教育宣传栏内容",
    standard="宣传栏内容两月更换一次，面积不少于 3 平方米",
    measures=["设计新一期内容", "更换并拍照留档"],
    unit="wsj",
    campaign="2026创卫",
    indicator="A2.1",
)
SWEEPING = RecurringDuty(
    id="market-sweep",
    office="cwb",
    rule="FREQ=DAILY",  # every working day
    on_day_off="skip",
    start=date(2026, 1, 1),
    title="农贸市场周边每日保洁",
    standard="无积存垃圾、无卫生死角",
    measures=["早晚两次保洁"],
    unit="cgj",
    campaign="2026创卫",
    indicator="B3.2",
)


def _tasks(engine: Engine) -> list[Any]:
    return list(engine.tasks(limit=1000).items)


def _dues(engine: Engine) -> list[date]:
    return sorted((t.deadline - timedelta(microseconds=1)).astimezone(SH).date() for t in _tasks(engine))


def test_run_twice_gives_the_same_tasks(engine: Engine, clock: FixedClock) -> None:
    twice_a_month = attrs.evolve(BOARD, id="twice", rule="FREQ=MONTHLY;BYMONTHDAY=1,16", unit="cgj")
    first = engine.generate_recurring([BOARD, twice_a_month], until=date(2026, 12, 31))
    # today is Mon 2 Nov 2026: 1 November was a Sunday, so its instances are due today; then
    # 16 November, 1 December (Tuesday), 16 December.
    assert [(o.external_ref, o.due) for o in first.created] == [
        ("board:2026-11-01", date(2026, 11, 2)),
        ("twice:2026-11-01", date(2026, 11, 2)),
        ("twice:2026-11-16", date(2026, 11, 16)),
        ("twice:2026-12-01", date(2026, 12, 1)),
        ("twice:2026-12-16", date(2026, 12, 16)),
    ]
    assert first.existing == ()
    assert first.refused == ()
    tasks = {t.id: t for t in _tasks(engine)}
    assert len(tasks) == 5

    clock.advance(hours=5)
    second = engine.generate_recurring([BOARD, twice_a_month], until=date(2026, 12, 31))
    assert second.created == ()
    assert second.refused == ()
    assert [(o.external_ref, o.task_id) for o in second.existing] == [
        (o.external_ref, o.task_id) for o in first.created
    ]
    assert {t.id: t for t in _tasks(engine)} == tasks  # not one task or version more


def test_each_occurrence_is_created_by_the_system_for_the_office(engine: Engine) -> None:
    report = engine.generate_recurring([BOARD], until=date(2026, 12, 31))
    [occurrence] = report.created
    assert occurrence.task_id is not None
    task = engine.get(occurrence.task_id)
    assert task.external_ref == "board:2026-11-01"
    assert task.office_unit == "cwb"
    assert task.leader == "李四"  # the unit's registered leader: 定领导 as for any assignment
    assert task.deadline == datetime(2026, 11, 3, tzinfo=SH)  # the end of Mon 2 November
    [entry] = engine.history(task.id)
    assert (entry.trigger, entry.actor_id, entry.actor_role, entry.actor_unit) == (
        "assign",
        "system",
        "system",
        "cwb",
    )
    assert entry.payload["recurrence"] == {"schedule": "board", "date": "2026-11-01"}
    assert engine.verify_history(task.id) is None
    assert [n["recipient"] for n in engine.notifications(task.id)] == ["wsj"]


def test_every_working_day_follows_holidays_and_make_up_days(
    make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    clock.set(datetime(2026, 9, 18, 9, tzinfo=SH))  # Friday before 中秋 and 国庆 2026
    engine = make_engine()
    report = engine.generate_recurring([SWEEPING], until=date(2026, 10, 11))
    assert report.refused == ()
    assert [o.due for o in report.created] == [
        date(2026, 9, 18),
        date(2026, 9, 20),  # Sunday, a 调休 working day
        date(2026, 9, 21),
        date(2026, 9, 22),
        date(2026, 9, 23),
        date(2026, 9, 24),
        # 25–27 September 中秋, a weekend inside it
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        # 1–7 October 国庆
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),  # Saturday, a 调休 working day
    ]
    assert _dues(engine) == [o.due for o in report.created]


def test_on_a_day_off_an_occurrence_moves_is_kept_or_is_dropped(
    make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    clock.set(datetime(2026, 9, 18, 9, tzinfo=SH))
    engine = make_engine()
    monthly = attrs.evolve(BOARD, id="m", rule="FREQ=MONTHLY;BYMONTHDAY=1", start=date(2026, 1, 1))
    kept = attrs.evolve(monthly, id="k", on_day_off="keep")
    dropped = attrs.evolve(monthly, id="d", on_day_off=OnDayOff.SKIP)
    report = engine.generate_recurring([monthly, kept, dropped], until=date(2026, 10, 31))
    assert [(o.external_ref, o.due) for o in report.created] == [
        ("m:2026-10-01", date(2026, 10, 8)),  # 国庆: the next working day
        ("k:2026-10-01", date(2026, 10, 1)),
    ]


def test_a_generator_that_did_not_run_does_not_backfill_but_a_moved_date_still_counts(
    make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    clock.set(datetime(2026, 10, 5, 9, tzinfo=SH))  # inside 国庆: 1 October's instance is due on the 8th
    engine = make_engine()
    monthly = attrs.evolve(BOARD, id="m", rule="FREQ=MONTHLY;BYMONTHDAY=1,3", start=date(2026, 1, 1))
    report = engine.generate_recurring([monthly, SWEEPING], until=date(2026, 10, 9))
    assert [(o.external_ref, o.due) for o in report.created] == [
        ("m:2026-10-01", date(2026, 10, 8)),
        ("m:2026-10-03", date(2026, 10, 8)),
        ("market-sweep:2026-10-08", date(2026, 10, 8)),
        ("market-sweep:2026-10-09", date(2026, 10, 9)),
    ]


def test_a_year_the_calendar_does_not_know_is_reported_not_guessed(
    make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    clock.set(datetime(2026, 12, 29, 9, tzinfo=SH))
    engine = make_engine()
    report = engine.generate_recurring([SWEEPING], until=date(2027, 1, 6))
    assert [o.due for o in report.created] == [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    [refused] = report.refused
    assert refused.code == "calendar_year_unknown"
    assert refused.occurrence.external_ref == "market-sweep:2027-01-01"
    assert "2027" in refused.message_en

    planned = make_engine(calendar=china_calendar([EXAMPLE_2027]))
    again = planned.generate_recurring([SWEEPING], until=date(2027, 1, 6))
    assert again.refused == ()
    assert [o.due for o in again.existing] == [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    assert [o.due for o in again.created] == [date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)]


def test_a_refused_occurrence_is_reported_and_nothing_of_it_is_written(engine: Engine) -> None:
    no_standard = attrs.evolve(BOARD, id="vague", standard="  ", rule="FREQ=MONTHLY;BYMONTHDAY=16")
    nobody = attrs.evolve(BOARD, id="nobody", unit="no-such-unit", rule="FREQ=MONTHLY;BYMONTHDAY=16")
    before = engine.pending_notifications(limit=1000)
    report = engine.generate_recurring([no_standard, nobody, BOARD], until=date(2026, 12, 20))
    assert [(r.occurrence.external_ref, r.code, r.codes) for r in report.refused] == [
        ("vague:2026-11-16", "rule_violation", ("fixed_task_standard",)),
        ("vague:2026-12-16", "rule_violation", ("fixed_task_standard",)),
        ("nobody:2026-11-16", "rule_violation", ("fixed_department", "fixed_leader")),
        ("nobody:2026-12-16", "rule_violation", ("fixed_department", "fixed_leader")),
    ]
    [created] = report.created  # the valid schedule goes ahead
    assert [t.id for t in _tasks(engine)] == [created.task_id]
    assert [n["task_id"] for n in engine.pending_notifications(limit=1000)] == [
        *(n["task_id"] for n in before),
        created.task_id,
    ]


class NoBoardsUnder3m2:
    name = "board-size"

    @hookimpl
    def campaignflow_rules(self) -> list[Rule]:
        def check(ctx: ActionContext) -> Iterable[Missing]:
            if ctx.attributes.get("area_m2", 0) < 3:
                yield Missing("board_area", "宣传栏", "宣传栏面积不得小于 3 平方米", "board under 3 m²")

        return [Rule("宣传栏面积", {"assign"}, check, {"board_area"})]


def test_plugin_rules_for_assign_hold_for_occurrences_too(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(plugins=[NoBoardsUnder3m2()])
    small = attrs.evolve(BOARD, attributes={"area_m2": 2.4})
    [refused] = engine.generate_recurring([small], until=date(2026, 12, 31)).refused
    assert refused.codes == ("board_area",)
    big = attrs.evolve(BOARD, attributes={"area_m2": 4})
    assert len(engine.generate_recurring([big], until=date(2026, 12, 31)).created) == 1


def test_an_edited_schedule_does_not_rewrite_an_existing_occurrence(engine: Engine) -> None:
    engine.generate_recurring([BOARD], until=date(2026, 12, 31))
    edited = attrs.evolve(BOARD, title="更换宣传栏（新版）")
    [refused] = engine.generate_recurring([edited], until=date(2026, 12, 31)).refused
    assert refused.code == "external_ref_mismatch"
    assert [t.title for t in _tasks(engine)] == [BOARD.title]


def test_only_the_system_creates_occurrences_and_the_system_assigns_nothing_else(
    engine: Engine, office: Actor
) -> None:
    fields: dict[str, Any] = {
        "title": BOARD.title,
        "standard": BOARD.standard,
        "measures": list(BOARD.measures),
        "unit": BOARD.unit,
        "campaign": BOARD.campaign,
        "indicator": BOARD.indicator,
        "due": date(2026, 12, 1),
    }
    with pytest.raises(PermissionDenied) as refused:
        engine.assign(by=Actor("system", "cwb", Role.SYSTEM), **fields)
    assert refused.value.trigger == "assign"
    with pytest.raises(PermissionDenied) as by_hand:
        engine.assign(by=office, _recurrence={"schedule": "board", "date": "2026-12-01"}, **fields)
    assert by_hand.value.trigger == "create_recurring"
    assert _tasks(engine) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rule": "FREQ=SOMETIMES"}, "rule"),
        ({"rule": "DTSTART:20260101\nRRULE:FREQ=DAILY"}, "rule"),
        ({"id": " "}, "id"),
        ({"start": datetime(2026, 1, 1, tzinfo=SH)}, "start"),
        ({"on_day_off": "whenever"}, ""),
        ({"measures": "每日巡查"}, "measures"),
    ],
)
def test_a_malformed_schedule_is_refused_when_it_is_made(change: dict[str, Any], field: str) -> None:
    with pytest.raises((InvalidInput, ValueError)) as refused:
        attrs.evolve(BOARD, **change)
    if field:
        assert isinstance(refused.value, InvalidInput)
        assert refused.value.field == field


def test_a_bad_horizon_or_duplicate_ids_change_nothing(engine: Engine) -> None:
    for until in (date(2026, 11, 1), date(2028, 1, 1)):
        with pytest.raises(InvalidInput) as refused:
            engine.generate_recurring([BOARD], until=until)
        assert refused.value.field == "until"
    with pytest.raises(InvalidInput) as twice:
        engine.generate_recurring([BOARD, BOARD], until=date(2027, 1, 31))
    assert twice.value.field == "schedules"
    assert _tasks(engine) == []


def test_the_default_horizon_is_a_week(engine: Engine) -> None:
    report = engine.generate_recurring([SWEEPING])
    assert report.until == date(2026, 11, 9)
    assert [o.due.day for o in report.created] == [2, 3, 4, 5, 6, 9]


def test_schedules_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "duties.toml"
    path.write_text(
        """
[[duty]]
id = "board"
office = "cwb"
rule = "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1"
start = 2026-11-01
title = "更换健康教育宣传栏内容"
standard = "宣传栏内容两月更换一次，面积不少于 3 平方米"
measures = ["设计新一期内容", "更换并拍照留档"]
unit = "wsj"
campaign = "2026创卫"
indicator = "A2.1"
""",
        encoding="utf-8",
    )
    assert load_schedules(path) == [BOARD]
    path.write_text('[[duty]]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing"):
        load_schedules(path)
    with pytest.raises(InvalidInput):
        load_schedules(tmp_path / "absent.toml")
