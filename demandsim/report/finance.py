"""The finance workbook's tables: pure functions from a results folder's stored tables
(:class:`~demandsim.report.inputs.ReportInputs`) to DataFrames with headings for people.

Covers:
- the budget table: financial years across columns; cost P10 / P50 / P90, the budget, the
  variance (P50 minus budget) and the chance of overspend, per scenario;
- cost by team and by financial year (each team's staff, and placements on the team that serves
  the care stages), cost by placement type, cost by financial quarter;
- staffing and backlog by team and month; the headline KPIs; paired differences (compare);
- the notes: what each sheet holds, what the statistics mean, and every unit cost with where it
  came from (``[assumed]`` figures are demandsim's illustrations, to be replaced).

Nothing here re-runs a simulation. Tables whose rows mix units carry a ``Unit`` column
(:data:`MONEY` ``£``, :data:`PERCENT` ``%``, or a count such as ``children``) that the writer
(:mod:`demandsim.report.workbook`) turns into a number format; chances and shares are stored as
fractions (0.9) and shown as percentages (90%).

Assumptions:
- means add up (across teams, placement types, quarters) and percentiles do not; so the
  breakdowns show means across replications, and the budget table shows percentiles of the
  total;
- a placement type's share of the placements cost is its share of children (the mix) times its
  weekly cost, over the mix-weighted weekly cost; the out-of-area uplift and inflation multiply
  every type alike, so the split is exact. Children in care by type are the children in care
  times the mix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from demandsim.costs import part_years
from demandsim.measures import (
    COST_COMPONENTS,
    DAILY,
    FORECAST,
    HEADLINE,
    KPIS,
    SERVICE,
    TOTAL_COST,
    team_label,
)
from demandsim.measures import label as measure_label
from demandsim.replication import forecast_dates
from demandsim.resources import builtin_scenario
from demandsim.scenario import PLACEMENT_TYPES, Costs, Scenario

MONEY = "£"
PERCENT = "%"
UNIT = "Unit"
ALL_TEAMS = "All teams"
PLACEMENTS = "placements_gbp"

PLACEMENT_LABELS = {
    "in_house_fostering": "In-house fostering",
    "independent_fostering": "Independent fostering agency",
    "residential": "Residential (children's homes)",
    "other": "Other (with parents, kinship, supported)",
}

#: the budget table's lines, in order
COST_P10, COST_P50, COST_P90 = "Cost, P10", "Cost, P50", "Cost, P90"
BUDGET = "Budget"
VARIANCE = "Variance: P50 minus budget"
OVERSPEND = "Chance of overspend"
DAYS = "Days of the year in the forecast"


def cost_label(name: str) -> str:
    """'placements_gbp' -> 'Placements'."""
    text = measure_label(name)
    return text[:1].upper() + text[1:]


def year_heading(year: str, partial: bool) -> str:
    return f"{year} (part year)" if partial else year


def year_headings(budget: pd.DataFrame) -> dict[str, str]:
    """Financial year -> column heading, in order, '(part year)' where the forecast covers
    only part of it."""
    part = budget.groupby("financial_year", sort=False)["partial"].any()
    return {year: year_heading(year, bool(p)) for year, p in sorted(part.items())}


# ----------------------------------------------------------------------------- budget
def budget_sheet(budget: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, one row per line (P10, P50, P90, budget, variance, chance of overspend,
    days), one column per financial year. Variance and chance are blank for a part year (its
    budget is for the whole year) and where the scenario states no budget."""
    headings = year_headings(budget)
    rows = []
    for key, own in budget.groupby("scenario", sort=False):
        own = own.set_index("financial_year")
        budget_gbp = own["budget_gbp"].astype(float)
        variance = (own["p50_gbp"] - budget_gbp).where(~own["partial"].astype(bool))
        lines = {
            COST_P10: (own["p10_gbp"], MONEY),
            COST_P50: (own["p50_gbp"], MONEY),
            COST_P90: (own["p90_gbp"], MONEY),
            BUDGET: (budget_gbp, MONEY),
            VARIANCE: (variance, MONEY),
            OVERSPEND: (own["overspend_chance"].astype(float), PERCENT),
            DAYS: (own["days"].astype(float), "days"),
        }
        for line, (values, unit) in lines.items():
            row = {"Scenario": key, "Line": line, UNIT: unit}
            row.update({headings[y]: values.get(y, np.nan) for y in headings})
            rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- cost by team
