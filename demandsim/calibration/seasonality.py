"""Demand seasonality and trend with Prophet, and the predictive sample paths the model draws from.

Covers: the contact series (daily data is summed into Monday-start weeks, weekly and monthly data
are used as they are) is fitted as contacts per day of each period with Prophet: a piecewise-linear
trend whose changepoints absorb breaks such as the 70% rise of 2013/14, yearly seasonality, and
three named school-calendar effects (England's pattern, :func:`demandsim.calendar.school_holidays`):

- ``end_of_term_surge``: share of the period's days that are the last two school days of a term,
- ``summer_dip``: share of the period's days in the summer holiday,
- ``school_holidays``: share of the period's days in the other holidays (half terms, Christmas,
  Easter).

They enter as multiplicative regressors rather than Prophet's own ``holidays`` table so that the
same model works on monthly, weekly and daily data: at daily resolution a share is the 0/1
indicator Prophet would use for a holiday. Effects are multiplicative (a holiday removes a share
of demand, not a fixed number of contacts).

Outputs: the fit and its components for the report; the point parameters of the baseline's demand
profile (``contacts_per_year``, ``growth_per_year``, ``monthly_factors`` and, when the data are
weekly or daily, ``school_holiday_factor`` and ``end_of_term_factor``); and the predictive sample
paths (monthly expected contacts, one column per sample) for ``demand.intensity_file``.

Prophet draws its predictive samples from numpy's global generator: the call is fenced, seeded
from an explicit seed and the global state restored after, so the same seed gives the same paths.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim.calendar import school_calendar, school_holidays

REGRESSORS = ("end_of_term_surge", "summer_dip", "school_holidays")
END_OF_TERM_DAYS = 2
FOURIER_ORDER = {"W": 6, "M": 3}
#: Prophet's trend flexibility: its defaults. Tighter priors forecast the demo council better
#: after its 2022/23 rise but no longer find the rise as a changepoint (README, Calibration).
CHANGEPOINT_PRIOR_SCALE = 0.05
CHANGEPOINT_RANGE = 0.8


@dataclass(frozen=True)
class DemandFit:
    """A fitted demand model, reduced to tables (Prophet itself is not kept)."""

    frequency: str  # "W" or "M": the resolution the model was fitted at
    history: pd.DataFrame  # ds, days, contacts, referrals, rate, yhat, yhat_lower/upper, components
    parameters: dict  # the scenario's demand keys
    intensity: pd.DataFrame  # month, sample_0 ... sample_{n-1}: expected contacts per month
    conversion: pd.DataFrame  # month, contacts, referrals, conversion_share
    changepoints: pd.DataFrame  # date, change in the trend's slope (% of mean level per year)


def periodise(demand: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Contacts and referrals per period (sources summed): (frame with ds and days, frequency).

    Daily data becomes Monday-start weeks; incomplete first and last weeks are dropped.
    """
    series = demand.groupby("date", as_index=False)[["contacts", "referrals"]].sum()
    series = series.sort_values("date").reset_index(drop=True)
    if len(series) < 2:
        raise ValueError("demand.csv: need at least two dates to fit a trend")
    step = series["date"].diff().dt.days.median()
    if step <= 1.5:
        week = series["date"].dt.to_period("W-SUN").dt.start_time
        series = series.groupby(week).agg(
            contacts=("contacts", "sum"), referrals=("referrals", "sum"), n=("date", "size")
        )
        series = series[series["n"] == 7].drop(columns="n").rename_axis("ds").reset_index()
        freq = "W"
    elif step <= 10:
        series = series.rename(columns={"date": "ds"})
        freq = "W"
    else:
        series = series.rename(columns={"date": "ds"})
        series["ds"] = series["ds"].dt.to_period("M").dt.start_time
        freq = "M"
    series["days"] = _period_days(series["ds"], freq)
    series["rate"] = series["contacts"] / series["days"]
    return series, freq


def _period_days(ds: pd.Series, freq: str) -> np.ndarray:
    if freq == "D":
        return np.ones(len(ds))
    if freq == "W":
        return np.full(len(ds), 7.0)
    return ds.dt.days_in_month.to_numpy(dtype=float)


