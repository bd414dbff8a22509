"""The hostile input corpus of ``test_hostile_input.py`` through the public APIs that came later:
batch decomposition rows, inspection rounds and findings, structure files, ledger cells, joint-work
evidence and verdicts, policy pins and migrations, scoring periods.

Each input gets a typed :class:`~campaignflow.CampaignflowError` (stable code, Chinese and English,
nothing changed) or is stored and returned exactly. Nothing escapes as a raw Python or driver error.
On SQLite and PostgreSQL.
"""

# ruff: noqa: B023  (every lambda here is called at once, inside its loop iteration)
from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    Actor,
    Engine,
    Evidence,
    Finding,
    Inspection,
    InspectionRound,
    Period,
    Role,
    Verification,
    import_ledger,
    period_metrics,
    score_period,
)
from campaignflow.testing import (
    DEMO_NOW,
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
)
from tests.reliability.harness import Figures
from tests.reliability.test_hostile_input import DATES, NUMBERS, TEXTS, Tally, _attempt, _construct

PEOPLE = actors()
OFFICE = PEOPLE["office"]
SUPPORT_STAFF = Actor("sun", "jd-cg", Role.UNIT)
HEALTH_INSPECTOR = Actor("chen", "wsj", Role.INSPECTOR)
OFFICE_INSPECTOR = Actor("wu", "cwb", Role.INSPECTOR)
SHORT_TEXTS = (*(t for t in TEXTS if len(t) < 1000), "x" * 5000)
LEDGER_CELLS: tuple[str, ...] = (
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999",
    "-99999",
    "2958466",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "2026-02-30",
    "2026年13月1日",
    '=HYPERLINK("http://x","点我")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "'=1+1",
    "\x07bell",
    "tab\tinside",
    "\u202eevil",
    "背街小巷 Back-street 🧹 مرحبا",
    "y" * 5000,
    "'; DROP TABLE cf_tasks; --",
)
PERIODS: tuple[Any, ...] = (
    *SHORT_TEXTS,
    "2026-13",
    "2026-00",
    "2026-W00",
    "2026-W54",
    "2026-Q0",
    "2026-Q5",
    "0-01",
    "0000",
    "9999",
    "10000",
    "9999-12",
    "9999-W52",
    "9999-Q4",
    "0001-01",
    "2026-11-30..2026-11-01",
    "2026-11-01..9999-12-31",
    "0001-01-01..0001-01-02",
    "2026-11-01..",
    "..",
    "2026-02-30..2026-03-01",
    "२०२६-११",  # Devanagari digits
    "２０２６-１１",  # full-width digits
    None,
    2026,
    math.nan,
)


@pytest.fixture
def tally(figures: Figures, backend: str) -> Iterator[Tally]:
    counts = Tally()
    yield counts
    figures.add(f"hostile_inputs:{backend}", counts.tried)
    figures.add(f"hostile_refused:{backend}", counts.refused)
    figures.add(f"hostile_stored:{backend}", counts.stored)


def _rows(engine: Engine) -> dict[str, int]:
    t = engine.tables
    with engine.sqlalchemy_engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.tasks, t.history, t.outbox, t.units)
        }


def _unchanged(tally: Tally, engine: Engine, call: Callable[[], Any], *, what: str) -> tuple[bool, Any]:
    """:func:`_attempt`, and a refusal must leave every table's row count as it was."""
    before = _rows(engine)
    ok, result = _attempt(tally, engine, None, call, what=what)
    if not ok:
        assert _rows(engine) == before, f"{what}: a refusal wrote rows"
    return ok, result


# --- 逐项分解 ------------------------------------------------------------------------------------


