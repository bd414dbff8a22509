"""The shape of the distribution: a locked public surface, the typing marker and migrations in the
package data, and layer contracts that are both kept and able to notice a break.

(``test_tools.py`` beside this file runs ruff, ruff format, mypy --strict and lint-imports as the
suite's single gate; this module checks what those tools cannot.)
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import campaignflow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "campaignflow"
BIN = Path(sys.executable).parent

# The public surface, locked (as httpx does): adding or removing a name is a deliberate change to
# this list, the changelog and the docs, never a side effect of an import.
PUBLIC_API = [
    "ActionContext",
    "ActionRefused",
    "Actor",
    "Adjustment",
    "Adjustments",
    "AttributeField",
    "AuditReport",
    "BatchRefused",
    "Bulletin",
    "CalendarYearUnknown",
    "Campaign",
    "CampaignflowError",
    "ChainBreak",
    "Channel",
    "ChannelError",
    "Checkpoint",
    "CheckpointInvalid",
    "Clock",
    "ConflictError",
    "Contact",
    "ContactRole",
    "DeadlinePolicy",
    "DeadlineRule",
    "DeadlineTable",
    "DecompositionReport",
    "DecompositionRow",
    "DefinitionError",
    "DeliveryPolicy",
    "Deployment",
    "DispatchReport",
    "DossierError",
    "Engine",
    "EscalatingDeductions",
    "Escalation",
    "EscalationLadder",
    "EscalationStep",
    "Event",
    "Evidence",
    "EvidenceError",
    "EvidenceNotFound",
    "EvidenceStore",
    "FailureDeductions",
    "FileProblem",
    "Finding",
    "FixedClock",
    "Grid",
    "HistoryEntry",
    "Indicator",
    "Inspection",
    "InspectionRound",
    "InvalidEvidenceName",
    "InvalidInput",
    "InvalidTransition",
    "JointWork",
    "KindSchema",
    "LedgerError",
    "LedgerProblem",
    "LedgerReport",
    "Lifecycle",
    "Limit",
    "LocalEvidenceStore",
    "Message",
    "MigrationReport",
    "Missing",
    "NotFound",
    "Notice",
    "OfficeScope",
    "OutboxEntry",
    "Page",
    "PartResult",
    "Period",
    "PermissionDenied",
    "Person",
    "Plan",
    "PlanStep",
    "PluginError",
    "PluginLoadError",
    "Policy",
    "PolicyUnavailable",
    "ProblemGroup",
    "Ranked",
    "Rate",
    "RateLimit",
    "RecurrenceReport",
    "RecurringDuty",
    "RefusedRow",
    "Responsibility",
    "Role",
    "RoundKind",
    "RoundReport",
    "Rule",
    "RuleSetVersion",
    "RuleViolation",
    "SchemaNotReady",
    "Score",
    "ScorePart",
    "ScoreScheme",
    "Separation",
    "Severity",
    "Site",
    "StructureFile",
    "StructureFileError",
    "SweepReport",
    "SystemClock",
    "Task",
    "TaskMigration",
    "TaskSource",
    "TaskState",
    "Template",
    "Threshold",
    "TransitionSpec",
    "Unit",
    "UnitCycle",
    "UnitMetrics",
    "Verdict",
    "Verification",
    "VerificationMode",
    "WeightedRates",
    "WorkCalendar",
    "available_schemes",
    "build_bulletin",
    "builtin_schemes",
    "china_calendar",
    "cumulative",
    "export_ledger",
    "hookimpl",
    "import_ledger",
    "period_metrics",
    "rank",
    "ranking",
    "render_html",
    "scheme_from_mapping",
    "scheme_named",
    "score_period",
    "write_bulletin",
]


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


# --- the public surface -------------------------------------------------------------------------


def test_public_api_is_locked() -> None:
    assert campaignflow.__all__ == PUBLIC_API


def test_public_api_is_sorted_and_unique() -> None:
    assert campaignflow.__all__ == sorted(set(campaignflow.__all__))


def test_every_public_name_resolves_and_nothing_else_leaks() -> None:
    for name in campaignflow.__all__:
        assert getattr(campaignflow, name, None) is not None, name
    leaked = {
        name
        for name, value in vars(campaignflow).items()
        if not name.startswith("_") and not isinstance(value, type(campaignflow))
    } - set(campaignflow.__all__)
    assert leaked == set(), f"public names outside __all__: {sorted(leaked)}"


def test_every_public_error_has_a_stable_code() -> None:
    errors = [
        getattr(campaignflow, name)
        for name in campaignflow.__all__
        if isinstance(getattr(campaignflow, name), type)
        and issubclass(getattr(campaignflow, name), campaignflow.CampaignflowError)
    ]
    codes = [error.code for error in errors]
    assert len(errors) >= 10
    assert all(re.fullmatch(r"[a-z_]+", code) for code in codes), codes
    assert len(set(codes)) == len(codes), codes


# --- what the distribution ships ----------------------------------------------------------------


def _package_data_patterns() -> list[str]:
    data = _pyproject()["tool"]["setuptools"]["package-data"]
    patterns: list[str] = data["campaignflow"]
    return patterns


def test_py_typed_ships() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in _package_data_patterns()
    assert "Typing :: Typed" in _pyproject()["project"]["classifiers"]


def test_every_non_python_file_and_every_migration_is_package_data() -> None:
    """Alembic loads env.py, the template and the revisions from the installed package: each must
    be matched by a package-data pattern (and so must py.typed), or the installed wheel cannot
    migrate."""
    patterns = _package_data_patterns()
    needed = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (path.suffix != ".py" or "migrations" in path.parts)
    ]
    assert "store/migrations/versions/0001_initial.py" in needed
    unshipped = [f for f in needed if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert unshipped == []


def _minimum_version(requirements: list[str], name: str) -> tuple[int, ...]:
    for requirement in requirements:
        found = re.fullmatch(rf"{name}\s*>=\s*([\d.]+)", requirement.strip())
        if found:
            return tuple(int(part) for part in found.group(1).split("."))
    return (0,)


def test_build_backend_understands_the_license_field() -> None:
    """A PEP 639 license string needs setuptools 77 or newer; older ones reject the project."""
    project = _pyproject()
    if isinstance(project["project"].get("license"), str):
        assert _minimum_version(project["build-system"]["requires"], "setuptools") >= (77,)


# --- layer contracts ----------------------------------------------------------------------------


def _contract_names() -> list[str]:
    return [contract["name"] for contract in _pyproject()["tool"]["importlinter"]["contracts"]]


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    executable = BIN / "lint-imports"
    assert executable.exists(), f"lint-imports is not installed beside {sys.executable}"
    return subprocess.run(
        [str(executable), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_every_layer_contract_is_named_and_kept() -> None:
    names = _contract_names()
    assert len(names) >= 3
    result = _lint_imports(ROOT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for name in names:
        assert f"{name} KEPT" in output, output
    assert f"Contracts: {len(names)} kept, 0 broken." in output, output


@pytest.mark.slow
def test_layer_contracts_catch_violations(tmp_path: Path) -> None:
    """The same contracts, run over a copy of the package with one violation per contract, must
    fail and name every broken contract: the check is not vacuous."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    copy = tmp_path / "campaignflow"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    violations = {
        "store/tables.py": "import campaignflow.engine  # upward: store -> engine\n",
        "domain/model.py": "import sqlalchemy  # the domain must stay pure\n",
        "domain/rules.py": "import transitions  # only the lifecycle may\n",
    }
    for relative, line in violations.items():
        with (copy / relative).open("a", encoding="utf-8") as handle:
            handle.write(line)

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copy shadows the installed package
    result = _lint_imports(tmp_path, env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for name in _contract_names():
        assert f"{name} BROKEN" in output, output
    assert "campaignflow.store.tables -> campaignflow.engine" in output, output
    assert "campaignflow.domain.model -> sqlalchemy" in output, output
