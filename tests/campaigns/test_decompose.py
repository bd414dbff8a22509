"""Batch decomposition (逐项分解): all rows become full tasks in one transaction, or none does and
every refused row is reported."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    Actor,
    BatchRefused,
    DecompositionRow,
    Engine,
    InvalidInput,
    Limit,
    PermissionDenied,
    Role,
    TaskSource,
)
from campaignflow.domain.history import GENESIS
from campaignflow.domain.structure import OfficeScope
from campaignflow.testing import actors

OFFICE = actors()["office"]
DUE = date(2026, 12, 1)


def _nothing_written(engine: Engine) -> None:
    assert engine.tasks().items == ()
    assert engine.pending_notifications() == []


def test_every_row_becomes_a_full_task_with_its_chain_and_notifications(city: Engine) -> None:
    report = city.decompose(
        "2027创卫",
        "B3.2",
        [
            "sq-ly",
            DecompositionRow(unit="sq-hp", leader="书记丁", due=date(2026, 11, 20)),
            {"site": "S-LYSC"},
        ],
        by=OFFICE,
        measures=["每日巡查", "发现即清"],
        due=DUE,
    )
    assert [t.unit for t in report.tasks] == ["sq-ly", "sq-hp", "dw-sc"]
    for index, task in enumerate(report.tasks):
        stored = city.get(task.id)
        assert stored == task
        assert (stored.title, stored.standard) == ("背街小巷", "无积存垃圾、无卫生死角")  # from the tree
        assert stored.state.value == "assigned"
        history = city.history(task.id)
        assert len(history) == 1
        assert history[0].prev_hash == GENESIS
        assert history[0].payload["batch"] == {"id": report.batch, "row": index}
        assert city.verify_history(task.id) is None
        assert city.notifications(task.id)
    assert report.tasks[0].leader == "书记丙"  # the registry's leader by default
    assert report.tasks[1].deadline.date() == date(2026, 11, 21)  # the row's own due (end of the day)
    by_site = city.history(report.tasks[2].id)[0].payload["responsibility"]
    assert (by_site["unit"], by_site["rule"]) == ("dw-sc", "site")
    assert report.tasks[2].site == "S-LYSC"
    assert city.verify_history().ok


def test_one_bad_row_refuses_the_batch_and_writes_nothing(city: Engine) -> None:
    with pytest.raises(BatchRefused) as refused:
        city.decompose(
            "2027创卫", "B3.2", ["sq-ly", "nowhere", "sq-hp"], by=OFFICE, measures=["巡查"], due=DUE
        )
    rows = refused.value.refused
    assert [(r.index, r.unit, r.codes) for r in rows] == [
        (1, "nowhere", ("fixed_department", "fixed_leader"))
    ]
    assert "第 1 行" in refused.value.message_zh
    assert "row 1" in refused.value.message_en
    _nothing_written(city)


def test_every_refused_row_is_reported_with_why(city: Engine) -> None:
    city.register_unit("cwb-dc", name="东城区创卫办", leader="主任辛", parent="qu-dc")
    city.set_office_scopes("cwb-dc", [OfficeScope(office="cwb-dc", root="qu-dc")])
    district = Actor("dc", "cwb-dc", Role.OFFICE)
    rows: list[Any] = [
        "sq-ly",
        "jd-xh",  # another district
        DecompositionRow(unit="sq-hp", leader="别人"),  # not the registered leader
        {"unit": "sq-ly", "colour": "red"},  # an unknown field
        DecompositionRow(unit="sq-ly", external_ref="R1"),
        DecompositionRow(unit="sq-hp", external_ref="R1"),  # the same reference twice
        {"site": "未登记点位"},  # no such site: B3.2's lead department 市城管局, outside the district
    ]
    with pytest.raises(BatchRefused) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=district, measures=["巡查"], limit=Limit.working_days(5))
    found = {r.index: r.codes for r in refused.value.refused}
    assert found == {
        1: ("out_of_scope",),
        2: ("fixed_leader",),
        3: ("invalid_input",),
        5: ("invalid_input",),
        6: ("out_of_scope",),
    }
    assert refused.value.refused[-1].unit == "cgj"
    _nothing_written(city)


def test_rules_for_the_whole_call_refuse_the_whole_call(city: Engine) -> None:
    with pytest.raises(PermissionDenied):
        city.decompose("2027创卫", "B3.2", ["sq-ly"], by=actors()["staff"], measures=["巡查"], due=DUE)
    with pytest.raises(BatchRefused) as refused:
        city.decompose(
            "2027创卫",
            "Z9",
            ["sq-ly", "sq-hp"],
            by=OFFICE,
            title="甲",
            standard="乙",
            measures=["巡查"],
            due=DUE,
        )
    assert {r.codes for r in refused.value.refused} == {("indicator_in_tree",)}
    _nothing_written(city)


def _units(engine: Engine, count: int) -> list[str]:
    ids = [f"dw-{n:03d}" for n in range(count)]
    for unit_id in ids:
        engine.register_unit(unit_id, name=f"单位{unit_id}", leader=f"领导{unit_id}", parent="sq-ly")
    return ids


def _count_inserts(engine: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            table = statement.split()[2].strip('"').split(".")[-1].strip('"')
            counts[table] = counts.get(table, 0) + 1

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", count)
    return counts


def test_five_thousand_tasks_in_one_call_with_bulk_statements(city: Engine) -> None:
    units = _units(city, 50)
    rows = [DecompositionRow(unit=units[n % 50], site=f"点位{n}") for n in range(5000)]
    counts = _count_inserts(city)
    report = city.decompose(
        "2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE, source=TaskSource.OFFICE
    )
    assert len(report.tasks) == 5000
    assert len({t.id for t in report.tasks}) == 5000
    # One executemany each for tasks and history; outbox rows likewise (none per task).
    assert counts.get("cf_tasks", 0) <= 2
    assert counts.get("cf_history", 0) <= 2
    with city.begin() as conn:
        tasks = conn.execute(sa.select(sa.func.count()).select_from(city.tables.tasks)).scalar()
        entries = conn.execute(sa.select(sa.func.count()).select_from(city.tables.history)).scalar()
    assert (tasks, entries) == (5000, 5000)
    assert city.verify_history().ok


def test_five_thousand_rows_and_one_bad_one_write_nothing(city: Engine) -> None:
    units = _units(city, 50)
    rows: list[Any] = [units[n % 50] for n in range(5000)]
    rows[4321] = "nowhere"
    with pytest.raises(BatchRefused) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert [(r.index, r.unit) for r in refused.value.refused] == [(4321, "nowhere")]
    _nothing_written(city)


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.begin() as conn:
        tasks = conn.execute(sa.select(sa.func.count()).select_from(engine.tables.tasks)).scalar()
        entries = conn.execute(sa.select(sa.func.count()).select_from(engine.tables.history)).scalar()
    return int(tasks or 0), int(entries or 0)


def test_a_retried_batch_returns_the_tasks_of_the_first_call(city: Engine) -> None:
    rows = [
        DecompositionRow(unit="sq-ly", external_ref="R1"),
        DecompositionRow(unit="sq-hp", external_ref="R2"),
    ]
    first = city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert first.created == 2
    written = _counts(city)
    again = city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert [t.id for t in again.tasks] == [t.id for t in first.tasks]
    assert again.created == 0
    assert _counts(city) == written  # nothing new: no task, no history row


def test_a_retry_with_new_rows_adds_only_the_new_ones(city: Engine) -> None:
    first = city.decompose(
        "2027创卫",
        "B3.2",
        [DecompositionRow(unit="sq-ly", external_ref="R1")],
        by=OFFICE,
        measures=["巡查"],
        due=DUE,
    )
    rows = [
        DecompositionRow(unit="sq-hp", external_ref="R2"),
        DecompositionRow(unit="sq-ly", external_ref="R1"),
    ]
    report = city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert report.created == 1
    assert report.tasks[1].id == first.tasks[0].id  # row order kept
    assert report.tasks[0].external_ref == "R2"
    assert _counts(city) == (2, 2)


def test_a_reference_reused_with_other_content_is_refused_in_the_report(city: Engine) -> None:
    city.decompose(
        "2027创卫",
        "B3.2",
        [DecompositionRow(unit="sq-ly", external_ref="R1")],
        by=OFFICE,
        measures=["巡查"],
        due=DUE,
    )
    written = _counts(city)
    rows = [
        DecompositionRow(unit="sq-hp", external_ref="R2"),
        DecompositionRow(unit="sq-hp", external_ref="R1"),  # R1 named sq-ly's task
        DecompositionRow(unit="sq-ly", external_ref="R1", title="另一项任务"),  # twice in the batch
    ]
    with pytest.raises(BatchRefused) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    found = {r.index: r.codes for r in refused.value.refused}
    assert found == {1: ("external_ref_mismatch",), 2: ("invalid_input",)}
    assert "内容不同" in refused.value.refused[0].message_zh
    assert _counts(city) == written  # the good row R2 is not written either


def test_assign_many_takes_each_rows_indicator_and_source(city: Engine) -> None:
    rows = [
        DecompositionRow(unit="sq-ly", indicator="B3.2", source="citizen", due=DUE, measures=["巡查"]),
        {"unit": "dw-sc", "indicator": "B4.1", "due": DUE, "measures": ["保洁"]},
    ]
    seen: list[tuple[int, int]] = []
    report = city.assign_many(
        "2027创卫", rows, by=OFFICE, source=TaskSource.LEDGER, progress=lambda d, t: seen.append((d, t))
    )
    first, second = report.tasks
    assert (first.indicator, first.source, first.title) == ("B3.2", TaskSource.CITIZEN, "背街小巷")
    assert (second.indicator, second.source, second.standard) == (
        "B4.1",
        TaskSource.LEDGER,
        "地面整洁、无污水",
    )
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(BatchRefused) as refused:
        city.assign_many("2027创卫", [DecompositionRow(unit="sq-ly", due=DUE, measures=["巡查"])], by=OFFICE)
    assert refused.value.refused[0].codes == ("invalid_input",)  # no indicator
    assert refused.value.refused[0].error is not None
    assert refused.value.refused[0].error.context["field"] == "indicator"


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_unstorable_campaign_or_indicator_is_refused(city: Engine, text: str) -> None:
    for campaign, indicator, field in (
        (text, "B3.2", "campaign"),
        ("2027创卫", text, "indicator"),
        ("长" * 129, "B3.2", "campaign"),
    ):
        with pytest.raises(InvalidInput) as refused:
            city.decompose(campaign, indicator, ["sq-ly"], by=OFFICE, measures=["巡查"], due=DUE)
        assert refused.value.field == field
    _nothing_written(city)


def test_a_rows_site_and_grid_are_checked_like_assigns(city: Engine) -> None:
    rows = [
        {"unit": "sq-ly", "site": "x" * 129},
        {"unit": "sq-\ud800"},  # was a raw UnicodeEncodeError from the unit lookup
        {"unit": "sq-ly", "grid": "a\ud800"},
        {"unit": "sq-ly", "site": "a\x00"},
    ]
    with pytest.raises(BatchRefused) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert [row.index for row in refused.value.refused] == [0, 1, 2, 3]
    _nothing_written(city)
    report = city.decompose(
        "2027创卫",
        "B3.2",
        [{"unit": "sq-ly", "site": "  ", "grid": " G-1 "}],
        by=OFFICE,
        measures=["巡查"],
        due=DUE,
    )
    stored = city.get(report.tasks[0].id)
    assert (stored.site, stored.grid) == (None, "G-1")  # a blank site is no site, as an omitted one


def test_a_rows_text_no_database_can_store_refuses_the_row(city: Engine) -> None:
    rows: list[dict[str, Any]] = [
        {"unit": "sq-ly", "title": "a\x00"},
        {"unit": "sq-ly", "standard": "a\ud800"},
        {"unit": "sq-ly", "leader": "长" * 101},
        {"unit": "sq-ly", "measures": ["巡查", "a\x00"]},
        {"unit": "sq-ly", "external_ref": 5},
        {"unit": "sq-ly", "title": 5},
    ]
    with pytest.raises(BatchRefused) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert [row.index for row in refused.value.refused] == [0, 1, 2, 3, 4, 5]
    _nothing_written(city)


@pytest.mark.parametrize("kind", ["a\x00", "a\ud800", "长" * 129, "", 5])
def test_a_kind_no_database_can_store_is_refused(city: Engine, kind: Any) -> None:
    from campaignflow.domain.inspections import Finding, InspectionRound

    with pytest.raises(InvalidInput) as refused:
        city.decompose("2027创卫", "B3.2", ["sq-ly"], by=OFFICE, measures=["巡查"], due=DUE, kind=kind)
    assert refused.value.field == "kind"
    held = InspectionRound(campaign="2027创卫", kind="routine", team=["张三"], held_on=DUE)
    with pytest.raises(InvalidInput) as refused:
        city.record_round(
            held, [Finding(indicator="B3.2", description="垃圾", site="S-1")], by=OFFICE, kind=kind
        )
    assert refused.value.field == "kind"
    _nothing_written(city)


@pytest.mark.parametrize("rows", [None, 5, "sq-ly", {"unit": "sq-ly"}])
def test_rows_that_are_not_a_list_of_rows_are_refused(city: Engine, rows: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        city.decompose("2027创卫", "B3.2", rows, by=OFFICE, measures=["巡查"], due=DUE)
    assert refused.value.field == "rows"
    _nothing_written(city)


def test_a_batchs_first_step_is_the_engines_step_from_the_genesis(city: Engine) -> None:
    """The batch builds each task's first history entry itself (no evolve of the draft task); it
    must be exactly what ``Engine._step`` gives the same draft, hash included."""
    import attrs

    from campaignflow.domain.lifecycle import NEW
    from campaignflow.domain.model import TaskState
    from campaignflow.domain.serial import assignment_payload

    report = city.decompose(
        "2027创卫",
        "B3.2",
        [DecompositionRow(unit="sq-hp", leader="书记丁", external_ref="R-1", site="S-1"), {"site": "S-LYSC"}],
        by=OFFICE,
        measures=["每日巡查", "发现即清"],
        due=DUE,
    )
    for task in report.tasks:
        (entry,) = city.history(task.id)
        draft = attrs.evolve(task, version=0, history_head=None)
        assert assignment_payload(draft, task.deadline_basis).items() <= entry.payload.items()
        stepped, expected = city._step(
            draft,
            actor=OFFICE,
            trigger="assign",
            from_state=NEW,
            to_state=TaskState.ASSIGNED,
            reason="",
            payload=entry.payload,
            now=entry.at,
        )
        assert (stepped, expected) == (task, entry)


def test_the_collector_is_paused_for_a_batch_and_restored_after_it(city: Engine) -> None:
    import gc

    from campaignflow.decompose import collector_paused

    seen: list[bool] = []
    assert gc.isenabled()
    with pytest.raises(BatchRefused):  # refused: the collector comes back on the way out too
        city.decompose("2027创卫", "B3.2", ["sq-ly", "no-such-unit"], by=OFFICE, due=DUE)
    assert gc.isenabled()
    with collector_paused():
        seen.append(gc.isenabled())
        with collector_paused():  # nested: the inner one leaves it paused
            pass
        seen.append(gc.isenabled())
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # paused by the caller: left as the caller set it
    finally:
        gc.enable()
