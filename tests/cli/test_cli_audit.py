"""``campaignflow audit verify`` and ``audit checkpoint`` on a demo database, intact and tampered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from campaignflow import Engine, cli
from campaignflow.testing import DEMO_NOW, FixedClock, drive_to, seed_units

WIDE = {"COLUMNS": "160"}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env=WIDE, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _database(tmp_path: Path) -> tuple[str, Path, list[str]]:
    path = tmp_path / "campaign.db"
    engine = Engine(f"sqlite:///{path}", clock=FixedClock(DEMO_NOW))
    seed_units(engine)
    ids = [drive_to(engine, "archived").id for _ in range(2)]
    engine.close()
    return f"sqlite:///{path}", path, ids


def _tamper(path: Path, task_id: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute('DROP TRIGGER "cf_history_no_update"')
        conn.execute("UPDATE cf_history SET reason = '改' WHERE task_id = ? AND seq = 2", (task_id,))
        conn.commit()
    finally:
        conn.close()


def test_verify_an_intact_database_and_one_task(tmp_path: Path) -> None:
    url, _path, ids = _database(tmp_path)
    code, out, err = _run("audit", "verify", "--url", url)
    assert (code, err) == (0, "")
    assert "历史完整" in out
    assert "2 个任务，10 条历史" in out
    code, out, _ = _run("audit", "verify", "--url", url, "--task", ids[0])
    assert code == 0
    assert f"任务 {ids[0]} 的历史完整" in out


def test_verify_names_the_first_broken_row_and_exits_2(tmp_path: Path) -> None:
    url, path, ids = _database(tmp_path)
    _tamper(path, ids[1])
    code, _out, err = _run("audit", "verify", "--url", url)
    assert code == 2
    assert "发现篡改" in err
    assert f"{ids[1]} #2 [altered]" in err
    assert ids[0] not in err
    code, _out, err = _run("audit", "verify", "--url", url, "--task", ids[1])
    assert code == 2
    assert "第 2 条" in err


def test_checkpoint_then_verify_with_the_key_file(tmp_path: Path) -> None:
    url, _path, _ids = _database(tmp_path)
    key = tmp_path / "office.key"
    key.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    out_file = tmp_path / "cp.jsonl"
    code, out, err = _run("audit", "checkpoint", "--url", url, "--out", str(out_file), "--key-file", str(key))
    assert (code, err) == (0, "")
    assert "已签名" in out
    anchor = next(line for line in out.splitlines() if line.startswith("锚点")).split(": ", 1)[1]
    code, out, _ = _run(
        "audit", "verify", "--url", url, "--checkpoint", str(out_file), "--key-file", str(key)
    )
    assert code == 0
    assert "检查点覆盖 2 个任务" in out
    code, out, _ = _run("audit", "verify", "--url", url, "--checkpoint", str(out_file), "--anchor", anchor)
    assert code == 0
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"another key, also long enough!!!")
    code, _out, err = _run(
        "audit", "verify", "--url", url, "--checkpoint", str(out_file), "--key-file", str(wrong)
    )
    assert code == 1
    assert "[checkpoint_invalid]" in err
    code, _out, err = _run(
        "audit",
        "verify",
        "--url",
        url,
        "--checkpoint",
        str(out_file),
        "--key-file",
        str(tmp_path / "none.key"),
    )
    assert code == 1
    assert "无法读取密钥文件" in err
