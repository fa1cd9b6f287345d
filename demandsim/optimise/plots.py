"""The cost-risk frontier chart: a tidy plan table in, a matplotlib ``Figure`` out."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter


def frontier_figure(table: pd.DataFrame, required_miss: float, ax=None) -> Figure:
    """Annual cost against the chance of missing the target for every fully evaluated plan,
    the frontier joined, the chosen plan ringed and the most the target allows dashed."""
    if ax is None:
        fig = Figure(figsize=(7, 4.5))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    full = table[~table["pruned"]]
    pruned = table[table["pruned"]]
    if len(pruned):
        ax.scatter(pruned["annual_cost_gbp"], pruned["miss_chance"], s=18, marker="x",
                   color="0.75", label="pruned: clearly missed in the first replications")  # fmt: skip
    front = full[full["on_frontier"]].sort_values("annual_cost_gbp")
    ax.scatter(full["annual_cost_gbp"], full["miss_chance"], s=18, color="0.6", label="plans tried")
    ax.plot(front["annual_cost_gbp"], front["miss_chance"], "o-", color="C0", label="frontier")
    chosen = full[full["chosen"]]
    ax.scatter(chosen["annual_cost_gbp"], chosen["miss_chance"], s=140, facecolors="none",
               edgecolors="C3", linewidths=2, label="chosen plan")  # fmt: skip
    ax.axhline(required_miss, ls="--", color="C3", lw=1, label="most the target allows")
    ax.set_xlabel("annual cost (£, search seeds)")
    ax.set_ylabel("chance of missing the target")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v / 1e6:,.2f}m"))
    ax.set_title("Cost against risk: the plans on the frontier")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
