"""专卷: a task's dossier, exported to a folder (or a zip) a person or a program can check alone.

::

    <out>/<campaign>/<year>/<indicator>/<task id>/
        manifest.json     the task, its 四有四定 records, every evidence file with its sha256,
                          and the whole hash-chained history
        summary.html      the same, readable, in Chinese
        evidence/<sha256> the evidence files, named by their hash

Filed by year (the year the task was archived in, in the engine's timezone; the year it was
assigned for a task not archived yet) and indicator code. Folder names made from the campaign and
indicator keep letters (Chinese included), digits, ``-``, ``_`` and ``.``; anything else becomes
``_``, and a name that would start with a dot is prefixed with ``_``: nothing a caller types can
climb out of ``<out>``.

Every evidence file is copied out of the evidence store while it is hashed; a missing file or one
whose bytes no longer match the recorded sha256 raises :class:`~campaignflow.errors.EvidenceError`
and leaves nothing behind. A task whose hash chain is broken raises
:class:`~campaignflow.errors.DossierError`: a tampered history is not filed.

暗访 (covert inspection): an :class:`~campaignflow.Inspection` with ``covert=True`` keeps the
inspector's name and the names on its evidence out of the dossier, and so the actor of each history
entry that carries it; so does a task raised by a covert round (its team, and the actor who
recorded it). Such entries are marked ``"redacted": true``: their own hash cannot be
recomputed from the dossier (it covers the real names), but every link of the chain still can.
:func:`check_dossier` is that re-import-free check.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaignflow.domain.history import GENESIS, entry_hash
from campaignflow.domain.inspections import REDACTED as COVERT_REDACTED
from campaignflow.domain.inspections import redact_payload
from campaignflow.domain.labels import EVENT_ZH, ROLE_ZH, STATE_ZH
from campaignflow.domain.model import Evidence, HistoryEntry, Task
from campaignflow.domain.serial import (
    deployment_to_json,
    dt_from_json,
    dt_to_json,
    evidence_to_json,
    inspection_to_json,
    plan_to_json,
)
from campaignflow.engine import Engine
from campaignflow.errors import DossierError, EvidenceError, EvidenceNotFound, InvalidInput
from campaignflow.store.evidence import CHUNK, EvidenceStore

__all__ = ["FORMAT", "REDACTED", "check_dossier", "export_campaign", "export_task"]

FORMAT = "campaignflow-dossier/1"
REDACTED = COVERT_REDACTED
_UNSAFE = re.compile(r"[^\w.\-]")


def _folder(name: str) -> str:
    """A single safe path component made from ``name`` (campaign or indicator code)."""
    safe = _UNSAFE.sub("_", name.strip())[:100] or "_"
    return "_" + safe if safe.startswith(".") else safe


# --- redaction ------------------------------------------------------------------------------------


def _redact_inspection(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if out.get("covert"):
        out["inspector"] = REDACTED
        out["evidence"] = [{**e, "taken_by": REDACTED} for e in out.get("evidence", [])]
    return out


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    # A covert verification's inspector and a covert finding's team (暗访组) are hidden.
    payload, redacted = redact_payload(entry.payload)
    return {
        "seq": entry.seq,
        "at": dt_to_json(entry.at),
        "actor_id": REDACTED if redacted else entry.actor_id,
        "actor_role": entry.actor_role,
        "actor_unit": entry.actor_unit,
        "trigger": entry.trigger,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "payload": payload,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "redacted": redacted,
    }


# --- building one dossier -------------------------------------------------------------------------


def _files(task: Task) -> list[tuple[str, Evidence]]:
    found = [("rectification", item) for item in task.evidence]
    if task.inspection is not None:
        found += [("inspection", item) for item in task.inspection.evidence]
    return found


def _copy(store: EvidenceStore, sha256: str, target: Path) -> int:
    """Copy one evidence file out of the store, hashing it; its size."""
    digest, size = hashlib.sha256(), 0
    try:
        with store.open(sha256) as source, target.open("xb") as out:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except FileExistsError:
        return target.stat().st_size  # the same file recorded twice
    if digest.hexdigest() != sha256:
        raise EvidenceError(
            f"证据库中的文件 {sha256} 与登记的哈希不符（原件与电子记录不一致），不能立卷",
            f"the stored file {sha256} no longer matches its recorded hash: the dossier is not built",
            sha256=sha256,
        )
    return size


def _year(engine: Engine, task: Task, history: list[HistoryEntry]) -> int:
    filed = next((e.at for e in reversed(history) if e.trigger == "archive"), task.created_at)
    return filed.astimezone(engine.timezone).year


def _manifest(
    engine: Engine, task: Task, history: list[HistoryEntry], sizes: dict[str, int]
) -> dict[str, Any]:
    units = {unit.id: unit.name for unit in engine.units()}
    archived = next((e.at for e in reversed(history) if e.trigger == "archive"), None)
    inspection = _redact_inspection(inspection_to_json(task.inspection)) if task.inspection else None
    covert = bool(task.inspection and task.inspection.covert)
    evidence = []
    for source, item in _files(task):
        data = evidence_to_json(item)
        if source == "inspection" and covert:
            data["taken_by"] = REDACTED
        evidence.append(
            {**data, "source": source, "file": f"evidence/{item.sha256}", "size": sizes[item.sha256]}
        )
    return {
        "format": FORMAT,
        "generated_at": dt_to_json(engine.clock.now()),
        "timezone": str(engine.timezone),
        "filed": {
            "year": _year(engine, task, history),
            "indicator": task.indicator,
            "campaign": task.campaign,
        },
        "task": {
            "id": task.id,
            "campaign": task.campaign,
            "indicator": task.indicator,
            "kind": task.kind,
            "title": task.title,
            "standard": task.standard,
            "measures": list(task.measures),
            "unit": task.unit,
            "unit_name": units.get(task.unit, task.unit),
            "leader": task.leader,
            "office_unit": task.office_unit,
            "deadline": dt_to_json(task.deadline),
            "state": task.state.value,
            "rework_count": task.rework_count,
            "created_at": dt_to_json(task.created_at),
            "archived_at": dt_to_json(archived) if archived else None,
        },
        "records": {
            "plan": plan_to_json(task.plan) if task.plan else None,
            "deployment": deployment_to_json(task.deployment) if task.deployment else None,
            "self_check_report": task.self_check_report,
            "inspection": inspection,
        },
        "evidence": evidence,
        "history": [_history_json(entry) for entry in history],
        "history_head": task.history_head,
    }


def _build(engine: Engine, store: EvidenceStore, task_id: str, root: Path) -> Path:
    """Write one task's dossier under ``root``; its folder."""
    task = engine.get(task_id)
    broken = engine.verify_history(task_id)
    if broken is not None:
        where = "链头" if broken == -1 else f"第 {broken} 条"
        raise DossierError(
            f"任务 {task_id} 的历史在{where}处校验失败，不能立卷",
            f"task {task_id}'s history fails verification at {'the head' if broken == -1 else broken}: "
            "no dossier is built from a tampered history",
            task_id=task_id,
        )
    history = engine.history(task_id)
    folder = root / _folder(task.campaign) / str(_year(engine, task, history)) / _folder(task.indicator)
    folder = folder / _folder(task.id)
    (folder / "evidence").mkdir(parents=True)
    sizes: dict[str, int] = {}
    for _source, item in _files(task):
        try:
            sizes[item.sha256] = _copy(store, item.sha256, folder / "evidence" / item.sha256)
        except EvidenceNotFound:
            raise EvidenceError(
                f"证据库中没有佐证材料 {item.sha256}，不能立卷",
                f"the evidence file {item.sha256} is not in the store: the dossier is not built",
                sha256=item.sha256,
                task_id=task_id,
            ) from None
    manifest = _manifest(engine, task, history, sizes)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (folder / "summary.html").write_text(render_html(manifest), encoding="utf-8")
    return folder


