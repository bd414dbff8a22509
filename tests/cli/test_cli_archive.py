"""``campaignflow archive export`` (per task, per campaign, zip) and ``archive check``."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from campaignflow import Engine, LocalEvidenceStore, cli
from campaignflow.testing import DEMO_NOW, FixedClock, drive_to, seed_units


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _setup(tmp_path: Path) -> tuple[str, Path, list[str]]:
    evidence = tmp_path / "evidence"
    LocalEvidenceStore(evidence).put(b"photo-after")
    engine = Engine(f"sqlite:///{tmp_path}/c.db", clock=FixedClock(DEMO_NOW))
    seed_units(engine)
    ids = [drive_to(engine, "archived").id for _ in range(2)]
    engine.close()
    return f"sqlite:///{tmp_path}/c.db", evidence, ids


def test_export_a_task_and_check_it(tmp_path: Path) -> None:
    url, evidence, ids = _setup(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        "archive",
        "export",
        "--url",
        url,
        "--evidence-dir",
        str(evidence),
        "--task",
        ids[0],
        "--out",
        str(out),
    )
    assert (code, stderr) == (0, "")
    assert "已导出 1 份专卷" in stdout
    folder = out / "2026创卫" / "2026" / "B3.2" / ids[0]
    code, stdout, _ = _run("archive", "check", str(folder))
    assert code == 0
    assert "专卷完整" in stdout
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / manifest["evidence"][0]["file"]).write_bytes(b"not the photo")
    code, _, stderr = _run("archive", "check", str(folder))
    assert code == 2
    assert "content does not match" in stderr


def test_export_a_campaign_as_zip(tmp_path: Path) -> None:
    url, evidence, ids = _setup(tmp_path)
    target = tmp_path / "2026创卫.zip"
    code, stdout, _ = _run(
        "archive", "export", "--url", url, "--evidence-dir", str(evidence),
        "--campaign", "2026创卫", "--out", str(target), "--zip",
    )  # fmt: skip
    assert code == 0
    assert "已导出 2 份专卷" in stdout
    with zipfile.ZipFile(target) as archive:
        manifests = sorted(n for n in archive.namelist() if n.endswith("manifest.json"))
    assert manifests == sorted(f"2026创卫/2026/B3.2/{i}/manifest.json" for i in ids)


def test_export_needs_one_of_task_or_campaign_and_reports_missing_files(tmp_path: Path) -> None:
    url, evidence, ids = _setup(tmp_path)
    code, _, _ = _run("archive", "export", "--url", url, "--evidence-dir", str(evidence), "--out", "x")
    assert code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = _run(
        "archive",
        "export",
        "--url",
        url,
        "--evidence-dir",
        str(empty),
        "--task",
        ids[0],
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 1
    assert "[evidence_error]" in stderr
    assert not (tmp_path / "o").exists()
