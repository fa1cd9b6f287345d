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
