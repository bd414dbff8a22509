""".ci/run runs exactly the README's second Quick start command and fails whenever it fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "run"


def _readme(block: str) -> str:
    return f"# x\n\nintro\n\n## Quick start\n\n```bash\n{block}```\n\nmore\n\n## Development\n\n```bash\nfalse\n```\n"


def _ci(tmp_path: Path, readme: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a copy of .ci/run beside the given README (it reads the README next to .ci/)."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(SCRIPT, tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_script_is_executable_bash_with_strict_mode() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert SCRIPT.stat().st_mode & 0o111


def test_it_runs_the_readmes_second_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    second = block.splitlines()[2]  # line 0 is the fence's language, line 1 the demo
    printed = subprocess.run(
        ["bash", str(SCRIPT), "--print"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert printed == second + "\n"
    assert second.endswith(".venv/bin/python -m pytest")


@pytest.mark.parametrize(
    "readme",
    [
        "# no quick start here\n",
        "## Quick start\n\n```bash\nonly one line -m pytest\n```\n",
        "## Quick start\n\n```bash\ndemo\npython -m pytest\n",  # never closed
        "## Quick start\n\n```bash\ndemo\nmake test\n```\n",  # the second line runs no pytest
    ],
    ids=["missing", "one-line", "unclosed", "not-pytest"],
)
def test_it_fails_when_the_command_cannot_be_found(tmp_path: Path, readme: str) -> None:
    result = _ci(tmp_path, readme, "--print")
    assert result.returncode != 0
    assert "README.md" in result.stderr


needs_postgres_tools = pytest.mark.skipif(
    shutil.which("pg_isready") is None, reason="needs PostgreSQL's pg_isready"
)


@needs_postgres_tools
@pytest.mark.slow
def test_no_tests_collected_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    command = f"cd empty && {sys.executable} -m pytest -q -p no:cacheprovider  # python -m pytest"
    result = _ci(tmp_path, _readme(f"echo demo\n{command}\n"))
    assert result.returncode == 5, result.stdout + result.stderr  # pytest's "no tests ran"


@needs_postgres_tools
@pytest.mark.slow
@pytest.mark.parametrize(("code", "status"), [("import sys; sys.exit(3)", 3), ("print(42)", 0)])
def test_the_commands_exit_status_is_the_runs(tmp_path: Path, code: str, status: int) -> None:
    command = f"{sys.executable} -c '{code}'  # stands in for: python -m pytest"
    result = _ci(tmp_path, _readme(f"echo demo\n{command}\n"))
    assert result.returncode == status, result.stdout + result.stderr
    assert f".ci/run: exit status {status}" in result.stdout
