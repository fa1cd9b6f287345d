"""Charts: tidy frames in, a matplotlib ``Figure`` out. Nothing here runs a simulation.

Time charts take monthly bands (:func:`demandsim.batch.aggregate.series_bands`: month, team,
measure, p5 ... p95, mean) and draw the median with its 25-75% and 10-90% bands, with each
1 April (the start of a financial year) marked. Cost charts take the budget and difference
tables. Teams and measures carry the names people use (:mod:`demandsim.measures`). Functions
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
from matplotlib.collections import LineCollection
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from demandsim.headline import money
from demandsim.measures import COST_COMPONENTS, SERVICE, is_money, label, team_label

COLOURS = matplotlib.colormaps["tab10"].colors
CONTRACT_COLOURS = {"staff_permanent": "#1b6ca8", "staff_agency": "#e07b00", "vacant_posts": "#888"}


#: after a financial year's label on a cost chart, on a line of its own (side by side they touch)
PART_YEAR = "\n(part year)"
POUNDS = FuncFormatter(lambda value, _: money(value))


#: matplotlib places a title above whatever sits on top of its axes, measuring every tick label
#: at each draw to find out; nothing does here, so titles are fixed at the top
_TITLE_ON_TOP = {"axes.titley": 1.0}


def _axes(
    ax: Axes | None, size: tuple[float, float] = (7, 3.5), left: float = 0.1
) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size)  # fixed margins: the layout engine would double the drawing time
    fig.subplots_adjust(left=left, right=0.97, bottom=0.14, top=0.9)
    with matplotlib.rc_context(_TITLE_ON_TOP):
        return fig, fig.add_subplot()


def _grid(rows: int, columns: int, height_per_row: float, **share: bool) -> tuple[Figure, list]:
    """A figure of small multiples with fixed margins (the constrained layout engine would take
    most of the time of drawing it), room at the top for a title."""
    height = height_per_row * rows + 0.7
    fig = Figure(figsize=(11, height))
    with matplotlib.rc_context(_TITLE_ON_TOP):
        axes = fig.subplots(rows, columns, squeeze=False, **share).ravel()
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.5 / height, top=1 - 0.62 / height,
                        hspace=0.45, wspace=0.14)  # fmt: skip
    return fig, list(axes)


def _hide_unused(axes: list, used: int, columns: int) -> None:
    """Hide the empty panels of a grid; the panel above a hidden one shows the dates instead."""
    for i, ax in enumerate(axes):
        if i >= used:
            ax.set_visible(False)
            if i - columns >= 0:
                axes[i - columns].tick_params(labelbottom=True)


def mark_financial_years(ax: Axes, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """A dotted line at each 1 April inside the axis, labelled with the year it starts."""
    starts = [pd.Timestamp(year, 4, 1) for year in range(first.year, last.year + 1)]
    starts = [start for start in starts if first < start <= last]
    lines = [[(x, 0), (x, 1)] for x in date2num(starts)]  # one artist (each axvline rescales)
    ax.add_collection(LineCollection(lines, transform=ax.get_xaxis_transform(), colors="#777",
                                     linestyles=":", linewidths=0.9, zorder=1), autolim=False)  # fmt: skip
    for start in starts:
        ax.annotate(
            f"FY {start.year}-{(start.year + 1) % 100:02d}",
            (start, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=7,
            color="#555",
            va="top",
        )


def _month_axis(ax: Axes, months: pd.Series) -> None:
    first, last = pd.Timestamp(months.min()), pd.Timestamp(months.max())
    span = (last.year - first.year) * 12 + last.month - first.month
    every = [4] if span > 18 else ([4, 10] if span > 9 else [1, 4, 7, 10])
    if first == last:  # one month: two months either side, as a date locator would show
        pad = pd.Timedelta(days=61)
        ax.set_xlim(first - pad, last + pad)
    else:
        pad = (last - first) * ax.margins()[0]
    # the ticks in view, fixed once (a MonthLocator reruns an rrule at every draw of every panel)
    ticks = [pd.Timestamp(y, m, 1) for y in range(first.year - 1, last.year + 2) for m in every]
    ticks = [day for day in ticks if first - pad <= day <= last + pad]
    ax.xaxis.set_major_locator(FixedLocator(date2num(ticks)))
    ax.xaxis.set_major_formatter(DateFormatter("%b %Y"))
    ax.tick_params(axis="x", labelsize=8)
    mark_financial_years(ax, first, last)
    ax.grid(alpha=0.3)


def band(
    ax: Axes,
    rows: pd.DataFrame,
    colour: str | tuple = "#1b6ca8",
    name: str | None = None,
    x: str = "month",
) -> None:
    """Median line with 25-75% and 10-90% bands of one series (rows of a bands frame)."""
    rows = rows.sort_values(x)
    ax.fill_between(rows[x], rows["p10"], rows["p90"], color=colour, alpha=0.13, lw=0)
    ax.fill_between(rows[x], rows["p25"], rows["p75"], color=colour, alpha=0.28, lw=0)
    ax.plot(rows[x], rows["p50"], color=colour, lw=1.6, label=name)


def _bands_note(replications: int) -> str:
    if replications == 1:
        return "one replication"
    return f"median, 25-75% and 10-90% of {replications} replications"


def team_panels(
    monthly_by_scenario: Mapping[str, pd.DataFrame],
    measure: str,
    teams: list[str],
    replications: int,
    posts: Mapping[str, float] | None = None,
    shared_scale: bool = True,
) -> Figure:
    """Small multiples, one panel per team (on one scale unless ``shared_scale`` is off, which
    the title then says), each scenario a median line with its bands; ``posts`` draws each
    team's establishment as a dashed line."""
    columns = 2 if len(teams) > 1 else 1
    lines = max(1, -(-len(teams) // columns))
    fig, axes = _grid(lines, columns, 2.6, sharex=True, sharey=shared_scale)
    for ax, team in zip(axes, teams, strict=False):
        for i, (name, monthly) in enumerate(monthly_by_scenario.items()):
            rows = monthly[(monthly["measure"] == measure) & (monthly["team"] == team)]
            band(ax, rows, COLOURS[i % 10], name)
        if posts and team in posts:
            ax.axhline(posts[team], color="#c0392b", ls="--", lw=1, label="posts")
        ax.set_title(team_label(team), fontsize=10)
        _month_axis(ax, rows["month"])
    _hide_unused(axes, len(teams), columns)
    if len(monthly_by_scenario) > 1 or posts:
        axes[0].legend(fontsize=8, loc="upper left")
    scale = "" if shared_scale else "; each team on its own scale"
    fig.suptitle(
        f"{label(measure).capitalize()} by team, monthly mean ({_bands_note(replications)}{scale})",
        fontsize=11,
    )
    return fig


def service_chart(
    monthly_by_scenario: Mapping[str, pd.DataFrame],
    measure: str,
    replications: int,
    ax: Axes | None = None,
) -> Figure:
    """One measure for the whole service, each scenario a median line with its bands."""
    fig, ax = _axes(ax, size=(11, 3.2))
    for i, (name, monthly) in enumerate(monthly_by_scenario.items()):
        rows = monthly[(monthly["measure"] == measure) & (monthly["team"] == SERVICE)]
        band(ax, rows, COLOURS[i % 10], name)
    _month_axis(ax, rows["month"])
    if is_money(measure):
        ax.yaxis.set_major_formatter(POUNDS)
    ax.set_ylabel(label(measure))
    ax.set_title(
        f"{label(measure).capitalize()}, {team_label(SERVICE).lower()}, monthly mean "
        f"({_bands_note(replications)})",
        fontsize=10,
    )
    if len(monthly_by_scenario) > 1:
        ax.legend(fontsize=8, loc="upper left")
    return fig


def stocks_chart(
    monthly_by_scenario: Mapping[str, pd.DataFrame], measures: list[str], replications: int
) -> Figure:
    """The children the service holds, one panel per measure (children in need, on a plan, in
    care), for the whole service; each scenario a median line with its bands."""
    fig, axes = _grid(1, len(measures), 2.9, sharex=True)
    for ax, measure in zip(axes, measures, strict=True):
        for i, (name, monthly) in enumerate(monthly_by_scenario.items()):
            rows = monthly[(monthly["measure"] == measure) & (monthly["team"] == SERVICE)]
            band(ax, rows, COLOURS[i % 10], name)
        ax.set_title(label(measure).capitalize(), fontsize=10)
        _month_axis(ax, rows["month"])
    if len(monthly_by_scenario) > 1:
        axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Children, monthly mean ({_bands_note(replications)})", fontsize=11)
    return fig


def staffing_chart(
    monthly_by_scenario: Mapping[str, pd.DataFrame], posts: float, replications: int
) -> Figure:
    """Social workers in post across the service by contract, against the posts; and vacant
    posts. One panel each for permanent, agency and vacant; each scenario a line with bands."""
    fig, axes = _grid(1, 3, 2.9, sharex=True)
    for ax, measure in zip(axes, ("staff_in_post", "staff_agency", "vacant_posts"), strict=True):
        for i, (name, monthly) in enumerate(monthly_by_scenario.items()):
            rows = monthly[(monthly["measure"] == measure) & (monthly["team"] == SERVICE)]
            band(ax, rows, COLOURS[i % 10], name)
        if measure == "staff_in_post":
            ax.axhline(posts, color="#c0392b", ls="--", lw=1, label=f"posts ({posts:,.0f})")
            ax.legend(fontsize=8, loc="lower right")
        ax.set_title(label(measure).capitalize(), fontsize=10)
        _month_axis(ax, rows["month"])
    fig.suptitle(
        f"Social workers, {team_label(SERVICE).lower()} ({_bands_note(replications)})",
        fontsize=11,
    )
    return fig


def difference_panels(
    differences: pd.DataFrame, measure: str, teams: list[str], reference: str
) -> Figure:
    """Each scenario minus the reference, seed by seed, per team: the median paired difference
    of the monthly mean with its 10-90% band, and a line at zero (no difference)."""
    columns = 2 if len(teams) > 1 else 1
    lines = max(1, -(-len(teams) // columns))
    fig, axes = _grid(lines, columns, 2.4, sharex=True)
    for ax, team in zip(axes, teams, strict=False):
        rows = differences[(differences["measure"] == measure) & (differences["team"] == team)]
        for i, (name, mine) in enumerate(rows.groupby("scenario", sort=False)):
            band(ax, mine, COLOURS[(i + 1) % 10], f"{name} - {reference}")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(team_label(team), fontsize=10)
        _month_axis(ax, rows["month"])
    _hide_unused(axes, len(teams), columns)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"Difference in {label(measure)} from {reference}, paired by seed (median and 25-75% "
        "and 10-90% of replications; below zero: fewer)",
        fontsize=11,
    )
    return fig


def costs_by_year_chart(budget: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Figure:
    """Total cost per financial year: P50 bar, P10-P90 whisker, the stated budget as a marker.
    Partial years (the forecast covers part of them) are hatched and say so."""
    fig, ax = _axes(ax, left=0.14)  # room for the pounds and the axis label
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
    ax.set_xticks(x, [y + PART_YEAR * bool(p) for y, p in
                      zip(budget["financial_year"], budget["partial"], strict=True)])  # fmt: skip
    ax.yaxis.set_major_formatter(POUNDS)
    ax.set_ylabel("Cost per financial year")
    ax.set_title(title or "Cost by financial year (staff and placements)", fontsize=10)
    ax.set_ylim(top=1.15 * ax.get_ylim()[1])
    ax.legend(loc="upper center", fontsize=8, ncols=3)
    ax.grid(axis="y", alpha=0.3)
    return fig


def monthly_costs_chart(monthly: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Cost per month by component, stacked (the mean across replications)."""
    fig, ax = _axes(ax, size=(11, 3.4))
    parts = [c for c in COST_COMPONENTS if c in monthly and monthly[c].abs().sum() > 0]
    ax.stackplot(
        monthly["month"], *[monthly[c] for c in parts],
        labels=[label(c).capitalize() for c in parts], alpha=0.85,
    )  # fmt: skip
    ax.yaxis.set_major_formatter(POUNDS)
    _month_axis(ax, monthly["month"])
    ax.set_ylabel("Cost per month")
    ax.set_title("Monthly cost by component (mean across replications)", fontsize=10)
    ax.legend(loc="lower left", fontsize=8, ncols=3)
    return fig


def compare_costs_chart(
    budget_by_scenario: Mapping[str, pd.DataFrame], ax: Axes | None = None
) -> Figure:
    """Several scenarios on one chart: P50 total per financial year with P10-P90 whiskers."""
    fig, ax = _axes(ax, size=(8, 3.8), left=0.13)
    years = sorted({y for b in budget_by_scenario.values() for y in b["financial_year"]})
    width = 0.8 / max(1, len(budget_by_scenario))
    for i, (name, budget) in enumerate(budget_by_scenario.items()):
        table = budget.set_index("financial_year").reindex(years)
        x = np.arange(len(years)) + (i - (len(budget_by_scenario) - 1) / 2) * width
        ax.bar(x, table["p50_gbp"], width=width, color=COLOURS[i % 10], label=name, alpha=0.85,
               hatch=["//" if p else "" for p in table["partial"].fillna(False)])  # fmt: skip
        ax.errorbar(
            x, table["p50_gbp"],
            yerr=[table["p50_gbp"] - table["p10_gbp"], table["p90_gbp"] - table["p50_gbp"]],
            fmt="none", ecolor="black", capsize=4,
        )  # fmt: skip
        if table["budget_gbp"].notna().any():
            ax.scatter(x, table["budget_gbp"], marker="_", s=400, color="#c0392b", zorder=3,
                       label="Budget" if i == 0 else None)  # fmt: skip
    partial = next(iter(budget_by_scenario.values())).set_index("financial_year")["partial"]
    ax.set_xticks(np.arange(len(years)), [y + PART_YEAR * bool(partial.get(y)) for y in years])
    ax.yaxis.set_major_formatter(POUNDS)
    ax.set_ylabel("Cost per financial year")
    ax.set_title("Cost by financial year: P50 with P10-P90", fontsize=10)
    ax.set_ylim(top=1.15 * ax.get_ylim()[1])
    ax.legend(loc="upper center", fontsize=8, ncols=min(4, len(budget_by_scenario) + 1))
    ax.grid(axis="y", alpha=0.3)
    return fig


def cost_difference_chart(differences: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """The paired difference in total cost by financial year, each scenario minus the
    reference, with its 95% interval, on a scale that shows the difference itself."""
    fig, ax = _axes(ax, size=(8, 3.4))
    years = list(dict.fromkeys(differences["period"]))
    keys = list(dict.fromkeys(differences["scenario"]))
    width = 0.8 / max(1, len(keys))
    for i, key in enumerate(keys):
        rows = differences[differences["scenario"] == key].set_index("period").reindex(years)
        x = np.arange(len(years)) + (i - (len(keys) - 1) / 2) * width
        reference = rows["reference"].dropna().iloc[0]
        ax.bar(x, rows["mean"], width=width, color=COLOURS[(i + 1) % 10], alpha=0.85,
               label=f"{key} - {reference}")  # fmt: skip
        ax.errorbar(
            x, rows["mean"], yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
            fmt="none", ecolor="black", capsize=5,
        )  # fmt: skip
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(years)), years)
    ax.yaxis.set_major_formatter(POUNDS)
    ax.set_ylabel("Difference in total cost")
    ax.set_title("Difference in cost by financial year, paired by seed (mean, 95% CI)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig
