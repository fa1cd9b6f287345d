"""The outlook's chart: each team's expected unallocated cases week by week, with its 10-90%
band across replications and the team's threshold. A pure function: the stored weekly table in,
a matplotlib ``Figure`` out."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from demandsim.measures import team_label
from demandsim.plots import COLOURS, _grid, _hide_unused


def backlog_panels(weekly: pd.DataFrame) -> Figure:
    """One panel per team (each on its own scale): mean unallocated cases by week, the 10-90%
    band, and the threshold as a dashed line."""
    teams = list(dict.fromkeys(weekly["team"]))
    columns = 2 if len(teams) > 1 else 1
    lines = max(1, -(-len(teams) // columns))
    fig, axes = _grid(lines, columns, 2.4, sharex=True, sharey=False)
    for ax, team in zip(axes, teams, strict=False):
        rows = weekly[weekly["team"] == team].sort_values("week")
        ax.fill_between(rows["week"], rows["p10_unallocated"], rows["p90_unallocated"],
                        color=COLOURS[0], alpha=0.25, lw=0, label="10-90%")  # fmt: skip
        ax.plot(rows["week"], rows["mean_unallocated"], color=COLOURS[0], lw=1.5, label="mean")
        ax.axhline(rows["threshold_cases"].iloc[0], color="#c0392b", ls="--", lw=1,
                   label="threshold")  # fmt: skip
        ax.set_title(team_label(team), fontsize=10)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("week ahead", fontsize=8)
    _hide_unused(axes, len(teams), columns)
    axes[0].legend(fontsize=8, loc="upper left")
    n = int(weekly["replications"].max())
    fig.suptitle(
        f"Unallocated cases by team and week: mean of the week, 10-90% band over {n} "
        "replications; each team on its own scale",
        fontsize=11,
    )
    return fig
