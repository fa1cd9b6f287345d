"""Staff churn and sickness from an HR extract of staff spells.

Covers: the leaving hazard by contract (and, for permanent staff, by team where a team has enough
exposure), estimated as leavers / years of exposure: the maximum-likelihood estimate of a constant
hazard when spells still running at the extract date are right-censored (they add exposure but no
leaving). Dropping them instead would count only the short spells that have already ended and
overstate the hazard; that is why censoring matters. Kaplan-Meier curves (time in post, by
contract) show how well the constant hazard fits. Sickness share is working days lost over working
days in post. The newly qualified share is the share of permanent spells flagged as newly
qualified (the model's ``workforce.permanent.nq_share``, the share of permanent recruits who are).

Assumptions: a spell's hazard does not depend on time in post (the model draws leaving times from
an exponential); a year has 253 working days (365 less weekends and bank holidays); a team's own
hazard is written only when it has at least :data:`MIN_TEAM_LEAVERS` leavers and
:data:`MIN_TEAM_YEARS` worker-years.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

MIN_TEAM_LEAVERS = 10
MIN_TEAM_YEARS = 20.0
WORKING_DAYS_PER_YEAR = 253.0
DAYS_PER_YEAR = 365.25


def exposure(staff: pd.DataFrame, extract_date: dt.date) -> pd.DataFrame:
    """Per spell: years in post up to its end or the extract date, and whether it ended (left).

    Spells starting after the extract date are dropped; spells ending after it are censored at it.
    """
    cut = pd.Timestamp(extract_date)
    spells = staff.loc[staff["start_date"] <= cut].copy()
    ended = spells["end_date"].notna() & (spells["end_date"] <= cut)
    stop = spells["end_date"].where(ended, cut)
    spells["years"] = (stop - spells["start_date"]).dt.days / DAYS_PER_YEAR
    spells["left"] = ended
    return spells


def hazards(spells: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Constant leaving hazard (per year) with a 95% interval, grouped by ``by``."""
    grouped = spells.groupby(by, observed=True).agg(
        spells=("left", "size"), leavers=("left", "sum"), years=("years", "sum")
    )
    grouped["hazard_per_year"] = grouped["leavers"] / grouped["years"]
    # exact Poisson interval on the count of leavers, divided by exposure
    from scipy import stats

    k = grouped["leavers"].to_numpy()
    lower = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0)
    upper = stats.chi2.ppf(0.975, 2 * k + 2) / 2
    grouped["lower_95"] = lower / grouped["years"]
    grouped["upper_95"] = upper / grouped["years"]
    return grouped.reset_index()


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier survival estimate: (time, at_risk, events, survival) at each event time."""
    order = np.argsort(durations, kind="stable")
    t, d = np.asarray(durations)[order], np.asarray(observed, dtype=bool)[order]
    times = np.unique(t[d])
    at_risk = len(t) - np.searchsorted(t, times, "left")
    events = np.array([np.sum(d & (t == x)) for x in times])
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events, "survival": survival})


def survival_curves(spells: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier curve of years in post by contract, with the constant-hazard curve beside it."""
    frames = []
    for contract, group in spells.groupby("contract"):
        curve = kaplan_meier(group["years"].to_numpy(), group["left"].to_numpy())
        rate = group["left"].sum() / group["years"].sum()
        frames.append(
            curve.assign(contract=contract, constant_hazard=np.exp(-rate * curve["time"]))
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sickness(spells: pd.DataFrame) -> pd.DataFrame:
    """Sickness share by team: working days lost / working days in post (FTE-weighted)."""
    if "sickness_days" not in spells or spells["sickness_days"].isna().all():
        return pd.DataFrame(columns=["team", "sickness_share", "worker_years"])
    held = spells.loc[spells["sickness_days"].notna()]
    fte = held["fte"].fillna(1.0) if "fte" in held else 1.0
    available = held["years"] * WORKING_DAYS_PER_YEAR * fte
    table = (
        pd.DataFrame({"team": held["team"], "lost": held["sickness_days"], "available": available})
        .groupby("team")
        .sum()
    )
    table["sickness_share"] = table["lost"] / table["available"]
    table["worker_years"] = table["available"] / WORKING_DAYS_PER_YEAR
    return table.reset_index()[["team", "sickness_share", "worker_years"]]


def fit_churn(staff: pd.DataFrame, extract_date: dt.date) -> dict:
    """Scenario keys for churn and sickness, and the tables behind them.

    Returns ``{"parameters": {...}, "by_contract": frame, "by_team": frame, "survival": frame,
    "sickness": frame}``; ``parameters`` holds ``workforce.*.turnover_per_year`` and, per team,
    ``permanent_turnover_per_year`` and ``sickness_share`` where the data support them.
    """
    spells = exposure(staff, extract_date)
    by_contract = hazards(spells, ["contract"])
    by_team = hazards(spells.loc[spells["contract"] == "permanent"], ["team"])
    sick = sickness(spells)
    workforce: dict = {}
    for row in by_contract.itertuples():
        if row.years > 0:
            workforce[row.contract] = {"turnover_per_year": round(float(row.hazard_per_year), 4)}
    permanent = staff.loc[staff["contract"] == "permanent"]
    if "newly_qualified" in permanent and len(permanent):
        share = round(float(permanent["newly_qualified"].mean()), 4)
        workforce.setdefault("permanent", {})["nq_share"] = share
    teams: dict = {}
    for row in by_team.itertuples():
        if row.leavers >= MIN_TEAM_LEAVERS and row.years >= MIN_TEAM_YEARS:
            teams.setdefault(row.team, {})["permanent_turnover_per_year"] = round(
                float(row.hazard_per_year), 4
            )
    for row in sick.itertuples():
        if row.team != "early_help" and row.worker_years > 0:
            teams.setdefault(row.team, {})["sickness_share"] = round(float(row.sickness_share), 4)
    return {
        "parameters": {"workforce": workforce, "teams": teams},
        "by_contract": by_contract,
        "by_team": by_team,
        "survival": survival_curves(spells),
        "sickness": sick,
    }
