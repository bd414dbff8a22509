"""Ledgers (台账) in and out of Excel and CSV: :func:`import_ledger` (validated, all or nothing,
through the engine) and :func:`export_ledger` (the same layout). See docs/ledger.md."""

from __future__ import annotations

from campaignflow.ledger.exporting import export_ledger, ledger_rows
from campaignflow.ledger.importing import LedgerReport, Progress, import_ledger
from campaignflow.ledger.layout import (
    INDICATOR_COLUMNS,
    INDICATOR_SHEET,
    TASK_COLUMNS,
    UNIT_COLUMNS,
    UNIT_SHEET,
)

__all__ = [
    "INDICATOR_COLUMNS",
    "INDICATOR_SHEET",
    "TASK_COLUMNS",
    "UNIT_COLUMNS",
    "UNIT_SHEET",
    "LedgerReport",
    "Progress",
    "export_ledger",
    "import_ledger",
    "ledger_rows",
]
