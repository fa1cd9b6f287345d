"""Case routes and durations per stage, from case episodes (and SSDA903 periods of care).

Covers: for each stage, the routing probabilities (shares of closed episodes by the stage or exit
that followed) and the duration distribution, fitted with episodes still open at the extract date
treated as right-censored (:mod:`demandsim.calibration.durations`), not dropped.

Assumptions: routes do not depend on how long an episode lasted; for stages whose model clock
starts at allocation (front door, MASH, assessment, s47) the recorded episode includes any wait
for a worker, so in a backlog the fitted duration overstates the work itself; a stage needs
:data:`MIN_CLOSED` closed episodes before its routes or durations are written (otherwise the
baseline's stay).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from demandsim.calibration.durations import as_duration, fit_censored
from demandsim.scenario import Scenario

MIN_CLOSED = 20


def episode_table(episodes: pd.DataFrame, extract_date: dt.date) -> pd.DataFrame:
    """Per episode: stage, days (to its end or the extract date), observed (ended), next, year."""
    cut = pd.Timestamp(extract_date)
    table = episodes.loc[episodes["start_date"] <= cut]
    ended = table["end_date"].notna() & (table["end_date"] <= cut)
    stop = table["end_date"].where(ended, cut)
    return pd.DataFrame(
        {
            "stage": table["stage"],
            "days": (stop - table["start_date"]).dt.days.astype(float),
            "observed": ended,
            "next": table["next_stage"].where(ended),
            "end_year": table["end_date"].dt.year.where(ended),
            "entry": 0.0,
        }
    )


def route_shares(counts: pd.Series, keys: list[str]) -> dict[str, float]:
    """Shares summing to exactly 1 (to rounding), with every key of the base's table present
    (0 where unobserved) so that merging over the base replaces the whole table."""
    shares = {k: 0.0 for k in keys}
    total = counts.sum()
    for target, count in counts.items():
        shares[str(target)] = round(float(count / total), 4)
    largest = max(shares, key=shares.get)
    shares[largest] = round(shares[largest] + 1.0 - sum(shares.values()), 6)
    return shares


def fit_routes(table: pd.DataFrame, baseline: Scenario) -> dict:
    """``{"parameters": {"pathway": {"stages": ...}}, "routes": frame, "durations": frame}``."""
    stages: dict = {}
    route_rows, duration_rows = [], []
    for stage, group in table.groupby("stage"):
        closed = group.loc[group["observed"]]
        counts = closed["next"].value_counts()
        for target, count in counts.items():
            route_rows.append({"stage": stage, "next": target, "episodes": int(count)})
        if len(closed) < MIN_CLOSED:
            continue
        base_routes = list(baseline.pathway.stages[stage].routes)
        spec = stages.setdefault(stage, {})
        spec["routes"] = route_shares(counts, base_routes)
        fit = fit_censored(
            group["days"].to_numpy(), group["observed"].to_numpy(), entry=group["entry"].to_numpy()
        )
        spec["duration"] = as_duration(fit)
        duration_rows.append({"stage": stage, **fit})
    routes = pd.DataFrame(route_rows, columns=["stage", "next", "episodes"])
    if len(routes):
        routes["share"] = routes["episodes"] / routes.groupby("stage")["episodes"].transform("sum")
    return {
        "parameters": {"pathway": {"stages": stages}},
        "routes": routes,
        "durations": pd.DataFrame(duration_rows),
    }


def routes_by_year(table: pd.DataFrame) -> pd.DataFrame:
    """Share of closed episodes by next stage, per stage and year of ending (conversion over time)."""
    closed = table.loc[table["observed"]]
    counts = closed.groupby(["stage", "end_year", "next"]).size().rename("episodes").reset_index()
    counts["share"] = counts["episodes"] / counts.groupby(["stage", "end_year"])[
        "episodes"
    ].transform("sum")
    counts["end_year"] = counts["end_year"].astype(int)
    return counts
