"""The headline in words: what a run or a comparison says, in sentences a director can read.

Every sentence is built from the stored tables (the KPI summary across replications, the
budget table and, for comparisons, the paired differences), so the words and the tables cannot
disagree. Ranges are the 10th to 90th percentile of the replications; a difference between
scenarios is reported only when its 95% interval excludes zero, and otherwise said to be within
the noise of the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from demandsim.costs import part_years
from demandsim.measures import FORECAST, SERVICE, TOTAL_COST, first_year_words, team_label
from demandsim.scenario import Scenario

#: a chance below this is "below 5%" and a change in chance smaller than this is not listed
SMALL_CHANCE = 0.05
WINTER = "unallocated_winter_mean"
PASSES = "backlog_passes_threshold_in_12_months"


def _cases(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}".replace(".0", "")


def money(value: float) -> str:
    """Pounds for people: £40.2m, £205k, £950."""
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size >= 1e6:
        return f"{sign}£{size / 1e6:,.1f}m"
    if size >= 1e4:
        return f"{sign}£{size / 1e3:,.0f}k"
    return f"{sign}£{size:,.0f}"


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _rows(summary: pd.DataFrame, key: str, measure: str, period: str = FORECAST) -> pd.DataFrame:
    rows = summary[
        (summary["scenario"] == key)
        & (summary["measure"] == measure)
        & (summary["period"] == period)
    ]
    return rows.set_index("team")


def _teams_first(scenario: Scenario) -> list[str]:
    """Staffed teams in scenario order, then the service."""
    return [n for n, t in scenario.teams.items() if not t.is_service] + [SERVICE]


def run_headline(
    key: str, scenario: Scenario, summary: pd.DataFrame, budget: pd.DataFrame
) -> list[str]:
    """Sentences for one scenario: backlog this winter and next, the chance each team passes
    its threshold, staffing, and cost against the budget."""
    n = int(summary.loc[summary["scenario"] == key, "n"].max())
    threshold = scenario.backlog_threshold_cases
    lines = []
    ranges = "" if n == 1 else " (10th to 90th percentile of replications in brackets)"
    lines.append(
        f"{scenario.name}: {n} replication{'s' if n != 1 else ''} of the forecast from "
        f"{scenario.start_date:%-d %B %Y}{ranges}."
        + (" Run with -n 20 or more to see the uncertainty." if n == 1 else "")
    )
    winters = summary.loc[
        (summary["scenario"] == key) & (summary["measure"] == WINTER), "period"
    ].unique()
    teams = _teams_first(scenario)
    for period in list(winters)[:2]:
        rows = _rows(summary, key, WINTER, period)
        lines.append(
            f"Winter {period} (December to February), unallocated cases on an average day: "
            + _by_team(rows, teams, n)
            + "."
        )
    if not len(winters):
        rows = _rows(summary, key, "unallocated_mean")
        lines.append(
            "Unallocated cases on an average day of the forecast (it covers no whole winter): "
            + _by_team(rows, teams, n)
            + "."
        )
    chance = _rows(summary, key, PASSES)["mean"].reindex(teams[:-1])
    high = chance[chance >= SMALL_CHANCE].sort_values(ascending=False)
    if len(high):
        listed = ", ".join(f"{team_label(t)} {_percent(v)}" for t, v in high.items())
        rest = "; every other social work team below 5%" if len(high) < len(chance) else ""
        lines.append(
            f"Chance that a social work team's unallocated cases pass {threshold} on some day of "
            f"{first_year_words(scenario.forecast_days)}: {listed}{rest}."
        )
    else:
        lines.append(
            f"No social work team's unallocated cases pass {threshold} in "
            f"{first_year_words(scenario.forecast_days)} in more than 5% of replications."
        )
    staff = _rows(summary, key, "staff_in_post_mean").loc[SERVICE, "mean"]
    agency = _rows(summary, key, "agency_share_mean").loc[SERVICE, "mean"]
    vacant = _rows(summary, key, "vacant_posts_mean").loc[SERVICE, "mean"]
    posts = sum(t.posts for t in scenario.teams.values() if not t.is_service)
    lines.append(
        f"Staffing: {staff:,.0f} social workers in post on an average day against {posts:,} "
        f"posts ({_percent(agency)} agency; {vacant:,.1f} posts vacant)."
    )
    lines += budget_lines(budget[budget["scenario"] == key], n)
    return lines


def _by_team(rows: pd.DataFrame, teams: list[str], n: int) -> str:
    parts = []
    quiet = []
    for team in teams:
        if team not in rows.index:
            continue
        row = rows.loc[team]
        if team != SERVICE and row["p90"] < 0.5:
            quiet.append(team_label(team))
            continue
        spread = "" if n == 1 else f" ({_cases(row['p10'])} to {_cases(row['p90'])})"
        parts.append(f"{team_label(team)} {_cases(row['p50'])}{spread}")
    if quiet:
        parts.insert(-1, f"{', '.join(quiet)} none")
    return "; ".join(parts)


def budget_lines(budget: pd.DataFrame, n: int) -> list[str]:
    lines = []
    for row in budget.itertuples():
        part = " (part year)" if row.partial else ""
        spread = "" if n == 1 else f" (P90 {money(row.p90_gbp)})"
        text = f"Cost {row.financial_year}{part}: {money(row.p50_gbp)} at P50{spread}"
        if pd.isna(row.budget_gbp):
            text += "; no budget stated."
        elif row.partial:
            text += f" against a full-year budget of {money(row.budget_gbp)}."
        else:
            text += (
                f" against a budget of {money(row.budget_gbp)}: "
                f"{_percent(row.overspend_chance)} chance of overspend."
            )
        lines.append(text)
    return lines


def compare_headline(
    scenarios: Mapping[str, Scenario],
    summary: pd.DataFrame,
    differences: pd.DataFrame,
) -> list[str]:
    """Sentences for each scenario against the reference (the first): the difference in
    winter backlog per team with its interval and how often it is lower, the change in the
    chance of passing the threshold, and the difference in cost by financial year."""
    keys = list(scenarios)
    reference = keys[0]
    lines = []
    for key in keys[1:]:
        scenario = scenarios[key]
        mine = differences[(differences["scenario"] == key)]
        n = int(mine["n"].max())
        lines.append(
            f"{key} against {reference}, on the same {_seeds(n)} (the same children and the same "
            "chance events in both, so differences are the scenarios' own):"
        )
        winters = mine.loc[mine["measure"] == WINTER, "period"].unique()
        measure, period = (WINTER, winters[0]) if len(winters) else ("unallocated_mean", FORECAST)
        when = f"on an average day of winter {period}" if len(winters) else "on an average day"
        rows = mine[(mine["measure"] == measure) & (mine["period"] == period)].set_index("team")
        clear, noise = [], []
        for team in _teams_first(scenario):
            if team not in rows.index:
                continue
            row = rows.loc[team]
            if not row["ci_low"] > 0 and not row["ci_high"] < 0:
                noise.append(team_label(team))
                continue
            fewer = row["mean"] < 0
            word = "fewer" if fewer else "more"
            share = row["share_lower"] if fewer else row["share_higher"]
            low, high = sorted([abs(row["ci_low"]), abs(row["ci_high"])])
            clear.append(
                f"{team_label(team)} {_cases(abs(row['mean']))} {word} (95% CI {_cases(low)} to "
                f"{_cases(high)} {word}; {word} in {_percent(share)} of replications)"
            )
        if clear:
            lines.append(f"Unallocated cases {when}: " + "; ".join(clear) + ".")
        if noise:
            lines.append(
                f"No clear difference (within the noise of {n} replication{'s' if n != 1 else ''})"
                f" in unallocated cases {when} for: {', '.join(noise)}."
            )
        chances = _chance_changes(summary, reference, key, scenario, _rows(mine, key, PASSES))
        if chances:
            lines.append(
                f"Chance of passing {scenario.backlog_threshold_cases} unallocated cases in "
                f"{first_year_words(scenario.forecast_days)}: " + "; ".join(chances) + "."
            )
        costs = mine[(mine["measure"] == TOTAL_COST) & (mine["team"] == SERVICE)]
        part = part_years(scenario)
        for row in costs.itertuples():
            year = f"{row.period}{' (part year)' if row.period in part else ''}"
            if not row.ci_low > 0 and not row.ci_high < 0:
                lines.append(f"Cost {year}: no clear difference ({money(row.mean)} on average).")
                continue
            word = "more" if row.mean > 0 else "less"
            share = row.share_higher if row.mean > 0 else row.share_lower
            low, high = sorted([abs(row.ci_low), abs(row.ci_high)])
            lines.append(
                f"Cost {year}: {money(abs(row.mean))} {word} (95% CI {money(low)} to "
                f"{money(high)}); {word} in {_percent(share)} of replications."
            )
    return lines


def _chance_changes(
    summary: pd.DataFrame, reference: str, key: str, scenario: Scenario, differences: pd.DataFrame
) -> list[str]:
    """Each team's chance that moved by SMALL_CHANCE or more, marked where its paired interval
    (:func:`~demandsim.batch.compare.newcombe_paired`) includes no change."""
    before = _rows(summary, reference, PASSES)["mean"]
    after = _rows(summary, key, PASSES)["mean"]
    out = []
    for team in _teams_first(scenario)[:-1]:
        known = team in before.index and team in after.index
        if known and abs(after[team] - before[team]) >= SMALL_CHANCE:
            text = f"{team_label(team)} {_percent(before[team])} -> {_percent(after[team])}"
            if team in differences.index:
                row = differences.loc[team]
                if not row["ci_low"] > 0 and not row["ci_high"] < 0:
                    text += " (within the noise)"
            out.append(text)
    return out


def headline(
    kind: str,
    scenarios: Mapping[str, Scenario],
    summary: pd.DataFrame,
    budget: pd.DataFrame,
    differences: pd.DataFrame | None,
) -> list[str]:
    """The headline of a results folder: a run's sentences, or a comparison's (the reference's
    own sentences first). A sweep's headline is its table."""
    keys = list(scenarios)
    if kind == "sweep":
        return []
    if len(keys) == 1 or differences is None:
        return run_headline(keys[0], scenarios[keys[0]], summary, budget)
    return [
        *run_headline(keys[0], scenarios[keys[0]], summary, budget),
        *compare_headline(scenarios, summary, differences),
    ]


def as_text(lines: list[str]) -> str:
    """The headline for the terminal: one paragraph a line, wrapped."""
    import textwrap

    return "\n".join(textwrap.fill(line, width=100, subsequent_indent="  ") for line in lines)
