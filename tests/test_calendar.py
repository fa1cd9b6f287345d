"""Layer 1: the calendar behind "assessments within 45 working days" and the financial years,
checked against days counted by hand."""

from __future__ import annotations

import numpy as np

from demandsim.calendar import bank_holidays, financial_year, working_days_between


def days(*text: str) -> np.ndarray:
    return np.array(text, dtype="datetime64[D]")


def test_working_days_skip_weekends_and_bank_holidays_counted_by_hand():
    """From the first day up to the day before the last, as numpy counts business days:
    - Christmas 2026: Mon 21 Dec to Mon 4 Jan has 10 weekdays, less Christmas Day (Fri),
      Boxing Day's substitute (Mon 28, the 26th being a Saturday) and New Year's Day (Fri): 7;
    - Easter 2026: Mon 30 Mar to Mon 13 Apr has 10 weekdays, less Good Friday (3 Apr) and
      Easter Monday (6 Apr): 8;
    - May 2025: 1 to 31 May has 22 weekdays, less the early May (5th) and spring (26th) bank
      holidays: 20;
    - the same day: 0."""
    start = days("2026-12-21", "2026-03-30", "2025-05-01", "2026-06-10")
    end = days("2027-01-04", "2026-04-13", "2025-05-31", "2026-06-10")
    assert working_days_between(start, end).tolist() == [7, 8, 20, 0]


def test_bank_holidays_move_to_the_next_weekday_when_they_fall_at_a_weekend():
    """Christmas 2027 is a Saturday and Boxing Day a Sunday: the holidays are taken on Monday
    27 and Tuesday 28 December."""
    holidays = set(bank_holidays(2027, 2027).astype(str))
    assert {"2027-12-27", "2027-12-28", "2027-03-26", "2027-03-29"} <= holidays


def test_financial_years_run_from_april():
    dates = days("2026-03-31", "2026-04-01", "2027-01-15", "2099-12-31")
    assert financial_year(dates).tolist() == ["2025-26", "2026-27", "2026-27", "2099-00"]
