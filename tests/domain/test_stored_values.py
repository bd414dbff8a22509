"""Values read back from a JSON column are built without re-running the validators
(``model.stored``): each must equal what the validating ``*_from_json`` twin builds, field for
field, and ``stored`` must refuse a call that does not set every field."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaignflow.domain.model import (
    Deployment,
    Evidence,
    Inspection,
    Person,
    Plan,
    PlanStep,
    frozen_stored,
    stored,
)
from campaignflow.domain.serial import (
    deployment_from_json,
    deployment_from_stored,
    deployment_to_json,
    evidence_from_json,
    evidence_from_stored,
    evidence_to_json,
    inspection_from_json,
    inspection_from_stored,
    inspection_to_json,
    plan_from_json,
    plan_from_stored,
    plan_to_json,
)

AT = datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


def _evidence(note: str = "整改后照片", attributes: dict[str, Any] | None = None, unit: str = "") -> Evidence:
    return Evidence(
        kind="photo",
        uri="evidence://after.jpg",
        sha256=hashlib.sha256(note.encode()).hexdigest(),
        taken_at=AT,
        taken_by="刘洋",
        note=note,
        attributes=attributes or {},
        unit=unit,
    )


def _same(built: object, expected: object) -> None:
    assert type(built) is type(expected)
    assert built == expected
    assert attrs.asdict(built, recurse=True) == attrs.asdict(expected, recurse=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        _evidence(),
        _evidence("第二轮", {"点位": "解放路 12 号", "面积": 3.5, "层": [1, 2]}, unit="cgj"),
    ],
)
def test_evidence(value: Evidence) -> None:
    data = evidence_to_json(value)
    _same(evidence_from_stored(data), evidence_from_json(data))
    _same(evidence_from_stored(data), value)


@pytest.mark.parametrize("covert", [False, True])
def test_inspection_with_its_evidence(covert: bool) -> None:
    value = Inspection(
        inspector="陈静",
        inspector_unit="wsj",
        inspected_at=AT.astimezone(UTC),
        conclusion="符合标准",
        evidence=(_evidence(), _evidence("复查", {"k": None})),
        covert=covert,
    )
    data = inspection_to_json(value)
    _same(inspection_from_stored(data), inspection_from_json(data))
    _same(inspection_from_stored(data), value)


def test_plan_and_deployment() -> None:
    plan = Plan(
        steps=[PlanStep("清理积存垃圾", date(2026, 12, 2)), PlanStep("建立长效机制", date(2026, 12, 9))]
    )
    deployment = Deployment(
        people=[Person("刘洋", "现场负责人", "13800000000"), Person("王芳")], resources=["清运车"]
    )
    _same(plan_from_stored(plan_to_json(plan)), plan_from_json(plan_to_json(plan)))
    _same(plan_from_stored(plan_to_json(plan)), plan)
    _same(deployment_from_stored(deployment_to_json(deployment)), deployment)
    _same(
        deployment_from_stored(deployment_to_json(deployment)),
        deployment_from_json(deployment_to_json(deployment)),
    )


@given(
    note=text,
    unit=text,
    taken_by=text.filter(bool),
    attributes=st.dictionaries(text, text | st.integers(), max_size=3),
)
def test_any_evidence(note: str, unit: str, taken_by: str, attributes: dict[str, Any]) -> None:
    value = attrs.evolve(_evidence(note, attributes, unit), taken_by=taken_by)
    data = evidence_to_json(value)
    _same(evidence_from_stored(data), evidence_from_json(data))


def test_stored_mappings_are_read_only() -> None:
    frozen = frozen_stored({"点位": "解放路"})
    with pytest.raises(TypeError):
        frozen["点位"] = "人民路"  # type: ignore[index]
    assert frozen_stored({}) is frozen_stored(None)


def test_stored_needs_every_field_and_no_other() -> None:
    with pytest.raises(TypeError, match="PlanStep"):
        stored(PlanStep, description="清理")
    with pytest.raises(TypeError, match="PlanStep"):
        stored(PlanStep, description="清理", due=date(2026, 12, 2))
    with pytest.raises(TypeError, match="PlanStep"):
        stored(PlanStep, description="清理", milestone=date(2026, 12, 2), extra=1)
    built = stored(PlanStep, description="清理", milestone=date(2026, 12, 2))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.description = "改"  # type: ignore[misc]
