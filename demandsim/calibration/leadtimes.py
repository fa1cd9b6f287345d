"""Recruitment lead times from the vacancy log: days from a vacancy opening to its filling.

Covers: a gamma distribution (mean and cv, by maximum likelihood) of the days to fill, by the
route that filled the vacancy: permanent (the model's ``workforce.permanent.recruit_days``, vacancy
to accepted offer, so ``filled_date`` of a permanent fill is the date the offer was accepted) and
agency (``workforce.agency.fill_days``, vacancy to the locum starting).

Censoring: a vacancy still open at the extract date will be filled by a route not yet known, so it
cannot be a censored observation of either route; but dropping it would keep only the quick fills
of recent vacancies and bias both means down. So only vacancies opened at least
:data:`COHORT_DAYS` before the extract date are used (a cohort whose fills are complete); any of
them still open are counted in the fits table (``still_open``), and a large count there means the
lead times are understated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from demandsim.calibration.durations import as_duration, fit_censored

MIN_FILLS = 5
COHORT_DAYS = 180
KEYS = {"permanent": ("permanent", "recruit_days"), "agency": ("agency", "fill_days")}


def lead_times(vacancies: pd.DataFrame, extract_date: dt.date) -> pd.DataFrame:
    """Per vacancy: days open, whether filled by the extract date, and the route."""
    cut = pd.Timestamp(extract_date)
    table = vacancies.loc[vacancies["opened_date"] <= cut].copy()
    filled = table["filled_date"].notna() & (table["filled_date"] <= cut)
    table["filled"] = filled
    table["days"] = (table["filled_date"].where(filled, cut) - table["opened_date"]).dt.days
    table["route"] = table["filled_by"].where(filled, "open")
    return table[["team", "route", "days", "filled", "opened_date"]]


def fit_lead_times(vacancies: pd.DataFrame, extract_date: dt.date) -> dict:
    """``{"parameters": {"workforce": ...}, "fits": frame, "lead_times": frame}``."""
    table = lead_times(vacancies, extract_date)
    cohort = table.loc[
        table["opened_date"] <= pd.Timestamp(extract_date) - pd.Timedelta(days=COHORT_DAYS)
    ]
    still_open = int((cohort["route"] == "open").sum())
    params: dict = {}
    rows = []
    for route, (contract, key) in KEYS.items():
        days = cohort.loc[cohort["route"] == route, "days"].to_numpy(dtype=float)
        if len(days) < MIN_FILLS:
            continue
        fit = fit_censored(days, np.ones(len(days), dtype=bool), families=("gamma",))
        params.setdefault(contract, {})[key] = as_duration(fit)
        rows.append(
            {"route": route, **fit, "median_days": float(np.median(days)), "still_open": still_open}
        )
    return {
        "parameters": {"workforce": params},
        "fits": pd.DataFrame(rows),
        "lead_times": table,
    }


def recent_fill_factors(
    vacancies: pd.DataFrame,
    day: dt.date,
    window_days: int = COHORT_DAYS,
    prior_fills: float = MIN_FILLS,
) -> pd.DataFrame:
    """How slowly each team's vacancies have been filling lately, against the council's usual
    rate: per team, the fills and vacancy-days of the last ``window_days`` up to ``day``, the
    fills expected at the rate of the whole log (fills per vacancy-day, by any route), and
    ``factor = (expected + prior_fills) / (fills + prior_fills)``: above 1 when the team's
    posts fill more slowly than usual (a hiring freeze, a shortage), shrunk towards 1 while
    its counts are small. The outlook stretches the team's days to fill by it
    (``teams.<team>.vacancy_fill_factor``).

    Assumes a constant fill rate (days open are exposure, fills events), which is rough for
    lead times with a minimum but the same rough for the team and the council."""
    columns = ["team", "fills", "vacancy_days", "expected_fills", "factor"]
    cut = pd.Timestamp(day)
    table = vacancies.loc[vacancies["opened_date"] <= cut]
    filled = table["filled_date"].notna() & (table["filled_date"] <= cut)
    end = table["filled_date"].where(filled, cut)
    exposure = (end - table["opened_date"]).dt.days.clip(lower=0)
    if exposure.sum() <= 0:
        return pd.DataFrame(columns=columns)
    rate = filled.sum() / exposure.sum()
    since = cut - pd.Timedelta(days=window_days)
    recent_days = (end - table["opened_date"].clip(lower=since)).dt.days.clip(lower=0)
    frame = pd.DataFrame({"team": table["team"], "fills": filled & (end > since),
                          "vacancy_days": recent_days})  # fmt: skip
    out = frame.groupby("team", sort=True).sum().reset_index()
    out["fills"] = out["fills"].astype(int)
    out["expected_fills"] = out["vacancy_days"] * rate
    out["factor"] = (out["expected_fills"] + prior_fills) / (out["fills"] + prior_fills)
    return out[columns]
