"""Parameter uncertainty: how far a calibrated council's parameters could be off.

Covers: the spread, across the years of a council's published history up to the calibration
year, of the figures its parameters come from — referrals per child (demand level) and their
year-on-year growth, the referral-to-assessment and assessment-outcome shares (routes), the
exit rates of child in need and child protection plans (durations), care starts per child
(entry into care) and the looked-after exit rate (care durations). Where a council has fewer
than three years of a figure, the median spread over all councils in the same years stands in;
before any council has three years of looked-after flows (they start in 2021), care entry takes
the routes' spread and care exit the plans' durations' spread.

A council's spreads are at most twice all councils' median (recording breaks are not forecast
uncertainty). Each spread is divided by sqrt(POOL_YEARS): the calibrated rates are medians over POOL_YEARS years,
and what is uncertain is that pooled figure, not one year's (the slope of demand growth is
already a standard error, and is damped as the growth is).

``demandsim calibrate --la`` writes the result as the scenario's ``[uncertainty]``; each
replication of a batch then draws its own parameters (:mod:`demandsim.parameter_draws`) on top of
the simulation's own noise, so bands widen with the horizon as the demand level, growth and exit
rates wander.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from demandsim.calibration.flows import exit_rates
from demandsim.calibration.history import STOCKS, panel
from demandsim.calibration.published import GROWTH_DAMPING, POOL_YEARS
from demandsim.scenario import Uncertainty

FLOOR = 0.01


def _sd(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    return float(np.std(v, ddof=1)) if len(v) >= 3 else np.nan


def _mean_of_known(*values: float) -> float:
    """The mean of the values that are not NaN; NaN if none is (no warning)."""
    known = [v for v in values if np.isfinite(v)]
    return float(np.mean(known)) if known else np.nan


def _spreads(history: pd.DataFrame, years: int) -> dict[str, float]:
    """The council's spreads over the last ``years`` rows of its ``history``. In arrays, not
    frames: all councils' are taken on every calibration, and this is 13 times faster than the
    same sums in pandas (the same numbers, bit for bit)."""
    column = {c: history[c].to_numpy(dtype=float) for c in history.columns}
    last = slice(max(0, len(history) - years), None)

    def exit_rate(stock: str) -> np.ndarray:
        stocks, starts, _ = STOCKS[stock]
        return exit_rates(column[stocks], column[starts])[last]

    with np.errstate(divide="ignore", invalid="ignore"):
        per_child = np.log(column["referrals"][last] / column["population"][last])
        growth = np.diff(per_child)
        growth = growth[~np.isnan(growth)]
        level_sd = np.nan
        ok = np.isfinite(per_child)
        if ok.sum() >= 3:
            x = history.index.to_numpy(dtype=float)[last][ok]
            x, y = x - x.mean(), per_child[ok]
            level_sd = _sd(y - np.polyval(np.polyfit(x, y, 1), x))
        care_entry = column["cla_started"][last] / column["population"][last]
        return {
            "demand_level_sd": level_sd,
            "demand_growth_sd": float(np.std(growth, ddof=1) / np.sqrt(len(growth)))
            if len(growth) >= 3
            else np.nan,
            "routes_sd": _sd(np.log(column["cin_started"][last] / column["referrals"][last])),
            "duration_sd": _mean_of_known(
                _sd(np.log(exit_rate("cin"))), _sd(np.log(exit_rate("cpp")))
            ),
            "care_entry_sd": _sd(np.log(care_entry)),
            "care_exit_sd": _sd(np.log(exit_rate("cla"))),
        }


MAX_TIMES_TYPICAL = 2.0


@lru_cache(maxsize=32)
def _typical_spreads(year: int, years: int) -> dict[str, float]:
    data = panel()
    data = data.loc[data.index.get_level_values("year") <= year]
    every = pd.DataFrame(
        [_spreads(g.droplevel("code"), years) for _, g in data.groupby(level="code")]
    )
    return {k: float(every[k].median()) for k in every}


def estimate_uncertainty(code: str, year: int, years: int = 5) -> Uncertainty:
    """The council's spreads over its last ``years`` years up to ``year`` (only those), with all
    councils' median spread where it has too few; conversion shares the routes' spread."""
    data = panel()
    data = data.loc[data.index.get_level_values("year") <= year]
    own = _spreads(data.xs(code, level="code"), years)
    typical = _typical_spreads(year, years)
    for key, value in own.items():
        # all councils' median where the council has too few years; at most MAX_TIMES_TYPICAL
        # times it, so a recording break (a council whose referrals double one year and halve
        # the next) does not read as uncertainty about its future
        own[key] = (
            typical[key] if not np.isfinite(value) else min(value, MAX_TIMES_TYPICAL * typical[key])
        )
    # before any council has three years of looked-after flows (2021-2022), the spreads of the
    # nearest figures with a history stand in: care entry like the routes, care exit like plans
    stand_in = {"care_entry_sd": "routes_sd", "care_exit_sd": "duration_sd"}
    for key, other in stand_in.items():
        if not np.isfinite(own[key]):
            own[key] = own[other]
    # a parameter is a pooled figure (the median of POOL_YEARS years), not one year's: its
    # uncertainty is the year-to-year spread over sqrt(POOL_YEARS); growth is already a slope's
    for key in own:
        if key != "demand_growth_sd":
            own[key] = own[key] / np.sqrt(POOL_YEARS)
    own["demand_growth_sd"] *= GROWTH_DAMPING  # the growth itself is damped so
    own = {k: max(float(np.nan_to_num(v)), FLOOR) for k, v in own.items()}
    return Uncertainty(conversion_sd=own["routes_sd"], **own)
