"""Inspection rounds: findings become tasks by the territorial rule with the policy's deadline and
their source; covert teams stay hidden from units; 回潮 links a finding to the task it repeats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest

from campaignflow import (
    Actor,
    BatchRefused,
    Engine,
    FixedClock,
    Limit,
    Role,
    TaskSource,
)
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.domain.inspections import REDACTED, Finding, InspectionRound
from campaignflow.dossier import export_task
from campaignflow.errors import InvalidInput
from campaignflow.store.evidence import LocalEvidenceStore
from campaignflow.testing import actors, sample_deployment, sample_evidence, sample_inspection, sample_plan

OFFICE = actors()["office"]
PHOTO = "ab" * 32


class BySeverity:
    """A deadline policy: serious findings in 24 urgent hours, others in 5 calendar days."""

    def limit_for(self, request: DeadlineRequest) -> Limit | None:
        if request.attributes.get("severity") == "serious":
            return Limit.urgent_hours(24)
        return Limit.calendar_days(5)


@pytest.fixture
def inspected(make_engine: Callable[..., Engine], city_of: Callable[[Engine], Engine]) -> Engine:
    return city_of(make_engine(deadline_policy=BySeverity()))


def _round(kind: str = "routine", **fields: object) -> InspectionRound:
    values: dict[str, object] = {"campaign": "2027创卫", "kind": kind, "team": ["督查员甲", "督查员乙"]}
    values["held_on"] = date(2026, 11, 1)
    values.update(fields)
    return InspectionRound(**values)  # type: ignore[arg-type]


def test_findings_become_tasks_by_territory_with_the_policy_deadline(inspected: Engine) -> None:
    report = inspected.record_round(
        _round(),
        [
            Finding(
                indicator="B4.1",
                description="市场地面有污水",
                site="S-LYSC",
                photos=[PHOTO],
                severity="serious",
            ),
            Finding(indicator="B3.2", description="小巷有积存垃圾", grid="G-HP-01"),
            Finding(indicator="B3.2", description="背街小巷卫生死角", site="未登记点位"),
        ],
        by=OFFICE,
    )
    market, lane, fallback = report.tasks
    assert (market.unit, lane.unit, fallback.unit) == ("dw-sc", "sq-hp", "cgj")  # site, grid, lead department
    assert {t.source for t in report.tasks} == {TaskSource.INSPECTION}
    assert (market.site, market.grid, lane.grid) == ("S-LYSC", None, "G-HP-01")
    assert market.deadline_basis is not None
    assert market.deadline_basis["policy"] == "deadline_policy"
    assert market.deadline < lane.deadline  # serious: 24 hours; minor: 5 days
    assert market.standard == "地面整洁、无污水"  # the indicator's standard
    first = inspected.history(market.id)[0].payload
    assert first["finding"]["photos"] == [PHOTO]
    assert first["responsibility"]["rule"] == "site"
    assert inspected.history(fallback.id)[0].payload["responsibility"]["rule"] == "lead"
    stored = inspected.inspection_round(report.round_id)
    assert [f["task_id"] for f in stored["findings"]] == [t.id for t in report.tasks]
    assert stored["team"] == ["督查员甲", "督查员乙"]


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("covert", None, TaskSource.COVERT_INSPECTION),
        ("field_assessment", None, TaskSource.FIELD_ASSESSMENT),
        ("routine", "leader", TaskSource.LEADER),
        ("routine", "media", TaskSource.MEDIA),
    ],
)
def test_a_task_carries_the_rounds_source(
    inspected: Engine, kind: str, source: str | None, expected: TaskSource
) -> None:
    report = inspected.record_round(
        _round(kind, source=source), [Finding(indicator="B3.2", description="垃圾", site="S-HPXX")], by=OFFICE
    )
    assert report.tasks[0].source is expected


def test_a_refused_finding_refuses_the_round_and_writes_nothing(
    city: Engine,
) -> None:  # no deadline policy: a finding without a limit has no 定进度
    with pytest.raises(BatchRefused) as refused:
        city.record_round(
            _round(),
            [
                Finding(indicator="B3.2", description="垃圾", site="S-HPXX"),
                Finding(indicator="Z9", description="不在体系中", site="S-HPXX"),
            ],
            by=OFFICE,
        )
    assert [(r.index, r.unit) for r in refused.value.refused] == [(0, "sq-hp"), (1, "sq-hp")]
    assert "fixed_schedule" in refused.value.refused[0].codes
    assert "indicator_in_tree" in refused.value.refused[1].codes
    assert city.tasks().items == ()
    with city.begin() as conn:
        assert conn.execute(city.tables.inspection_rounds.select()).first() is None
    report = city.record_round(
        _round(),
        [Finding(indicator="B3.2", description="垃圾", site="S-HPXX")],
        by=OFFICE,
        limit=Limit.calendar_days(3),
    )
    assert report.tasks[0].deadline_basis is not None


def test_bad_findings_and_rounds_are_typed_errors() -> None:
    with pytest.raises(InvalidInput) as bad_photo:
        Finding(indicator="B3.2", description="垃圾", photos=["photo.jpg"])
    assert bad_photo.value.field == "photos"
    with pytest.raises(InvalidInput) as bad_kind:
        _round("patrol")
    assert bad_kind.value.field == "kind"
    with pytest.raises(InvalidInput):
        _round(team=[])


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_no_database_can_store_is_refused_in_rounds_and_findings(text: str) -> None:
    for build, field in (
        (
            lambda: InspectionRound(campaign=text, kind="routine", team=["张三"], held_on=date(2026, 11, 10)),
            "campaign",
        ),
        (lambda: _round(team=[text]), "team"),
        (lambda: Finding(indicator="B3.2", description=text), "description"),
        (lambda: Finding(indicator="B3.2", description="垃圾", site=text), "site"),
        (lambda: Finding(indicator="B3.2", description="垃圾", measures=[text]), "measures"),
    ):
        with pytest.raises(InvalidInput) as refused:
            build()
        assert refused.value.field == field


def test_only_the_office_records_a_round(inspected: Engine) -> None:
    from campaignflow import PermissionDenied

    with pytest.raises(PermissionDenied):
        inspected.record_round(
            _round(), [Finding(indicator="B3.2", description="垃圾")], by=actors()["inspector"]
        )


@pytest.mark.parametrize("findings", [None, 5, "垃圾", [None], []])
def test_findings_that_are_not_a_list_of_findings_are_refused(inspected: Engine, findings: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        inspected.record_round(_round(), findings, by=OFFICE)  # type: ignore[arg-type]
    assert refused.value.field == "findings"


@pytest.mark.parametrize("days", [float("nan"), 0, -1, 10**9, True, "30", 2.5])
def test_a_recurrence_window_that_is_not_a_day_count_is_refused(inspected: Engine, days: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        inspected.record_round(
            _round(),
            [Finding(indicator="B3.2", description="垃圾", site="S-HPXX")],
            by=OFFICE,
            recurrence_days=days,  # type: ignore[arg-type]
        )
    assert refused.value.field == "recurrence_days"
    assert inspected.tasks().items == ()


def test_a_covert_team_is_hidden_from_units_but_the_chain_holds(inspected: Engine, tmp_path: Path) -> None:
    report = inspected.record_round(
        _round("covert"), [Finding(indicator="B3.2", description="暗访发现垃圾", site="S-HPXX")], by=OFFICE
    )
    task = report.tasks[0]
    unit_view = inspected.history(task.id, viewer=Actor("hp-staff", "sq-hp", Role.UNIT))[0]
    assert unit_view.payload["finding"]["team"] == [REDACTED]
    assert unit_view.actor_id == REDACTED
    assert unit_view.payload["redacted"] is True
    assert "督查员甲" not in repr(unit_view)
    office_view = inspected.history(task.id, viewer=OFFICE)[0]
    assert office_view.payload["finding"]["team"] == ["督查员甲", "督查员乙"]
    assert office_view == inspected.history(task.id)[0]
    other_inspector = inspected.history(task.id, viewer=actors()["inspector"])[0]
    assert other_inspector.payload["finding"]["team"] == ["督查员甲", "督查员乙"]
    own_inspector = inspected.history(task.id, viewer=Actor("hp-inspector", "sq-hp", Role.INSPECTOR))[0]
    assert own_inspector.payload["finding"]["team"] == [REDACTED]
    assert inspected.verify_history(task.id) is None
    assert inspected.verify_history().ok
    folder = export_task(
        inspected, task.id, tmp_path / "out", evidence_store=LocalEvidenceStore(tmp_path / "ev")
    )
    manifest = (folder / "manifest.json").read_text(encoding="utf-8")
    assert "督查员甲" not in manifest
    assert REDACTED in manifest


def test_a_routine_team_is_not_hidden(inspected: Engine) -> None:
    report = inspected.record_round(
        _round(), [Finding(indicator="B3.2", description="垃圾", site="S-HPXX")], by=OFFICE
    )
    view = inspected.history(report.tasks[0].id, viewer=Actor("hp-staff", "sq-hp", Role.UNIT))[0]
    assert view.payload["finding"]["team"] == ["督查员甲", "督查员乙"]
    assert "redacted" not in view.payload


# --- 回潮 ----------------------------------------------------------------------------------------


def _archive(engine: Engine, task_id: str) -> None:
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    task = engine.get(task_id)
    staff = Actor("staff", task.unit, Role.UNIT)
    clock.advance(hours=1)
    engine.start(task_id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    clock.advance(hours=1)
    engine.submit_self_check(task_id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())])
    clock.advance(hours=1)
    engine.pass_verification(task_id, by=actors()["inspector"], inspection=sample_inspection(clock.now()))
    engine.archive(task_id, by=OFFICE)


def _find(engine: Engine, *, site: str = "S-HPXX", indicator: str = "B3.2") -> str:
    report = engine.record_round(
        _round(),
        [Finding(indicator=indicator, description="垃圾又出现", site=site, standard="无积存垃圾")],
        by=OFFICE,
    )
    return report.tasks[0].id


def test_a_finding_after_archiving_within_the_window_is_a_recurrence(inspected: Engine) -> None:
    clock = inspected.clock
    assert isinstance(clock, FixedClock)
    first = _find(inspected)
    _archive(inspected, first)
    clock.advance(timedelta(days=30))
    second = inspected.get(_find(inspected))
    assert (second.recurrence_of, second.recurrence_count) == (first, 1)
    assert inspected.history(second.id)[0].payload["recurrence_of"] == {"task": first, "count": 1}
    _archive(inspected, second.id)
    clock.advance(timedelta(days=10))
    third = inspected.get(_find(inspected))
    assert (third.recurrence_of, third.recurrence_count) == (second.id, 2)  # counted along the chain
    other = inspected.get(_find(inspected, indicator="B3"))
    elsewhere = inspected.get(_find(inspected, site="S-LYSC"))
    assert (other.recurrence_of, elsewhere.recurrence_of) == (None, None)


def test_outside_the_window_or_while_open_it_is_not(inspected: Engine) -> None:
    clock = inspected.clock
    assert isinstance(clock, FixedClock)
    campaign = attrs.evolve(inspected.campaign("2027创卫"), recurrence_days=20)
    inspected.register_campaign(campaign, inspected.indicators("2027创卫"))
    first = _find(inspected)
    assert inspected.get(_find(inspected)).recurrence_of is None  # the first is still open
    _archive(inspected, first)
    clock.advance(timedelta(days=21))  # the campaign's window is now 20 days
    assert inspected.get(_find(inspected)).recurrence_of is None
    found = inspected.record_round(
        _round(),
        [Finding(indicator="B3.2", description="垃圾", site="S-HPXX")],
        by=OFFICE,
        recurrence_days=120,
    )
    assert found.tasks[0].recurrence_of == first
    assert found.recurrences == found.tasks


def test_photos_must_be_in_the_evidence_store_when_there_is_one(
    make_engine: Callable[..., Engine], city_of: Callable[[Engine], Engine], tmp_path: Path
) -> None:
    store = LocalEvidenceStore(tmp_path / "ev")
    engine = city_of(make_engine(evidence_store=store))
    kept = store.put(b"photo bytes")
    with pytest.raises(BatchRefused) as refused:
        engine.record_round(
            _round(),
            [Finding(indicator="B3.2", description="垃圾", site="S-HPXX", photos=[kept, PHOTO])],
            by=OFFICE,
            limit=Limit.calendar_days(3),
        )
    assert refused.value.refused[0].codes == ("invalid_input",)
    assert PHOTO in refused.value.refused[0].message_en
    found = engine.record_round(
        _round(),
        [Finding(indicator="B3.2", description="垃圾", site="S-HPXX", photos=[kept])],
        by=OFFICE,
        limit=Limit.calendar_days(3),
    )
    assert engine.history(found.tasks[0].id)[0].payload["finding"]["photos"] == [kept]
