"""Streaming the whole history for verification, and reading/writing checkpoint files.

Every read here streams (``yield_per``: a server-side cursor on PostgreSQL, incremental fetches on
SQLite) in ``(task_id, seq)`` order, so verifying a database costs the same memory at a thousand
rows as at millions. Task ids are compared in byte order everywhere (``COLLATE "C"`` on
PostgreSQL, SQLite's default BINARY), the order Python compares ``str`` in, so the database's
stream and a checkpoint file can be merged in one pass.

A checkpoint file is JSON lines, UTF-8::

    {"format": "campaignflow-checkpoint/1", "taken_at": "…"}      header
    ["<task id>", <seq>, "<head hash>"]                          one leaf per task, by task id
    {"count": n, "root": "<RFC 6962 root>", "mac": "<hex>"|null}  trailer
"""

from __future__ import annotations

import contextlib
import heapq
import hmac
import json
import os
from collections.abc import Generator, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

import attrs
import sqlalchemy as sa

from campaignflow.domain.audit import (
    CHECKPOINT_FORMAT,
    AuditReport,
    ChainBreak,
    ChainRow,
    Leaf,
    MerkleRoot,
    WalkStats,
    checkpoint_mac,
    walk_chains,
)
from campaignflow.domain.history import canonical_json
from campaignflow.domain.model import HistoryEntry
from campaignflow.domain.serial import dt_to_json
from campaignflow.errors import CheckpointInvalid, InvalidInput
from campaignflow.store.repository import _history_from_row
from campaignflow.store.tables import Tables

__all__ = [
    "Checkpoint",
    "chain_rows",
    "checkpoint",
    "heads",
    "read_checkpoint",
    "task_break",
    "verify",
    "write_checkpoint",
]

BATCH = 500
MIN_KEY_BYTES = 16


@attrs.frozen
class Checkpoint:
    """What a checkpoint file commits to: when, how many task heads, their Merkle root, the MAC."""

    taken_at: str
    count: int
    root: str
    mac: str | None

    @property
    def anchor(self) -> str:
        """The line a third party keeps (or publishes): the root with its count and time."""
        return f"{CHECKPOINT_FORMAT} {self.taken_at} {self.count} {self.root}"


def _ordered(conn: sa.Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def chain_rows(
    conn: sa.Connection, tables: Tables, tz: tzinfo, task_id: str | None = None
) -> Generator[ChainRow]:
    """Every history row with its task's head, and every task without history, by (task_id, seq)."""
    h, t = tables.history, tables.tasks
    rows = (
        sa.select(h, t.c.history_head.label("task_head"), t.c.id.label("task_row"))
        .select_from(h.outerjoin(t, t.c.id == h.c.task_id))
        .order_by(_ordered(conn, h.c.task_id), h.c.seq)
        .execution_options(yield_per=BATCH)
    )
    bare = (
        sa.select(t.c.id, t.c.history_head)
        .where(~sa.exists().where(h.c.task_id == t.c.id))
        .order_by(_ordered(conn, t.c.id))
        .execution_options(yield_per=BATCH)
    )
    if task_id is not None:
        rows = rows.where(h.c.task_id == task_id)
        bare = bare.where(t.c.id == task_id)

    # Both results are closed before the caller's transaction ends, even when the walk stops
    # early: a named (server-side) cursor left to the garbage collector fails to close.
    with conn.execute(rows) as history, conn.execute(bare) as empty:
        yield from heapq.merge(
            (
                ChainRow(r["task_id"], r["task_head"] if r["task_row"] is not None else None, _entry(r, tz))
                for r in history.mappings()
            ),
            (ChainRow(r["id"], r["history_head"], None) for r in empty.mappings()),
            key=lambda r: r.task_id,
        )


def _entry(row: sa.RowMapping, tz: tzinfo) -> HistoryEntry:
    return _history_from_row(row, tz)


def heads(conn: sa.Connection, tables: Tables) -> Iterator[Leaf]:
    """Every task's (id, version, head), by id: what a checkpoint signs."""
    t = tables.tasks
    query = (
        sa.select(t.c.id, t.c.version, t.c.history_head)
        .order_by(_ordered(conn, t.c.id))
        .execution_options(yield_per=BATCH)
    )
    for row in conn.execute(query):
        yield Leaf(row[0], row[1], row[2])


def write_checkpoint(
    conn: sa.Connection, tables: Tables, out: IO[str], *, taken_at: str, key: bytes | None
) -> Checkpoint:
    """Write every task's head to ``out`` and return the signed summary."""
    out.write(canonical_json({"format": CHECKPOINT_FORMAT, "taken_at": taken_at}) + "\n")
    root = MerkleRoot()
    for leaf in heads(conn, tables):
        root.add(leaf)
        out.write(canonical_json([leaf.task_id, leaf.seq, leaf.hash]) + "\n")
    digest = root.hexdigest()
    mac = checkpoint_mac(key, taken_at=taken_at, count=root.count, root=digest) if key is not None else None
    out.write(canonical_json({"count": root.count, "root": digest, "mac": mac}) + "\n")
    return Checkpoint(taken_at, root.count, digest, mac)


def _bad(zh: str, en: str, path: Path) -> CheckpointInvalid:
    return CheckpointInvalid(f"检查点文件 {path} 不可信：{zh}", f"checkpoint {path} cannot be trusted: {en}")


def _leaf(line: str, path: Path) -> Leaf | None:
    value = json.loads(line)
    if isinstance(value, dict):
        return None  # the trailer
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not isinstance(value[1], int)
        or not isinstance(value[2], str)
    ):
        raise _bad("叶子格式错误", "a leaf is malformed", path)
    return Leaf(value[0], value[1], value[2])


