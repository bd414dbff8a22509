"""The figures of the reliability suite: tests add to the session's :class:`Figures`; at the end of
the run they are printed in the terminal summary and written to ``build/reliability/figures.json``
(the lead pastes them into the closing note).

A figure is a count (steps run, races run, kills injected, notifications sent and received, inputs
tried …) or, for the invariants, a count that must be 0 (``lost``, ``doubled``, ``unauthorized``):
those are recorded as measured, the tests assert them, and the summary shows them side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import FIGURES as _FIGURES
from tests.reliability.harness import Figures


@pytest.fixture(scope="session")
def figures() -> Figures:
    return Figures()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    line = ", ".join(f"{name}={value}" for name, value in sorted(_FIGURES.items()))
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(line)
    out = Path(str(terminalreporter.config.rootpath)) / "build" / "reliability" / "figures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(sorted(_FIGURES.items())), indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {out}")
