"""Signed checkpoints: someone who edits rows and recomputes every hash passes the plain chain check,
but not a checkpoint signed with a key the database never held (or an anchor a third party kept)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from campaignflow import CheckpointInvalid, Engine, InvalidInput
from campaignflow.domain.audit import Leaf, MerkleRoot, leaf_hash
from campaignflow.testing import actors, drive_to, sample_evidence

KEY = b"held-by-the-office-not-the-db-32b"


def _rfc6962(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle tree hash, recursively, as the reference."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962(leaves[:k]) + _rfc6962(leaves[k:])).digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31])
def test_streaming_merkle_root_is_the_rfc6962_tree_hash(n: int) -> None:
    leaves = [Leaf(f"t{i:03d}", i + 1, f"{i:064x}") for i in range(n)]
    root = MerkleRoot()
    for leaf in leaves:
        root.add(leaf)
    assert root.count == n
    assert root.hexdigest() == _rfc6962([leaf_hash(leaf) for leaf in leaves]).hex()


def test_a_rehashed_chain_passes_the_plain_check_but_not_the_checkpoint(
    engine: Engine, tamper: Any, tmp_path: Path
) -> None:
    task_id = drive_to(engine, "archived").id
    other = drive_to(engine, "verified").id
    path = tmp_path / "checkpoint.jsonl"
    summary = engine.checkpoint(path, key=KEY)
    assert summary.count == 2
    assert summary.mac is not None
    assert engine.verify_history(checkpoint=path, key=KEY).ok

    tamper.drop_guard()
    h = tamper.h
    tamper.sql(h.update().where(h.c.task_id == task_id, h.c.seq == 3).values(reason="从未整改"))
    tamper.rehash(task_id)
    assert engine.verify_history(task_id) is None  # the plain chain is fooled …
    assert engine.verify_history().ok
    report = engine.verify_history(checkpoint=path, key=KEY)  # … the signed checkpoint is not
    assert not report.ok
    assert [(b.task_id, b.seq, b.kind) for b in report.breaks] == [(task_id, 5, "checkpoint_mismatch")]
    assert report.checkpoint_root == summary.root
    assert report.checkpointed_tasks == 2
    assert other not in {b.task_id for b in report.breaks}


def test_the_anchor_alone_also_catches_it(engine: Engine, tamper: Any, tmp_path: Path) -> None:
    task_id = drive_to(engine, "archived").id
    path = tmp_path / "unsigned.jsonl"
    summary = engine.checkpoint(path, key=None)
    assert summary.mac is None
    anchor = summary.anchor  # what a third party keeps: format, time, count, root
    assert anchor.endswith(summary.root)
    assert engine.verify_history(checkpoint=path, anchor=anchor).ok
    tamper.drop_guard()
    tamper.sql(tamper.h.delete().where(tamper.h.c.task_id == task_id, tamper.h.c.seq == 5))
    tamper.rehash(task_id)
    assert engine.verify_history().ok
    assert engine.verify_history(checkpoint=path, anchor=anchor).first.kind == "checkpoint_mismatch"


def test_work_after_the_checkpoint_is_not_tampering(engine: Engine, tmp_path: Path) -> None:
    task = drive_to(engine, "self_checked")
    path = tmp_path / "cp.jsonl"
    engine.checkpoint(path, key=KEY)
    engine.fail_verification(task.id, by=actors()["inspector"], reason="仍有垃圾")
    engine.submit_self_check(task.id, by=actors()["staff"], evidence=[sample_evidence(engine.clock.now())])
    drive_to(engine, "archived")  # a new task the checkpoint never saw
    report = engine.verify_history(checkpoint=path, key=KEY)
    assert report.ok
    assert (report.tasks, report.checkpointed_tasks) == (2, 1)


def test_a_task_deleted_with_all_its_history_is_caught(engine: Engine, tamper: Any, tmp_path: Path) -> None:
    gone = drive_to(engine, "archived").id
    drive_to(engine, "archived")
    path = tmp_path / "cp.jsonl"
    engine.checkpoint(path, key=KEY)
    tamper.drop_guard()
    tamper.sql(
        tamper.h.delete().where(tamper.h.c.task_id == gone), tamper.t.delete().where(tamper.t.c.id == gone)
    )
    assert engine.verify_history().ok  # nothing left to recompute
    report = engine.verify_history(checkpoint=path, key=KEY)
    assert [(b.task_id, b.seq, b.kind) for b in report.breaks] == [(gone, 5, "checkpoint_task_missing")]


# --- the checkpoint file itself -------------------------------------------------------------------


@pytest.fixture
def signed(engine: Engine, tmp_path: Path) -> Path:
    for state in ("assigned", "rectifying", "archived"):
        drive_to(engine, state)
    path = tmp_path / "cp.jsonl"
    engine.checkpoint(path, key=KEY)
    return path


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, lines: list[Any]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_a_wrong_key_is_refused(engine: Engine, signed: Path) -> None:
    with pytest.raises(CheckpointInvalid, match="签名不符"):
        engine.verify_history(checkpoint=signed, key=b"another-key-of-32-bytes-length!!")


def test_a_checkpoint_needs_a_key_or_an_anchor(engine: Engine, signed: Path) -> None:
    with pytest.raises(CheckpointInvalid, match="签名密钥或"):
        engine.verify_history(checkpoint=signed)


def test_an_edited_leaf_is_refused_even_with_a_fixed_up_trailer(engine: Engine, signed: Path) -> None:
    lines = _lines(signed)
    lines[1][2] = "f" * 64
    _write(signed, lines)
    with pytest.raises(CheckpointInvalid, match="叶子与根哈希不符"):
        engine.verify_history(checkpoint=signed, key=KEY)
    root = MerkleRoot()
    for leaf in lines[1:-1]:
        root.add(Leaf(*leaf))
    lines[-1]["root"] = root.hexdigest()  # the forger recomputes the root, but cannot sign it
    _write(signed, lines)
    with pytest.raises(CheckpointInvalid, match="签名不符"):
        engine.verify_history(checkpoint=signed, key=KEY)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "未按任务编号排序"),
        (lambda lines: lines[:-1], "缺少结尾"),
        (lambda lines: [*lines, ["x", 1, "y"]], "结尾之后还有内容"),
        (lambda lines: [{"format": "other"}, *lines[1:]], "不是检查点文件"),
        (lambda lines: [lines[0], ["x", "1"], *lines[1:]], "叶子格式错误"),
    ],
)
def test_a_damaged_checkpoint_file_is_refused(
    engine: Engine, signed: Path, damage: Any, message: str
) -> None:
    _write(signed, damage(_lines(signed)))
    with pytest.raises(CheckpointInvalid, match=message):
        engine.verify_history(checkpoint=signed, key=KEY)


def test_not_json_and_missing_files_are_refused(engine: Engine, signed: Path, tmp_path: Path) -> None:
    signed.write_bytes(b"\xff\xfe not json")
    with pytest.raises(CheckpointInvalid, match="JSON"):
        engine.verify_history(checkpoint=signed, key=KEY)
    with pytest.raises(CheckpointInvalid, match="无法读取"):
        engine.verify_history(checkpoint=tmp_path / "nowhere.jsonl", key=KEY)


def test_a_wrong_anchor_is_refused(engine: Engine, signed: Path) -> None:
    with pytest.raises(CheckpointInvalid, match="锚点"):
        engine.verify_history(checkpoint=signed, anchor="0" * 64)


def test_a_short_or_textual_key_is_bad_input(engine: Engine, tmp_path: Path) -> None:
    for key in (b"short", "a text key of sufficient length"):
        with pytest.raises(InvalidInput):
            engine.checkpoint(tmp_path / "cp.jsonl", key=key)  # type: ignore[arg-type]
    assert not (tmp_path / "cp.jsonl").exists()
    with pytest.raises(InvalidInput):
        engine.verify_history(max_breaks=0)
