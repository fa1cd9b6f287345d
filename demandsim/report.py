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

import base64
import html
import io
import json
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from demandsim import plots
from demandsim.calendar import financial_year
from demandsim.headline import headline
from demandsim.measures import (
    COST_COMPONENTS,
    FORECAST,
    HEADLINE,
    SERVICE,
    TOTAL_COST,
    is_money,
    is_share,
)
from demandsim.resources import REPORT_TEMPLATE
from demandsim.results_store import spreadsheet_safe
from demandsim.scenario import Scenario
from demandsim.scenario_files import load_scenario

REPORT_HTML = "report.html"
WORKBOOK = "costs_and_staffing.xlsx"
CHARTS = "charts"
DIFFERENCES = "paired_differences.parquet"
SECTIONS = ("brief", "headline", "fan-charts", "staffing", "costs", "parameters", "provenance")
COMPARE_SECTIONS = (*SECTIONS[:5], "differences", *SECTIONS[5:])


def differences_for_report(differences: pd.DataFrame) -> pd.DataFrame:
    """Service-wide paired differences worth a reader's time: the headline KPIs over the
    forecast, and the cost of each financial year (total and by component)."""
    service = differences[differences["team"] == SERVICE]
    keep = (service["period"] == FORECAST) & service["measure"].isin(HEADLINE)
    return service[keep | service["measure"].map(is_money)]


# ------------------------------------------------------------------------- printed
def format_budget(budget: pd.DataFrame, differences: pd.DataFrame | None = None) -> str:
    """Budget needed per financial year (P50, P90) by scenario, the chance of overspend, and
    (for a comparison) the paired difference in total cost from the reference scenario."""
    shown = pd.DataFrame(
        {
            "scenario": budget["scenario"],
            "financial year": budget["financial_year"]
            + budget["partial"].map({True: " (part)", False: ""}),
            "P50": budget["p50_gbp"].map("£{:,.0f}".format),
            "P90": budget["p90_gbp"].map("£{:,.0f}".format),
            "budget": budget["budget_gbp"].map(lambda v: "-" if pd.isna(v) else f"£{v:,.0f}"),
            "chance of overspend": budget["overspend_chance"].map(
                lambda v: "-" if pd.isna(v) else f"{100 * v:.0f}%"
            ),
        }
    )
    if budget["scenario"].nunique() == 1:
        shown = shown.drop(columns="scenario")
    n = int(budget["replications"].max())
    lines = [
        f"Budget needed by financial year (staff and placements; {n} replication"
        f"{'s' if n != 1 else ''}):",
        shown.to_string(index=False),
    ]
    if differences is not None:
        totals = differences[
            (differences["measure"] == TOTAL_COST) & (differences["team"] == SERVICE)
        ]
        if len(totals):
            lines += ["", "Total cost, paired difference from the reference (95% CI):"]
            for row in totals.itertuples():
                lines.append(
                    f"  {row.scenario} - {row.reference}, {row.period}: £{row.mean:,.0f} "
                    f"(£{row.ci_low:,.0f} to £{row.ci_high:,.0f})"
                )
    return "\n".join(lines)


# ------------------------------------------------------------------------- reading back
@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows, as read back from a results folder."""

    manifest: dict
    scenario_tomls: dict[str, str]
    summary: pd.DataFrame  # kpi_summary: scenario, team, measure, period, n, mean, ...
    bands: pd.DataFrame  # daily bands
    monthly: pd.DataFrame  # monthly bands
    budget: pd.DataFrame
    percentiles: pd.DataFrame
    fy_costs: pd.DataFrame  # per replication
    differences: pd.DataFrame | None  # paired differences, as stored
    folder: Path

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(self.budget["scenario"]))

    @property
    def headline(self) -> pd.DataFrame:
        """Means over replications of the headline KPIs: one row per scenario and team."""
        return headline_table(self.summary)

    @property
    def staffing(self) -> pd.DataFrame:
        """Monthly staff in post by contract and vacant posts, by team (P50 across
        replications of each month's mean)."""
        return monthly_table(self.monthly, list(STAFFING), "p50")

    @property
    def monthly_costs(self) -> pd.DataFrame:
        """Service-wide cost by month and component (mean across replications)."""
        rows = self.monthly[self.monthly["team"] == SERVICE]
        table = monthly_table(rows, [*COST_COMPONENTS, TOTAL_COST], "mean").drop(columns="team")
        table.insert(2, "financial_year", financial_year(table["month"].to_numpy()))
        return table

    @cached_property
    def resolved(self) -> dict[str, Scenario]:
        """Each scenario, loaded from its resolved file in the folder."""
        return {
            key: load_scenario(self.folder / "scenarios" / f"{key}.toml") for key in self.scenarios
        }

    @property
    def differences_shown(self) -> pd.DataFrame | None:
        if self.differences is None:
            return None
        return differences_for_report(self.differences)

    @property
    def brief(self) -> list[str]:
        """The headline in words (:mod:`demandsim.headline`)."""
        kind = self.manifest.get("kind", "run")
        return headline(kind, self.resolved, self.summary, self.budget, self.differences)

    def only(self, frame: pd.DataFrame, key: str) -> pd.DataFrame:
        return frame[frame["scenario"] == key].drop(columns="scenario")


STAFFING = ("staff_permanent", "staff_agency", "staff_in_post", "vacant_posts")


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[(summary["period"] == FORECAST) & summary["measure"].isin(HEADLINE)]
    table = rows.pivot_table(
        index=["scenario", "team"], columns="measure", values="mean", sort=False, dropna=False
    ).reset_index()
    table.columns.name = None
    return table[["scenario", "team", *[k for k in HEADLINE if k in table]]]


def monthly_table(monthly: pd.DataFrame, measures: list[str], stat: str) -> pd.DataFrame:
    """One column per measure of ``stat`` (p50, mean ...), one row per scenario, month, team."""
    rows = monthly[monthly["measure"].isin(measures)]
    table = rows.pivot_table(
        index=["scenario", "month", "team"], columns="measure", values=stat, sort=False,
        dropna=False,
    ).reset_index()  # fmt: skip
    table.columns.name = None
    return table[["scenario", "month", "team", *[m for m in measures if m in table]]]


FILES = {
    "summary": "kpi_summary.parquet",
    "bands": "daily_bands.parquet",
    "monthly": "monthly_bands.parquet",
    "budget": "budget_by_financial_year.csv",
    "percentiles": "cost_percentiles.csv",
    "fy_costs": "costs_by_replication.csv",
}


def load_inputs(folder: Path, manifest: dict | None = None) -> ReportInputs:
    """Read a results folder's stored tables back, naming any file that is missing."""
    folder = Path(folder)
    needed = [*FILES.values()] + ([] if manifest is not None else ["manifest.json"])
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{folder}: not a complete results folder; missing {', '.join(missing)}"
        )
    tables = {
        key: pd.read_parquet(folder / name)
        if name.endswith(".parquet")
        else pd.read_csv(folder / name, dtype={"financial_year": str})
        for key, name in FILES.items()
    }
    tomls = {p.stem: p.read_text() for p in sorted((folder / "scenarios").glob("*.toml"))}
    diffs = folder / DIFFERENCES
    return ReportInputs(
        manifest=manifest
        if manifest is not None
        else json.loads((folder / "manifest.json").read_text()),
        scenario_tomls=tomls,
        differences=pd.read_parquet(diffs) if diffs.exists() else None,
        folder=folder,
        **tables,
    )


# ------------------------------------------------------------------------- charts
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


# ------------------------------------------------------------------------- HTML
#: the page template (layout and style) of every report, shipped in the package
TEMPLATE = REPORT_TEMPLATE
BUDGET_HEADINGS = {"financial_year": "financial year", "p10_gbp": "P10", "p50_gbp": "P50",
                   "p90_gbp": "P90", "mean_gbp": "mean", "budget_gbp": "budget",
                   "overspend_chance": "chance of overspend"}  # fmt: skip


def page(title: str, sections: list[tuple[str, str, str]]) -> str:
    """A complete HTML page from (id, heading, body HTML) sections; no external resources."""
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{html.escape(head)}</h2>\n{content}\n</section>'
        for sid, head, content in sections
    )
    template = string.Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(title=html.escape(title), body=body)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _table(frame: pd.DataFrame, money: Iterable[str] = (), shares: Iterable[str] = ()) -> str:
    shown = frame.copy()
    for col in money:
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"£{v:,.0f}")
    for col in shares:
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{100 * v:.0f}%")
    shown.columns = [str(c).replace("_", " ") for c in shown.columns]
    return shown.to_html(index=False, na_rep="-", float_format=lambda v: f"{v:,.1f}", border=0)


def _budget_table(budget: pd.DataFrame, columns: list[str]) -> str:
    shown = budget[columns].rename(columns=BUDGET_HEADINGS)
    money = [BUDGET_HEADINGS[c] for c in columns if c.endswith("_gbp")]
    return _table(shown, money=money, shares=["chance of overspend"])


