"""Plain-JSON forms of the value objects, for history payloads, hashes and JSON columns.

Pure functions, so the domain, the store and the hash chain agree on one canonical form.
Datetimes are written as ISO 8601 in UTC with microseconds; dates as ISO dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from campaignflow.domain.model import (
    Deployment,
    Evidence,
    Inspection,
    Person,
    Plan,
    PlanStep,
    Task,
    TaskSource,
    frozen_stored,
    stored,
)

__all__ = [
    "assignment_payload",
    "deployment_from_json",
    "deployment_from_stored",
    "deployment_to_json",
    "dt_from_json",
    "dt_to_json",
    "evidence_from_json",
    "evidence_from_stored",
    "evidence_to_json",
    "inspection_from_json",
    "inspection_from_stored",
    "inspection_to_json",
    "plan_from_json",
    "plan_from_stored",
    "plan_to_json",
]


def dt_to_json(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt_from_json(value: str) -> datetime:
    return datetime.fromisoformat(value)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "steps": [{"description": s.description, "milestone": s.milestone.isoformat()} for s in plan.steps],
        "note": plan.note,
    }


def plan_from_json(data: Mapping[str, Any]) -> Plan:
    return Plan(
        steps=[PlanStep(s["description"], date.fromisoformat(s["milestone"])) for s in data["steps"]],
        note=data.get("note", ""),
    )


def deployment_to_json(deployment: Deployment) -> dict[str, Any]:
    return {
        "people": [{"name": p.name, "duty": p.duty, "phone": p.phone} for p in deployment.people],
        "resources": list(deployment.resources),
    }


def deployment_from_json(data: Mapping[str, Any]) -> Deployment:
    return Deployment(
        people=[Person(p["name"], p.get("duty", ""), p.get("phone", "")) for p in data["people"]],
        resources=list(data.get("resources", [])),
    )


def evidence_to_json(item: Evidence) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": item.kind,
        "uri": item.uri,
        "sha256": item.sha256,
        "taken_at": dt_to_json(item.taken_at),
        "taken_by": item.taken_by,
        "note": item.note,
        "attributes": dict(item.attributes),
    }
    if item.unit:  # written only when set: older history rows hash as they always did
        data["unit"] = item.unit
    return data


def evidence_from_json(data: Mapping[str, Any]) -> Evidence:
    return Evidence(
        kind=data["kind"],
        uri=data["uri"],
        sha256=data["sha256"],
        taken_at=dt_from_json(data["taken_at"]),
        taken_by=data["taken_by"],
        note=data.get("note", ""),
        attributes=data.get("attributes", {}),
        unit=data.get("unit", ""),
    )


def inspection_to_json(record: Inspection) -> dict[str, Any]:
    data: dict[str, Any] = {
        "inspector": record.inspector,
        "inspector_unit": record.inspector_unit,
        "inspected_at": dt_to_json(record.inspected_at),
        "conclusion": record.conclusion,
        "evidence": [evidence_to_json(e) for e in record.evidence],
    }
    if record.covert:  # written only when set: records from before the flag keep their shape
        data["covert"] = True
    return data


def inspection_from_json(data: Mapping[str, Any]) -> Inspection:
    return Inspection(
        inspector=data["inspector"],
        inspector_unit=data["inspector_unit"],
        inspected_at=dt_from_json(data["inspected_at"]),
        conclusion=data.get("conclusion", ""),
        evidence=[evidence_from_json(e) for e in data.get("evidence", [])],
        covert=bool(data.get("covert", False)),
    )


def assignment_payload(
    task: Task, basis: Mapping[str, Any] | None, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The payload of a task's first history entry (交办): what was assigned, to whom, by when and
    under which policy; the source, site and grid when given; ``extra`` (a recurring duty, the joint
    arrangement …); how the deadline was computed. One form, whichever way the task was made
    (``assign``, a decomposition, an inspection round, a ledger)."""
    payload: dict[str, Any] = {
        "title": task.title,
        "standard": task.standard,
        "measures": list(task.measures),
        "unit": task.unit,
        "leader": task.leader,
        "deadline": dt_to_json(task.deadline),
        "campaign": task.campaign,
        "indicator": task.indicator,
        "kind": task.kind,
        "attributes": dict(task.attributes),
        "external_ref": task.external_ref,
        "policy_fingerprint": task.policy_fingerprint,
    }
    if task.source is not TaskSource.OFFICE:
        payload["source"] = task.source.value
    if task.site is not None:
        payload["site"] = task.site
    if task.grid is not None:
        payload["grid"] = task.grid
    payload.update(extra or {})
    if basis is not None:
        payload["deadline_basis"] = dict(basis)
    return payload


# --- the same values read back from the database ------------------------------------------------
# What a JSON column holds was validated when it was written (the *_from_json functions above build
# it through every validator). Reading it back builds it with model.stored instead: a task load
# rebuilt about fifteen strings through check_text, and that was a tenth of an action's Python.
# Each equals its *_from_json twin (tests/domain/test_stored_values.py).


def plan_from_stored(data: Mapping[str, Any]) -> Plan:
    steps = tuple(
        stored(PlanStep, description=s["description"], milestone=date.fromisoformat(s["milestone"]))
        for s in data["steps"]
    )
    return stored(Plan, steps=steps, note=data.get("note", ""))


def deployment_from_stored(data: Mapping[str, Any]) -> Deployment:
    people = tuple(
        stored(Person, name=p["name"], duty=p.get("duty", ""), phone=p.get("phone", ""))
        for p in data["people"]
    )
    return stored(Deployment, people=people, resources=tuple(data.get("resources", ())))


def evidence_from_stored(data: Mapping[str, Any]) -> Evidence:
    return stored(
        Evidence,
        kind=data["kind"],
        uri=data["uri"],
        sha256=data["sha256"],
        taken_at=datetime.fromisoformat(data["taken_at"]),
        taken_by=data["taken_by"],
        note=data.get("note", ""),
        attributes=frozen_stored(data.get("attributes")),
        unit=data.get("unit", ""),
    )


def inspection_from_stored(data: Mapping[str, Any]) -> Inspection:
    return stored(
        Inspection,
        inspector=data["inspector"],
        inspector_unit=data["inspector_unit"],
        inspected_at=datetime.fromisoformat(data["inspected_at"]),
        conclusion=data.get("conclusion", ""),
        evidence=tuple(evidence_from_stored(e) for e in data.get("evidence", ())),
        covert=bool(data.get("covert", False)),
    )
