"""The HTML report: one self-contained page from the stored tables and the charts."""

from __future__ import annotations

import base64
import html
import json
import string
from collections.abc import Iterable

import pandas as pd

from demandsim.measures import (
    SERVICE,
    is_money,
    is_share,
)
from demandsim.report.inputs import ReportInputs
from demandsim.resources import REPORT_TEMPLATE

SECTIONS = ("brief", "headline", "fan-charts", "staffing", "costs", "parameters", "provenance")
COMPARE_SECTIONS = (*SECTIONS[:5], "differences", *SECTIONS[5:])

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
