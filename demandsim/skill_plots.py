"""Charts of the skill table: pure functions, a summary frame in, a matplotlib Figure out."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from demandsim.skill import LABELS, LEVELS

STYLE = {"demandsim": "o-", "persistence": "s--", "trend": "^:"}


def error_figure(summary: pd.DataFrame) -> Figure:
    """Median (solid) and p90 absolute % error by horizon, one panel per stock."""
    stocks = list(dict.fromkeys(summary["stock"]))
    fig = Figure(figsize=(4 * len(stocks), 3.4))
    axes = fig.subplots(1, len(stocks), squeeze=False)
    for ax, stock in zip(axes[0], stocks, strict=True):
        part = summary.loc[summary["stock"] == stock]
        for method, g in part.groupby("method"):
            line = ax.plot(g["horizon"], g["median_ape"], STYLE.get(method, "o-"), label=method)
            ax.plot(g["horizon"], g["p90_ape"], STYLE.get(method, "o-"), alpha=0.35,
                    color=line[0].get_color())  # fmt: skip
        ax.set_title(f"{LABELS.get(stock, stock)}: median (p90 faint)", fontsize=9)
        ax.set_xlabel("years ahead")
        ax.set_ylabel("absolute % error")
        ax.set_xticks(sorted(part["horizon"].unique()))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def coverage_figure(summary: pd.DataFrame, method: str = "demandsim") -> Figure:
    """Share of outcomes inside each band by horizon against the band's nominal level."""
    part = summary.loc[summary["method"] == method]
    stocks = list(dict.fromkeys(part["stock"]))
    fig = Figure(figsize=(4 * len(stocks), 3.2))
    axes = fig.subplots(1, len(stocks), squeeze=False)
    for ax, stock in zip(axes[0], stocks, strict=True):
        g = part.loc[part["stock"] == stock]
        for level in LEVELS:
            k = round(level * 100)
            line = ax.plot(g["horizon"], g[f"cover_{k}"], "o-", label=f"{k}% band")
            ax.axhline(level, ls=":", color=line[0].get_color())
        ax.set_ylim(0, 1.02)
        ax.set_xticks(sorted(g["horizon"].unique()))
        ax.set_xlabel("years ahead")
        ax.set_title(f"{LABELS.get(stock, stock)}: outcomes inside the band", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
