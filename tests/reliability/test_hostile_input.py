"""Hostile input through every public action: very long and control-character strings, NUL bytes
and lone surrogates, mixed scripts, emoji and right-to-left text, SQL-looking text, ``..``,
absolute and URL-encoded evidence paths, NaN, infinite, negative and huge numbers, dates at the
edge of the calendar, naive datetimes, and values of the wrong type.

Each input either gets a clear typed error (a :class:`~campaignflow.CampaignflowError` with a
stable code and a Chinese and an English message; the database unchanged) or is stored and comes
back exactly as given. Nothing may escape as a raw TypeError, KeyError, OverflowError,
UnicodeEncodeError or driver/SQL error. An explicit corpus, then hypothesis strategies. On SQLite
and PostgreSQL (PostgreSQL refuses NUL bytes in text and NaN in JSON where SQLite stores them, so
the library must refuse them first, on both).
"""

# ruff: noqa: B023  (every lambda here is called at once, inside its loop iteration)
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow import (
    Actor,
    CampaignflowError,
    Contact,
    Engine,
    Evidence,
    Inspection,
    Limit,
    LocalEvidenceStore,
    Person,
    Plan,
    PlanStep,
    Role,
    TaskState,
)
from campaignflow.testing import (
    DEMO_NOW,
    SHANGHAI,
    actors,
    assign_sample,
    drive_to,
    sample_deployment,
    sample_plan,
    snapshot,
)
from tests.reliability.harness import Figures

PEOPLE = actors()

TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\t\n\r",
    "x" * 100_000,
    "清" * 20_000,
    "\x00",
    "before\x00after",
    "\x01\x02\x1b[31mred\x1b[0m\x7f",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "a\udfffb",
    "背街小巷 Back-street 🧹🚮 مرحبا שלום Привет",
    "\u202eevil\u202c RTL override",
    "\u200b\u200d\ufeff zero-width",
    "'; DROP TABLE cf_tasks; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM cf_history;--",
    "%' AND '1'='1",
    "../../etc/passwd",
    "/etc/shadow",
    "C:\\Windows\\system32",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "NaN",
    "1e309",
)

NUMBERS: tuple[Any, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    -1,
    0,
    10**30,
    -(10**30),
    2**63,
    1e308,
    True,
    "5",
    None,
)

DATES: tuple[Any, ...] = (
    date.min,
    date.max,
    date(1900, 1, 1),
    date(9999, 12, 30),
    datetime(2026, 12, 1, 9),  # naive
    datetime.max,
    datetime.min,
    datetime.max.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=UTC),
    datetime(9999, 12, 31, 23, tzinfo=SHANGHAI),
    "2026-12-01",
    20261201,
)


class Tally:
    """How the inputs fared."""

    def __init__(self) -> None:
        self.tried = self.stored = self.refused = 0


def _attempt(
    tally: Tally, engine: Engine, task_id: str | None, call: Callable[[], Any], *, what: str
) -> tuple[bool, Any]:
    """Call; (True, result) or (False, refusal). A refusal must be typed and change nothing."""
    tally.tried += 1
    before = snapshot(engine, task_id) if task_id else None
    refusal: CampaignflowError | None = None
    try:
        result = call()
    except CampaignflowError as error:
        refusal = error
    except Exception as error:  # the finding this test exists for
        pytest.fail(f"{what}: raw {type(error).__name__}: {str(error)[:300]}")
    if refusal is not None:
        tally.refused += 1
        assert refusal.code, what
        assert refusal.message_zh, what
        assert refusal.message_en, what
        if task_id is not None:
            assert snapshot(engine, task_id) == before, f"{what}: a refusal changed the task"
        return False, refusal
    tally.stored += 1
    return True, result


def _assign(engine: Engine, **overrides: Any) -> Any:
    return assign_sample(engine, **overrides)


@pytest.fixture
def tally(figures: Figures, backend: str) -> Iterator[Tally]:
    counts = Tally()
    yield counts
    figures.add(f"hostile_inputs:{backend}", counts.tried)
    figures.add(f"hostile_refused:{backend}", counts.refused)
    figures.add(f"hostile_stored:{backend}", counts.stored)


