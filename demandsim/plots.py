"""Charts: tidy frames in, a matplotlib ``Figure`` out. Nothing here runs a simulation.

Fan charts take a bands frame (:func:`demandsim.batch.aggregate.series_bands`: date, team,
measure, p5 ... p95). Cost charts take the tables of :mod:`demandsim.costs`. Functions
drawing one panel take ``ax=None`` and return the figure they drew on. Figures are built with
``matplotlib.figure.Figure``, not pyplot: they render with Agg without a display, hold no global
state, and leave the caller's backend alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from demandsim.measures import SERVICE

LABELS = {
    "unallocated_cases": "Unallocated cases",
    "caseload_per_worker": "Cases per worker in post",
    "staff_permanent": "Permanent",
    "staff_agency": "Agency",
    "vacant_posts": "Vacant posts",
    "staff_in_post": "Staff in post",
}
CONTRACT_COLOURS = {"staff_permanent": "#1b6ca8", "staff_agency": "#e07b00", "vacant_posts": "#888"}
MILLIONS = FuncFormatter(lambda v, _: f"£{v / 1e6:,.1f}m")


def _axes(ax: Axes | None, size: tuple[float, float] = (7, 3.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def fan_chart(
    bands: pd.DataFrame,
    measure: str,
    team: str,
    ax: Axes | None = None,
    colour: str = "#1b6ca8",
    label: str | None = None,
    outer: bool = True,
) -> Figure:
    """One team's fan: median line, 25-75 and (if ``outer``) 5-95 percentile bands by date."""
    fig, ax = _axes(ax)
    rows = bands[bands["measure"] == measure]
    rows = rows[rows["team"] == team].sort_values("date")
    if outer:
        ax.fill_between(rows["date"], rows["p5"], rows["p95"], color=colour, alpha=0.15, lw=0)
    ax.fill_between(rows["date"], rows["p25"], rows["p75"], color=colour, alpha=0.3, lw=0)
    ax.plot(rows["date"], rows["p50"], color=colour, lw=1.2, label=label)
    ax.set_title(team, fontsize=10)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_ylabel(LABELS.get(measure, measure))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return fig


