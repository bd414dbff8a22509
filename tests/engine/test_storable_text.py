"""Text the databases cannot store is refused by the library, alike on SQLite and PostgreSQL:
a NUL character, a lone surrogate, a value longer than its column; and a JSON attribute that is
NaN, infinite or a float too large to come back exactly. Everything else comes back as given."""

from __future__ import annotations

import math
from typing import Any

import pytest

from campaignflow import Actor, Contact, Engine, InvalidInput, Role, Verification
from campaignflow.testing import actors, assign_sample, snapshot

BAD_TEXT = [("nul", "a\x00b"), ("surrogate", "a\ud800b")]


@pytest.mark.parametrize(("why", "text"), BAD_TEXT)
@pytest.mark.parametrize("field", ["title", "standard", "campaign", "external_ref"])
def test_unstorable_text_is_refused_at_assign(engine: Engine, field: str, why: str, text: str) -> None:
    before = len(engine.tasks().items)
    with pytest.raises(InvalidInput) as refused:
        assign_sample(engine, **{field: text})
    assert refused.value.context["field"] == field
    assert len(engine.tasks().items) == before


@pytest.mark.parametrize(("why", "text"), BAD_TEXT)
def test_unstorable_text_is_refused_in_reasons_lookups_actors_and_contacts(
    engine: Engine, why: str, text: str
) -> None:
    task = assign_sample(engine)
    before = snapshot(engine, task.id)
    with pytest.raises(InvalidInput):
        engine.cancel(task.id, by=actors()["office"], reason=text)
    with pytest.raises(InvalidInput):
        engine.suspend(task.id, by=actors()["office"], reason=text)
    with pytest.raises(InvalidInput):
        engine.get(text)
    with pytest.raises(InvalidInput):
        Actor(text, "cwb", Role.OFFICE)
    with pytest.raises(InvalidInput):
        Contact(id="p", name=text, role="liaison", addresses={"im": "x"})
    with pytest.raises(InvalidInput):
        engine.register_unit("u1", name=text)
    assert snapshot(engine, task.id) == before


@pytest.mark.parametrize(("field", "width"), [("campaign", 128), ("indicator", 64), ("external_ref", 200)])
def test_a_value_longer_than_its_column_is_refused_and_one_at_the_width_is_stored(
    engine: Engine, field: str, width: int
) -> None:
    with pytest.raises(InvalidInput, match="too long"):
        assign_sample(engine, **{field: "长" * (width + 1)})
    task = assign_sample(engine, **{field: "长" * width})
    assert getattr(engine.get(task.id), field) == "长" * width


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -(2.0**53)])
def test_attributes_json_cannot_return_exactly_are_refused(engine: Engine, value: float) -> None:
    with pytest.raises(InvalidInput):
        assign_sample(engine, attributes={"area": value})


@pytest.mark.parametrize("value", [0.1, -3.5, 2.0**52, 10**30, "\u202e🧹 مرحبا", "'; DROP TABLE x; --"])
def test_other_attributes_come_back_exactly(engine: Engine, value: Any) -> None:
    task = assign_sample(engine, attributes={"area": value, "备注": [value]})
    assert dict(engine.get(task.id).attributes) == {"area": value, "备注": [value]}


@pytest.mark.parametrize(("why", "text"), BAD_TEXT)
def test_unstorable_text_is_refused_in_a_verdict(engine: Engine, why: str, text: str) -> None:
    task = assign_sample(engine, verification=Verification.all_of("wsj", "cwb"))
    before = snapshot(engine, task.id)
    inspector = Actor("chen", "wsj", Role.INSPECTOR)
    with pytest.raises(InvalidInput) as refused:
        engine.record_verdict(task.id, by=inspector, passed=False, reason=text)
    assert refused.value.context["field"] == "reason"
    with pytest.raises(InvalidInput) as refused:
        engine.record_verdict(text, by=inspector, passed=False, reason="仍有垃圾")
    assert refused.value.context["field"] == "task_id"
    assert snapshot(engine, task.id) == before


@pytest.mark.parametrize(("why", "text"), BAD_TEXT)
def test_unstorable_text_is_refused_when_pinning_or_migrating(engine: Engine, why: str, text: str) -> None:
    office = actors()["office"]
    task = assign_sample(engine)
    before = snapshot(engine, task.id)
    for call in (
        lambda: engine.pin_policy(text, by=office),
        lambda: engine.migrate_tasks(text, to={}, by=office),
        lambda: engine.pin_policy("2026创卫", by=office, fingerprint=text),
        lambda: engine.migrate_tasks("2026创卫", to=text, by=office, dry_run=False),
        lambda: engine.policy(text),
    ):
        with pytest.raises(InvalidInput):
            call()
    with pytest.raises(InvalidInput, match="too long"):
        engine.pin_policy("长" * 129, by=office)
    assert engine.pinned_policy("2026创卫") is None
    assert snapshot(engine, task.id) == before