def calendar_shares(ds: pd.Series | pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """For each period starting at ``ds``: the share of its days in each school-calendar effect."""
    starts = pd.DatetimeIndex(ds).to_numpy().astype("datetime64[D]")
    days = _period_days(pd.Series(pd.DatetimeIndex(ds)), freq).astype(int)
    every = np.arange(starts.min(), starts.max() + np.timedelta64(int(days.max()), "D"))
    holiday, end_of_term = school_calendar(every, END_OF_TERM_DAYS)
    summer = np.zeros(len(every), dtype=bool)
    years = every.astype("datetime64[Y]").astype(int) + 1970
    for year in range(years.min(), years.max() + 1):
        first, last = school_holidays(year)[3]  # the summer holiday
        summer |= (every >= np.datetime64(first)) & (every <= np.datetime64(last))
    flags = {
        "end_of_term_surge": end_of_term,
        "summer_dip": summer,
        "school_holidays": holiday & ~summer,
    }
    cum = {k: np.concatenate([[0], np.cumsum(v)]) for k, v in flags.items()}
    first = (starts - every[0]).astype(int)
    out = {k: (c[first + days] - c[first]) / days for k, c in cum.items()}
    return pd.DataFrame(out)


def quiet_prophet() -> None:
    """Prophet and cmdstanpy log every fit at INFO; keep calibration output readable."""
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "Importing plotly failed"
    logging.getLogger("prophet").setLevel(logging.WARNING)
    from cmdstanpy.utils import get_logger  # cached: its first call would reset the level

    get_logger().setLevel(logging.WARNING)


def fit_demand(
    demand: pd.DataFrame,
    start_date: dt.date,
    seed: int,
    samples: int = 200,
    horizon_years: float = 5.0,
    lead_in_days: int = 400,
) -> DemandFit:
    """Fit the contact series and sample monthly expected contacts around ``start_date``.

    The sample paths cover the months from ``lead_in_days`` before ``start_date`` (the
    simulation's warm-up) to ``horizon_years`` after it.
    """
    quiet_prophet()
    from prophet import Prophet  # imported here: only calibration needs it, and it is slow
    from prophet.utilities import regressor_coefficients

    series, freq = periodise(demand)
    train = pd.concat(
        [series[["ds"]], pd.DataFrame({"y": series["rate"]}), calendar_shares(series["ds"], freq)],
        axis=1,
    )
    model = Prophet(
        growth="linear",
        yearly_seasonality=FOURIER_ORDER[freq],
        weekly_seasonality=False,
        daily_seasonality=False,
        seasonality_mode="multiplicative",
        changepoint_range=CHANGEPOINT_RANGE,
        changepoint_prior_scale=CHANGEPOINT_PRIOR_SCALE,
        uncertainty_samples=samples,
    )
    for name in REGRESSORS:
        if train[name].std() > 0:
            model.add_regressor(name, mode="multiplicative", standardize=False)
    used = [n for n in REGRESSORS if n in model.extra_regressors]
    model.fit(train)

    predicted = fenced(seed, model.predict, train)
    history = series.assign(
        yhat=predicted["yhat"].to_numpy() * series["days"],
        yhat_lower=predicted["yhat_lower"].to_numpy() * series["days"],
        yhat_upper=predicted["yhat_upper"].to_numpy() * series["days"],
        trend=predicted["trend"].to_numpy() * series["days"],
        yearly=predicted["yearly"].to_numpy(),
        **{n: predicted[n].to_numpy() if n in used else 0.0 for n in REGRESSORS},
    )
    table = regressor_coefficients(model) if used else pd.DataFrame(columns=["regressor", "coef"])
    coefficients = dict(zip(table["regressor"], table["coef"].astype(float), strict=True))
    intensity = _sample_months(model, freq, start_date, seed, horizon_years, lead_in_days)
    parameters = _point_parameters(model, freq, start_date, coefficients, seed)
    deltas = np.asarray(model.params["delta"]).mean(axis=0) * model.y_scale
    span_years = (model.history["ds"].max() - model.history["ds"].min()).days / 365.25
    mean_rate = float(series["rate"].mean())
    changepoints = pd.DataFrame(
        {
            "date": model.changepoints.dt.date.to_numpy(),
            "slope_change_pct_per_year": 100 * deltas / span_years / mean_rate,
        }
    )
    return DemandFit(
        frequency=freq,
        history=history,
        parameters=parameters,
        intensity=intensity,
        conversion=conversion_table(demand),
        changepoints=changepoints,
    )


def _future(freq: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    if freq == "W":
        ds = pd.date_range(first - pd.Timedelta(days=first.weekday()), last, freq="W-MON")
    else:
        ds = pd.date_range(first.to_period("M").start_time, last, freq="MS")
    return pd.concat([pd.DataFrame({"ds": ds}), calendar_shares(ds, freq)], axis=1)


def _months_grid(freq: str, first: pd.Timestamp, last: pd.Timestamp):
    """The fit-frequency periods covering whole months ``first``..``last``, and for each day of
    those months, its period and its month: (future frame, period index per day, month keys,
    month index per day)."""
    future = _future(freq, first, last)
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last.normalize(), "D") + 1)
    period = np.searchsorted(future["ds"].to_numpy().astype("datetime64[D]"), days, "right") - 1
    month_keys, month_idx = np.unique(days.astype("datetime64[M]"), return_inverse=True)
    return future, period, month_keys, month_idx


