"""England's calendar: bank holidays, school holidays, working days, financial years.

School holidays are the usual pattern of English state schools (local authorities set their own
dates, which differ by a few days): Christmas 21 Dec - 3 Jan, February half term (the week of
14 Feb), two weeks around Easter, the late-May half term (the week of the spring bank holiday),
summer 22 Jul - 31 Aug, and October half term (the last full week of October).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
from dateutil.easter import easter


@lru_cache(maxsize=64)
def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    """England and Wales bank holidays as ``datetime64[D]``."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days), dtype="datetime64[D]")


def _monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _last_monday(year: int, month: int) -> dt.date:
    day = (
        dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    )
    return day - dt.timedelta(days=day.weekday())


def school_holidays(year: int) -> list[tuple[dt.date, dt.date]]:
    """Holiday periods (first day, last day inclusive) that start in ``year``."""
    e = easter(year)
    feb = _monday_of(dt.date(year, 2, 14))
    may = _last_monday(year, 5)
    october = _monday_of(dt.date(year, 10, 25))
    return [
        (feb, feb + dt.timedelta(days=4)),
        (e - dt.timedelta(days=9), e + dt.timedelta(days=8)),
        (may, may + dt.timedelta(days=4)),
        (dt.date(year, 7, 22), dt.date(year, 8, 31)),
        (october, october + dt.timedelta(days=4)),
        (dt.date(year, 12, 21), dt.date(year + 1, 1, 3)),
    ]


def school_calendar(days: np.ndarray, end_of_term_days: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``datetime64[D]`` days: (in a school holiday, among the last school days of a term)."""
    years = days.astype("datetime64[Y]").astype(int) + 1970
    periods = [p for y in range(years.min() - 1, years.max() + 1) for p in school_holidays(y)]
    holiday = np.zeros(days.shape, dtype=bool)
    end_of_term = np.zeros(days.shape, dtype=bool)
    for first, last in periods:
        start, stop = np.datetime64(first, "D"), np.datetime64(last, "D")
        holiday |= (days >= start) & (days <= stop)
        if end_of_term_days:
            term_end = np.busday_offset(start, -end_of_term_days, roll="backward")
            end_of_term |= (days >= term_end) & (days < start) & np.is_busday(days)
    return holiday, end_of_term & ~holiday


def working_days_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Working days from ``start`` to ``end`` (``datetime64[D]``), skipping bank holidays."""
    start = np.asarray(start).astype("datetime64[D]")
    end = np.asarray(end).astype("datetime64[D]")
    if start.size == 0:
        return np.zeros(0, dtype=int)
    first = int(min(start.min(), end.min()).astype("datetime64[Y]").astype(int) + 1970)
    last = int(max(start.max(), end.max()).astype("datetime64[Y]").astype(int) + 1970)
    return np.busday_count(start, end, holidays=bank_holidays(first, last))


def financial_year(dates: np.ndarray) -> np.ndarray:
    """UK local-government financial year label ('2026-27') of ``datetime64[D]`` dates."""
    d = dates.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(int) + 1970
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    start = np.where(month >= 4, year, year - 1)
    return np.array([f"{y}-{(y + 1) % 100:02d}" for y in start])
