"""Docs that run: every ```python block of docs/*.md and README.md is executed, file by file, and
what the docs copy from the code (the lifecycle diagram, the rule and role tables, the demo's
output, the Quick start commands) is checked against the code so the two cannot drift apart."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from campaignflow.demo import run_demo
from campaignflow.domain.lifecycle import default_lifecycle
from campaignflow.domain.roles import PERMISSIONS
from campaignflow.domain.rules import BUILTIN_RULES, CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MARKDOWN = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(r"^```(\S*)\s*$")


_SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$')


def _expand(line: str) -> str:
    """A pymdownx snippet line (``--8<-- "docs/examples/x.py"``) stands for the file it includes."""
    found = _SNIPPET.match(line)
    return (ROOT / found.group(1)).read_text(encoding="utf-8").rstrip("\n") if found else line


def blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced block in ``language``, in order; snippet
    includes are replaced by the file they name, so included examples run too."""
    found: list[tuple[int, str]] = []
    current: list[str] | None = None
    kind = start = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = _FENCE.match(line)
        if current is None:
            if fence:
                kind, start, current = fence.group(1), number + 1, []
        elif fence and not fence.group(1):
            if kind == language:
                assert start is not None
                found.append((start, "\n".join(current) + "\n"))
            current = None
        else:
            current.append(_expand(line))
    assert current is None, f"{path.name}: a code block is never closed"
    return found


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_docs_exist() -> None:
    names = {p.name for p in MARKDOWN}
    assert {"index.md", "concepts.md", "embedding.md", "cli.md", "plugins.md", "README.md"} <= names


@pytest.mark.parametrize("path", [p for p in MARKDOWN if blocks(p, "python")], ids=_name)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocks of one file run in order in one fresh namespace, in an empty directory."""
    monkeypatch.chdir(tmp_path)  # any SQLite file the examples create lands here
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for line, code in blocks(path, "python"):
        exec(compile(code, f"{path}:{line}", "exec"), namespace)


def test_every_guide_has_running_examples() -> None:
    for name in ("README.md", "concepts.md", "embedding.md", "cli.md", "plugins.md"):
        path = ROOT / name if name == "README.md" else DOCS / name
        assert blocks(path, "python"), f"{name} has no ```python example"


def test_the_lifecycle_diagram_is_the_live_definition() -> None:
    [(_line, diagram)] = blocks(DOCS / "concepts.md", "mermaid")
    assert diagram.rstrip("\n") == default_lifecycle().mermaid()


def test_the_rule_table_is_the_catalogue() -> None:
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    triggers = {code: rule.triggers for rule in BUILTIN_RULES for code in rule.codes}
    for code, (rule, zh, en) in CATALOGUE.items():
        checked = ", ".join(f"`{t}`" for t in sorted(triggers[code]))
        assert f"| {rule} | `{code}` | {checked} | {zh} | {en} |" in text, code


def test_the_role_table_is_the_permissions() -> None:
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    relation = {
        "any": "any unit",
        "own": "only the responsible unit itself",
        "other": "never the responsible unit nor one of its support units",
        "party": "the responsible (lead) unit or one of its support units",
    }
    rows = [line for line in text.splitlines() if re.match(r"^\| `\w+` \| `\w+` \(", line)]
    expected = [
        f"| `{trigger}` | `{role.value}` ({role.label_zh}) | {relation[rel]} |"
        for trigger, (role, rel) in PERMISSIONS.items()
    ]
    assert rows == expected


def test_the_demo_excerpts_are_what_the_demo_prints(tmp_path: Path) -> None:
    buffer = io.StringIO()
    run_demo(str(tmp_path / "demo.db"), Console(file=buffer, width=100), bulletin=tmp_path / "b.html")
    printed = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    excerpts = blocks(DOCS / "cli.md", "text")
    assert excerpts
    for line, excerpt in excerpts:
        assert excerpt.rstrip("\n") in printed, f"docs/cli.md:{line} is not in the demo's output"


def quick_start(path: Path) -> list[str]:
    """The lines of the first code block under the '## Quick start' heading."""
    text = path.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```\w*\n(.*?)^```$", section, re.S | re.M)
    assert match, f"{path.name}: no code block under ## Quick start"
    return match.group(1).splitlines()


def test_readme_quick_start_is_two_self_contained_commands() -> None:
    """Both lines install the library and every plugin distribution in plugins/ (editable), so the
    suite that runs the plugins' tests has them, and the demo runs where they are installed."""
    plugins = sorted(path.parent.name for path in (ROOT / "plugins").glob("*/pyproject.toml"))
    assert "campaignflow-sanitation" in plugins
    editable = " ".join(f"-e plugins/{name}" for name in plugins)
    setup = f"python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' {editable} && "
    assert quick_start(ROOT / "README.md") == [
        setup + ".venv/bin/campaignflow demo",
        setup + ".venv/bin/python -m pytest",
    ]


def test_docs_quick_start_is_the_readme_one() -> None:
    assert quick_start(DOCS / "index.md") == quick_start(ROOT / "README.md")