def _store(engine: Engine, store: EvidenceStore | None) -> EvidenceStore:
    found = store if store is not None else engine.evidence_store
    if found is None:
        raise InvalidInput(
            "立卷需要证据库：请给 Engine(evidence_store=…) 或 evidence_store=",
            "a dossier needs the evidence store: pass evidence_store= here or to the Engine",
            field="evidence_store",
        )
    return found


def _finish(staging: Path, out: Path, *, as_zip: bool) -> Path:
    """Move the staged tree into ``out`` (a folder it merges into), or write it as the zip ``out``."""
    if as_zip:
        if out.exists():
            raise InvalidInput(f"{out} 已存在", f"{out} already exists", field="out")
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(staging).as_posix())
        partial.replace(out)
        return out
    moves = [(path, out / path.relative_to(staging)) for path in sorted(staging.rglob("*")) if path.is_file()]
    clash = next((target for _path, target in moves if target.exists()), None)
    if clash is not None:  # checked before anything moves: a refused export leaves ``out`` as it was
        raise InvalidInput(
            f"{clash} 已存在，请导出到别处", f"{clash} already exists: export elsewhere", field="out"
        )
    for path, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    return out


def export_task(
    engine: Engine,
    task_id: str,
    out: str | Path,
    *,
    evidence_store: EvidenceStore | None = None,
    as_zip: bool = False,
) -> Path:
    """Export one task's dossier into the folder ``out`` (or the zip file ``out``); returns the
    task's own dossier folder (or the zip). Nothing is left in ``out`` if any check fails."""
    store = _store(engine, evidence_store)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="campaignflow-dossier-") as tmp:
        folder = _build(engine, store, task_id, Path(tmp))
        relative = folder.relative_to(tmp)
        result = _finish(Path(tmp), out, as_zip=as_zip)
    return result if as_zip else out / relative


