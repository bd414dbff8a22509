"""The host application of docs/host-app.md, driven over HTTP: one transaction for the host's row
and the task, idempotent retries, and refusals as HTTP answers that change nothing."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from campaignflow import Engine, FixedClock
from campaignflow.testing import DEMO_NOW, seed_units

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "host_app.py"
OFFICE = {"x-actor": "wang", "x-unit": "cwb", "x-role": "office"}
STAFF = {"x-actor": "liu", "x-unit": "cgj", "x-role": "unit"}
INSPECTOR = {"x-actor": "chen", "x-unit": "wsj", "x-role": "inspector"}


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("host_app_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app_and_engine(tmp_path: Path) -> Iterator[tuple[TestClient, Engine, ModuleType]]:
    module = load_example()
    engine = Engine(f"sqlite:///{tmp_path}/hotline.db", clock=FixedClock(DEMO_NOW))
    app = module.create_app(engine=engine)
    seed_units(engine)
    with TestClient(app) as client:
        yield client, engine, module
    engine.close()


def complaint(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "text": "幸福巷口垃圾三天无人清运",
        "title": "幸福巷垃圾清运不及时",
        "standard": "垃圾日产日清，无积存",
        "measures": ["增加清运频次"],
        "unit": "cgj",
        "due": date(2026, 11, 20).isoformat(),
        "ticket": "12345-20261102-0001",
    }
    body.update(changes)
    return body


def complaint_rows(engine: Engine, module: ModuleType) -> list[tuple[str, str]]:
    with engine.sqlalchemy_engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.select(module.complaints.c.text, module.complaints.c.task_id))
        ]


def test_a_complaint_and_its_task_are_written_together(
    app_and_engine: tuple[TestClient, Engine, ModuleType],
) -> None:
    client, engine, module = app_and_engine
    answer = client.post("/complaints", json=complaint(), headers=OFFICE)
    assert answer.status_code == 201, answer.text
    task = answer.json()
    assert (task["state"], task["state_zh"], task["version"]) == ("assigned", "已交办", 1)
    assert complaint_rows(engine, module) == [("幸福巷口垃圾三天无人清运", task["id"])]
    assert client.get(f"/tasks/{task['id']}").json() == task
    allowed = client.get(f"/tasks/{task['id']}/allowed", headers=STAFF).json()
    assert allowed == ["request_extension", "return_assignment", "start"]


def test_a_retried_post_returns_the_same_task_and_files_nothing_twice(
    app_and_engine: tuple[TestClient, Engine, ModuleType],
) -> None:
    client, engine, module = app_and_engine
    first = client.post("/complaints", json=complaint(), headers=OFFICE).json()
    again = client.post("/complaints", json=complaint(), headers=OFFICE)
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert len(complaint_rows(engine, module)) == 1
    clash = client.post("/complaints", json=complaint(title="别的事"), headers=OFFICE)
    assert clash.status_code == 409
    assert clash.json()["code"] == "external_ref_mismatch"


def test_a_refused_complaint_answers_422_with_every_missing_item_and_writes_nothing(
    app_and_engine: tuple[TestClient, Engine, ModuleType],
) -> None:
    client, engine, module = app_and_engine
    answer = client.post("/complaints", json=complaint(standard=" ", unit="nowhere"), headers=OFFICE)
    assert answer.status_code == 422
    body = answer.json()
    assert [m["code"] for m in body["missing"]] == ["fixed_task_standard", "fixed_department", "fixed_leader"]
    assert body["zh"].startswith("不符合四有四定要求")
    assert complaint_rows(engine, module) == []
    assert engine.tasks().items == ()


def test_roles_states_and_unknown_tasks_map_to_http(
    app_and_engine: tuple[TestClient, Engine, ModuleType],
) -> None:
    client, _engine, _module = app_and_engine
    assert client.post("/complaints", json=complaint(), headers=STAFF).status_code == 403
    task = client.post("/complaints", json=complaint(), headers=OFFICE).json()
    assert (
        client.post(f"/tasks/{task['id']}/fail", json={"reason": "x"}, headers=INSPECTOR).status_code == 409
    )
    assert client.post(f"/tasks/{task['id']}/cancel", json={}, headers=OFFICE).status_code == 422
    cancelled = client.post(f"/tasks/{task['id']}/cancel", json={"reason": "群众撤诉"}, headers=OFFICE)
    assert cancelled.json()["state_zh"] == "已撤销"
    assert client.get("/tasks/no-such-task").status_code == 404
    bad_role = {**OFFICE, "x-role": "mayor"}
    assert client.post("/complaints", json=complaint(), headers=bad_role).status_code == 401
