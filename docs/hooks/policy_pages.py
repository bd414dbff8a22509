"""MkDocs hook: render specs/*.feature (the Chinese policy text the test suite runs) and the
engine's active policy into the site's 政策 (Policy) section at build time, so the officials'
document is always the tested one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    cells = [[c["value"].replace("|", "\\|") for c in row["cells"]] for row in rows]
    if not cells:
        return []
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return ["", *lines, ""]


def _text(description: str) -> list[str]:
    text = "\n".join(line.strip() for line in description.strip().splitlines())
    return [text, ""] if text else []


def _tags(node: dict[str, Any]) -> str:
    tags = [t["name"].lstrip("@") for t in node.get("tags", [])]
    return " ".join(f"`{t}`" for t in tags)


def _steps(steps: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for step in steps:
        lines.append(f"- **{step['keyword'].strip()}** {step['text']}")
        if "dataTable" in step:
            lines += ["    " + x if x else x for x in _table(step["dataTable"]["rows"])]
    return [*lines, ""]


def _scenario(node: dict[str, Any], level: str) -> list[str]:
    lines = [f"{level} {node['keyword']}：{node['name']}", ""]
    if node.get("tags"):
        lines += [f"规则代码：{_tags(node)}", ""]
    lines += _text(node.get("description", ""))
    lines += _steps(node.get("steps", []))
    for examples in node.get("examples", []):
        lines += [f"*{examples['keyword']}*：{examples.get('name', '')}"]
        header = examples.get("tableHeader")
        if header:
            lines += _table([header, *examples.get("tableBody", [])])
    return lines


def _children(children: list[dict[str, Any]], level: str) -> list[str]:
    lines: list[str] = []
    for child in children:
        if "background" in child:
            background = child["background"]
            lines += [f"{level} {background['keyword']}", "", *_steps(background["steps"])]
        elif "scenario" in child:
            lines += _scenario(child["scenario"], level)
        elif "rule" in child:
            rule = child["rule"]
            lines += [f"{level} {rule['keyword']}：{rule['name']}", ""]
            lines += _text(rule.get("description", ""))
            lines += _children(rule["children"], level + "#")
    return lines


def feature_to_markdown(path: Path) -> str:
    """One .feature file as a Markdown page: rules as sections, scenarios with their steps,
    tables and rule-code tags."""
    document = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))
    feature = document["feature"]
    lines = [f"# {feature['keyword']}：{feature['name']}", ""]
    lines += [f"> 本页由 `specs/{path.name}` 生成；这些场景由测试套件逐条执行。", ""]
    lines += _text(feature.get("description", ""))
    lines += _children(feature["children"], "##")
    return "\n".join(lines).rstrip() + "\n"


def policy_pages() -> dict[str, str]:
    """Site path → Markdown for the Policy section: the active policy, then one page per feature."""
    from campaignflow import Engine
    from campaignflow.policy import render_policy

    # The site documents the library's own policy, whatever happens to be installed where it builds.
    engine = Engine("sqlite://", load_entry_points=False)
    try:
        pages = {"policy/index.md": render_policy(engine, markdown=True)}
    finally:
        engine.close()
    for path in sorted(SPECS.glob("*.feature")):
        pages[f"policy/{path.stem}.md"] = feature_to_markdown(path)
    return pages


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for src_uri, content in policy_pages().items():
        files.append(File.generated(config, src_uri, content=content))
    return files