def _campaign_tasks(engine: Engine, campaign: str, states: tuple[str, ...]) -> Iterator[str]:
    for state in states:
        after: str | None = None
        while True:
            page = engine.tasks(campaign=campaign, state=state, after=after, limit=500)
            yield from (task.id for task in page.items)
            if page.next_cursor is None:
                break
            after = page.next_cursor


def export_campaign(
    engine: Engine,
    campaign: str,
    out: str | Path,
    *,
    evidence_store: EvidenceStore | None = None,
    as_zip: bool = False,
    include_open: bool = False,
) -> list[str]:
    """Export the dossier of every archived task of ``campaign`` (every task but cancelled ones with
    ``include_open``) into ``out``, filed by year and indicator; the ids exported, in order."""
    if not isinstance(campaign, str) or not campaign.strip():
        raise InvalidInput("campaign 不能为空", "campaign must not be blank", field="campaign")
    store = _store(engine, evidence_store)
    states = (
        ("archived", "verified", "self_checked", "rectifying", "assigned") if include_open else ("archived",)
    )
    done: list[str] = []
    with tempfile.TemporaryDirectory(prefix="campaignflow-dossier-") as tmp:
        for task_id in _campaign_tasks(engine, campaign.strip(), states):
            _build(engine, store, task_id, Path(tmp))
            done.append(task_id)
        (Path(tmp) / _folder(campaign.strip())).mkdir(exist_ok=True)
        _finish(Path(tmp), Path(out), as_zip=as_zip)
    return done


# --- the readable summary -------------------------------------------------------------------------