def read_checkpoint(
    path: Path, *, key: bytes | None, anchor: str | None, summary: list[Checkpoint]
) -> Iterator[Leaf]:
    """Stream the leaves of the checkpoint at ``path``, checking as they go that they are sorted,
    and at the end that their root matches the trailer, the trailer's MAC matches ``key`` and/or
    the root matches ``anchor``. Raises :class:`CheckpointInvalid` (after the last leaf) otherwise;
    appends the checked summary to ``summary``."""
    if key is None and anchor is None:
        raise CheckpointInvalid(
            "校验检查点需要签名密钥或第三方保存的锚点（根哈希）",
            "checking a checkpoint needs the signing key or the anchor (root) a third party kept",
        )
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise CheckpointInvalid(
            f"无法读取检查点文件 {path}：{error.strerror}", f"cannot read checkpoint {path}: {error.strerror}"
        ) from None
    with handle:
        try:
            header = json.loads(handle.readline() or "null")
            if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
                raise _bad("不是检查点文件", "not a checkpoint file", path)
            taken_at = str(header.get("taken_at", ""))
            root = MerkleRoot()
            previous: str | None = None
            trailer: Any = None
            for line in handle:
                leaf = _leaf(line, path)
                if leaf is None:
                    trailer = json.loads(line)
                    break
                if previous is not None and leaf.task_id <= previous:
                    raise _bad("叶子未按任务编号排序", "leaves are not sorted by task id", path)
                previous = leaf.task_id
                root.add(leaf)
                yield leaf
            if handle.readline():
                raise _bad("结尾之后还有内容", "content follows the trailer", path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _bad("不是合法的 JSON 行", "not valid JSON lines", path) from None
    summary.append(_check_trailer(trailer, root, taken_at, key=key, anchor=anchor, path=path))


def _check_trailer(
    trailer: Any, root: MerkleRoot, taken_at: str, *, key: bytes | None, anchor: str | None, path: Path
) -> Checkpoint:
    if not isinstance(trailer, dict):
        raise _bad("缺少结尾（文件被截断）", "the trailer is missing (truncated)", path)
    digest = root.hexdigest()
    if trailer.get("count") != root.count or trailer.get("root") != digest:
        raise _bad("叶子与根哈希不符（文件被改动）", "the leaves do not match the root (edited)", path)
    mac = trailer.get("mac")
    if key is not None:
        expected = checkpoint_mac(key, taken_at=taken_at, count=root.count, root=digest)
        if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
            raise _bad(
                "签名不符（密钥不对或文件被伪造）", "the signature does not match (wrong key or forged)", path
            )
    if anchor is not None and anchor.strip().split()[-1:] != [digest]:
        raise _bad("根哈希与第三方保存的锚点不符", "the root does not match the anchor kept", path)
    return Checkpoint(taken_at, root.count, digest, mac if isinstance(mac, str) else None)


def verify(
    conn: sa.Connection,
    tables: Tables,
    tz: tzinfo,
    *,
    checkpoint: str | os.PathLike[str] | None,
    key: bytes | None,
    anchor: str | None,
    max_breaks: int,
) -> AuditReport:
    """Walk every chain in the database (and the checkpoint's leaves) in one streaming pass."""
    if not isinstance(max_breaks, int) or isinstance(max_breaks, bool) or max_breaks < 1:
        raise InvalidInput("max_breaks 必须是正整数", "max_breaks must be a positive int", field="max_breaks")
    if key is not None and not isinstance(key, bytes):
        raise InvalidInput("key 必须是 bytes", "key must be bytes", field="key")
    summary: list[Checkpoint] = []
    leaves = (
        read_checkpoint(Path(checkpoint), key=key, anchor=anchor, summary=summary)
        if checkpoint is not None
        else None
    )
    stats = WalkStats()
    kept: list[ChainBreak] = []
    with contextlib.closing(chain_rows(conn, tables, tz)) as rows:
        for found in walk_chains(rows, leaves, stats):
            if len(kept) < max_breaks:
                kept.append(found)
    return AuditReport(
        ok=stats.broken_tasks == 0,
        tasks=stats.tasks,
        entries=stats.entries,
        broken_tasks=stats.broken_tasks,
        breaks=tuple(kept),
        checkpoint_root=summary[0].root if summary else None,
        checkpointed_tasks=stats.checkpointed_tasks,
    )


def task_break(conn: sa.Connection, tables: Tables, tz: tzinfo, task_id: str) -> int | None:
    """One task's first break as :meth:`Engine.verify_history` has always reported it: the seq, -1
    when only the head disagrees (last row deleted, or rows appended behind the head), None if whole."""
    with contextlib.closing(chain_rows(conn, tables, tz, task_id)) as rows:
        for found in walk_chains(rows):
            return -1 if found.kind in ("head_missing", "beyond_head") else found.seq
    return None


def checkpoint(
    conn: sa.Connection, tables: Tables, path: str | os.PathLike[str], *, key: bytes | None, now: datetime
) -> Checkpoint:
    """Write a checkpoint of every task's head to ``path`` (replaced atomically)."""
    if key is not None and (not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES):
        raise InvalidInput(
            f"签名密钥必须是至少 {MIN_KEY_BYTES} 字节的 bytes",
            f"the signing key must be bytes, at least {MIN_KEY_BYTES} long",
            field="key",
        )
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        summary = write_checkpoint(conn, tables, out, taken_at=dt_to_json(now), key=key)
    partial.replace(target)
    return summary
