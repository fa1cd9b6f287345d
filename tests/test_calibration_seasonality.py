"""Prophet demand fits: known seasonality comes back, and sampling is fenced and repeatable."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from demandsim.calendar import school_calendar
from demandsim.calibration.seasonality import calendar_shares, fit_demand

START = dt.date(2024, 4, 1)
DAYS_IN = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@pytest.fixture(scope="module")
def monthly():
    """Six years of monthly contacts: 40 a day x (1 + 0.15 cos(month)), Poisson noise."""
    rng = np.random.default_rng(11)
    months = pd.date_range("2018-04-01", "2024-03-01", freq="MS")
    factor = 1 + 0.15 * np.cos(2 * np.pi * (months.month - 1) / 12)
    contacts = rng.poisson(40 * factor * months.days_in_month)
    return pd.DataFrame(
        {"date": months, "contacts": contacts, "referrals": rng.binomial(contacts, 0.3)}
    )


@pytest.fixture(scope="module")
def monthly_fit(monthly):
    return fit_demand(monthly, START, seed=3, samples=40)


def test_seasonal_amplitude_recovered(monthly_fit):
    truth = (1 + 0.15 * np.cos(2 * np.pi * np.arange(12) / 12)) * DAYS_IN
    truth = truth / truth.mean()
    fitted = np.array(monthly_fit.parameters["monthly_factors"])
    # Poisson noise of ~1,200 contacts a month is ~3%; six years average it to ~1.2% per month
    assert np.abs(fitted - truth).max() < 0.05
    assert (fitted.max() - fitted.min()) / 2 == pytest.approx(
        (truth.max() - truth.min()) / 2, abs=0.03
    )
    assert monthly_fit.parameters["contacts_per_year"] == pytest.approx(40 * 365.25, rel=0.03)
    assert abs(monthly_fit.parameters["growth_per_year"]) < 0.05


def test_intensity_file_layout(monthly_fit):
    frame = monthly_fit.intensity
    assert frame.columns[0] == "month" and frame.shape[1] == 41
    assert frame["month"].iloc[0] <= "2023-03" and frame["month"].iloc[-1] >= "2029-03"
    assert (frame.drop(columns="month").to_numpy() >= 0).all()
    april = frame.loc[frame["month"] == "2024-04"].drop(columns="month").to_numpy()
    assert april.mean() == pytest.approx(
        40 * 30 * (1 + 0.15 * np.cos(2 * np.pi * 3 / 12)), rel=0.08
    )


def test_same_seed_same_paths_and_global_rng_untouched(monthly, monthly_fit):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    again = fit_demand(monthly, START, seed=3, samples=40)
    assert np.array_equal(np.random.get_state()[1], before)
    pd.testing.assert_frame_equal(again.intensity, monthly_fit.intensity)
    pd.testing.assert_frame_equal(again.history, monthly_fit.history)
    other = fit_demand(monthly, START, seed=4, samples=40)
    assert not other.intensity.equals(monthly_fit.intensity)


def test_calendar_shares_match_the_school_calendar():
    days = pd.date_range("2024-07-01", "2024-08-31", freq="D")
    shares = calendar_shares(pd.Series(days), "D")
    holiday, _ = school_calendar(days.to_numpy().astype("datetime64[D]"), 2)
    assert (shares["summer_dip"] + shares["school_holidays"]).tolist() == holiday.astype(
        float
    ).tolist()
    assert (
        shares.loc[days == "2024-07-19", "end_of_term_surge"].item() == 1.0
    )  # last Friday of term


@pytest.mark.slow
def test_school_holiday_effect_recovered_from_daily_data():
    """Daily contacts (summed into weeks) with holidays at 0.75 and a 1.5x end-of-term surge."""
    rng = np.random.default_rng(12)
    days = pd.date_range("2019-04-01", "2024-03-31", freq="D")
    d = days.to_numpy().astype("datetime64[D]")
    holiday, end_of_term = school_calendar(d, 2)
    rate = 30 * np.where(holiday, 0.75, 1.0) * np.where(end_of_term, 1.5, 1.0)
    contacts = rng.poisson(rate)
    demand = pd.DataFrame({"date": days, "contacts": contacts, "referrals": contacts // 3})
    fit = fit_demand(demand, START, seed=1, samples=20)
    assert fit.frequency == "W"
    # summer and other holidays are separate effects; the factor written is the other holidays'
    assert fit.parameters["school_holiday_factor"] == pytest.approx(0.75, abs=0.08)
    assert fit.parameters["end_of_term_factor"] > 1.2
    assert fit.history["summer_dip"].min() < -0.15