def test_hostile_text_in_every_text_field(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    now = DEMO_NOW
    for text in TEXTS:
        short = repr(text[:20])
        # assign: every text field; a stored value comes back exactly
        for field in ("title", "standard", "campaign", "indicator", "external_ref"):
            ok, task = _attempt(
                tally,
                engine,
                None,
                lambda f=field: _assign(engine, **{f: text}),
                what=f"assign {field}={short}",
            )
            if ok:
                stored = engine.get(task.id)
                want = text.strip() if field in ("title", "standard", "campaign", "indicator") else text
                assert getattr(stored, field) == want, f"assign {field}={short} came back changed"
        ok, task = _attempt(
            tally, engine, None, lambda: _assign(engine, measures=[text, "巡查"]), what=f"measures {short}"
        )
        ok, task = _attempt(
            tally, engine, None, lambda: _assign(engine, attributes={text: text}), what=f"attributes {short}"
        )
        if ok:
            assert dict(engine.get(task.id).attributes) == {text: text}
        _attempt(tally, engine, None, lambda: _assign(engine, unit=text), what=f"unit {short}")
        _attempt(tally, engine, None, lambda: _assign(engine, leader=text), what=f"leader {short}")
        _attempt(tally, engine, None, lambda: _assign(engine, kind=text), what=f"kind {short}")
        # actions on an existing task: reasons, reports, plans, people, evidence, inspections
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.cancel(task.id, by=PEOPLE["office"], reason=text),
            what=f"cancel {short}",
        )
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.return_assignment(task.id, by=PEOPLE["staff"], reason=text),
            what=f"return {short}",
        )
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.reassign(task.id, by=PEOPLE["office"], unit="wsj", reason=text),
            what=f"reassign reason {short}",
        )
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.request_extension(task.id, by=PEOPLE["staff"], due=date(2027, 1, 20), reason=text),
            what=f"request_extension {short}",
        )
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.start(
                task.id,
                by=PEOPLE["staff"],
                plan=Plan([PlanStep(text, now.date() + timedelta(days=2))], note=text),
                deployment=sample_deployment(),
            ),
            what=f"plan step {short}",
        )
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.start(
                task.id,
                by=PEOPLE["staff"],
                plan=sample_plan(task, engine),
                deployment=_construct(lambda: _deployment(text)),
            ),
            what=f"person {short}",
        )
        task = drive_to(engine, "rectifying")
        ok, _ = _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.submit_self_check(
                task.id,
                by=PEOPLE["staff"],
                report=text,
                evidence=[_construct(lambda: Evidence("photo", text, "a" * 64, now, text, note=text))],
            ),
            what=f"evidence {short}",
        )
        if ok:
            stored = engine.get(task.id)
            assert (stored.self_check_report, stored.evidence[0].uri, stored.evidence[0].note) == (
                text.strip(),
                text,
                text,
            )
        task = drive_to(engine, "self_checked")
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.pass_verification(
                task.id,
                by=PEOPLE["inspector"],
                inspection=_construct(lambda: Inspection(text, "wsj", now, conclusion=text)),
            ),
            what=f"inspection {short}",
        )
        task = drive_to(engine, "self_checked")
        _attempt(
            tally,
            engine,
            task.id,
            lambda: engine.fail_verification(task.id, by=PEOPLE["inspector"], reason=text),
            what=f"fail {short}",
        )
        # actors, units, contacts, lookups
        _attempt(
            tally,
            engine,
            None,
            lambda: engine.cancel(
                task.id, by=_construct(lambda: Actor(text, "cwb", Role.OFFICE)), reason="x"
            ),
            what=f"actor id {short}",
        )
        _attempt(tally, engine, None, lambda: engine.get(text), what=f"get {short}")
        _attempt(tally, engine, None, lambda: engine.history(text), what=f"history {short}")
        _attempt(tally, engine, None, lambda: engine.allowed(text, PEOPLE["office"]), what=f"allowed {short}")
        ok, unit = _attempt(
            tally,
            engine,
            None,
            lambda: engine.register_unit(f"u-{len(text)}-{abs(hash(text))}", name=text, leader=text),
            what=f"register_unit {short}",
        )
        if ok:
            assert (engine.unit(unit.id).name, engine.unit(unit.id).leader) == (text, text)
        _attempt(
            tally,
            engine,
            None,
            lambda: engine.set_contacts(
                "cgj",
                [_construct(lambda: Contact(id="p", name=text, role="liaison", addresses={"im": text}))],
            ),
            what=f"contact {short}",
        )
        _attempt(tally, engine, None, lambda: engine.tasks(unit=text), what=f"tasks(unit=) {short}")


def _construct(build: Callable[[], Any]) -> Any:
    """Build a value object; its own typed refusal is what the caller sees (re-raised as is)."""
    return build()


def _deployment(text: str) -> Any:
    return type(sample_deployment())([Person(text, text, text)], resources=[text])