def render_html(inputs: ReportInputs, images: dict[str, bytes]) -> str:
    """The report page: single-scenario or comparison, by the number of scenarios."""
    keys = inputs.scenarios
    replications = int(inputs.budget["replications"].max())
    note = (
        "One replication: P10, P50 and P90 are the same single value and the chance of "
        "overspend is 0% or 100%. Run several replications (-n) for the uncertainty."
        if replications == 1
        else f"Percentiles across {replications} replications."
    )
    note += (
        " Costs are in pounds of each financial year (1 April to 31 March); a partial year is "
        "only partly inside the forecast, and has no chance of overspend."
    )
    shares = [c for c in inputs.headline if is_share(c)]
    headline_budget = ["scenario", "financial_year", "partial", "p50_gbp", "p90_gbp",
                       "budget_gbp", "overspend_chance"]  # fmt: skip
    budget_all = ["scenario", "financial_year", "partial", "days", "p10_gbp", "p50_gbp",
                  "p90_gbp", "mean_gbp", "budget_gbp", "overspend_chance", "replications"]  # fmt: skip
    headline = inputs.headline
    if len(keys) > 1:
        headline = headline[headline["team"] == SERVICE]
    fans = _img(images["unallocated_by_team"], "Unallocated cases by team") + _img(
        images["caseload_by_team"], "Caseload per worker by team"
    )
    by_component = inputs.percentiles.pivot_table(
        index=["scenario", "component"], columns="financial_year", values="p50_gbp", sort=False
    ).reset_index()
    by_component.columns.name = None
    brief = "".join(f"<li>{html.escape(line)}</li>" for line in inputs.brief)
    sections = [
        ("brief", "In brief", f"<ul class='brief'>{brief}</ul>"),
        ("headline", "Headline",
         _table(headline, shares=shares) + _budget_table(inputs.budget, headline_budget)),
        ("fan-charts", "Unallocated cases and caseload per worker, by team", fans),
        ("staffing", "Staff in post by contract, and vacancies",
         _img(images["staffing"], "Staff in post by contract and vacancies")),
        ("costs", "Costs by financial year",
         f"<p class='note'>{html.escape(note)}</p>"
         + _img(images["costs_by_year"], "Cost by financial year")
         + _budget_table(inputs.budget, budget_all)
         + "<h3>P50 by component</h3>"
         + _table(by_component, money=[c for c in by_component if str(c)[:2].isdigit()])
         + _img(images["monthly_costs"], "Monthly cost")),
    ]  # fmt: skip
    if len(keys) > 1:
        sections.append(("differences", "Paired differences from " + keys[0], _diffs(inputs)))
    sections += [
        ("parameters", "Scenario parameters", "".join(
            f"<h3>{html.escape(k)}</h3><pre>{html.escape(t)}</pre>"
            for k, t in inputs.scenario_tomls.items())),
        ("provenance", "Provenance", _provenance(inputs.manifest)),
    ]  # fmt: skip
    kind = inputs.manifest.get("kind", "run")
    return page(f"demandsim {kind}: {', '.join(keys)}", sections)


def _diffs(inputs: ReportInputs) -> str:
    d = inputs.differences_shown
    if d is None or d.empty:
        return "<p class='note'>No paired differences were stored for this folder.</p>"
    columns = ["scenario", "reference", "measure", "period", "n", "mean", "ci_low", "ci_high",
               "p5", "p95"]  # fmt: skip
    money = d["measure"].map(is_money)
    intro = (
        "<p class='note'>Each scenario minus the reference, seed by seed (common random "
        "numbers): the mean difference with its 95% t-interval (ci low to ci high), and the "
        "5th to 95th percentile of the differences across replications.</p>"
    )
    value_cols = ["mean", "ci_low", "ci_high", "p5", "p95"]
    return (
        intro
        + "<h3>Costs by financial year (£)</h3>"
        + _table(d.loc[money, columns], money=value_cols)
        + "<h3>Service-wide KPIs</h3>"
        + _table(d.loc[~money, columns])
    )


def _provenance(manifest: dict) -> str:
    shown = {k: v for k, v in manifest.items() if k != "scenarios"}
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
        for k, v in shown.items()
    )
    return (
        f"<table>{rows}</table><p class='note'>The resolved scenarios are above, and in the "
        "folder's scenario TOML files.</p>"
    )


# ------------------------------------------------------------------------- workbook
MONEY_FORMAT = '"£"#,##0'
SHARE_FORMAT = "0%"
DATE_FORMAT = "yyyy-mm-dd"


def write_workbook(inputs: ReportInputs, path: Path) -> None:
    """One sheet per table; money, shares and dates carry number formats."""
    sheets = {
        "Budget by year": inputs.budget,
        "Cost percentiles": inputs.percentiles,
        "Costs by year and run": inputs.fy_costs,
        "Monthly costs": inputs.monthly_costs,
        "Staffing": inputs.staffing,
        "Headline": inputs.headline,
    }
    if inputs.differences_shown is not None:
        sheets["Paired differences"] = inputs.differences_shown
    write_sheets(sheets, path)


def write_sheets(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = spreadsheet_safe(frame)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for idx, column in enumerate(frame.columns, start=1):
                letter = sheet.cell(row=1, column=idx).column_letter
                sheet.column_dimensions[letter].width = max(12, len(str(column)) + 2)
                fmt = _format_for(str(column), frame[column])
                if fmt:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell.number_format = fmt
            sheet.freeze_panes = "B2"


def _format_for(column: str, values: pd.Series) -> str | None:
    if column.endswith("_gbp"):
        return MONEY_FORMAT
    if column.endswith(("_share", "_chance", "share_mean")):
        return SHARE_FORMAT
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATE_FORMAT
    if pd.api.types.is_float_dtype(values):
        return "#,##0.0"
    return None
