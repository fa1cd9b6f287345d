"""Percentile bands across replications: the tidy shape that fan charts take.

A bands frame has one row per date, team and measure, with columns ``date, team, measure, p5,
p25, p50, p75, p95``. Percentiles are taken per day across replications (ignoring days a
measure is undefined, such as caseload per worker in a team with nobody in post). The service
as a whole is a team of its own (:data:`SERVICE`), summed within each replication before the
percentiles, so its bands are those of the total, not sums of percentiles. One replication gives
bands with every percentile equal to its value.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

SERVICE = "all social work teams"
BAND_PERCENTILES = (5, 25, 50, 75, 95)
MEASURES = (
    "unallocated_cases",
    "caseload_per_worker",
    "staff_permanent",
    "staff_agency",
    "vacant_posts",
    "staff_in_post",
)
_SUMMED = ("unallocated_cases", "allocated_cases", "staff_permanent", "staff_agency",
           "vacant_posts", "staff_in_post")  # fmt: skip


def with_service_total(daily: pd.DataFrame, staffed: Iterable[str] | None = None) -> pd.DataFrame:
    """A daily team frame with the service total appended as team :data:`SERVICE`.

    ``staffed`` names the teams with a workforce (default: teams with anyone in post at any time).
    """
    if staffed is None:
        staffed = daily.loc[daily["staff_in_post"] > 0, "team"].unique()
    mine = daily[daily["team"].isin(list(staffed))]
    total = mine.groupby("date", as_index=False)[[c for c in _SUMMED if c in daily]].sum()
    staff = total["staff_in_post"]
    total["caseload_per_worker"] = total["allocated_cases"] / staff.where(staff > 0.5)
    total.insert(1, "team", SERVICE)
    return pd.concat([daily, total], ignore_index=True)


def percentile_bands(
    replications: Iterable[pd.DataFrame] | pd.DataFrame, measures: Iterable[str] = MEASURES
) -> pd.DataFrame:
    """Per-day percentile bands of ``measures`` across replications of the daily team series
    (a sequence, a stream, or one replication's frame). Every replication must cover the same
    dates and teams in the same order, as replications of one scenario do."""
    frames = [replications] if isinstance(replications, pd.DataFrame) else list(replications)
    if not frames:
        raise ValueError("no replications to summarise")
    measures = [m for m in measures if m in frames[0]]
    keys = frames[0][["date", "team"]].reset_index(drop=True)
    for frame in frames[1:]:
        if not keys.equals(frame[["date", "team"]].reset_index(drop=True)):
            raise ValueError("replications cover different dates or teams; cannot band them")
    out = []
    for measure in measures:
        stack = np.stack([f[measure].to_numpy(dtype=float) for f in frames])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days stay NaN
            values = np.nanpercentile(stack, BAND_PERCENTILES, axis=0)
        band = keys.copy()
        band["measure"] = measure
        for q, row in zip(BAND_PERCENTILES, values, strict=True):
            band[f"p{q}"] = row
        out.append(band)
    return pd.concat(out, ignore_index=True)


def as_bands(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Bands for ``measure`` from a bands frame or a single replication's daily frame."""
    if "measure" in frame:
        return frame[frame["measure"] == measure]
    return percentile_bands(frame, [measure])
