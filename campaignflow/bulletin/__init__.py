"""Bulletins (考核排名通报): :func:`build_bulletin` for a period, written as self-contained HTML or
as an Excel workbook by :func:`write_bulletin`."""

from __future__ import annotations

from pathlib import Path

from campaignflow.bulletin.html import render_html
from campaignflow.bulletin.model import Bulletin, BulletinLine, OverdueItem, build_bulletin
from campaignflow.bulletin.workbook import write_workbook
from campaignflow.errors import InvalidInput

__all__ = ["Bulletin", "BulletinLine", "OverdueItem", "build_bulletin", "render_html", "write_bulletin"]


def write_bulletin(bulletin: Bulletin, path: str | Path) -> Path:
    """Write ``bulletin`` to ``path``: ``.html`` (self-contained page) or ``.xlsx`` (workbook)."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in (".html", ".htm"):
        file.write_text(render_html(bulletin), encoding="utf-8")
        return file
    if suffix == ".xlsx":
        return write_workbook(bulletin, file)
    raise InvalidInput("通报只能写成 .html 或 .xlsx", "a bulletin is written as .html or .xlsx", field="path")