def _by_month(rates: np.ndarray, period: np.ndarray, month_idx: np.ndarray, n: int) -> np.ndarray:
    """Daily rates per period summed into calendar months: (months, columns)."""
    rates = rates.reshape(len(rates), -1)
    totals = np.zeros((n, rates.shape[1]))
    np.add.at(totals, month_idx, rates[period])
    return totals


def _sample_months(model, freq, start_date, seed, horizon_years, lead_in_days) -> pd.DataFrame:
    start = pd.Timestamp(start_date)
    first = (start - pd.Timedelta(days=lead_in_days)).to_period("M").start_time
    last = (start + pd.Timedelta(days=round(horizon_years * 365.25))).to_period("M").end_time
    future, period, months, month_idx = _months_grid(freq, first, last)
    rates = np.clip(fenced_predictive_samples(model, future, seed), 0.0, None)
    totals = _by_month(rates, period, month_idx, len(months))
    frame = pd.DataFrame(totals, columns=[f"sample_{i}" for i in range(rates.shape[1])])
    frame.insert(0, "month", [str(m) for m in months])
    return frame


def fenced(seed: int, call, *args):
    """``call(*args)`` with numpy's global generator seeded from ``seed`` (Prophet samples from
    it), and the global state put back afterwards."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return call(*args)
    finally:
        np.random.set_state(state)


def fenced_predictive_samples(model, future: pd.DataFrame, seed: int) -> np.ndarray:
    """Prophet's predictive samples of contacts per day: (periods, samples)."""
    return np.asarray(fenced(seed, model.predictive_samples, future)["yhat"], dtype=float)


def _point_parameters(model, freq: str, start_date: dt.date, coefficients: dict, seed: int) -> dict:
    """The baseline's demand profile from the point forecast around ``start_date``: monthly
    factors from the two years either side, volume and growth from the year after."""
    start = pd.Timestamp(start_date).to_period("M").start_time
    first, last = start - pd.DateOffset(years=2), start + pd.DateOffset(years=2) - pd.Timedelta(1)
    future, period, months, month_idx = _months_grid(freq, first, last)
    point = fenced(seed, model.predict, future)
    n = len(months)
    volume = _by_month(point["yhat"].clip(lower=0).to_numpy(), period, month_idx, n)[:, 0]
    trend = _by_month(point["trend"].to_numpy(), period, month_idx, n)[:, 0]
    month_of_year = months.astype(int) % 12
    factor = pd.Series(volume / trend).groupby(month_of_year).mean()
    days_in = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    seasonal = factor.to_numpy() * days_in
    ahead = slice(24, 36)
    params: dict = {
        "contacts_per_year": round(float(volume[ahead].sum()), 1),
        "growth_per_year": round(float(trend[36:48].sum() / trend[ahead].sum() - 1.0), 4),
        "monthly_factors": (seasonal / seasonal.mean()).round(4).tolist(),
    }
    if freq == "W":  # weeks resolve the school calendar within months; months do not
        params["school_holiday_factor"] = round(
            float(np.clip(1 + coefficients.get("school_holidays", 0.0), 0.05, 3.0)), 3
        )
        params["end_of_term_factor"] = round(
            float(np.clip(1 + coefficients.get("end_of_term_surge", 0.0), 0.05, 5.0)), 3
        )
    return params


def conversion_table(demand: pd.DataFrame) -> pd.DataFrame:
    """Contacts, referrals and the contact-to-referral conversion share by calendar month."""
    month = demand["date"].dt.to_period("M").dt.start_time
    table = demand.groupby(month)[["contacts", "referrals"]].sum().rename_axis("month")
    table["conversion_share"] = table["referrals"] / table["contacts"].where(table["contacts"] > 0)
    return table.reset_index()
