"""The work calendar: holidays and 调休 of 2025 and 2026, the four kinds of limit, the Civil Code
counting rules (and their switches), a year the package does not know, and override files."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaignflow.calendars import EXAMPLE_2027, china_calendar, load_schedule, parse_schedule
from campaignflow.domain.calendar import (
    Counting,
    DayEnd,
    Limit,
    LimitKind,
    UnknownYears,
    WorkCalendar,
    WorkingHours,
    YearSchedule,
)
from campaignflow.errors import CalendarYearUnknown, InvalidInput

SH = ZoneInfo("Asia/Shanghai")
CAL = china_calendar()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# --- the days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "works"),
    [
        # 2025: the make-up workdays named in DOMAIN.md are working days, weekends or not
        (date(2025, 1, 26), True),  # Sunday, 春节调休
        (date(2025, 2, 8), True),  # Saturday, 春节调休
        (date(2025, 4, 27), True),  # Sunday, 劳动节调休
        (date(2025, 9, 28), True),  # Sunday, 国庆调休
        (date(2025, 10, 11), True),  # Saturday, 国庆调休
        (date(2025, 1, 28), False),  # 除夕 (Tuesday)
        (date(2025, 2, 4), False),  # Tuesday inside 春节
        (date(2025, 10, 8), False),  # Wednesday inside 国庆
        (date(2025, 10, 9), True),  # Thursday after 国庆
        (date(2025, 10, 12), False),  # an ordinary Sunday
        # 2026
        (date(2026, 2, 14), True),  # Saturday, 春节调休
        (date(2026, 2, 28), True),  # Saturday, 春节调休
        (date(2026, 2, 23), False),  # Monday inside 春节
        (date(2026, 9, 20), True),  # Sunday, 国庆调休
        (date(2026, 10, 10), True),  # Saturday, 国庆调休
        (date(2026, 10, 7), False),  # Wednesday inside 国庆
    ],
)
def test_holidays_and_make_up_workdays(day: date, works: bool) -> None:
    assert CAL.is_workday(day) is works


def test_the_package_years_are_known_and_2027_is_not() -> None:
    assert 2025 in CAL.years
    assert 2026 in CAL.years
    assert 2027 not in CAL.years
    with pytest.raises(CalendarYearUnknown) as caught:
        CAL.is_workday(date(2027, 1, 4))
    assert caught.value.year == 2027
    assert caught.value.code == "calendar_year_unknown"
    assert "2027" in caught.value.message_zh
    assert "unknown_years" in caught.value.message_en


# --- working days across Spring Festival and National Day --------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Fri 24 Jan 2025: Sun 26 (调休) is day 1, Mon 27 day 2, 28 Jan–4 Feb off, Wed 5 Feb day 3
        (at(2025, 1, 24, 10), 3, at(2025, 2, 6)),
        # Thu 6 Feb 2025: Fri 7 is day 1, Sat 8 (调休) day 2
        (at(2025, 2, 6, 9), 2, at(2025, 2, 9)),
        # Fri 26 Sep 2025: Sat 27 is off, Sun 28 (调休) day 1, Mon 29 day 2
        (at(2025, 9, 26, 15), 2, at(2025, 9, 30)),
        # Tue 30 Sep 2025: 1–8 Oct off, Thu 9 day 1, Fri 10 day 2, Sat 11 (调休) day 3
        (at(2025, 9, 30, 11), 3, at(2025, 10, 12)),
        # Fri 13 Feb 2026: Sat 14 (调休) day 1, 15–23 Feb off, Tue 24 day 2
        (at(2026, 2, 13, 17), 2, at(2026, 2, 25)),
        # Wed 30 Sep 2026: 1–7 Oct off, Thu 8, Fri 9, Sat 10 (调休), Mon 12, Tue 13
        (at(2026, 9, 30, 10), 5, at(2026, 10, 14)),
    ],
)
def test_working_days(start: datetime, days: int, expected: datetime) -> None:
    deadline = CAL.deadline(start, Limit.working_days(days))
    assert deadline.at == expected
    assert deadline.warnings == ()
    assert any(source.startswith(f"{start.year}: chinese-calendar") for source in deadline.sources)


def test_a_working_day_deadline_can_end_at_the_close_of_business() -> None:
    calendar = china_calendar(counting=Counting(day_ends=DayEnd.CLOSE_OF_BUSINESS))
    assert calendar.deadline(at(2026, 9, 30, 10), Limit.working_days(5)).at == at(2026, 10, 13, 18)


def test_the_start_day_counts_when_configured() -> None:
    calendar = china_calendar(counting=Counting(start_day_counts=True))
    # Tue 30 Sep 2025 is a working day and counts as day 1; Thu 9 Oct is day 2.
    assert calendar.deadline(at(2025, 9, 30, 11), Limit.working_days(2)).at == at(2025, 10, 10)
    # Sat 27 Sep 2025 is not a working day: counting starts on Sun 28 (调休).
    assert calendar.deadline(at(2025, 9, 27, 11), Limit.working_days(1)).at == at(2025, 9, 29)


# --- calendar days and the Civil Code --------------------------------------------------------


def test_calendar_days_do_not_count_the_start_day() -> None:
    # 民法典 art. 201: assigned Mon 3 Nov 2025, 3 days run 4, 5, 6 Nov; the period ends at 24:00.
    assert CAL.deadline(at(2025, 11, 3, 16), Limit.calendar_days(3)).at == at(2025, 11, 7)


def test_a_last_day_on_a_holiday_moves_to_the_next_working_day() -> None:
    # Mon 27 Jan 2025 + 5 days = Sat 1 Feb, inside 春节: the period ends on Wed 5 Feb.
    assert CAL.deadline(at(2025, 1, 27, 9), Limit.calendar_days(5)).at == at(2025, 2, 6)
    # Tue 10 Feb 2026 + 7 days = Tue 17 Feb, inside 春节: ends on Tue 24 Feb.
    assert CAL.deadline(at(2026, 2, 10, 9), Limit.calendar_days(7)).at == at(2026, 2, 25)
    # an ordinary weekend is a day off too (法定休假日 includes Saturday and Sunday)
    assert CAL.deadline(at(2025, 11, 3, 9), Limit.calendar_days(5)).at == at(2025, 11, 11)
    # …but a 调休 Saturday is a working day: nothing moves
    assert CAL.deadline(at(2025, 10, 4, 9), Limit.calendar_days(7)).at == at(2025, 10, 12)


def test_the_civil_code_rules_can_be_switched_off() -> None:
    no_roll = china_calendar(counting=Counting(roll_to_workday=False))
    assert no_roll.deadline(at(2025, 1, 27, 9), Limit.calendar_days(5)).at == at(2025, 2, 2)
    first_counts = china_calendar(counting=Counting(start_day_counts=True))
    assert first_counts.deadline(at(2025, 11, 3, 16), Limit.calendar_days(3)).at == at(2025, 11, 6)


# --- hours ----------------------------------------------------------------------------------


def test_working_hours_skip_nights_lunch_and_holidays() -> None:
    # Mon 27 Jan 2025 16:00: 2 h that day, 28 Jan–4 Feb off, Wed 5 Feb 08–12 and 14–16
    assert CAL.deadline(at(2025, 1, 27, 16), Limit.working_hours(8)).at == at(2025, 2, 5, 16)
    # started during lunch: counting begins at 14:00
    assert CAL.deadline(at(2026, 11, 2, 12, 30), Limit.working_hours(3)).at == at(2026, 11, 2, 17)
    # started before opening: a full period is exactly used up at noon
    assert CAL.deadline(at(2026, 11, 2, 6), Limit.working_hours(4)).at == at(2026, 11, 2, 12)
    # Sat 14 Feb 2026 is a 调休 working day with office hours
    assert CAL.deadline(at(2026, 2, 13, 17), Limit.working_hours(2)).at == at(2026, 2, 14, 9)


def test_working_hours_are_configurable() -> None:
    calendar = china_calendar(hours="09:00-12:00,13:30-17:30")
    assert calendar.hours.periods == ((time(9), time(12)), (time(13, 30), time(17, 30)))
    assert calendar.deadline(at(2026, 11, 2, 11), Limit.working_hours(2)).at == at(2026, 11, 2, 14, 30)


def test_urgent_hours_run_through_nights_and_holidays() -> None:
    assert CAL.deadline(at(2025, 1, 27, 16), Limit.urgent_hours(24)).at == at(2025, 1, 28, 16)


def test_deadlines_are_in_the_calendars_timezone() -> None:
    start = datetime(2026, 11, 2, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Shanghai
    deadline = CAL.deadline(start, Limit.working_hours(1))
    assert deadline.at == at(2026, 11, 2, 10)
    assert deadline.at.tzinfo == SH


# --- a year the package does not know ---------------------------------------------------------


def test_a_deadline_running_into_2027_raises_without_an_override() -> None:
    # Mon 21 Dec 2026 + 10 working days reaches January 2027.
    with pytest.raises(CalendarYearUnknown) as caught:
        CAL.deadline(at(2026, 12, 21, 9), Limit.working_days(10))
    assert caught.value.year == 2027
    assert caught.value.known[-1] == 2026


def test_a_deadline_running_into_2027_works_with_an_override_file() -> None:
    calendar = china_calendar([EXAMPLE_2027])
    deadline = calendar.deadline(at(2026, 12, 21, 9), Limit.working_days(10))
    # 22–31 Dec give 8 working days; 1–3 Jan 2027 off (元旦, example file); Mon 4 and Tue 5 Jan
    assert deadline.at == at(2027, 1, 6)
    assert deadline.warnings == ()
    example = [s for s in deadline.sources if s.startswith("2027")]
    assert example
    assert "not official" in example[0]
    # across the example's Spring Festival (5–13 Feb off, Sun 14 an ordinary Sunday): Mon 15, Tue 16
    assert calendar.deadline(at(2027, 2, 4, 9), Limit.working_days(2)).at == at(2027, 2, 17)


def test_unknown_years_as_weekdays_is_an_explicit_opt_in_with_a_warning() -> None:
    calendar = china_calendar(unknown_years="weekdays")
    deadline = calendar.deadline(at(2026, 12, 21, 9), Limit.working_days(10))
    assert deadline.at == at(2027, 1, 5)  # 1 Jan 2027 counted as an ordinary Friday
    assert [w["code"] for w in deadline.warnings] == ["calendar_year_assumed"]
    assert deadline.warnings[0]["year"] == 2027
    assert "2027" in deadline.warnings[0]["message_zh"]
    assert deadline.basis()["warnings"][0]["year"] == 2027
    # a deadline inside known years carries no warning
    assert calendar.deadline(at(2026, 11, 2, 9), Limit.working_days(3)).warnings == ()


def test_unknown_years_setting_is_checked() -> None:
    with pytest.raises(InvalidInput):
        china_calendar(unknown_years="guess")
    assert china_calendar(unknown_years=UnknownYears.WEEKDAYS).unknown_years is UnknownYears.WEEKDAYS


# --- the override format -----------------------------------------------------------------------


def test_the_example_file_is_marked_as_an_example() -> None:
    text = EXAMPLE_2027.read_text(encoding="utf-8")
    assert "EXAMPLE ONLY" in text.splitlines()[0]
    schedule = load_schedule(EXAMPLE_2027)
    assert schedule.year == 2027
    assert schedule.official is False
    assert date(2027, 2, 20) in schedule.workdays
    assert schedule.names[date(2027, 10, 1)] == "国庆节"


def test_an_override_replaces_the_packages_year() -> None:
    # A (hypothetical) correction of 2026: 2 Nov becomes a day off.
    correction = parse_schedule({"year": 2026, "official": True, "holidays": [{"date": date(2026, 11, 2)}]})
    calendar = china_calendar([correction])
    assert calendar.is_workday(date(2026, 11, 2)) is False
    assert calendar.is_workday(date(2026, 10, 1)) is True  # the whole year was replaced


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"holidays": []}, "year"),
        ({"year": 2027, "official": "yes"}, "official"),
        ({"year": 2027, "holidays": [{"name": "x", "date": "2027-01-01"}]}, "date"),
        ({"year": 2027, "holidays": [{"name": "x", "from": date(2027, 1, 3), "to": date(2027, 1, 1)}]}, "to"),
        ({"year": 2027, "workdays": [{"date": date(2027, 1, 4)}]}, "weekend"),  # a Monday
        ({"year": 2027, "holidays": [{"date": date(2028, 1, 1)}]}, "another year"),
        (
            {
                "year": 2027,
                "holidays": [{"date": date(2027, 1, 2)}],
                "workdays": [{"date": date(2027, 1, 2)}],
            },
            "both",
        ),
    ],
)
def test_a_bad_override_is_a_typed_error(data: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_schedule(data)
    assert needle in caught.value.message_en


def test_override_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no calendar file"):
        load_schedule(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("year = ", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_schedule(broken)


# --- the values -----------------------------------------------------------------------------


def test_limits_are_checked() -> None:
    assert Limit.working_days(5) == Limit("working_days", 5)
    assert Limit.working_days(5).label_zh == "5 个工作日"
    assert Limit.urgent_hours(2).kind is LimitKind.URGENT_HOURS
    for bad in (0, -1, True, 1.5):
        with pytest.raises(InvalidInput):
            Limit.working_days(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Limit("fortnights", 1)


def test_working_hours_are_checked() -> None:
    with pytest.raises(InvalidInput):
        WorkingHours.parse("8-12")
    with pytest.raises(InvalidInput):
        WorkingHours(((time(8), time(12)), (time(11), time(18))))
    with pytest.raises(InvalidInput):
        WorkingHours(((time(12), time(8)),))
    with pytest.raises(InvalidInput):
        WorkingHours(())


def test_calendar_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput):
        WorkCalendar([], timezone="Asia/Shanghai")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        china_calendar(timezone="Mars/Olympus")
    with pytest.raises(InvalidInput):
        CAL.deadline(datetime(2026, 11, 2, 9), Limit.working_days(1))  # naive
    with pytest.raises(InvalidInput):
        CAL.deadline(at(2026, 11, 2), 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        CAL.is_workday(at(2026, 11, 2))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        WorkCalendar(["2026"], timezone=SH)  # type: ignore[list-item]


def test_a_calendar_from_data_alone() -> None:
    schedule = YearSchedule(2030, {date(2030, 1, 1)}, set(), source="test")
    calendar = WorkCalendar([schedule], timezone=SH)
    assert calendar.is_workday(date(2030, 1, 1)) is False
    assert calendar.is_workday(date(2030, 1, 2)) is True
    assert calendar.shift_working_days(date(2030, 1, 3), 2) == date(2030, 1, 7)
    assert calendar.shift_working_days(date(2030, 1, 7), -2) == date(2030, 1, 3)


def test_escalation_offsets_relative_to_a_deadline() -> None:
    deadline = at(2026, 11, 7)  # the end of Friday 6 November 2026
    assert CAL.relative_to(deadline, 0) == (deadline, ())
    assert CAL.relative_to(deadline, -2) == (at(2026, 11, 4), ())  # Wednesday morning
    assert CAL.relative_to(deadline, 3) == (at(2026, 11, 12), ())  # three full working days late
    # across National Day 2026: the end of Wed 30 Sep + 1 working day = the end of Thu 8 Oct
    assert CAL.relative_to(at(2026, 10, 1), 1) == (at(2026, 10, 9), ())
