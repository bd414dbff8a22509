"""专卷齐全: archiving is refused, listing what is missing, unless the dossier is complete — the four
有 records on the task and, with an evidence store, every evidence file present with its hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaignflow import (
    Engine,
    Evidence,
    FixedClock,
    InvalidInput,
    Lifecycle,
    LocalEvidenceStore,
    RuleViolation,
    TaskState,
    TransitionSpec,
)
from campaignflow.domain.lifecycle import _DEFAULT
from campaignflow.testing import DEMO_NOW, actors, drive_to, sample_inspection, seed_units, snapshot

PHOTO = b"photo-after"  # what testing.sample_evidence hashes


@pytest.fixture
def store(tmp_path: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "evidence")


@pytest.fixture
def filing(engine: Engine, store: LocalEvidenceStore) -> Engine:
    """The same database, through an engine that checks evidence files against ``store``."""
    return Engine(
        engine.sqlalchemy_engine, clock=engine.clock, schema=engine.tables.schema, evidence_store=store
    )


def test_a_complete_dossier_is_archived(filing: Engine, store: LocalEvidenceStore) -> None:
    store.put(PHOTO)
    task = drive_to(filing, "verified")
    assert filing.archive(task.id, by=actors()["office"]).state is TaskState.ARCHIVED


def test_a_missing_evidence_file_refuses_archiving_and_changes_nothing(filing: Engine) -> None:
    task = drive_to(filing, "verified")
    before = snapshot(filing, task.id)
    with pytest.raises(RuleViolation) as refused:
        filing.archive(task.id, by=actors()["office"])
    assert refused.value.codes == ("dossier_evidence_missing",)
    assert task.evidence[0].sha256[:12] in refused.value.message_zh
    assert "佐证材料文件不在证据库中" in refused.value.message_zh
    assert snapshot(filing, task.id) == before


def test_an_altered_evidence_file_refuses_archiving(filing: Engine, store: LocalEvidenceStore) -> None:
    sha = store.put(PHOTO)
    task = drive_to(filing, "verified")
    path = store.root / sha[:2] / sha
    path.chmod(0o644)
    path.write_bytes(b"photo-after, retouched")
    with pytest.raises(RuleViolation) as refused:
        filing.archive(task.id, by=actors()["office"])
    assert refused.value.codes == ("dossier_evidence_mismatch",)
    assert "原件与电子记录不一致" in refused.value.message_zh


def test_inspection_evidence_is_part_of_the_dossier(filing: Engine, store: LocalEvidenceStore) -> None:
    store.put(PHOTO)
    task = drive_to(filing, "self_checked")
    now = filing.clock.now()
    on_site = Evidence("photo", "evidence://site.jpg", "a" * 64, now, "陈静")
    record = sample_inspection(now)
    record = type(record)(record.inspector, record.inspector_unit, now, record.conclusion, [on_site])
    filing.pass_verification(task.id, by=actors()["inspector"], inspection=record)
    with pytest.raises(RuleViolation) as refused:
        filing.archive(task.id, by=actors()["office"])
    assert refused.value.codes == ("dossier_evidence_missing",)
    assert "aaaaaaaaaaaa" in refused.value.message_zh


def test_without_an_evidence_store_files_are_not_checked(engine: Engine) -> None:
    task = drive_to(engine, "verified")  # no file was ever stored anywhere
    assert engine.evidence_store is None
    assert engine.archive(task.id, by=actors()["office"]).state is TaskState.ARCHIVED


def test_a_lifecycle_shortcut_cannot_archive_an_empty_dossier(tmp_path: Path) -> None:
    """A host lifecycle may let the office file a task straight from 已交办; the dossier rule still
    lists every missing record at once."""
    specs = [s for s in _DEFAULT if s.trigger != "archive"]
    specs.append(TransitionSpec("archive", ("assigned", "verified"), "archived"))
    engine = Engine(f"sqlite:///{tmp_path}/c.db", clock=FixedClock(DEMO_NOW), lifecycle=Lifecycle(specs))
    try:
        seed_units(engine)
        task = drive_to(engine, "assigned")
        with pytest.raises(RuleViolation) as refused:
            engine.archive(task.id, by=actors()["office"])
        assert refused.value.codes == (
            "dossier_plan",
            "dossier_deployment",
            "dossier_rectification",
            "dossier_inspection",
        )
        assert [m.rule for m in refused.value.missing] == ["专卷齐全"] * 4
    finally:
        engine.close()


def test_an_evidence_store_must_be_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="evidence_store"):
        Engine(f"sqlite:///{tmp_path}/x.db", evidence_store=str(tmp_path))  # type: ignore[arg-type]
