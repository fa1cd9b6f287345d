"""The HTML report: one self-contained page from the stored tables and the charts.

It opens with the headline in words, then the tables and charts a planner and a finance officer
read: unallocated cases and caseloads by team by month, staffing against posts, children in
care, costs by financial year against the budget and, for a comparison, base / scenario /
difference tiles and the paired differences. Numbers are shown with their units (£, %, cases)
and teams and measures by the names people use.
"""

from __future__ import annotations

import base64
import html
import json
import string
from collections.abc import Iterable

import pandas as pd

from demandsim.headline import money
from demandsim.measures import SERVICE, TOTAL_COST, is_money, is_share, short_label, team_label
from demandsim.report.inputs import ReportInputs
from demandsim.report.text import pounds
from demandsim.resources import REPORT_TEMPLATE
from demandsim.scenario import Scenario

SECTIONS = (
    "brief", "headline", "backlog", "staffing", "children", "costs", "parameters", "provenance",
)  # fmt: skip
COMPARE_SECTIONS = (*SECTIONS[:6], "differences", *SECTIONS[6:])
OUTLOOK_SECTIONS = (SECTIONS[0], "outlook", *SECTIONS[1:])

#: the page template (layout and style) of every report, shipped in the package
TEMPLATE = REPORT_TEMPLATE
BUDGET_HEADINGS = {"scenario": "scenario", "financial_year": "financial year",
                   "p10_gbp": "P10", "p50_gbp": "P50", "p90_gbp": "P90", "mean_gbp": "mean",
                   "budget_gbp": "budget", "overspend_chance": "chance of overspend",
                   "days": "days in forecast", "replications": "replications"}  # fmt: skip


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
        shown[col] = shown[col].map(pounds)
    for col in shares:
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{100 * v:.0f}%")
    shown.columns = [str(c).replace("_", " ") for c in shown.columns]
    table = shown.to_html(index=False, na_rep="-", float_format=lambda v: f"{v:,.1f}", border=0)
    return f"<div class='table-wrap'>{table}</div>"


def _budget_table(budget: pd.DataFrame, columns: list[str]) -> str:
    shown = budget[columns].copy()
    shown["financial_year"] = shown["financial_year"] + budget["partial"].map(
        {True: " (part year)", False: ""}
    )
    if shown["scenario"].nunique() == 1:
        shown = shown.drop(columns="scenario")
    shown = shown.rename(columns=BUDGET_HEADINGS)
    money_columns = [BUDGET_HEADINGS[c] for c in columns if c.endswith("_gbp")]
    return _table(shown, money=money_columns, shares=["chance of overspend"])


def headline_table(inputs: ReportInputs, scenario: Scenario) -> str:
    """Means over replications of the headline KPIs: one row per team (a run) or per scenario
    (a comparison, the whole service), with labels and units for people."""
    table = inputs.headline
    several = len(inputs.scenarios) > 1
    if several:
        table = table[table["team"] == SERVICE].drop(columns="team")
    else:
        table = table.drop(columns="scenario")
        table["team"] = table["team"].map(team_label)
    shares = [c for c in table if is_share(c)]
    rename = {c: short_label(c, scenario) for c in table if c not in ("team", "scenario")}
    shown = table.rename(columns=rename)
    return _table(shown, shares=[rename[c] for c in shares])


def tiles(inputs: ReportInputs) -> str:
    """Base / scenario / difference tiles of total cost per financial year, for comparisons."""
    if inputs.differences is None:
        return ""
    reference = inputs.scenarios[0]
    budget = inputs.budget.set_index(["scenario", "financial_year"])
    diffs = inputs.differences
    diffs = diffs[(diffs["team"] == SERVICE) & (diffs["measure"] == TOTAL_COST)]
    cards = []
    for row in diffs.itertuples():
        base = budget.loc[(reference, row.period), "mean_gbp"]
        other = budget.loc[(row.scenario, row.period), "mean_gbp"]
        part = " (part year)" if budget.loc[(reference, row.period), "partial"] else ""
        cards.append(
            "<div class='tiles'>"
            f"<div class='tile'><span>{html.escape(row.period + part)}: {html.escape(reference)}"
            f"</span><b>{money(base)}</b></div>"
            f"<div class='tile'><span>{html.escape(row.scenario)}</span><b>{money(other)}</b></div>"
            f"<div class='tile diff'><span>difference (95% CI)</span><b>{money(row.mean)}</b>"
            f"<small>{money(row.ci_low)} to {money(row.ci_high)}</small></div></div>"
        )
    return (
        "<p class='note'>Mean total cost across replications, and the paired difference.</p>"
        + "".join(cards)
    )


