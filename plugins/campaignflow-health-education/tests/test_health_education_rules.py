"""The plugin through the engine's Python API: with and without it, and the two-month boundary."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from campaignflow_health_education import BOARD, DRAFT, plugin

from campaignflow import Engine, RuleViolation, Task, TaskState
from campaignflow.testing import actors, drive_to, sample_evidence
from campaignflow.testing.channels import sqlite_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "health.db", plugins=(plugin,))
    yield engine
    engine.close()


def _board(engine: Engine, **attributes: Any) -> Task:
    return engine.assign(
        by=actors()["office"],
        title="社区健康教育宣传栏",
        standard="面积不少于3平方米，内容两月一换，标明日期，留存底稿",
        measures=["更换宣传内容", "留存底稿"],
        unit="cgj",
        due=engine.clock.now().date() + timedelta(days=30),
        campaign="2026创卫",
        indicator="A2.1",
        kind=BOARD,
        attributes=attributes,
    )


def test_a_small_board_is_refused_only_with_the_plugin(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(RuleViolation) as refused:
        _board(engine, area_m2=2.4)
    assert refused.value.codes == ("health_board_area",)
    assert refused.value.missing[0].field == "attributes.area_m2"
    assert engine.tasks().items == ()

    bare = sqlite_engine(tmp_path / "bare.db")
    try:
        assert _board(bare, area_m2=2.4).state is TaskState.ASSIGNED
    finally:
        bare.close()


def test_a_true_area_is_not_a_number(engine: Engine) -> None:
    with pytest.raises(RuleViolation) as refused:
        _board(engine, area_m2=True)
    assert refused.value.codes == ("task_attributes",)  # the schema says it, the area rule stays quiet


def _draft(engine: Engine, dated: date | str) -> object:
    item = sample_evidence(engine.clock.now())
    return attrs.evolve(item, kind=DRAFT, attributes={"content_date": str(dated)})


def test_every_stale_draft_is_named_and_a_current_one_passes(engine: Engine) -> None:
    task = drive_to(engine, TaskState.RECTIFYING, _board(engine, area_m2=4).id)
    today = engine.clock.now().astimezone(engine.timezone).date()
    staff = actors()["staff"]
    stale = [_draft(engine, date(2026, 8, 1)), _draft(engine, date(2026, 7, 1))]
    with pytest.raises(RuleViolation) as refused:
        engine.submit_self_check(task.id, by=staff, report="已更换", evidence=stale)
    assert refused.value.codes == ("health_board_draft", "health_board_draft")
    assert [item.field for item in refused.value.missing] == [
        "evidence[0].attributes.content_date",
        "evidence[1].attributes.content_date",
    ]
    done = engine.submit_self_check(task.id, by=staff, report="已更换", evidence=[_draft(engine, today)])
    assert done.state is TaskState.SELF_CHECKED
