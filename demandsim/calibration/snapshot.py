"""The warm start: the service as it stood on the snapshot date.

Covers: open cases by stage (``pathway.stages.<stage>.initial_cases``), the establishment and how
it is filled (``teams.<team>.posts``, ``initial_permanent``, ``initial_agency``) and the start
date, with no warm-up (``warmup_days = 0``): the model opens its initial cases and staff at the
start of the warm-up, so a warm-up would age the snapshot before the forecast began. Staff in post come from ``snapshot_staff.csv``, or, without it, from the staff spells open
on the snapshot date. Posts are staff in post plus vacancies open on that date: a vacancy closes
when anyone, permanent or agency, fills it.

Assumptions: staff are counted by head, not FTE (the model's workers are people); Early Help is a
service with a fixed number of places, so staff mapped to it are reported but not written.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

SERVICE_TEAMS = ("early_help",)


def staff_in_post(
    snapshot_staff: pd.DataFrame | None, spells: pd.DataFrame | None, day: dt.date
) -> pd.DataFrame | None:
    """Team and contract of everyone in post on ``day``."""
    if snapshot_staff is not None:
        return snapshot_staff[["team", "contract"]]
    if spells is None:
        return None
    when = pd.Timestamp(day)
    open_then = (spells["start_date"] <= when) & (
        spells["end_date"].isna() | (spells["end_date"] > when)
    )
    return spells.loc[open_then, ["team", "contract"]]


def open_vacancies(vacancies: pd.DataFrame | None, day: dt.date) -> pd.Series:
    if vacancies is None:
        return pd.Series(dtype=int)
    when = pd.Timestamp(day)
    still_open = (vacancies["opened_date"] <= when) & (
        vacancies["filled_date"].isna() | (vacancies["filled_date"] > when)
    )
    return vacancies.loc[still_open].groupby("team").size()


def warm_start(
    day: dt.date,
    cases: pd.DataFrame | None,
    staff: pd.DataFrame | None,
    vacancies: pd.Series,
) -> dict:
    """``{"parameters": {...}, "cases": frame, "staff": frame}`` for the snapshot ``day``."""
    params: dict = {"start_date": day}
    case_table = pd.DataFrame(columns=["stage", "open_cases", "unallocated_cases"])
    if cases is not None:
        params["warmup_days"] = 0  # the run starts from the snapshot itself
        case_table = (
            cases.assign(unallocated=~cases["allocated"])
            .groupby("stage")
            .agg(open_cases=("case_id", "size"), unallocated_cases=("unallocated", "sum"))
            .reset_index()
        )
        params["pathway"] = {
            "stages": {
                row.stage: {"initial_cases": int(row.open_cases)} for row in case_table.itertuples()
            }
        }
    staff_table = pd.DataFrame(columns=["team", "permanent", "agency", "vacancies", "posts"])
    if staff is not None:
        counts = staff.groupby(["team", "contract"]).size().unstack(fill_value=0)
        counts = counts.reindex(columns=["permanent", "agency"], fill_value=0)
        counts["vacancies"] = vacancies.reindex(counts.index, fill_value=0)
        counts["posts"] = counts.sum(axis=1)
        staff_table = counts.rename_axis("team").reset_index()
        params["teams"] = {
            row.team: {
                "posts": int(row.posts),
                "initial_permanent": int(row.permanent),
                "initial_agency": int(row.agency),
            }
            for row in staff_table.itertuples()
            if row.team not in SERVICE_TEAMS
        }
    return {"parameters": params, "cases": case_table, "staff": staff_table}