def test_hostile_decomposition_rows(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    due = date(2026, 12, 31)

    def decompose(rows: Any, **options: Any) -> Any:
        options.setdefault("title", "背街小巷卫生死角整治")
        options.setdefault("standard", "无积存垃圾")
        options.setdefault("measures", ["巡查"])
        options.setdefault("due", due)
        return engine.decompose("2026创卫", "B3.2", rows, by=OFFICE, **options)

    for text in SHORT_TEXTS:
        short = repr(text[:20])
        for field in ("unit", "leader", "title", "standard", "site", "grid", "external_ref"):
            row = {"unit": "cgj", field: text}
            ok, report = _unchanged(tally, engine, lambda: decompose([row]), what=f"row {field}={short}")
            if ok:
                stored = engine.get(report.tasks[0].id)
                want = text if field == "external_ref" else text.strip()
                if field in ("site", "grid", "external_ref") and not text.strip():
                    want = None  # a blank optional field is no value
                if field == "leader" and not want:
                    want = stored.leader  # blank: the unit's leader
                assert getattr(stored, field) == want, f"row {field}={short} came back changed"
        ok, report = _unchanged(
            tally, engine, lambda: decompose([{"unit": "cgj", "measures": [text]}]), what=f"measures {short}"
        )
        ok, report = _unchanged(
            tally,
            engine,
            lambda: decompose([{"unit": "cgj", "attributes": {text: text}}]),
            what=f"attributes {short}",
        )
        if ok:
            assert dict(engine.get(report.tasks[0].id).attributes) == {text: text}
        _unchanged(tally, engine, lambda: engine.decompose(text, "B3.2", ["cgj"], by=OFFICE), what="campaign")
        _unchanged(tally, engine, lambda: engine.decompose("2026创卫", text, ["cgj"], by=OFFICE), what="ind")
        _unchanged(tally, engine, lambda: decompose(["cgj"], kind=text), what=f"kind {short}")
        _unchanged(tally, engine, lambda: decompose(["cgj"], source=text), what=f"source {short}")
        _unchanged(tally, engine, lambda: decompose([text]), what=f"bare unit {short}")
    for value in (*NUMBERS, *DATES):
        _unchanged(
            tally, engine, lambda v=value: decompose([{"unit": "cgj", "due": v}]), what=f"due {value!r}"
        )
        _unchanged(tally, engine, lambda v=value: decompose([v]), what=f"row {value!r}")
        _unchanged(
            tally,
            engine,
            lambda v=value: decompose([{"unit": "cgj", "attributes": {"area": v}}]),
            what=f"attribute {value!r}",
        )
    for rows in ([], [{}], [{"nope": 1}], [["cgj"]], "cgj", None, 5, [{"unit": "cgj"}] * 2):
        _unchanged(tally, engine, lambda r=rows: decompose(r), what=f"rows {rows!r}")
    assert decompose(["wsj"]).tasks  # still usable


# --- 督查轮次 -----------------------------------------------------------------------------------


def test_hostile_inspection_rounds(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    held = date(2026, 11, 10)

    def record(round_: Callable[[], Any], finding: Callable[[], Any], **options: Any) -> Any:
        return engine.record_round(_construct(round_), [_construct(finding)], by=OFFICE, **options)

    def good_finding(**fields: Any) -> Finding:
        fields.setdefault("indicator", "B3.2")
        fields.setdefault("description", "背街小巷有积存垃圾")
        fields.setdefault("site", "cgj")
        return Finding(**fields)

    for text in SHORT_TEXTS:
        short = repr(text[:20])
        for field in ("campaign", "kind", "source"):
            options = {
                "campaign": "2026创卫",
                "kind": "routine",
                "team": ["张三"],
                "held_on": held,
                field: text,
            }
            _unchanged(
                tally,
                engine,
                lambda: record(lambda: InspectionRound(**options), lambda: good_finding(grid="JF-1")),
                what=f"round {field}={short}",
            )
        _unchanged(
            tally,
            engine,
            lambda: record(
                lambda: InspectionRound(campaign="2026创卫", kind="routine", team=[text], held_on=held),
                lambda: good_finding(grid="JF-1"),
            ),
            what=f"team {short}",
        )
        for field in ("indicator", "description", "site", "grid", "standard", "severity"):
            _unchanged(
                tally,
                engine,
                lambda: record(
                    lambda: InspectionRound(campaign="2026创卫", kind="routine", team=["张三"], held_on=held),
                    lambda: good_finding(**{field: text}),
                ),
                what=f"finding {field}={short}",
            )
        for field in ("photos", "measures"):
            _unchanged(
                tally,
                engine,
                lambda: record(
                    lambda: InspectionRound(campaign="2026创卫", kind="routine", team=["张三"], held_on=held),
                    lambda: good_finding(**{field: [text]}),
                ),
                what=f"finding {field}={short}",
            )
    for value in (*NUMBERS, *DATES):
        _unchanged(
            tally,
            engine,
            lambda v=value: record(
                lambda: InspectionRound(campaign="2026创卫", kind="routine", team=["张三"], held_on=v),
                good_finding,
            ),
            what=f"held_on {value!r}",
        )
        _unchanged(
            tally,
            engine,
            lambda v=value: record(
                lambda: InspectionRound(campaign="2026创卫", kind="routine", team=["张三"], held_on=held),
                good_finding,
                recurrence_days=v,
            ),
            what=f"recurrence_days {value!r}",
        )
        _unchanged(
            tally,
            engine,
            lambda v=value: record(
                lambda: InspectionRound(campaign="2026创卫", kind="routine", team=v, held_on=held),
                good_finding,
            ),
            what=f"team {value!r}",
        )
    for findings in ([], None, "x", [None], 5):
        _unchanged(
            tally,
            engine,
            lambda f=findings: engine.record_round(
                InspectionRound(campaign="2026创卫", kind="routine", team=["张三"], held_on=held),
                f,
                by=OFFICE,
            ),
            what=f"findings {findings!r}",
        )


# --- 结构文件 -----------------------------------------------------------------------------------


def test_hostile_structure_files(make_engine: Callable[..., Engine], tmp_path: Path, tally: Tally) -> None:
    engine = make_engine()
    for n, text in enumerate(SHORT_TEXTS):
        short = repr(text[:20])
        for section, fields in (
            ("units", {"id": f"u{n}", "name": "南城区"}),
            ("campaign", {"id": f"c{n}", "name": "创卫"}),
            ("indicators", {"code": f"I{n}", "name": "公共环境"}),
            ("grids", {"id": f"g{n}", "name": "一网格", "unit": "cgj"}),
            ("sites", {"id": f"s{n}", "name": "公园", "unit": "cgj"}),
        ):
            for key in fields:
                cells = {**fields, key: text}
                book = _yaml(section, cells)
                path = tmp_path / f"s{n}-{section}-{key}.yaml"
                path.write_text(book, encoding="utf-8", errors="surrogatepass")
                _unchanged(
                    tally, engine, lambda p=path: engine.load_structure(p), what=f"{section}.{key}={short}"
                )
    for value in ("1e309", ".nan", "-1", "99999999999999999999", "[1, 2]", "{a: 1}", "~", "2026-02-30"):
        for section, key in (
            ("campaign", "recurrence_days"),
            ("indicators", "weight"),
            ("campaign", "periods"),
        ):
            base = {"campaign": {"id": "cx", "name": "创卫"}, "indicators": {"code": "I", "name": "环境"}}[
                section
            ]
            path = tmp_path / f"n-{section}-{key}-{abs(hash(value))}.yaml"
            path.write_text(_yaml(section, {**base}, raw={key: value}), encoding="utf-8")
            _unchanged(
                tally, engine, lambda p=path: engine.load_structure(p), what=f"{section}.{key}={value}"
            )


def _yaml(section: str, cells: dict[str, str], raw: dict[str, str] | None = None) -> str:
    def quoted(value: str) -> str:
        escaped = value.encode("unicode_escape", errors="backslashreplace").decode("ascii")
        return '"' + escaped.replace('"', '\\"') + '"'

    body = "".join(f"  {k}: {quoted(v)}\n" for k, v in cells.items())
    body += "".join(f"  {k}: {v}\n" for k, v in (raw or {}).items())
    if section == "campaign":
        return f"campaign:\n{body}"
    return f"{section}:\n  -\n" + body.replace("\n  ", "\n    ").replace("  ", "    ", 1)


# --- 台账单元格 ---------------------------------------------------------------------------------


def test_hostile_ledger_cells(make_engine: Callable[..., Engine], tmp_path: Path, tally: Tally) -> None:
    engine = make_engine()
    columns = ["任务编号", "指标编号", "任务名称", "具体标准", "主要措施", "责任单位", "责任领导", "完成时限"]
    columns += ["任务来源", "点位", "网格", "状态"]
    good = [
        "R-0",
        "B3.2",
        "背街小巷整治",
        "无积存垃圾",
        "每日巡查",
        "cgj",
        "张三",
        "2026-12-20",
        "",
        "",
        "",
        "",
    ]
    ref = 0
    for cell in (*LEDGER_CELLS, *SHORT_TEXTS):
        for column in range(len(columns)):
            ref += 1
            row = list(good)
            row[0] = f"R-{ref}"
            row[column] = cell
            path = tmp_path / f"ledger-{ref}.csv"
            with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
                writer = csv.writer(handle)
                writer.writerow(["序号", *columns])
                writer.writerow([1, *row])
            ok, report = _unchanged(
                tally,
                engine,
                lambda p=path: import_ledger(engine, p, by=OFFICE, campaign="2026创卫"),
                what=f"ledger {columns[column]}={cell[:20]!r}",
            )
            if ok:
                task = engine.get(report.tasks[0].id)
                assert task.deadline.year < 9000
                assert task.title == row[2].strip()
    for campaign in SHORT_TEXTS:
        path = tmp_path / "ledger-campaign.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["序号", *columns], [1, *good]])
        ok, report = _unchanged(
            tally,
            engine,
            lambda c=campaign: import_ledger(engine, path, by=OFFICE, campaign=c),
            what=f"ledger campaign={campaign[:20]!r}",
        )
        if ok:
            assert engine.get(report.tasks[0].id).campaign == campaign.strip()
            good[0] = f"{good[0]}x"


# --- 配合单位佐证、会签意见 -------------------------------------------------------------------------


def test_hostile_evidence_parts_and_verdicts(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    now = DEMO_NOW
    joint = Verification.all_of("wsj", "cwb")

    def rectifying() -> str:
        task = assign_sample(engine, support_units=["jd-cg"], verification=joint)
        engine.start(
            task.id, by=PEOPLE["staff"], plan=sample_plan(task, engine), deployment=sample_deployment()
        )
        return task.id

    def self_checked() -> str:
        task_id = rectifying()
        engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[sample_evidence(now)])
        engine.submit_self_check(
            task_id, by=PEOPLE["staff"], report="已整改", evidence=[sample_evidence(now)]
        )
        return task_id

    for text in SHORT_TEXTS:
        short = repr(text[:20])
        task_id = rectifying()
        ok, _ = _attempt(
            tally,
            engine,
            task_id,
            lambda: engine.add_evidence(
                task_id,
                by=SUPPORT_STAFF,
                evidence=[_construct(lambda: Evidence("photo", text, "a" * 64, now, text, note=text))],
            ),
            what=f"evidence part {short}",
        )
        if ok:
            part = engine.get(task_id).evidence[-1]
            assert (part.uri, part.note, part.unit) == (text, text, "jd-cg")
        _attempt(
            tally,
            engine,
            task_id,
            lambda: engine.add_evidence(
                task_id,
                by=SUPPORT_STAFF,
                evidence=[_construct(lambda: Evidence("photo", "e://a", "a" * 64, now, "孙", unit=text))],
            ),
            what=f"evidence unit {short}",
        )
        _attempt(
            tally,
            engine,
            task_id,
            lambda: engine.add_evidence(
                task_id, by=_construct(lambda: Actor(text, "jd-cg", Role.UNIT)), evidence=[]
            ),
            what=f"evidence actor {short}",
        )
        task_id = self_checked()
        _attempt(
            tally,
            engine,
            task_id,
            lambda: engine.record_verdict(task_id, by=HEALTH_INSPECTOR, passed=False, reason=text),
            what=f"verdict reason {short}",
        )
        task_id = self_checked()
        _attempt(
            tally,
            engine,
            task_id,
            lambda: engine.record_verdict(
                task_id,
                by=HEALTH_INSPECTOR,
                passed=True,
                inspection=_construct(lambda: Inspection(text, "wsj", now, conclusion=text)),
            ),
            what=f"verdict inspection {short}",
        )
        _attempt(
            tally,
            engine,
            None,
            lambda: engine.record_verdict(text, by=HEALTH_INSPECTOR, passed=False, reason="x"),
            what="id",
        )
    task_id = self_checked()
    for value in (*NUMBERS, *DATES, "true", [], {}):
        _attempt(
            tally,
            engine,
            task_id,
            lambda v=value: engine.record_verdict(
                task_id, by=HEALTH_INSPECTOR, passed=v, inspection=sample_inspection(now, unit="wsj")
            ),
            what=f"passed={value!r}",
        )
        _attempt(
            tally,
            engine,
            task_id,
            lambda v=value: engine.record_verdict(task_id, by=HEALTH_INSPECTOR, passed=False, reason=v),
            what=f"reason={value!r}",
        )
        _attempt(
            tally,
            engine,
            task_id,
            lambda v=value: engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=v),
            what=f"evidence={value!r}",
        )
        _attempt(
            tally,
            engine,
            None,
            lambda v=value: assign_sample(
                engine, verification=_construct(lambda: Verification.n_of_m(v, m=3))
            ),
            what=f"n_of_m n={value!r}",
        )
        _attempt(
            tally,
            engine,
            None,
            lambda v=value: assign_sample(engine, support_units=v),
            what=f"support_units={value!r}",
        )
    _attempt(
        tally,
        engine,
        task_id,
        lambda: engine.record_verdict(task_id, by=OFFICE_INSPECTOR, passed=True),
        what="no inspection",
    )


# --- 政策版本 -----------------------------------------------------------------------------------


def test_hostile_policy_arguments(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    assign_sample(engine)
    for text in SHORT_TEXTS:
        short = repr(text[:20])
        _unchanged(tally, engine, lambda: engine.pin_policy(text, by=OFFICE), what=f"pin campaign {short}")
        _unchanged(
            tally,
            engine,
            lambda: engine.pin_policy("2026创卫", by=OFFICE, fingerprint=text),
            what=f"fp {short}",
        )
        _unchanged(
            tally,
            engine,
            lambda: engine.pin_policy("2026创卫", by=OFFICE, rule_sets={text: 1}),
            what=f"rs {short}",
        )
        _unchanged(
            tally, engine, lambda: engine.migrate_tasks(text, to={}, by=OFFICE), what=f"migrate {short}"
        )
        _unchanged(
            tally, engine, lambda: engine.migrate_tasks("2026创卫", to=text, by=OFFICE), what=f"to {short}"
        )
        _unchanged(tally, engine, lambda: engine.policy(text), what=f"policy {short}")
    for value in (*NUMBERS, *DATES, [], "x"):
        _unchanged(
            tally,
            engine,
            lambda v=value: engine.pin_policy("2026创卫", by=OFFICE, rule_sets={"x": v}),
            what=f"v {value!r}",
        )
        _unchanged(
            tally,
            engine,
            lambda v=value: engine.pin_policy("2026创卫", by=OFFICE, rule_sets=v),
            what=f"rs {value!r}",
        )
        _unchanged(
            tally,
            engine,
            lambda v=value: engine.migrate_tasks("2026创卫", to=v, by=OFFICE),
            what=f"to {value!r}",
        )
        _unchanged(
            tally,
            engine,
            lambda v=value: engine.migrate_tasks("2026创卫", to={}, by=OFFICE, dry_run=v),
            what=f"dry_run {value!r}",
        )
        _unchanged(tally, engine, lambda v=value: engine.pin_policy(v, by=OFFICE), what=f"campaign {value!r}")
    for by in (PEOPLE["staff"], "wang", None):
        _unchanged(tally, engine, lambda b=by: engine.pin_policy("2026创卫", by=b), what=f"by {by!r}")
        _unchanged(
            tally, engine, lambda b=by: engine.migrate_tasks("2026创卫", to={}, by=b), what=f"by {by!r}"
        )


# --- 考核周期 -----------------------------------------------------------------------------------


def test_hostile_periods(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    assign_sample(engine)
    for text in PERIODS:
        ok, period = _attempt(
            tally, engine, None, lambda t=text: Period.parse(t), what=f"Period.parse({text!r:.30})"
        )
        if ok:
            assert isinstance(period, Period)
            assert period.start < period.end
            _attempt(
                tally, engine, None, lambda p=period: period_metrics(engine, p), what=f"metrics {text!r:.30}"
            )
            _attempt(
                tally,
                engine,
                None,
                lambda p=period: score_period(engine, p, "standard"),
                what=f"score {text!r:.30}",
            )
    month = Period.parse("2026-11")
    for text in SHORT_TEXTS:
        _attempt(
            tally, engine, None, lambda t=text: score_period(engine, month, t), what=f"scheme {text!r:.20}"
        )
        _attempt(
            tally, engine, None, lambda t=text: period_metrics(engine, month, campaign=t), what="campaign"
        )
        _attempt(tally, engine, None, lambda t=text: period_metrics(engine, month, units=[t]), what="units")
    for start, end in ((date.min, date.max), (date(2026, 1, 1), date.max), (date.min, date(2026, 1, 1))):
        ok, period = _attempt(
            tally, engine, None, lambda s=start, e=end: Period("x", s, e), what=f"{start}..{end}"
        )
        if ok:
            _attempt(
                tally,
                engine,
                None,
                lambda p=period: period_metrics(engine, p),
                what=f"metrics {start}..{end}",
            )
    assert drive_to(engine, "rectifying").state.value == "rectifying"  # still usable
