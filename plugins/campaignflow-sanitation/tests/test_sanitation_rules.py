"""The plugin through the engine's Python API: what the scenarios do not reach."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from campaignflow_sanitation import BAIT_STATION, BLIND_SPOT, REFILL_RECORD, plugin

from campaignflow import Engine, RuleViolation, TaskState
from campaignflow.testing import actors, assign_sample, drive_to, sample_evidence
from campaignflow.testing.channels import sqlite_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "sanitation.db", plugins=(plugin,))
    yield engine
    engine.close()


def _photo(engine: Engine, stage: str, hours: int) -> object:
    at = engine.clock.now() - timedelta(hours=hours)
    return attrs.evolve(sample_evidence(at), attributes={"stage": stage}, uri=f"evidence://{stage}.jpg")


def test_the_before_photo_must_be_taken_before_the_after_photo(engine: Engine) -> None:
    task = drive_to(engine, TaskState.RECTIFYING, assign_sample(engine, kind=BLIND_SPOT).id)
    staff = actors()["staff"]
    swapped = [_photo(engine, "before", 1), _photo(engine, "after", 5)]
    with pytest.raises(RuleViolation) as refused:
        engine.submit_self_check(task.id, by=staff, report="已清理", evidence=swapped)
    assert refused.value.codes == ("sanitation_photos",)
    assert "晚于整改后照片" in refused.value.message_zh
    assert engine.get(task.id).state is TaskState.RECTIFYING

    ordered = [_photo(engine, "before", 5), _photo(engine, "after", 1)]
    done = engine.submit_self_check(task.id, by=staff, report="已清理", evidence=ordered)
    assert done.state is TaskState.SELF_CHECKED


def test_without_the_plugin_the_same_self_check_passes(tmp_path: Path) -> None:
    """The refusal comes from the plugin alone: the built-in rules accept one undated photo."""
    engine = sqlite_engine(tmp_path / "bare.db")
    try:
        task = assign_sample(engine, kind=BLIND_SPOT)
        assert drive_to(engine, TaskState.SELF_CHECKED, task.id).state is TaskState.SELF_CHECKED
    finally:
        engine.close()
    with_plugin = sqlite_engine(tmp_path / "with.db", plugins=(plugin,))
    try:
        with pytest.raises(RuleViolation) as refused:
            drive_to(with_plugin, TaskState.SELF_CHECKED, assign_sample(with_plugin, kind=BLIND_SPOT).id)
        assert set(refused.value.codes) == {"sanitation_photos"}
    finally:
        with_plugin.close()


def test_a_bait_station_task_with_a_refill_record_goes_all_the_way(engine: Engine) -> None:
    task = engine.assign(
        by=actors()["office"],
        title="居民社区安装毒饵站",
        standard="每15米设立一个毒饵站，药物一个月两次更换",
        measures=["设立毒饵站并编号", "按时投药"],
        unit="cgj",
        due=engine.clock.now().date() + timedelta(days=30),
        campaign="2026创卫",
        indicator="B5.1",
        kind=BAIT_STATION,
        attributes={"station_count": 20},
    )
    assert task.attributes["station_count"] == 20
    drive_to(engine, TaskState.RECTIFYING, task.id)
    today = engine.clock.now().astimezone(engine.timezone).date().isoformat()
    record = attrs.evolve(
        sample_evidence(engine.clock.now()), kind=REFILL_RECORD, attributes={"refilled_on": today}
    )
    done = engine.submit_self_check(task.id, by=actors()["staff"], report="已投药", evidence=[record])
    assert done.state is TaskState.SELF_CHECKED
    assert drive_to(engine, TaskState.ARCHIVED, task.id).state is TaskState.ARCHIVED


def test_the_plugin_declares_no_schema_for_plain_photos() -> None:
    """Declaring ``photo`` would bind every other department's photos too."""
    assert [schema.kind for schema in plugin.campaignflow_evidence_kinds()] == [REFILL_RECORD]