def fan_charts(bands: pd.DataFrame, measure: str) -> Figure:
    """Small multiples: one fan per team that has the measure (the service total last)."""
    rows = bands[bands["measure"] == measure]
    teams = [t for t in rows["team"].unique() if rows.loc[rows["team"] == t, "p50"].notna().any()]
    teams = [t for t in teams if t != SERVICE] + ([SERVICE] if SERVICE in teams else [])
    columns = 2
    lines = max(1, -(-len(teams) // columns))
    fig = Figure(figsize=(11, 2.8 * lines), layout="constrained")
    axes = fig.subplots(lines, columns, squeeze=False, sharex=True).ravel()
    for ax, team in zip(axes, teams, strict=False):
        fan_chart(rows, measure, team, ax=ax)
    for ax in axes[len(teams) :]:
        ax.set_visible(False)
    fig.suptitle(f"{LABELS.get(measure, measure)} by team: median, 25-75% and 5-95% bands")
    return fig


def staffing_chart(bands: pd.DataFrame, team: str = SERVICE, ax: Axes | None = None) -> Figure:
    """Staff in post by contract and vacant posts (median with 5-95% band)."""
    fig, ax = _axes(ax)
    for measure, colour in CONTRACT_COLOURS.items():
        fan_chart(bands, measure, team, ax=ax, colour=colour, label=LABELS[measure], outer=True)
    ax.set_ylabel("Workers (FTE) / posts")
    ax.set_title(f"Staff in post by contract, and vacancies: {team}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def costs_by_year_chart(budget: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Figure:
    """Total cost per financial year: P50 bar, P10-P90 whisker, the stated budget as a marker.
    Partial years (the forecast covers part of them) are hatched."""
    fig, ax = _axes(ax)
    x = np.arange(len(budget))
    ax.bar(
        x, budget["p50_gbp"], color="#1b6ca8", alpha=0.8, label="P50",
        hatch=["//" if p else "" for p in budget["partial"]],
    )  # fmt: skip
    ax.errorbar(
        x, budget["p50_gbp"],
        yerr=[budget["p50_gbp"] - budget["p10_gbp"], budget["p90_gbp"] - budget["p50_gbp"]],
        fmt="none", ecolor="black", capsize=6, label="P10-P90",
    )  # fmt: skip
    if budget["budget_gbp"].notna().any():
        ax.scatter(x, budget["budget_gbp"], marker="_", s=900, color="#c0392b", zorder=3,
                   label="Budget")  # fmt: skip
    ax.set_xticks(x, [f"{y}{' (part)' if p else ''}" for y, p in
                      zip(budget["financial_year"], budget["partial"], strict=True)])  # fmt: skip
    ax.yaxis.set_major_formatter(MILLIONS)
    ax.set_ylabel("Cost per financial year")
    ax.set_title(title or "Cost by financial year (staff and placements)", fontsize=10)
    ax.set_ylim(top=1.15 * ax.get_ylim()[1])
    ax.legend(loc="upper center", fontsize=8, ncols=3)
    ax.grid(axis="y", alpha=0.3)
    return fig


def monthly_costs_chart(monthly: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Cost per month by component, stacked (one replication, or the mean of several)."""
    fig, ax = _axes(ax)
    parts = [c for c in monthly if c.endswith("_gbp") and c != "total_gbp"]
    parts = [c for c in parts if monthly[c].abs().sum() > 0]
    ax.stackplot(
        monthly["month"], *[monthly[c] for c in parts],
        labels=[c.removesuffix("_gbp").replace("_", " ") for c in parts], alpha=0.85,
    )  # fmt: skip
    ax.yaxis.set_major_formatter(MILLIONS)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_ylabel("Cost per month")
    ax.set_title("Monthly cost by component", fontsize=10)
    ax.legend(loc="lower left", fontsize=8, ncols=3)
    ax.grid(alpha=0.3)
    return fig


def compare_fan_chart(
    bands_by_scenario: Mapping[str, pd.DataFrame],
    measure: str,
    team: str = SERVICE,
    ax: Axes | None = None,
) -> Figure:
    """Several scenarios on one chart: each scenario's median and 25-75% band."""
    fig, ax = _axes(ax)
    colours = matplotlib.colormaps["tab10"].colors
    for i, (name, bands) in enumerate(bands_by_scenario.items()):
        fan_chart(bands, measure, team, ax=ax, colour=colours[i % 10], label=name, outer=False)
    ax.set_title(f"{LABELS.get(measure, measure)}: {team} (median and 25-75% band)", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def compare_costs_chart(
    budget_by_scenario: Mapping[str, pd.DataFrame], ax: Axes | None = None
) -> Figure:
    """Several scenarios on one chart: P50 total per financial year with P10-P90 whiskers."""
    fig, ax = _axes(ax, size=(8, 3.8))
    colours = matplotlib.colormaps["tab10"].colors
    years = sorted({y for b in budget_by_scenario.values() for y in b["financial_year"]})
    width = 0.8 / max(1, len(budget_by_scenario))
    for i, (name, budget) in enumerate(budget_by_scenario.items()):
        table = budget.set_index("financial_year").reindex(years)
        x = np.arange(len(years)) + (i - (len(budget_by_scenario) - 1) / 2) * width
        ax.bar(x, table["p50_gbp"], width=width, color=colours[i % 10], label=name, alpha=0.85)
        ax.errorbar(
            x, table["p50_gbp"],
            yerr=[table["p50_gbp"] - table["p10_gbp"], table["p90_gbp"] - table["p50_gbp"]],
            fmt="none", ecolor="black", capsize=4,
        )  # fmt: skip
        if table["budget_gbp"].notna().any():
            ax.scatter(x, table["budget_gbp"], marker="_", s=400, color="#c0392b", zorder=3,
                       label="Budget" if i == 0 else None)  # fmt: skip
    ax.set_xticks(np.arange(len(years)), years)
    ax.yaxis.set_major_formatter(MILLIONS)
    ax.set_ylabel("Cost per financial year")
    ax.set_title("Cost by financial year: P50 with P10-P90", fontsize=10)
    ax.set_ylim(top=1.15 * ax.get_ylim()[1])
    ax.legend(loc="upper center", fontsize=8, ncols=min(4, len(budget_by_scenario)))
    ax.grid(axis="y", alpha=0.3)
    return fig


def compare_fan_charts(bands_by_scenario: Mapping[str, pd.DataFrame], measure: str) -> Figure:
    """Small multiples, one panel per team, each with every scenario's median and 25-75% band."""
    first = next(iter(bands_by_scenario.values()))
    first = first[first["measure"] == measure]
    teams = [
        t for t in first["team"].unique() if first.loc[first["team"] == t, "p50"].notna().any()
    ]
    teams = [t for t in teams if t != SERVICE] + ([SERVICE] if SERVICE in teams else [])
    lines = max(1, -(-len(teams) // 2))
    fig = Figure(figsize=(11, 2.8 * lines), layout="constrained")
    axes = fig.subplots(lines, 2, squeeze=False, sharex=True).ravel()
    for ax, team in zip(axes, teams, strict=False):
        compare_fan_chart(bands_by_scenario, measure, team, ax=ax)
        ax.set_title(team, fontsize=10)
        if ax is not axes[0]:
            ax.get_legend().remove()
    for ax in axes[len(teams) :]:
        ax.set_visible(False)
    fig.suptitle(f"{LABELS.get(measure, measure)} by team and scenario: median and 25-75% band")
    return fig


def compare_staffing_chart(bands_by_scenario: Mapping[str, pd.DataFrame]) -> Figure:
    """Permanent, agency and vacant posts across the service: one panel each, every scenario."""
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True)
    for ax, measure in zip(axes, CONTRACT_COLOURS, strict=True):
        compare_fan_chart(bands_by_scenario, measure, SERVICE, ax=ax)
        ax.set_title(LABELS[measure], fontsize=10)
        if ax is not axes[0]:
            ax.get_legend().remove()
    fig.suptitle(f"Staff in post by contract, and vacancies: {SERVICE} (median, 25-75% band)")
    return fig


def compare_monthly_costs_chart(
    monthly_by_scenario: Mapping[str, pd.DataFrame], ax: Axes | None = None
) -> Figure:
    """Total cost per month (mean over replications), one line per scenario."""
    fig, ax = _axes(ax)
    for name, monthly in monthly_by_scenario.items():
        ax.plot(monthly["month"], monthly["total_gbp"], label=name, lw=1.5)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.yaxis.set_major_formatter(MILLIONS)
    ax.set_ylabel("Cost per month (mean)")
    ax.set_title("Monthly cost, staff and placements", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