def render_html(inputs: ReportInputs, images: dict[str, bytes]) -> str:
    """The report page: single-scenario or comparison, by the number of scenarios."""
    keys = inputs.scenarios
    first = inputs.resolved[keys[0]]
    replications = int(inputs.budget["replications"].max())
    note = (
        "One replication: P10, P50 and P90 are the same single value and the chance of "
        "overspend is 0% or 100%. Run several replications (-n) for the uncertainty."
        if replications == 1
        else f"P10, P50 and P90 are percentiles across {replications} replications."
    )
    note += (
        " Costs are in pounds of each financial year (1 April to 31 March); a part year is only "
        "partly inside the forecast and has no chance of overspend."
    )
    headline_budget = ["scenario", "financial_year", "p50_gbp", "p90_gbp", "budget_gbp",
                       "overspend_chance"]  # fmt: skip
    budget_all = ["scenario", "financial_year", "days", "p10_gbp", "p50_gbp", "p90_gbp",
                  "mean_gbp", "budget_gbp", "overspend_chance", "replications"]  # fmt: skip
    by_component = inputs.percentiles.pivot_table(
        index=["scenario", "component"], columns="financial_year", values="mean_gbp", sort=False
    ).reset_index()
    by_component.columns.name = None
    by_component["component"] = by_component["component"].map(lambda c: short_label(c).capitalize())
    if by_component["scenario"].nunique() == 1:
        by_component = by_component.drop(columns="scenario")
    brief = "".join(f"<li>{html.escape(line)}</li>" for line in inputs.brief)

    def img(stem: str, alt: str) -> str:
        return _img(images[stem], alt) if stem in images else ""

    sections = [
        ("brief", "In brief", f"<ul class='brief'>{brief}</ul>"),
        ("headline", "Headline figures (means over the forecast)",
         headline_table(inputs, first) + _budget_table(inputs.budget, headline_budget)),
        ("backlog", "Unallocated cases and caseloads, by team and month",
         img("unallocated_service", "Unallocated cases, all social work teams")
         + img("unallocated_by_team", "Unallocated cases by team")
         + img("caseload_by_team", "Caseload per worker by team")
         + img("open_cases_by_team", "Open cases by team")),
        ("staffing", "Social workers in post, against posts",
         img("staffing", "Staff in post by contract and vacancies")
         + img("staff_by_team", "Staff in post by team against posts")),
        ("children", "Children in need, on a plan and in care",
         img("children", "Children in need, on a child protection plan and in care by month")),
        ("costs", "Costs by financial year",
         f"<p class='note'>{html.escape(note)}</p>"
         + tiles(inputs)
         + img("costs_by_year", "Cost by financial year")
         + _budget_table(inputs.budget, budget_all)
         + "<h3>Mean by component (the components add up to the total; percentiles do not)</h3>"
         + _table(by_component, money=[c for c in by_component if str(c)[:2].isdigit()])
         + img("monthly_costs", "Monthly cost")),
    ]  # fmt: skip
    if inputs.optimise_plans is not None and inputs.optimise is not None:
        from demandsim.report.plan import plan_section

        chart = img("optimise_frontier", "Annual cost against the chance of missing the target")
        sections.insert(1, ("plan", "The least-cost plan meeting the target",
                            plan_section(inputs, chart)))  # fmt: skip
    if inputs.outlook is not None:
        sections.insert(1, ("outlook", "Early warning: the chance each team passes its threshold",
                            outlook_section(inputs, img("outlook_backlog", "Unallocated cases by "
                                                        "team and week, with thresholds"))))  # fmt: skip
    if len(keys) > 1:
        sections.append(
            ("differences", "Paired differences from " + keys[0],
             img("unallocated_difference", "Difference in unallocated cases by team")
             + img("cost_difference", "Difference in cost by financial year")
             + "".join(img(s, s) for s in sorted(images) if s.startswith("sweep_"))
             + _diffs(inputs, first))
        )  # fmt: skip
    sections += [
        ("parameters", "Scenario parameters", "".join(
            f"<h3>{html.escape(k)}</h3><pre>{html.escape(t)}</pre>"
            for k, t in inputs.scenario_tomls.items())),
        ("provenance", "Provenance", _provenance(inputs.manifest)),
    ]  # fmt: skip
    kind = inputs.manifest.get("kind", "run")
    return page(f"demandsim {kind}: {', '.join(keys)}", sections)


