"""Reports from stored results: one self-contained HTML file, an Excel workbook, PNG charts.

Every results folder (of ``run``, ``run -n``, ``compare`` or ``sweep``) has one layout, written
by :mod:`demandsim.batch.commands`, so ``demandsim report RUN_DIR`` rebuilds the report without
re-running anything, from ``kpi_summary.parquet``, ``daily_bands.parquet``,
``monthly_bands.parquet``, the cost tables and, for comparisons, ``paired_differences.parquet``.
A folder with one scenario gets the single-scenario report; one with several gets the
comparison (scenarios on one chart, paired differences with intervals). Labels and units come
from :mod:`demandsim.measures`.

The HTML file embeds its charts as base64 PNG and loads nothing from anywhere else (no scripts,
fonts or styles): it opens offline by double-click. The workbook has one sheet per table, with
numbers stored as numbers and formatted (pounds, shares, dates), never as text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from demandsim import plots
from demandsim.batch.plots import sweep_curve
from demandsim.measures import FORECAST, SERVICE, TOTAL_COST
from demandsim.report.charts import ChartPainter
from demandsim.report.html import COMPARE_SECTIONS, OUTLOOK_SECTIONS, SECTIONS, render_html
from demandsim.report.inputs import DIFFERENCES, ReportInputs, load_inputs
from demandsim.report.text import format_budget
from demandsim.report.workbook import write_workbook

__all__ = [
    "CHARTS",
    "COMPARE_SECTIONS",
    "DIFFERENCES",
    "OUTLOOK_SECTIONS",
    "REPORT_HTML",
    "SECTIONS",
    "WORKBOOK",
    "ReportInputs",
    "figures",
    "format_budget",
    "load_inputs",
    "write_report",
]

REPORT_HTML = "report.html"
WORKBOOK = "costs_and_staffing.xlsx"
CHARTS = "charts"


def figures(inputs: ReportInputs) -> dict[str, Figure]:
    """The report's charts, by file stem (see :func:`chart_makers`)."""
    return {stem: make() for stem, make in chart_makers(inputs).items()}


def chart_makers(inputs: ReportInputs) -> dict[str, Callable[[], Figure]]:
    """How to draw each of the report's charts, by file stem: monthly views by team and for the
    service (every scenario on the same axes), staffing against posts, children in care, costs
    by financial year and, for comparisons, the paired differences; for sweeps, one curve per
    headline KPI against the swept values. Each maker is a pure plotting call."""
    keys = inputs.scenarios
    first = inputs.resolved[keys[0]]
    teams = [name for name, team in first.teams.items() if not team.is_service]
    posts = {name: first.teams[name].posts for name in teams}
    n = int(inputs.budget["replications"].max())
    monthly = {k: inputs.only(inputs.monthly, k) for k in keys}
    charts = {
        "unallocated_service": partial(plots.service_chart, monthly, "unallocated_cases", n),
        "unallocated_by_team": partial(plots.team_panels, monthly, "unallocated_cases", teams, n),
        "caseload_by_team": partial(plots.team_panels, monthly, "caseload_per_worker", teams, n),
        "open_cases_by_team": partial(
            plots.team_panels, monthly, "open_cases", teams, n, shared_scale=False
        ),
        "staffing": partial(plots.staffing_chart, monthly, sum(posts.values()), n),
        "staff_by_team": partial(
            plots.team_panels, monthly, "staff_in_post", teams, n, posts=posts, shared_scale=False
        ),
        "children": partial(plots.stocks_chart, monthly, _stocks(first), n),
    }
    if inputs.outlook is not None:
        from demandsim.outlook.plots import backlog_panels

        charts["outlook_backlog"] = partial(backlog_panels, inputs.outlook)
    if len(keys) == 1:
        charts["costs_by_year"] = partial(
            plots.costs_by_year_chart, inputs.only(inputs.budget, keys[0])
        )
        charts["monthly_costs"] = partial(
            plots.monthly_costs_chart, inputs.only(inputs.monthly_costs, keys[0])
        )
        return charts
    charts["costs_by_year"] = partial(
        plots.compare_costs_chart, {k: inputs.only(inputs.budget, k) for k in keys}
    )
    charts["monthly_costs"] = partial(plots.service_chart, monthly, "total_gbp", n)
    if inputs.monthly_differences is not None:
        charts["unallocated_difference"] = partial(
            plots.difference_panels,
            inputs.monthly_differences,
            "unallocated_cases",
            [*teams, SERVICE],
            keys[0],
        )
    if inputs.differences is not None:
        d = inputs.differences
        costs = d[(d["team"] == SERVICE) & (d["measure"] == TOTAL_COST)]
        if len(costs):
            charts["cost_difference"] = partial(plots.cost_difference_chart, costs)
    if inputs.sweep is not None and inputs.design is not None:
        charts.update(sweep_charts(inputs.sweep, inputs.design))
    if inputs.optimise_plans is not None and inputs.optimise is not None:
        from demandsim.optimise.plots import frontier_figure

        required_miss = 1 - inputs.optimise["target"]["target"]["chance_at_least"]
        charts["optimise_frontier"] = partial(frontier_figure, inputs.optimise_plans, required_miss)
    return charts


