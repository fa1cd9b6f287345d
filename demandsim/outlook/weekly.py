"""From the daily unallocated cube to the week-by-week outlook, and the table people read.

Covers: each replication's week (the largest and the mean daily count of unallocated cases, by
team: :func:`weekly_by_replication`), the chance a team passes its threshold in each week with
its light and the expected backlog with its 10-90% band (:func:`weekly_outlook`), and the
traffic-light table for the terminal, which reads the same without colour (:func:`lights_text`).

Assumptions: week *w* is days ``7(w-1)`` to ``7w-1`` of the forecast, day 0 being the snapshot
date; a team *passes* its threshold in a week when its unallocated cases are above it on any day
of the week (the largest daily count is above the threshold); the backlog of a week is the mean
of its daily counts.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from demandsim.batch.aggregate import quantiles
from demandsim.measures import team_label
from demandsim.outlook.settings import OutlookSettings

WEEK_DAYS = 7
BAND = (0.10, 0.50, 0.90)
LETTER = {"green": "G", "amber": "A", "red": "R"}
#: ANSI colours of the lights (only on a terminal that shows colour)
COLOUR = {"green": "green", "amber": "yellow", "red": "red"}


def weekly_by_replication(
    unallocated: np.ndarray, seeds: list[int], teams: list[str], start: dt.date, weeks: int
) -> pd.DataFrame:
    """``unallocated``: (seeds, days, teams) daily counts. One row per replication, team and
    week: ``replication, team, week, week_start, max_unallocated, mean_unallocated``."""
    n_seeds, days, n_teams = unallocated.shape
    if days < weeks * WEEK_DAYS:
        raise ValueError(f"{days} days of forecast is less than {weeks} weeks")
    cube = unallocated[:, : weeks * WEEK_DAYS].reshape(n_seeds, weeks, WEEK_DAYS, n_teams)
    most, mean = cube.max(axis=2), cube.astype(float).mean(axis=2)  # (seeds, weeks, teams)
    index = pd.MultiIndex.from_product(
        [seeds, range(1, weeks + 1), teams], names=["replication", "week", "team"]
    )
    table = pd.DataFrame(
        {"max_unallocated": most.reshape(-1), "mean_unallocated": mean.reshape(-1)}, index=index
    ).reset_index()
    table["week_start"] = pd.Timestamp(start) + pd.to_timedelta((table["week"] - 1) * 7, "D")
    columns = ["replication", "team", "week", "week_start", "max_unallocated", "mean_unallocated"]
    return table[columns].sort_values(["replication", "team", "week"], kind="stable")


def weekly_outlook(
    by_replication: pd.DataFrame, thresholds: dict[str, int], settings: OutlookSettings
) -> pd.DataFrame:
    """Per team and week: the threshold, the chance of passing it (the share of replications
    whose week's largest count is above it) and its light, and the backlog's mean and 10th,
    50th and 90th percentiles across replications."""
    rows = []
    for (team, week), group in by_replication.groupby(["team", "week"], sort=False):
        if team not in thresholds:
            continue
        threshold = thresholds[team]
        chance = float((group["max_unallocated"] > threshold).mean())
        band = quantiles(group["mean_unallocated"].to_numpy(dtype=float), BAND)
        rows.append(
            {
                "team": team,
                "week": int(week),
                "week_start": group["week_start"].iloc[0].date(),
                "threshold_cases": threshold,
                "chance_over_threshold": chance,
                "light": settings.light(chance),
                "mean_unallocated": float(group["mean_unallocated"].mean()),
                "p10_unallocated": float(band[0]),
                "p50_unallocated": float(band[1]),
                "p90_unallocated": float(band[2]),
                "replications": len(group),
            }
        )
    order = {team: i for i, team in enumerate(thresholds)}
    table = pd.DataFrame(rows)
    return table.sort_values(["team", "week"], key=lambda c: c.map(order) if c.name == "team" else c,
                             kind="stable").reset_index(drop=True)  # fmt: skip


def percent(chance: float) -> str:
    """A chance in whole percent, rounded down, so it never crosses a light's bound the chance
    is below: 9.5% is "9" under "green: under 10%", and 29.5% is "29" under "red: 30% or
    more" (rounded, they read 10 and 30 beside a green and an amber)."""
    return "-" if chance != chance else str(math.floor(100 * chance + 1e-9))


def cell(chance: float, light: str) -> str:
    """A cell of the table: the light's letter and the chance in whole percent (``R 64``)."""
    return f"{LETTER[light]} {percent(chance):>3}"


SHORT = {"Child in need": "CiN", "Children in care": "CiC"}


def _short(team: str) -> str:
    """A team's label, in the abbreviation people use for the longer ones."""
    label = team_label(team)
    return SHORT.get(label, label)


def lights_text(table: pd.DataFrame, settings: OutlookSettings, colour: bool = False) -> str:
    """The traffic-light table: one row per week, one column per team, each cell the light's
    letter and the chance (%) that the team's unallocated cases pass its threshold that week;
    with ``colour`` the cell is coloured too (the letters say the same without it)."""
    import click

    teams = list(dict.fromkeys(table["team"]))
    width = max(12, *(len(_short(t)) + 2 for t in teams))
    by = table.set_index(["team", "week"])
    lines = [
        "Chance (%) that each team's unallocated cases pass its threshold in the week",
        f"G green: under {settings.lights.amber_from:.0%}; A amber; "
        f"R red: {settings.lights.red_from:.0%} or more",
        "",
        f"{'week':>4}  {'starting':<10}" + "".join(f"{_short(t):>{width}}" for t in teams),
        f"{'':>4}  {'threshold':<10}"
        + "".join(f"{int(by.loc[(t, 1), 'threshold_cases']):>{width}}" for t in teams),
    ]
    for week in sorted(table["week"].unique()):
        cells = []
        for team in teams:
            row = by.loc[(team, week)]
            text = f"{cell(row['chance_over_threshold'], row['light']):>{width}}"
            cells.append(click.style(text, fg=COLOUR[row["light"]]) if colour else text)
        start = by.loc[(teams[0], week), "week_start"]
        lines.append(f"{week:>4}  {start!s:<10}" + "".join(cells))
    return "\n".join(lines)


def key_weeks(weeks: int) -> list[int]:
    """Weeks shown in the backlog table: every fourth, and the last."""
    return sorted({*range(4, weeks + 1, 4), weeks})


def backlog_text(table: pd.DataFrame) -> str:
    """Expected unallocated cases: the mean and its 10-90% band in a few weeks, by team."""
    teams = list(dict.fromkeys(table["team"]))
    weeks = key_weeks(int(table["week"].max()))
    width = max(len(_short(t)) for t in teams) + 2
    by = table.set_index(["team", "week"])
    lines = [
        "Expected unallocated cases in the week: mean (10-90% band across replications)",
        "",
        f"{'':<{width}}" + "".join(f"{'week ' + str(w):>12}" for w in weeks),
    ]
    for team in teams:
        cells = []
        for w in weeks:
            row = by.loc[(team, w)]
            text = (f"{row['mean_unallocated']:.0f} ({row['p10_unallocated']:.0f}-"
                    f"{row['p90_unallocated']:.0f})")  # fmt: skip
            cells.append(f"{text:>12}")
        lines.append(f"{_short(team):<{width}}" + "".join(cells))
    return "\n".join(lines)


def fill_text(factors: dict[str, float]) -> str:
    """The pace at which the outlook fills each team's vacant posts against the council's usual
    (``teams.<team>.vacancy_fill_factor``, from the vacancy log); empty when every factor is 1."""
    if all(f == 1.0 for f in factors.values()):
        return ""
    from demandsim.calibration.leadtimes import COHORT_DAYS  # the window the factors come from

    shown = ", ".join(f"{_short(t)} {f:.2f}" for t, f in factors.items())
    return (
        "Days to fill vacant posts, against the council's usual (from each team's vacancies "
        f"over the last {COHORT_DAYS} days; 2 = twice as slow): {shown}"
    )
