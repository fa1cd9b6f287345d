"""Reports from stored results: one self-contained HTML file, an Excel workbook, PNG charts.

A results folder holds the tables a report needs (:func:`store_tables` writes them), so
``demandsim report RUN_DIR`` rebuilds the report without re-running anything. The HTML file
embeds its charts as base64 PNG and uses no external resource (no scripts, fonts or styles from
the network): it opens offline by double-click. The workbook holds one sheet per table, with
numbers stored as numbers and formatted (pounds, shares, dates), never as text.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from demandsim import plots
from demandsim.bands import percentile_bands, with_service_total
from demandsim.costs import (
    budget_by_year,
    cost_percentiles,
    financial_year_costs,
    monthly_costs,
    stack_replications,
)

REPORT_HTML = "report.html"
WORKBOOK = "costs_and_staffing.xlsx"
CHARTS = "charts"
TABLES = {
    "bands": "bands.parquet",
    "budget": "budget_by_financial_year.csv",
    "percentiles": "cost_percentiles.csv",
    "fy_costs": "costs_by_financial_year.csv",
    "monthly": "costs_monthly.csv",
    "staffing": "staffing_monthly.csv",
    "summary": "summary.csv",
}
HEADINGS = {"financial_year": "financial year", "p50_gbp": "P50", "p90_gbp": "P90",
            "budget_gbp": "budget"}  # fmt: skip
SECTIONS = ("headline", "fan-charts", "staffing", "costs", "parameters", "provenance")


@dataclass(frozen=True)
class ReportInputs:
    """Everything a single-scenario report shows, as read back from a results folder."""

    manifest: dict
    scenario_toml: str
    summary: pd.DataFrame
    bands: pd.DataFrame
    budget: pd.DataFrame
    percentiles: pd.DataFrame
    fy_costs: pd.DataFrame
    monthly: pd.DataFrame
    staffing: pd.DataFrame


def store_tables(
    folder: Path,
    daily: Iterable[pd.DataFrame],
    costs: Iterable[pd.DataFrame],
    summary: pd.DataFrame,
    budgets: dict[str, float],
) -> pd.DataFrame:
    """Write the tables a report needs from per-replication daily team frames and daily cost
    frames; returns the budget table (P10/P50/P90 per financial year, chance of overspend)."""
    bands = percentile_bands([with_service_total(d) for d in daily])
    costs = list(costs)
    fy = stack_replications([financial_year_costs(c) for c in costs])
    monthly = stack_replications([monthly_costs(c) for c in costs])
    mean_monthly = (
        monthly.drop(columns="replication")
        .groupby(["month", "financial_year"], as_index=False)
        .mean()
    )
    budget = budget_by_year(fy, budgets)
    bands.to_parquet(folder / TABLES["bands"], index=False)
    budget.to_csv(folder / TABLES["budget"], index=False)
    cost_percentiles(fy).to_csv(folder / TABLES["percentiles"], index=False)
    fy.to_csv(folder / TABLES["fy_costs"], index=False)
    mean_monthly.to_csv(folder / TABLES["monthly"], index=False)
    staffing_monthly(bands).to_csv(folder / TABLES["staffing"], index=False, float_format="%.4g")
    summary.to_csv(folder / TABLES["summary"], index=False, float_format="%.4g")
    return budget


def staffing_monthly(bands: pd.DataFrame) -> pd.DataFrame:
    """Monthly means of the daily median staff in post by contract, and vacant posts, by team."""
    wanted = ["staff_permanent", "staff_agency", "staff_in_post", "vacant_posts"]
    rows = bands[bands["measure"].isin(wanted)]
    month = rows["date"].dt.to_period("M").dt.to_timestamp().rename("month")
    out = rows.groupby([month, "team", "measure"], sort=False)["p50"].mean().unstack("measure")
    return out.reindex(columns=wanted).reset_index()


def load_inputs(folder: Path) -> ReportInputs:
    """Read a results folder's stored tables back, naming any file that is missing."""
    folder = Path(folder)
    missing = [name for name in [*TABLES.values(), "manifest.json", "scenario.toml"]
               if not (folder / name).exists()]  # fmt: skip
    if missing:
        raise FileNotFoundError(
            f"{folder}: not a complete results folder; missing {', '.join(missing)}"
        )
    dates = {"monthly": ["month"], "staffing": ["month"]}
    tables = {
        key: pd.read_parquet(folder / name)
        if name.endswith(".parquet")
        else pd.read_csv(folder / name, parse_dates=dates.get(key, False))
        for key, name in TABLES.items()
    }
    return ReportInputs(
        manifest=json.loads((folder / "manifest.json").read_text()),
        scenario_toml=(folder / "scenario.toml").read_text(),
        **tables,
    )


def figures(inputs: ReportInputs) -> dict[str, Figure]:
    """The report's charts, by file stem."""
    return {
        "unallocated_by_team": plots.fan_charts(inputs.bands, "unallocated_cases"),
        "caseload_by_team": plots.fan_charts(inputs.bands, "caseload_per_worker"),
        "staffing": plots.staffing_chart(inputs.bands),
        "costs_by_year": plots.costs_by_year_chart(inputs.budget),
        "monthly_costs": plots.monthly_costs_chart(inputs.monthly),
    }


