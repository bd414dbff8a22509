"""A task records where it came from (任务来源), where the problem is (点位, 网格), and the fields
回潮 (recurrence) is counted in; all of it survives the round trip through the store."""

from __future__ import annotations

import pytest

from campaignflow import Engine, InvalidInput, TaskSource
from campaignflow.testing import assign_sample


def test_a_task_defaults_to_the_office_as_its_source(engine: Engine) -> None:
    task = assign_sample(engine)
    stored = engine.get(task.id)
    assert stored.source is TaskSource.OFFICE
    assert (stored.site, stored.grid, stored.recurrence_of, stored.recurrence_count) == (None, None, None, 0)
    assert "source" not in engine.history(task.id)[0].payload


@pytest.mark.parametrize("source", [TaskSource.MEDIA, "leader", TaskSource.COVERT_INSPECTION])
def test_source_site_and_grid_are_stored_and_recorded(engine: Engine, source: TaskSource | str) -> None:
    task = assign_sample(engine, source=source, site=" 解放路菜市场 ", grid="JF-03")
    stored = engine.get(task.id)
    assert stored.source is TaskSource(source)
    assert (stored.site, stored.grid) == ("解放路菜市场", "JF-03")
    assert stored == task
    payload = engine.history(task.id)[0].payload
    assert (payload["source"], payload["site"], payload["grid"]) == (str(source), "解放路菜市场", "JF-03")
    assert engine.verify_history(task.id) is None  # the chain holds


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source", "rumour"),
        ("source", 3),
        ("site", "   "),
        ("site", "点" * 129),
        ("grid", 17),
        ("grid", "g" * 65),
    ],
)
def test_a_bad_source_or_place_is_refused_and_writes_nothing(
    engine: Engine, field: str, value: object
) -> None:
    with pytest.raises(InvalidInput) as caught:
        assign_sample(engine, **{field: value})
    assert caught.value.field == field
    assert caught.value.message_zh
    assert caught.value.message_en
    assert engine.tasks().items == ()


def test_every_source_has_a_chinese_label() -> None:
    assert {s.label_zh for s in TaskSource} >= {"媒体曝光", "领导交办", "暗访发现"}
    assert len({s.label_zh for s in TaskSource}) == len(TaskSource)
