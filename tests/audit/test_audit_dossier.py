"""A dossier is never built from a tampered history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from campaignflow import DossierError, Engine, LocalEvidenceStore
from campaignflow.dossier import export_task
from campaignflow.testing import drive_to


@pytest.fixture
def filing(engine: Engine, tmp_path: Path) -> Engine:
    store = LocalEvidenceStore(tmp_path / "store")
    store.put(b"photo-after")
    return Engine(
        engine.sqlalchemy_engine, clock=engine.clock, schema=engine.tables.schema, evidence_store=store
    )


def test_a_tampered_history_builds_no_dossier(filing: Engine, tamper: Any, tmp_path: Path) -> None:
    task = drive_to(filing, "archived")
    tamper.drop_guard()
    tamper.sql(
        tamper.h.update().where(tamper.h.c.task_id == task.id, tamper.h.c.seq == 2).values(reason="改")
    )
    with pytest.raises(DossierError, match="第 2 条"):
        export_task(filing, task.id, tmp_path / "out")
