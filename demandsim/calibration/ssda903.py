"""Children looked after from the SSDA903 return: periods of care and the placement mix.

Covers: a child's episodes (CHILD, DECOM, DEC, REC, PLACE) joined into periods of care (a period
runs on while an episode ends with REC = X1, "episode ceases, child stays in care"), each with its
length, whether it is still open at the extract date (censored) and where it led: ``after_care``
for care leavers, ``return_home`` for every other way out (home, adoption, special guardianship,
another authority). The placement mix is the share of care days in the last year by placement
type.

Assumptions: a care leaver is a child whose period ends with REC E7 or E8 (independent living),
E17 (staying put at 18) or E5 (adult social care), or, when the header file gives dates of birth,
any child aged 17.5 or more when the period ends. Placement groups follow the finance model:
in-house fostering U1-U3, independent fostering agency and other fostering U4-U6, residential
K2, R1 and H5, everything else other.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

CONTINUES = "X1"
CARE_LEAVER_REC = {"E7", "E8", "E17", "E5"}
CARE_LEAVER_AGE = 17.5
PLACEMENT_GROUPS = {
    "in_house_fostering": ("U1", "U2", "U3"),
    "ifa_other_fostering": ("U4", "U5", "U6"),
    "residential": ("K2", "R1", "H5"),
}
#: placement groups as the placement types priced by ``costs.placement_per_week_gbp``
COST_TYPE = {
    "in_house_fostering": "in_house_fostering",
    "ifa_other_fostering": "independent_fostering",
    "residential": "residential",
    "other": "other",
}


def _child_key(frame: pd.DataFrame) -> pd.Series:
    la = frame["LA"].astype(str) if "LA" in frame else ""
    return la + "|" + frame["CHILD"].astype(str)


def care_periods(
    episodes: pd.DataFrame, extract_date: dt.date, header: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per period of care: stage 'cic', days, observed, next ('after_care' or
    'return_home'), end_year, entry (days in care when the return began to watch the period):
    the layout of :func:`demandsim.calibration.routes.episode_table`."""
    cut = pd.Timestamp(extract_date)
    eps = episodes.loc[episodes["DECOM"] <= cut].assign(key=_child_key(episodes))
    eps = eps.sort_values(["key", "DECOM"]).reset_index(drop=True)
    ended = eps["DEC"].notna() & (eps["DEC"] <= cut)
    rec = eps["REC"].str.upper().where(ended, "")
    closes = ended & (rec != CONTINUES)
    previous_closed = closes.groupby(eps["key"]).shift(fill_value=True)
    period = previous_closed.cumsum()
    groups = eps.groupby(period)
    periods = pd.DataFrame(
        {
            "key": groups["key"].first(),
            "start": groups["DECOM"].first(),
            "end": groups["DEC"].last(),
            "observed": groups.apply(lambda g: bool(closes[g.index[-1]]), include_groups=False),
            "rec": groups.apply(lambda g: rec[g.index[-1]], include_groups=False),
        }
    )
    leaver = periods["rec"].isin(CARE_LEAVER_REC)
    if header is not None and len(header):
        dob = header.assign(key=_child_key(header)).drop_duplicates("key").set_index("key")["DOB"]
        age = (periods["end"] - periods["key"].map(dob)).dt.days / 365.25
        leaver |= age >= CARE_LEAVER_AGE
    stop = periods["end"].where(periods["observed"], cut)
    # the returns cover periods of care open at some time since the first collection year
    # began; the earliest end of a period in the file marks (a little after) that date, and a
    # period that began before it is in the file only because it lasted that long
    ends = periods.loc[periods["observed"], "end"]
    window_start = ends.min() if len(ends) else cut
    entry = (window_start - periods["start"]).dt.days.clip(lower=0).astype(float)
    return pd.DataFrame(
        {
            "stage": "cic",
            "days": (stop - periods["start"]).dt.days.astype(float),
            "entry": entry,
            "observed": periods["observed"],
            "next": np.where(leaver, "after_care", "return_home"),
            "end_year": periods["end"].dt.year.where(periods["observed"]),
        }
    ).assign(next=lambda f: f["next"].where(f["observed"]))


def placement_group(place: pd.Series) -> pd.Series:
    codes = place.str.upper().str.strip()
    out = pd.Series("other", index=place.index)
    for group, members in PLACEMENT_GROUPS.items():
        out[codes.isin(members)] = group
    return out


def placement_mix(episodes: pd.DataFrame, extract_date: dt.date, days: int = 365) -> pd.DataFrame:
    """Care days and children by placement group in the ``days`` before the extract date."""
    cut = pd.Timestamp(extract_date)
    first = cut - pd.Timedelta(days=days)
    start = episodes["DECOM"].clip(lower=first)
    stop = episodes["DEC"].fillna(cut).clip(upper=cut)
    inside = stop > start
    frame = pd.DataFrame(
        {
            "placement_group": placement_group(episodes["PLACE"])[inside],
            "care_days": (stop - start).dt.days[inside],
            "child": _child_key(episodes)[inside],
        }
    )
    table = frame.groupby("placement_group").agg(
        care_days=("care_days", "sum"), children=("child", "nunique")
    )
    table = table.reindex([*PLACEMENT_GROUPS, "other"], fill_value=0)
    table["share"] = (table["care_days"] / table["care_days"].sum()).round(4)
    return table.rename_axis("placement_group").reset_index()