def test_hostile_numbers_and_dates(make_engine: Callable[..., Engine], tally: Tally) -> None:
    engine = make_engine()
    for value in NUMBERS:
        _attempt(
            tally,
            engine,
            None,
            lambda v=value: _assign(engine, due=None, limit=_construct(lambda: Limit.working_days(v))),
            what=f"Limit.working_days({value!r})",
        )
        _attempt(
            tally,
            engine,
            None,
            lambda v=value: _assign(engine, due=None, limit=_construct(lambda: Limit.calendar_days(v))),
            what=f"Limit.calendar_days({value!r})",
        )
        ok, task = _attempt(
            tally,
            engine,
            None,
            lambda v=value: _assign(engine, attributes={"area": v}),
            what=f"attributes area={value!r}",
        )
        if ok:
            assert dict(engine.get(task.id).attributes) == {"area": value}
        _attempt(tally, engine, None, lambda v=value: engine.sweep(batch=v), what=f"sweep(batch={value!r})")
        _attempt(tally, engine, None, lambda v=value: engine.tasks(limit=v), what=f"tasks(limit={value!r})")
        _attempt(
            tally,
            engine,
            None,
            lambda v=value: engine.pending_notifications(v),
            what=f"pending_notifications({value!r})",
        )
    for value in DATES:
        _attempt(tally, engine, None, lambda v=value: _assign(engine, due=v), what=f"assign due={value!r}")
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda v=value: engine.request_extension(task.id, by=PEOPLE["staff"], due=v, reason="雨季"),
            what=f"request_extension due={value!r}",
        )
        _attempt(tally, engine, None, lambda v=value: engine.deadline_of(v), what=f"deadline_of({value!r})")
        task = _assign(engine)
        _attempt(
            tally,
            engine,
            task.id,
            lambda v=value: engine.start(
                task.id,
                by=PEOPLE["staff"],
                plan=_construct(lambda: Plan([PlanStep("清理", v)])),
                deployment=sample_deployment(),
            ),
            what=f"plan milestone {value!r}",
        )
        task = drive_to(engine, "rectifying")
        _attempt(
            tally,
            engine,
            task.id,
            lambda v=value: engine.submit_self_check(
                task.id,
                by=PEOPLE["staff"],
                evidence=[_construct(lambda: Evidence("photo", "e://a", "a" * 64, v, "刘洋"))],
            ),
            what=f"evidence taken_at {value!r}",
        )
    assert engine.get(_assign(engine).id).state is TaskState.ASSIGNED  # still usable


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the store is a directory: one is enough
def test_hostile_evidence_names_in_the_store(tmp_path: Path, backend: str, tally: Tally) -> None:
    store = LocalEvidenceStore(tmp_path / "evidence")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    names = [
        "../secret.txt",
        "../../etc/passwd",
        "/etc/passwd",
        str(secret),
        "..%2Fsecret.txt",
        "%2e%2e%2fsecret.txt",
        "a" * 63 + "/",
        "A" * 64,
        "a" * 64 + "\x00",
        "..",
        ".",
        "",
        "\\..\\secret.txt",
        "file:///etc/passwd",
    ]
    for name in names:
        for method in ("open", "contains", "put"):
            call = getattr(store, method, None)
            if call is None:
                continue
            args: tuple[Any, ...] = (name,) if method != "put" else (b"data",)
            kwargs = {"sha256": name} if method == "put" else {}
            ok, result = _attempt(
                tally,
                _NoEngine(),
                None,
                lambda c=call, a=args, k=kwargs: c(*a, **k),
                what=f"store.{method}({name!r})",
            )
            if method == "open" and ok:
                result.close()
            assert not ok or result in (False, None), f"store.{method}({name!r}) reached a file: {result!r}"


class _NoEngine:
    """Stands in for an engine where no database is involved."""


@settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=300) | st.text(max_size=50),
    number=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans()),
)
def test_generated_inputs_are_stored_exactly_or_refused(
    text: str, number: Any, make_engine: Callable[..., Engine], tally: Tally
) -> None:
    engine = _engine_for(make_engine)
    ok, task = _attempt(
        tally,
        engine,
        None,
        lambda: _assign(engine, title=text or "标题", attributes={text: number}),
        what=f"assign {text!r} {number!r}",
    )
    if ok:
        stored = engine.get(task.id)
        assert stored.title == (text or "标题").strip()
        assert dict(stored.attributes) == {text: number}
    task = _assign(engine)
    _attempt(
        tally,
        engine,
        task.id,
        lambda: engine.cancel(task.id, by=PEOPLE["office"], reason=text),
        what=f"cancel {text!r}",
    )


_ENGINES: dict[int, Engine] = {}


def _engine_for(make_engine: Callable[..., Engine]) -> Engine:
    """One engine per test function (hypothesis reuses the function-scoped fixture)."""
    key = id(make_engine)
    if key not in _ENGINES:
        _ENGINES.clear()
        _ENGINES[key] = make_engine()
    return _ENGINES[key]
