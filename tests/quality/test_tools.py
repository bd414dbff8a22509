"""The project's static checks run inside the suite, so `python -m pytest` is the one gate:
ruff (lint and format), mypy --strict and import-linter's layer contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the tools of the environment running the tests

CHECKS = {
    "ruff-check": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],
    "lint-imports": ["lint-imports"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_static_check_passes(name: str) -> None:
    tool, *args = CHECKS[name]
    executable = BIN / tool
    assert executable.exists(), f"{tool} is not installed beside {sys.executable}: pip install -e '.[dev]'"
    result = subprocess.run(
        [str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{' '.join(CHECKS[name])} failed:\n{result.stdout}\n{result.stderr}"
