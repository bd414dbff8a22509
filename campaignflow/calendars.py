"""Building a :class:`~campaignflow.domain.calendar.WorkCalendar`: China's holidays and make-up
workdays from the ``chinese-calendar`` package, plus override files for the years it does not
cover (or covers wrongly), in TOML.

``chinese-calendar`` 1.11.0 knows 2004–2026 and raises for any other year; the State Council
publishes a year's schedule around November, so late in a year deadlines already run into a year
the package does not know. Load that year's schedule from a file (:data:`EXAMPLE_2027` shows the
format, with invented dates) or opt in to ``unknown_years="weekdays"``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaignflow.domain.calendar import (
    Counting,
    UnknownYears,
    WorkCalendar,
    WorkingHours,
    YearSchedule,
)
from campaignflow.errors import InvalidInput

__all__ = ["EXAMPLE_2027", "china_calendar", "chinese_calendar_schedules", "load_schedule", "parse_schedule"]

EXAMPLE_2027 = Path(__file__).with_name("data") / "calendar-2027.example.toml"
"""An override file for 2027 in the shipped format. Its dates are an EXAMPLE, not the official
schedule (``official = false``); deadlines computed with it say so in their calendar sources."""


def chinese_calendar_schedules() -> tuple[YearSchedule, ...]:
    """One schedule per year the installed ``chinese-calendar`` covers."""
    from chinese_calendar import constants

    version = metadata.version("chinesecalendar")
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    names: dict[int, dict[date, str]] = {}
    for day, name in constants.holidays.items():
        holidays.setdefault(day.year, set()).add(day)
        names.setdefault(day.year, {})[day] = str(name)
    for day, name in constants.workdays.items():
        workdays.setdefault(day.year, set()).add(day)
        names.setdefault(day.year, {})[day] = str(name)
    first, last = min(holidays), max(holidays)
    return tuple(
        YearSchedule(
            year,
            holidays.get(year, set()),
            workdays.get(year, set()),
            source=f"chinese-calendar {version}",
            names=names.get(year, {}),
        )
        for year in range(first, last + 1)
    )


def _day(value: object, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(
            f"{where} 应是日期（如 2027-10-01），不是 {value!r}",
            f"{where} must be a TOML date such as 2027-10-01, not {value!r}",
            field="calendar",
        )
    return value


def parse_schedule(data: Mapping[str, Any], *, origin: str = "") -> YearSchedule:
    """A :class:`YearSchedule` from the parsed TOML of an override file (see :data:`EXAMPLE_2027`)."""
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise InvalidInput(
            "安排文件要写明 year = 年份", "the schedule needs `year = <int>`", field="calendar"
        )
    official = data.get("official", False)
    if not isinstance(official, bool):
        raise InvalidInput(
            "official 只能是 true 或 false", "official must be true or false", field="calendar"
        )
    holidays: set[date] = set()
    workdays: set[date] = set()
    names: dict[date, str] = {}
    for entry in data.get("holidays", []):
        name = str(entry.get("name", "假日"))
        if "date" in entry:
            days = [_day(entry["date"], name)]
        else:
            first, last = _day(entry.get("from"), f"{name}.from"), _day(entry.get("to"), f"{name}.to")
            if last < first:
                raise InvalidInput(
                    f"{name} 的结束日期早于开始日期", f"{name}: `to` is before `from`", field="calendar"
                )
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        for day in days:
            holidays.add(day)
            names[day] = name
    for entry in data.get("workdays", []):
        name = str(entry.get("name", "调休上班"))
        day = _day(entry.get("date"), name)
        workdays.add(day)
        names[day] = name
    source = str(data.get("source", "")) or origin or "override"
    return YearSchedule(year, holidays, workdays, source=source, official=official, names=names)


def load_schedule(path: str | Path) -> YearSchedule:
    """Read one year's schedule from a TOML override file."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InvalidInput(
            f"找不到节假日安排文件 {str(file)!r}", f"no calendar file {str(file)!r}", field="calendar"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(
            f"节假日安排文件 {file.name} 不是有效的 TOML：{error}",
            f"calendar file {file.name} is not valid TOML: {error}",
            field="calendar",
        ) from None
    return parse_schedule(data, origin=file.name)


def china_calendar(
    overrides: Iterable[str | Path | YearSchedule] = (),
    *,
    timezone: str | tzinfo = "Asia/Shanghai",
    hours: WorkingHours | str | None = None,
    counting: Counting | None = None,
    unknown_years: UnknownYears | str = UnknownYears.RAISE,
) -> WorkCalendar:
    """The work calendar of mainland China: ``chinese-calendar``'s years, then ``overrides`` (files
    or schedules; a year given there replaces the package's data for that year).

    ``hours`` may be written ``"08:00-12:00,14:00-18:00"``. Unknown years raise
    :class:`~campaignflow.errors.CalendarYearUnknown` unless ``unknown_years="weekdays"``.
    """
    if isinstance(timezone, str):
        try:
            zone: tzinfo = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"未知时区 {timezone!r}", f"unknown timezone {timezone!r}", field="timezone"
            ) from None
    else:
        zone = timezone
    loaded = [item if isinstance(item, YearSchedule) else load_schedule(item) for item in overrides]
    return WorkCalendar(
        [*chinese_calendar_schedules(), *loaded],
        timezone=zone,
        hours=WorkingHours.parse(hours) if isinstance(hours, str) else hours,
        counting=counting,
        unknown_years=unknown_years,
    )