def write_report(folder: Path) -> dict[str, Path]:
    """(Re)build the HTML report, the workbook and the PNG charts in a results folder."""
    folder = Path(folder)
    inputs = load_inputs(folder)
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


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _table(frame: pd.DataFrame, money: Iterable[str] = (), shares: Iterable[str] = ()) -> str:
    shown = frame.copy()
    for col in money:
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"£{v:,.0f}")
    for col in shares:
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{100 * v:.0f}%")
    return shown.to_html(index=False, na_rep="-", float_format=lambda v: f"{v:,.1f}", border=0)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #1b6ca8; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { padding: .25em .7em; text-align: right; border-bottom: 1px solid #ddd; }
th { background: #eef3f8; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: .5em 0 1.5em; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; font-size: .8em; max-height: 40em; }
.note { color: #555; font-size: .9em; }
"""


def page(title: str, sections: list[tuple[str, str, str]]) -> str:
    """A complete HTML page from (id, heading, body HTML) sections; no external resources."""
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{html.escape(head)}</h2>\n{content}\n</section>'
        for sid, head, content in sections
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def render_html(inputs: ReportInputs, images: dict[str, bytes]) -> str:
    """The single-scenario report page."""
    manifest = inputs.manifest
    names = ", ".join(manifest.get("scenarios", {})) or "scenario"
    replications = int(inputs.budget["replications"].max())
    summary = inputs.summary.rename(columns=lambda c: c.replace("_", " "))
    budget = inputs.budget.rename(columns={"overspend_chance": "chance of overspend"})
    by_year = inputs.percentiles.pivot_table(
        index="component", columns="financial_year", values="p50_gbp", sort=False
    ).reset_index()
    note = (
        "One replication: P10, P50 and P90 are the same single value and the chance of "
        "overspend is 0% or 100%. Run several replications for the uncertainty."
        if replications == 1
        else f"Percentiles across {replications} replications."
    )
    sections = [
        ("headline", "Headline", _table(summary, shares=["agency share mean"])
         + _table(budget[["financial_year", "partial", "p50_gbp", "p90_gbp", "budget_gbp",
                          "chance of overspend"]].rename(columns=HEADINGS),
                  money=["P50", "P90", "budget"], shares=["chance of overspend"])),
        ("fan-charts", "Unallocated cases and caseload per worker, by team",
         _img(images["unallocated_by_team"], "Unallocated cases by team")
         + _img(images["caseload_by_team"], "Caseload per worker by team")),
        ("staffing", "Staff in post by contract, and vacancies",
         _img(images["staffing"], "Staff in post by contract and vacancies")),
        ("costs", "Costs by financial year",
         f"<p class='note'>{html.escape(note)} Costs are in pounds of each financial year "
         "(1 April to 31 March); a year marked partial is only partly inside the forecast.</p>"
         + _img(images["costs_by_year"], "Cost by financial year")
         + _table(budget, money=["p10_gbp", "p50_gbp", "p90_gbp", "mean_gbp", "budget_gbp"],
                  shares=["chance of overspend"])
         + "<h3>P50 by component</h3>"
         + _table(by_year, money=[c for c in by_year if c != "component"])
         + _img(images["monthly_costs"], "Monthly cost by component")),
        ("parameters", "Scenario parameters",
         f"<pre>{html.escape(inputs.scenario_toml)}</pre>"),
        ("provenance", "Provenance", _provenance(manifest)),
    ]  # fmt: skip
    return page(f"demandsim report: {names}", sections)


def _provenance(manifest: dict) -> str:
    shown = {k: v for k, v in manifest.items() if k != "scenarios"}
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
        for k, v in shown.items()
    )
    return f"<table>{rows}</table><p class='note'>The resolved scenario is above and in scenario.toml.</p>"


MONEY_FORMAT = '"£"#,##0'
SHARE_FORMAT = "0%"
DATE_FORMAT = "yyyy-mm-dd"


def write_workbook(inputs: ReportInputs, path: Path) -> None:
    """One sheet per table; money, shares and dates carry number formats."""
    sheets = {
        "Budget by year": inputs.budget,
        "Cost percentiles": inputs.percentiles,
        "Costs by year and run": inputs.fy_costs,
        "Monthly costs": inputs.monthly,
        "Staffing": inputs.staffing,
        "Summary": inputs.summary,
    }
    write_sheets(sheets, path)


def write_sheets(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for idx, column in enumerate(frame.columns, start=1):
                fmt = _format_for(column, frame[column])
                letter = sheet.cell(row=1, column=idx).column_letter
                sheet.column_dimensions[letter].width = max(12, len(str(column)) + 2)
                if fmt:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell.number_format = fmt
            sheet.freeze_panes = "B2"


def _format_for(column: str, values: pd.Series) -> str | None:
    if column.endswith("_gbp") or column in ("gbp",):
        return MONEY_FORMAT
    if column.endswith("_share") or column.endswith("_chance"):
        return SHARE_FORMAT
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATE_FORMAT
    if pd.api.types.is_float_dtype(values):
        return "#,##0.0"
    return None