def cost_by_team(summary: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Mean cost across replications per scenario, team, component and financial year (years
    across). Components a team never incurs are left out; each team has a total line, and the
    last lines per scenario are all teams together (the sum of the teams)."""
    headings = year_headings(budget)
    money = summary[
        summary["measure"].isin([*COST_COMPONENTS, TOTAL_COST])
        & summary["period"].isin(list(headings))
    ]
    wide = money.pivot_table(
        index=["scenario", "team", "measure"], columns="period", values="mean", sort=False
    )
    rows = []
    for key in dict.fromkeys(money["scenario"]):
        teams = [t for t in dict.fromkeys(money.loc[money["scenario"] == key, "team"])]
        teams = [t for t in teams if t != SERVICE] + [SERVICE]
        for team in teams:
            for measure in (*COST_COMPONENTS, TOTAL_COST):
                if (key, team, measure) not in wide.index:
                    continue
                values = wide.loc[(key, team, measure)]
                if measure != TOTAL_COST and not np.any(values.fillna(0).to_numpy() != 0):
                    continue
                row = {
                    "Scenario": key,
                    "Team": ALL_TEAMS if team == SERVICE else team_label(team),
                    "Cost": cost_label(measure),
                    UNIT: MONEY,
                }
                row.update({headings[y]: values.get(y, np.nan) for y in headings})
                rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- placements
def placement_shares(costs: Costs) -> dict[str, float]:
    """Each placement type's share of the placements cost: mix x weekly cost over the sum."""
    weights = {
        k: share * costs.placement_per_week_gbp[k] for k, share in costs.placement_mix.items()
    }
    total = sum(weights.values())
    return {k: (w / total if total else 0.0) for k, w in weights.items()}


def uplift_share(costs: Costs) -> float:
    """The part of the placements cost that is the out-of-area uplift."""
    uplift = costs.out_of_area_share * costs.out_of_area_uplift_share
    return uplift / (1 + uplift)


def children_in_care_by_year(
    monthly: pd.DataFrame, key: str, scenario: Scenario
) -> dict[str, float]:
    """Average children in care per financial year (mean across replications): each month's
    mean weighted by its days inside the forecast."""
    dates = forecast_dates(scenario)
    days = pd.Series(1, index=dates).groupby(dates.to_period("M").to_timestamp()).sum()
    rows = monthly[
        (monthly["scenario"] == key)
        & (monthly["team"] == SERVICE)
        & (monthly["measure"] == "children_in_care")
    ].set_index("month")["mean"]
    frame = pd.DataFrame({"days": days, "mean": rows.reindex(days.index)})
    frame["year"] = [_fy(m) for m in frame.index]
    out = {}
    for year, part in frame.groupby("year", sort=True):
        out[year] = float((part["mean"] * part["days"]).sum() / part["days"].sum())
    return out


def _fy(month: pd.Timestamp) -> str:
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _care_lines(
    first: dict,
    children: pd.Series,
    children_share: float,
    spend: pd.Series,
    spend_share: float,
    headings: dict[str, str],
) -> list[dict]:
    """Two rows: children in care and their cost by financial year, as shares of all
    placements'."""
    per_unit = {"children": (children, children_share), MONEY: (spend, spend_share)}
    return [
        {
            **first,
            "Line": "Children in care, average" if unit == "children" else "Cost, mean",
            UNIT: unit,
            **{h: values.get(y, np.nan) * share for y, h in headings.items()},
        }
        for unit, (values, share) in per_unit.items()
    ]


def placements_by_type(
    summary: pd.DataFrame,
    monthly: pd.DataFrame,
    budget: pd.DataFrame,
    scenarios: Mapping[str, Scenario],
) -> pd.DataFrame:
    """Per scenario and placement type: its share of children, its weekly unit cost, and per
    financial year the average children in care of that type and the mean cost; then all
    placements, and the part of their cost that is the out-of-area uplift."""
    headings = year_headings(budget)
    rows = []
    for key, scenario in scenarios.items():
        costs = scenario.costs
        spend = summary[
            (summary["scenario"] == key)
            & (summary["team"] == SERVICE)
            & (summary["measure"] == PLACEMENTS)
        ].set_index("period")["mean"]
        children = children_in_care_by_year(monthly, key, scenario)
        shares = placement_shares(costs)

        for kind in [k for k in PLACEMENT_TYPES if k in costs.placement_mix]:
            mix = costs.placement_mix[kind]
            common = {
                "Scenario": key,
                "Placement type": PLACEMENT_LABELS.get(kind, kind),
                "Share of children": mix,
                "Weekly cost": costs.placement_per_week_gbp[kind],
            }
            rows += _care_lines(common, children, mix, spend, shares[kind], headings)
        total = {
            "Scenario": key,
            "Placement type": "All placements",
            "Share of children": 1.0,
            "Weekly cost": costs.placement_per_day_gbp * 7,
        }
        rows += _care_lines(total, children, 1.0, spend, 1.0, headings)
        rows.append(
            {
                "Scenario": key,
                "Placement type": "of which out-of-area uplift",
                "Share of children": costs.out_of_area_share,
                "Weekly cost": np.nan,
                "Line": "Cost, mean",
                UNIT: MONEY,
                **{h: spend.get(y, np.nan) * uplift_share(costs) for y, h in headings.items()},
            }
        )
    columns = ["Scenario", "Placement type", "Line", UNIT, "Share of children", "Weekly cost"]
    return pd.DataFrame(rows)[[*columns, *headings.values()]]


# ----------------------------------------------------------------------------- by quarter
def quarter_of(month: pd.Timestamp) -> str:
    """Financial quarter of a month: April-June 2026 is '2026-27 Q1'."""
    return f"{_fy(month)} Q{(month.month - 4) % 12 // 3 + 1}"


def cost_by_quarter(monthly: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Service-wide cost per financial quarter and component: the mean across replications of
    each month's cost, summed over the quarter's months. Quarters across columns, '(part)'
    where the forecast covers only part of the quarter."""
    rows = []
    headings: dict[str, str] = {}
    for key, scenario in scenarios.items():
        dates = forecast_dates(scenario)
        covered = pd.Series(1, index=dates).groupby([quarter_of(d) for d in dates]).sum()
        for quarter, days in covered.items():
            start = pd.Timestamp(int(quarter[:4]), 4, 1) + pd.DateOffset(
                months=3 * (int(quarter[-1]) - 1)
            )
            full = (start + pd.DateOffset(months=3) - start).days
            part = headings.get(quarter, quarter).endswith("(part)") or days < full
            headings[quarter] = f"{quarter} (part)" if part else quarter
        own = monthly[
            (monthly["scenario"] == key)
            & (monthly["team"] == SERVICE)
            & monthly["measure"].isin([*COST_COMPONENTS, TOTAL_COST])
        ]
        quarters = own["month"].map(quarter_of)
        sums = own.groupby(["measure", quarters.rename("quarter")])["mean"].sum()
        for measure in (*COST_COMPONENTS, TOTAL_COST):
            if measure not in sums.index.get_level_values(0):
                continue
            values = sums.loc[measure]
            if measure != TOTAL_COST and not np.any(values.to_numpy() != 0):
                continue
            row = {"Scenario": key, "Cost": cost_label(measure), UNIT: MONEY}
            row.update({q: values.get(q, np.nan) for q in sorted(covered.index)})
            rows.append(row)
    frame = pd.DataFrame(rows)
    order = sorted(headings)
    return frame[["Scenario", "Cost", UNIT, *order]].rename(columns=headings)


# ----------------------------------------------------------------------------- staffing
STAFFING_COLUMNS = {
    ("unallocated_cases", "p10"): "Unallocated cases, P10",
    ("unallocated_cases", "p50"): "Unallocated cases, P50",
    ("unallocated_cases", "p90"): "Unallocated cases, P90",
    ("open_cases", "p50"): "Open cases, P50",
    ("caseload_per_worker", "p50"): "Caseload per worker, P50",
    ("staff_permanent", "p50"): "Permanent staff in post, P50",
    ("staff_agency", "p50"): "Agency staff in post, P50",
    ("staff_in_post", "p50"): "Staff in post, P50",
    ("vacant_posts", "p50"): "Vacant posts, P50",
}
POSTS = "Posts (establishment)"


def staffing_and_backlog(monthly: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Per scenario, team and month: unallocated cases P10 / P50 / P90, and the P50 of open
    cases, caseload per worker, staff in post (permanent, agency, all) and vacant posts (each
    the percentile across replications of the month's mean), with the team's posts."""
    measures = list(dict.fromkeys(m for m, _ in STAFFING_COLUMNS))
    rows = monthly[monthly["measure"].isin(measures) & monthly["scenario"].isin(list(scenarios))]
    wide = rows.pivot_table(
        index=["scenario", "team", "month"],
        columns="measure",
        values=["p10", "p50", "p90"],
        sort=False,
    )
    out = pd.DataFrame(index=wide.index)
    for (measure, stat), heading in STAFFING_COLUMNS.items():
        out[heading] = wide.get((stat, measure), np.nan)
    out = out.reset_index()
    posts = {
        (key, team): float(t.posts) for key, s in scenarios.items() for team, t in s.teams.items()
    }
    for key, s in scenarios.items():
        posts[(key, SERVICE)] = float(sum(t.posts for t in s.teams.values() if not t.is_service))
    out[POSTS] = [posts.get(k, np.nan) for k in zip(out["scenario"], out["team"], strict=True)]
    order = {(k, t): i for i, (k, t) in enumerate(posts)}
    out = out.sort_values(
        ["scenario", "team", "month"], key=_order_by(order, out), kind="stable"
    ).reset_index(drop=True)
    out["team"] = out["team"].map(team_label)
    return out.rename(columns={"scenario": "Scenario", "team": "Team", "month": "Month"})


def _order_by(order: Mapping[tuple[str, str], int], frame: pd.DataFrame):
    rank = pd.Series(
        [order.get(k, len(order)) for k in zip(frame["scenario"], frame["team"], strict=True)],
        index=frame.index,
    )

    def key(column: pd.Series) -> pd.Series:
        if column.name == "scenario":
            return column.map({k: i for i, k in enumerate(dict.fromkeys(frame["scenario"]))})
        if column.name == "team":
            return rank
        return column

    return key


# ----------------------------------------------------------------------------- headline
def headline_sheet(headline: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """The headline KPIs (means over replications, whole forecast) with labels for people."""
    columns = {m: _capital(measure_label(m, first(scenarios))) for m in HEADLINE if m in headline}
    out = headline.rename(columns={"scenario": "Scenario", "team": "Team", **columns})
    out["Team"] = out["Team"].map(team_label)
    return out


def first(scenarios: Mapping[str, Scenario]) -> Scenario | None:
    """The scenario whose backlog threshold and forecast length headings name (the first)."""
    return next(iter(scenarios.values()), None)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def share_headings(headline: pd.DataFrame, scenario: Scenario | None = None) -> list[str]:
    """The headline sheet's headings of shares and chances (shown as percentages)."""
    return [
        _capital(measure_label(m, scenario)) for m in HEADLINE if m in headline and KPIS[m].is_share
    ]


# ----------------------------------------------------------------------------- differences
def differences_sheet(differences: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """Paired differences (scenario minus the reference, seed by seed): mean with its 95%
    interval, P10 / P50 / P90, and the share of replications in which the scenario is higher
    and lower. The unit of each row is that of its measure (£, % points, cases ...)."""

    def unit(name: str) -> str:
        measure = KPIS.get(name) or DAILY.get(name)
        if measure is None:
            return ""
        return PERCENT if measure.is_share else (MONEY if measure.is_money else measure.unit)

    part = part_years(scenario) if scenario is not None else set()
    return pd.DataFrame(
        {
            "Scenario": differences["scenario"],
            "Compared with": differences["reference"],
            "Measure": [_capital(measure_label(m, scenario)) for m in differences["measure"]],
            "Period": [
                "whole forecast" if p == FORECAST else year_heading(p, p in part)
                for p in differences["period"]
            ],
            UNIT: [unit(m) for m in differences["measure"]],
            "Mean difference": differences["mean"],
            "95% interval, low": differences["ci_low"],
            "95% interval, high": differences["ci_high"],
            "P10": differences["p10"],
            "P50": differences["p50"],
            "P90": differences["p90"],
            "Share of replications higher": differences["share_higher"],
            "Share of replications lower": differences["share_lower"],
        }
    ).reset_index(drop=True)


# ----------------------------------------------------------------------------- by replication
def costs_by_replication_sheet(fy_costs: pd.DataFrame) -> pd.DataFrame:
    """Each replication's service-wide cost by financial year and component (the figures every
    percentile in this workbook is taken from)."""
    out = fy_costs.rename(
        columns={
            "scenario": "Scenario",
            "replication": "Replication (seed)",
            "financial_year": "Financial year",
            "days": "Days in forecast",
            "partial": "Part year",
            **{c: cost_label(c) for c in (*COST_COMPONENTS, TOTAL_COST)},
        }
    )
    out["Part year"] = out["Part year"].map({True: "yes", False: "no"})
    return out


MONEY_COLUMNS_BY_REPLICATION = [cost_label(c) for c in (*COST_COMPONENTS, TOTAL_COST)]


# ----------------------------------------------------------------------------- notes
SHEETS = {
    "Notes": "This page: what each sheet holds, what the statistics mean, the assumptions.",
    "Budget": "Total cost per financial year (across the columns): P10, P50, P90, the budget the "
    "scenario states, the variance (P50 minus budget; positive is an overspend) and the chance "
    "of overspend. Laid out to paste into a budget paper.",
    "Cost by team": "Mean cost per team, cost line and financial year. Staff costs sit on each "
    "team; placements on the team that serves the care stages. 'All teams' is their sum.",
    "Placements by type": "The placements line split by placement type: the average children in "
    "care of each type (children in care x the mix) and its mean cost (placements cost x the "
    "type's share of the mix-weighted weekly cost), per financial year, and the part of the "
    "cost that is the out-of-area uplift. Weekly costs are per child in the first year's "
    "prices; for all placements, the mix-weighted cost with the out-of-area uplift.",
    "Cost by quarter": "Service-wide cost per financial quarter and cost line: the mean across "
    "replications of each month's cost, summed over the quarter. Means, not percentiles.",
    "Staffing and backlog": "Per team and month: unallocated cases (P10, P50, P90), open cases, "
    "caseload per worker, staff in post (permanent, agency, all) and vacant posts (P50 across "
    "replications of the month's average), and the team's posts.",
    "Headline": "The headline measures over the whole forecast, per team: means across "
    "replications.",
    "Paired differences": "Comparisons only: each scenario minus the reference, replication by "
    "replication on the same random numbers: mean difference with its 95% interval, P10, P50, "
    "P90 and how often the scenario is higher or lower.",
    "Cost by replication": "Each replication's service-wide cost by financial year and cost "
    "line: the figures the percentiles are taken from.",
    "Outlook": "demandsim outlook only: per week ahead (a row) and team, the chance that the "
    "team's unallocated cases pass its threshold (in the heading) on some day of the week, the "
    "share of replications that do, and its traffic light (green, amber, red).",
    "Act today": "demandsim outlook only: every agency request tried (workers above "
    "establishment asked for today, on the same seeds): the chance in the worst judged week "
    "today and with the request, whether it meets the level, the chosen (least) request, and "
    "its extra cost over the weeks ahead with its 95% interval.",
}

DEFINITIONS = [
    (
        "Replication",
        "One simulated future. Each uses its own seed; every scenario uses the same "
        "seeds, so differences between scenarios are like for like.",
    ),
    (
        "P10 / P50 / P90",
        "Of the replications, 10% came out below P10, half below P50 (the median) "
        "and 90% below P90. P10 to P90 is a range that 8 in 10 futures fall within; P90 is a "
        "prudent figure to budget against.",
    ),
    (
        "Mean",
        "The average across replications. Means add up across teams, placement types and "
        "quarters; percentiles do not, so breakdowns show means and their totals match.",
    ),
    (
        "Chance of overspend",
        "The share of replications whose total cost for the year exceeds the budget.",
    ),
    ("Variance", "Cost at P50 minus the budget: positive is an overspend, negative an underspend."),
    (
        "Part year",
        "A financial year (1 April to 31 March) the forecast covers only in part. Its "
        "budget is for the whole year, so no variance or chance of overspend is given for it.",
    ),
    (
        "Prices",
        "Unit costs are in prices of the financial year the forecast starts in; each later "
        "financial year is uplifted by the inflation rate from 1 April.",
    ),
]

#: each unit cost a scenario states: (key, label, unit)
COST_ITEMS = [
    ("permanent_salary_per_year_gbp", "Permanent social worker salary, per year", MONEY),
    ("permanent_on_costs_share", "On-costs (employer's NI and pension), share of salary", PERCENT),
    (
        "retention_per_permanent_per_year_gbp",
        "Retention payment per permanent worker, per year",
        MONEY,
    ),
    ("agency_charge", "How agency staff are charged", ""),
    ("agency_day_rate_gbp", "Agency day rate", MONEY),
    ("agency_billed_days_per_year", "Agency days billed per year", "days"),
    ("agency_premium_share", "Agency premium over permanent cost (premium charging only)", PERCENT),
    ("recruitment_per_permanent_hire_gbp", "Recruitment cost per permanent hire", MONEY),
    ("agency_finder_fee_gbp", "Agency finder fee per agency worker placed", MONEY),
    ("out_of_area_share", "Share of children placed out of area", PERCENT),
    ("out_of_area_uplift_share", "Extra cost of an out-of-area placement", PERCENT),
    ("inflation_per_year", "Inflation, per year from each 1 April", PERCENT),
]

#: the Notes sheet's "Assumed" column, from how a cost's note starts
ASSUMED_FLAGS = {"Assumed": "yes", "Set by this scenario": "scenario's own", "Source": "no"}
ASSUMED_NOTE = (
    "Assumed: demandsim's illustrative figure. Replace with the council's own before using "
    "these costs."
)


def baseline_sources() -> dict[str, str]:
    """The source tag of each cost in the built-in baseline, from its comments: dotted key
    ('costs.placement_mix.residential') -> '[assumed] ...' or '[report ...] ...'. A key with no
    tag of its own takes that of its table."""
    sources: dict[str, str] = {}
    section, section_tag = "", ""
    for line in builtin_scenario("baseline").read_text().splitlines():
        tag = re.search(r"#\s*(\[[^\]]+\].*)$", line)
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section, section_tag = header.group(1), tag.group(1).strip() if tag else ""
            continue
        key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if key and section.startswith("costs"):
            sources[f"{section}.{key.group(1)}"] = tag.group(1).strip() if tag else section_tag
    return sources


def _source(dotted: str, value: object, baseline: Costs, sources: Mapping[str, str]) -> str:
    """Where a cost figure comes from: the baseline's tag if the scenario keeps the baseline's
    value, otherwise the scenario itself."""
    parts = dotted.split(".")[1:]
    base: object = baseline
    for part in parts:
        base = base.get(part) if isinstance(base, dict) else getattr(base, part, None)
    if base != value:
        return "Set by this scenario (not demandsim's default): check it against its source."
    tag = sources.get(dotted, "")
    if tag.startswith("[assumed]"):
        rest = tag.removeprefix("[assumed]").strip()
        return f"{ASSUMED_NOTE} Basis: {rest}" if rest else ASSUMED_NOTE
    return f"Source: {tag}" if tag else "demandsim's default."


def notes_sheet(
    manifest: dict, scenarios: Mapping[str, Scenario], sheets: list[str], baseline: Scenario
) -> pd.DataFrame:
    """What each sheet holds, what the statistics mean, then per scenario every unit cost with
    its value and its source (the assumed ones plainly marked), the budget, and the run's
    seeds and replications."""
    sources = baseline_sources()
    rows: list[dict] = []

    def add(section: str, item: str, value: object = None, unit: str = "", note: str = ""):
        assumed = next(
            (flag for start, flag in ASSUMED_FLAGS.items() if note.startswith(start)), ""
        )
        rows.append({"Section": section, "Item": item, "Value": value, UNIT: unit,
                     "Assumed": assumed, "Note": note})  # fmt: skip

    for name in sheets:
        add("Sheets", name, note=SHEETS.get(name, ""))
    for term, meaning in DEFINITIONS:
        add("Definitions", term, note=meaning)
    seeds = list(manifest.get("seeds", []))
    if seeds:
        add(
            "Run",
            "Replications",
            float(len(seeds)),
            "runs",
            "Each scenario was run this many times, on the same seeds.",
        )
        add("Run", "Seeds", f"{min(seeds)} to {max(seeds)}" if len(seeds) > 1 else seeds[0])
    run_items = {"kind": "Kind of run", "demandsim_version": "Model version",
                 "started": "Started", "finished": "Finished"}  # fmt: skip
    for item, text in run_items.items():
        if item in manifest:
            value = str(manifest[item])
            add("Run", text, f"demandsim {value}" if item == "demandsim_version" else value)
    for key, scenario in scenarios.items():
        costs = scenario.costs
        section = f"Assumptions: {key}"
        add(section, "Forecast", f"{scenario.start_date} for {scenario.years:g} years")
        for name, text, unit in COST_ITEMS:
            value = getattr(costs, name)
            shown = value.replace("_", " ") if isinstance(value, str) else float(value)
            add(
                section, text, shown, unit, _source(f"costs.{name}", value, baseline.costs, sources)
            )
        for kind, weekly in costs.placement_per_week_gbp.items():
            label = PLACEMENT_LABELS.get(kind, kind)
            add(
                section,
                f"Placement, weekly cost: {label}",
                float(weekly),
                MONEY,
                _source(f"costs.placement_per_week_gbp.{kind}", weekly, baseline.costs, sources),
            )
        for kind, share in costs.placement_mix.items():
            label = PLACEMENT_LABELS.get(kind, kind)
            add(
                section,
                f"Placement mix, share of children: {label}",
                float(share),
                PERCENT,
                _source(f"costs.placement_mix.{kind}", share, baseline.costs, sources),
            )
        add(
            section,
            "Permanent cost per day in post (salary and on-costs)",
            costs.permanent_per_day_gbp,
            MONEY,
            "Worked out from the figures above.",
        )
        add(
            section,
            "Agency cost per day in post",
            costs.agency_per_day_gbp,
            MONEY,
            "Worked out from the figures above.",
        )
        add(
            section,
            "Placement cost per child per week (mix, with out-of-area uplift)",
            costs.placement_per_day_gbp * 7,
            MONEY,
            "Worked out from the figures above.",
        )
        for year, amount in costs.budget_by_financial_year_gbp.items():
            add(
                section,
                f"Budget {year}",
                float(amount),
                MONEY,
                _source(
                    f"costs.budget_by_financial_year_gbp.{year}", amount, baseline.costs, sources
                ),
            )
    return pd.DataFrame(rows)


def outlook_sheet(weekly: pd.DataFrame) -> pd.DataFrame:
    """The outlook's traffic-light table (``outlook_weekly.csv``): a row per week, and per team
    the chance of passing its threshold (named in the heading) and the light."""
    teams = list(dict.fromkeys(weekly["team"]))
    first = weekly[weekly["team"] == teams[0]].sort_values("week")
    out = pd.DataFrame(
        {"Week": first["week"].to_numpy(), "Week starting": pd.to_datetime(first["week_start"])}
    )
    for team in teams:
        rows = weekly[weekly["team"] == team].set_index("week").loc[out["Week"]]
        label = team_label(team)
        cases = int(rows["threshold_cases"].iloc[0])
        out[f"{label}: chance over {cases} cases"] = rows["chance_over_threshold"].to_numpy()
        out[f"{label}: light"] = rows["light"].to_numpy()
    return out


#: ``outlook_act_today.csv``'s columns, with headings for people, in the sheet's order
ACT_HEADINGS = {
    "search": "Search",
    "team": "Team",
    "agency_requested": "Agency workers asked for",
    "today_worst_chance": "Worst judged week's chance today",
    "worst_chance": "Worst judged week's chance with the request",
    "meets_level": "Meets the level",
    "chosen": "Chosen",
    "extra_cost_gbp": "Extra cost",
    "extra_cost_low_gbp": "Extra cost, 95% interval low",
    "extra_cost_high_gbp": "Extra cost, 95% interval high",
    "level": "Level",
    "first_week_judged": "First week judged",
}
ACT_CHANCES = ["Worst judged week's chance today", "Worst judged week's chance with the request",
               "Level"]  # fmt: skip
ACT_MONEY = ["Extra cost", "Extra cost, 95% interval low", "Extra cost, 95% interval high"]


def act_today_sheet(act: pd.DataFrame) -> pd.DataFrame:
    """Every agency request the outlook tried (``outlook_act_today.csv``), teams by label."""
    out = act[list(ACT_HEADINGS)].rename(columns=ACT_HEADINGS)
    known = set(act["team"])
    out["Search"] = out["Search"].map(lambda s: team_label(s) if s in known else s)
    out["Team"] = out["Team"].map(team_label)
    return out.reset_index(drop=True)
