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

import io
from pathlib import Path

from matplotlib.figure import Figure

from demandsim import plots
from demandsim.report.html import COMPARE_SECTIONS, SECTIONS, render_html
from demandsim.report.inputs import DIFFERENCES, ReportInputs, load_inputs
from demandsim.report.text import format_budget
from demandsim.report.workbook import write_workbook

__all__ = [
    "CHARTS",
    "COMPARE_SECTIONS",
    "DIFFERENCES",
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
    """The report's charts, by file stem."""
    keys = inputs.scenarios
    if len(keys) == 1:
        bands = inputs.only(inputs.bands, keys[0])
        return {
            "unallocated_by_team": plots.fan_charts(bands, "unallocated_cases"),
            "caseload_by_team": plots.fan_charts(bands, "caseload_per_worker"),
            "staffing": plots.staffing_chart(bands),
            "costs_by_year": plots.costs_by_year_chart(inputs.only(inputs.budget, keys[0])),
            "monthly_costs": plots.monthly_costs_chart(inputs.only(inputs.monthly_costs, keys[0])),
        }
    bands = {k: inputs.only(inputs.bands, k) for k in keys}
    return {
        "unallocated_by_team": plots.compare_fan_charts(bands, "unallocated_cases"),
        "caseload_by_team": plots.compare_fan_charts(bands, "caseload_per_worker"),
        "staffing": plots.compare_staffing_chart(bands),
        "costs_by_year": plots.compare_costs_chart(
            {k: inputs.only(inputs.budget, k) for k in keys}
        ),
        "monthly_costs": plots.compare_monthly_costs_chart(
            {k: inputs.only(inputs.monthly_costs, k) for k in keys}
        ),
    }


def write_report(folder: Path, manifest: dict | None = None) -> dict[str, Path]:
    """(Re)build the HTML report, the workbook and the PNG charts in a results folder.
    ``manifest``: the provenance to show, if ``manifest.json`` is not written yet."""
    folder = Path(folder)
    inputs = load_inputs(folder, manifest)
    charts = folder / CHARTS
    charts.mkdir(exist_ok=True)
    images = {}
    for stem, fig in figures(inputs).items():
        png = _png(fig)
        (charts / f"{stem}.png").write_bytes(png)
        images[stem] = png
    (folder / REPORT_HTML).write_text(render_html(inputs, images), encoding="utf-8")
    write_workbook(inputs, folder / WORKBOOK)
    return {"html": folder / REPORT_HTML, "workbook": folder / WORKBOOK, "charts": charts}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