def _diffs(inputs: ReportInputs, scenario: Scenario) -> str:
    d = inputs.differences_shown
    if d is None or d.empty:
        return "<p class='note'>No paired differences were stored for this folder.</p>"
    d = d.assign(measure=d["measure"].map(lambda m: short_label(m, scenario)))
    columns = ["scenario", "reference", "measure", "period", "n", "mean", "ci_low", "ci_high",
               "p5", "p95"]  # fmt: skip
    money_rows = inputs.differences_shown["measure"].map(is_money).to_numpy()
    shares = inputs.differences_shown["measure"].map(is_share).to_numpy()
    intro = (
        "<p class='note'>Each scenario minus the reference, seed by seed (common random "
        "numbers): the mean difference with its 95% t-interval (ci low to ci high), and the "
        "5th to 95th percentile of the differences across replications. Shares and chances "
        "are in percentage points.</p>"
    )
    values = ["mean", "ci_low", "ci_high", "p5", "p95"]
    shown = d.copy()
    shown.loc[shares, values] = shown.loc[shares, values] * 100
    return (
        intro
        + "<h3>Costs by financial year</h3>"
        + _table(d.loc[money_rows, columns], money=values)
        + "<h3>The whole service, over the forecast</h3>"
        + _table(shown.loc[~money_rows, [c for c in columns if c != "period"]])
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


#: the act-today table's columns (outlook_act_today.csv) and their headings in the report
ACT_HEADINGS = {
    "search": "searched for",
    "team": "team",
    "agency_requested": "agency workers asked for today",
    "today_worst_chance": "chance in the worst week, asking for none",
    "worst_chance": "chance in the worst week, asking for these",
    "meets_level": "meets the level",
    "chosen": "chosen",
    "extra_cost_gbp": "extra cost",
    "extra_cost_low_gbp": "95% interval: from",
    "extra_cost_high_gbp": "to",
}
ACT_MONEY = ("extra_cost_gbp", "extra_cost_low_gbp", "extra_cost_high_gbp")


def outlook_section(inputs: ReportInputs, chart: str) -> str:
    """The traffic-light table (a row per week, a column per team; each cell its light's letter
    and the chance, coloured), the act-today table and the weekly backlog chart."""
    from demandsim.outlook.act import TOGETHER
    from demandsim.outlook.weekly import LETTER, _short, fill_text, percent

    weekly = inputs.outlook
    assert weekly is not None
    teams = list(dict.fromkeys(weekly["team"]))
    by = weekly.set_index(["team", "week"])
    head = "".join(f"<th>{html.escape(_short(t))}</th>" for t in teams)
    limits = "".join(f"<td>{int(by.loc[(t, 1), 'threshold_cases'])}</td>" for t in teams)
    rows = [f"<tr><th>week</th><th>starting</th>{head}</tr>",
            f"<tr><td></td><td>threshold (cases)</td>{limits}</tr>"]  # fmt: skip
    for week in sorted(weekly["week"].unique()):
        cells = []
        for team in teams:
            row = by.loc[(team, week)]
            light = str(row["light"])
            text = f"{LETTER[light]} {percent(row['chance_over_threshold'])}%"
            cells.append(f"<td class='light-{light}' title='{light}'>{text}</td>")
        start = html.escape(str(by.loc[(teams[0], week), "week_start"]))
        rows.append(f"<tr><td>{week}</td><td>{start}</td>{''.join(cells)}</tr>")
    n = int(weekly["replications"].max())
    record = inputs.outlook_record or {}
    start = html.escape(record.get("starts_from", "the council's snapshot"))
    intro = (
        f"<p class='note'>The chance, over {n} replications started from {start}, "
        "that the team's unallocated cases pass its threshold on some day of the week. "
        "G green, A amber, R red (the letters say the same without colour).</p>"
    )
    if record.get("limits"):
        items = "".join(f"<li>{html.escape(x)}</li>" for x in record["limits"])
        intro += f"<p class='note'>What this outlook cannot know:</p><ul class='note'>{items}</ul>"
    table = f"<div class='table-wrap'><table class='lights'>{''.join(rows)}</table></div>"
    filling = fill_text(record.get("vacancy_fill_factors") or {})
    if filling:
        table += f"<p class='note'>{html.escape(filling)}</p>"
    act = inputs.act_today
    if act is None or act.empty:
        acted = "<p class='note'>Act today: no team reaches the level; no request is needed.</p>"
    else:
        shown = act[list(ACT_HEADINGS)].copy()
        shown["search"] = shown["search"].map(lambda s: s if s == TOGETHER else _short(s))
        shown["team"] = shown["team"].map(_short)
        for flag in ("meets_level", "chosen"):
            shown[flag] = shown[flag].map({True: "yes", False: "no"})
        shown = shown.rename(columns=ACT_HEADINGS)
        level, week = float(act["level"].iloc[0]), int(act["first_week_judged"].iloc[0])
        acted = (
            f"<h3>Act today</h3><p class='note'>Agency workers above establishment asked for "
            f"today, on the same seeds: the chance in the worst week from week {week} (when a "
            f"worker asked for today is working) must be below {level:.0%}. The chosen row is the "
            "least request that meets it; the extra cost is the paired difference in the "
            "service's total cost over the weeks ahead, with its 95% interval.</p>"
            + _table(
                shown,
                money=[ACT_HEADINGS[c] for c in ACT_MONEY],
                shares=[ACT_HEADINGS["today_worst_chance"], ACT_HEADINGS["worst_chance"]],
            )
        )
    return intro + table + acted + chart