def _stocks(scenario) -> list[str]:
    """The children the report charts: in need and on a plan where the pathway says which
    stages count, and in care."""
    shown = []
    if scenario.pathway.children_in_need_stages:
        shown.append("children_in_need")
    if scenario.pathway.child_protection_stages:
        shown.append("child_protection")
    return [*shown, "children_in_care"]


def sweep_charts(table: pd.DataFrame, design: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    """For a sweep: each headline KPI of the whole service against each swept key."""
    keys = [c for c in design if c != "scenario"]
    service = table[table["team"] == SERVICE]
    out = {}
    whole = service[service["period"] == FORECAST]
    for measure in ("unallocated_mean", "backlog_passes_threshold_in_12_months"):
        for key in keys:
            others = [k for k in keys if k != key]
            out[f"sweep_{measure}--{key}"] = partial(
                sweep_curve, whole, key, measure, SERVICE, others
            )
    money = service[service["measure"] == TOTAL_COST]
    for period in dict.fromkeys(money["period"]):
        for key in keys:
            others = [k for k in keys if k != key]
            rows = money[money["period"] == period]
            out[f"sweep_{TOTAL_COST}_{period}--{key}"] = partial(
                _sweep_cost_curve, rows, key, period, others
            )
    return out


def _sweep_cost_curve(rows: pd.DataFrame, key: str, period: str, others: list[str]) -> Figure:
    fig = sweep_curve(rows, key, TOTAL_COST, SERVICE, others)
    fig.axes[0].set_title(f"Total cost {period}: mean over replications, 95% CI")
    fig.axes[0].yaxis.set_major_formatter(plots.POUNDS)
    return fig


def write_report(folder: Path, manifest: dict | None = None) -> dict[str, Path]:
    """(Re)build the HTML report, the workbook and the PNG charts in a results folder.
    ``manifest``: the provenance to show, if ``manifest.json`` is not written yet."""
    folder = Path(folder)
    inputs = load_inputs(folder, manifest)
    charts = folder / CHARTS
    charts.mkdir(exist_ok=True)
    with ChartPainter(chart_makers(inputs)) as painter:
        write_workbook(inputs, folder / WORKBOOK)  # while the charts are drawn
        images = painter.pngs()
    for stem, png in images.items():
        (charts / f"{stem}.png").write_bytes(png)
    (folder / REPORT_HTML).write_text(render_html(inputs, images), encoding="utf-8")
    return {"html": folder / REPORT_HTML, "workbook": folder / WORKBOOK, "charts": charts}