def _zone(name: object) -> tzinfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def render_html(manifest: Mapping[str, Any]) -> str:
    """The dossier as one self-contained Chinese HTML page."""
    e = html.escape
    task, records = manifest["task"], manifest["records"]
    zone = _zone(manifest.get("timezone"))

    def local(value: str | None) -> str:
        return dt_from_json(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    rows = [
        ("任务名称", task["title"]),
        ("创建活动", task["campaign"]),
        ("测评指标", task["indicator"]),
        ("具体标准", task["standard"]),
        ("主要措施", "；".join(task["measures"])),
        ("责任单位", f"{task['unit_name']}（{task['unit']}）"),
        ("责任领导", task["leader"]),
        ("完成时限", local(task["deadline"])),
        ("当前状态", STATE_ZH.get(task["state"], task["state"])),
        ("返工次数", str(task["rework_count"])),
        ("交办时间", local(task["created_at"])),
        ("归档时间", local(task["archived_at"])),
    ]
    plan = records["plan"] or {"steps": [], "note": ""}
    deployment = records["deployment"] or {"people": [], "resources": []}
    inspection = records["inspection"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>专卷：{e(task['title'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #999;padding:.3em .6em;"
        "text-align:left;vertical-align:top}th{background:#eee}code{font-size:.85em}</style></head><body>",
        f"<h1>专卷：{e(task['title'])}</h1>",
        f"<p>归档年度 {manifest['filed']['year']} · 指标 {e(task['indicator'])} · "
        f"任务编号 <code>{e(task['id'])}</code></p>",
        "<h2>基本情况（定任务、定部门、定领导、定进度）</h2><table>",
        *(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows),
        "</table><h2>整改计划（有计划）</h2><table><tr><th>步骤</th><th>节点日期</th></tr>",
        *(f"<tr><td>{e(s['description'])}</td><td>{e(s['milestone'])}</td></tr>" for s in plan["steps"]),
        "</table><h2>人员布置（有布置）</h2><table><tr><th>姓名</th><th>职责</th></tr>",
        *(f"<tr><td>{e(p['name'])}</td><td>{e(p['duty'])}</td></tr>" for p in deployment["people"]),
        "</table>",
        f"<p>资源：{e('；'.join(deployment['resources']))}</p>",
        f"<h2>自查报告</h2><p>{e(records['self_check_report'] or '（无）')}</p>",
        "<h2>检查验收记录（有检查）</h2>",
    ]
    if inspection:
        covert = "（暗访）" if inspection.get("covert") else ""
        parts.append(
            f"<p>检查人：{e(inspection['inspector'])}{covert}；所属单位：{e(inspection['inspector_unit'])}；"
            f"检查时间：{e(local(inspection['inspected_at']))}；结论：{e(inspection['conclusion'])}</p>"
        )
    else:
        parts.append("<p>（无）</p>")
    parts += [
        "<h2>佐证材料（有整改）</h2><table><tr><th>类别</th><th>说明</th><th>形成时间</th><th>形成人</th>"
        "<th>来源</th><th>文件（sha256）</th></tr>",
        *(
            f"<tr><td>{e(f['kind'])}</td><td>{e(f['note'])}</td><td>{e(local(f['taken_at']))}</td>"
            f"<td>{e(f['taken_by'])}</td><td>{'验收' if f['source'] == 'inspection' else '整改'}</td>"
            f'<td><a href="{e(f["file"])}"><code>{e(f["sha256"])}</code></a></td></tr>'
            for f in manifest["evidence"]
        ),
        "</table><h2>全部历史（哈希链）</h2><table><tr><th>序号</th><th>时间</th><th>操作</th><th>操作人</th>"
        "<th>状态</th><th>理由</th><th>哈希</th></tr>",
    ]
    for h in manifest["history"]:
        who = f"{h['actor_id']}（{ROLE_ZH.get(h['actor_role'], h['actor_role'])}，{h['actor_unit']}）"
        states = f"{STATE_ZH.get(h['from_state'] or '', '—')} → {STATE_ZH.get(h['to_state'], h['to_state'])}"
        event = EVENT_ZH.get(h["trigger"], h["trigger"])
        parts.append(
            f"<tr><td>{h['seq']}</td><td>{e(local(h['at']))}</td><td>{e(event)}</td><td>{e(who)}</td>"
            f"<td>{e(states)}</td><td>{e(h['reason'])}</td><td><code>{e(h['hash'][:16])}…</code></td></tr>"
        )
    parts += [
        "</table>",
        f"<p>链头：<code>{e(manifest['history_head'])}</code>。生成时间：{e(local(manifest['generated_at']))}。"
        "标注暗访的检查记录已隐去检查人身份。</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- checking a dossier without the database ------------------------------------------------------


def check_dossier(folder: str | Path) -> list[str]:
    """Problems found in the dossier at ``folder`` (empty: it holds), from the files alone: every
    evidence file hashes to its manifest sha256, every history entry that is not redacted hashes to
    its recorded hash, every entry links to the one before, and the last is the recorded head."""
    root = Path(folder)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    for item in manifest["evidence"]:
        path = root / "evidence" / item["sha256"]
        if not path.is_file():
            problems.append(f"evidence {item['sha256']}: missing")
            continue
        with path.open("rb") as handle:
            if hashlib.file_digest(handle, "sha256").hexdigest() != item["sha256"]:
                problems.append(f"evidence {item['sha256']}: content does not match")
    prev = GENESIS
    for h in manifest["history"]:
        if h["prev_hash"] != prev:
            problems.append(f"history #{h['seq']}: does not link to the entry before")
        if not h["redacted"]:
            recomputed = entry_hash(
                task_id=manifest["task"]["id"],
                seq=h["seq"],
                at=datetime.fromisoformat(h["at"]),
                actor_id=h["actor_id"],
                actor_role=h["actor_role"],
                actor_unit=h["actor_unit"],
                trigger=h["trigger"],
                from_state=h["from_state"],
                to_state=h["to_state"],
                reason=h["reason"],
                payload=h["payload"],
                prev_hash=h["prev_hash"],
            )
            if recomputed != h["hash"]:
                problems.append(f"history #{h['seq']}: content does not match its hash")
        prev = h["hash"]
    if prev != manifest["history_head"]:
        problems.append("history: the last entry is not the recorded head")
    return problems
