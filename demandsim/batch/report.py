"""The tables a person reads at the end of a run (also saved as ``summary.txt``).

Labels, units and which values are percentages come from :mod:`demandsim.measures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim.measures import (
    FORECAST,
    HEADLINE,
    SERVICE,
    first_year_words,
    is_share,
    label,
    short_label,
    team_label,
)
from demandsim.replication import forecast_dates
from demandsim.scenario import Scenario

PROBABILITY = "backlog_passes_threshold_in_12_months"


def _scale(measure: str) -> float:
    return 100.0 if is_share(measure) else 1.0


def _shown(measure: str, scenario: Scenario) -> str:
    return label(measure, scenario) + (" (%)" if is_share(measure) else "")


def _num(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _interval(low: float, high: float) -> str:
    return f"({_num(low)} to {_num(high)})"


def _period(scenario: Scenario, seeds: list[int]) -> str:
    dates = forecast_dates(scenario)
    runs = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]}"
    return (
        f"{len(seeds)} replication{'s' if len(seeds) != 1 else ''} ({runs}), forecast "
        f"{dates[0].date()} to {dates[-1].date()}"
    )


def _whole_forecast(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[(summary["period"] == FORECAST) & summary["measure"].isin(HEADLINE)]


def format_run(summary: pd.DataFrame, scenario: Scenario, seeds: list[int]) -> str:
    """Per team means, then the service-wide KPIs (with 95% intervals and the 5-95% spread of
    the replications when there are several)."""
    rows = _whole_forecast(summary)
    per_team = rows.pivot(index="team", columns="measure", values="mean")
    per_team = per_team.reindex(index=list(dict.fromkeys(rows["team"])))
    per_team = per_team[[k for k in HEADLINE if k in per_team and per_team[k].notna().sum() > 1]]
    shown = per_team.apply(lambda col: (col * _scale(col.name)).map(_num))
    shown.columns = [_shown(k, scenario) for k in shown.columns]
    shown.index = [team_label(team) for team in shown.index]
    service = rows[rows["team"] == SERVICE].set_index("measure").reindex(list(HEADLINE))
    service = service.dropna(subset=["mean"])
    lines = pd.DataFrame(
        {"mean": [_num(r["mean"] * _scale(k)) for k, r in service.iterrows()]},
        index=[_shown(k, scenario) for k in service.index],
    )
    if len(seeds) > 1:
        lines["95% CI of mean"] = [
            _interval(r["ci_low"] * _scale(k), r["ci_high"] * _scale(k))
            for k, r in service.iterrows()
        ]
        lines["5% to 95% of replications"] = [
            _interval(r["p5"] * _scale(k), r["p95"] * _scale(k)) for k, r in service.iterrows()
        ]
    per_team_title = "Per team" + (", mean over replications:" if len(seeds) > 1 else ":")
    return "\n".join(
        [
            f"Scenario {scenario.name!r}: {_period(scenario, seeds)}",
            "",
            per_team_title,
            shown.T.to_string(),
            "",
            f"{team_label(SERVICE)}:",
            lines.to_string(),
        ]
    )


def format_compare(
    summary: pd.DataFrame,
    differences: pd.DataFrame,
    names: dict[str, str],
    scenario: Scenario,
    seeds: list[int],
) -> str:
    """Each scenario's mean, and each one's paired difference from the first with a 95% CI."""
    keys = list(names)
    reference = keys[0]
    rows = _whole_forecast(summary)
    diffs_all = differences[differences["period"] == FORECAST]

    def table(team: str, kpis: list[str]) -> pd.DataFrame:
        means = rows[rows["team"] == team].pivot(index="measure", columns="scenario", values="mean")
        diffs = diffs_all[diffs_all["team"] == team].set_index(["measure", "scenario"])
        kpis = [k for k in kpis if k in means.index and means.loc[k].notna().all()]
        out = pd.DataFrame(index=[_shown(k, scenario) for k in kpis])
        for key in keys:
            out[names[key]] = [_num(means.loc[k, key] * _scale(k)) for k in kpis]
        for key in keys[1:]:
            cells = []
            for k in kpis:
                d = diffs.loc[(k, key)]
                s = _scale(k)
                interval = _interval(d["ci_low"] * s, d["ci_high"] * s)
                cells.append(f"{_num(d['mean'] * s)} {interval}")
            out[f"{names[key]} - {names[reference]} (95% CI)"] = cells
        return out

    teams = list(dict.fromkeys(rows["team"]))
    chances = pd.concat([table(team, [PROBABILITY]).set_axis([team_label(team)]) for team in teams])
    return "\n".join(
        [
            f"Comparison on common random numbers: {_period(scenario, seeds)}",
            f"Reference: {names[reference]}. Differences are paired, seed by seed.",
            "",
            f"{team_label(SERVICE)}:",
            table(SERVICE, list(HEADLINE)).to_string(),
            "",
            f"Chance (%) that the unallocated backlog passes {scenario.backlog_threshold_cases} "
            f"cases on some day of {first_year_words(scenario.forecast_days)}:",
            chances.to_string(),
        ]
    )


def format_sweep(
    summary: pd.DataFrame, design_table: pd.DataFrame, scenario: Scenario, seeds: list[int]
) -> str:
    """One row per design point: the varied values, then service-wide KPI means."""
    rows = _whole_forecast(summary)
    rows = rows[rows["team"] == SERVICE]
    means = rows.pivot(index="scenario", columns="measure", values="mean")
    means = means[[k for k in HEADLINE if k in means]]
    shown = means.apply(lambda col: (col * _scale(col.name)).map(_num))
    shown.columns = [
        short_label(k, scenario) + (" %" if is_share(k) else "") for k in shown.columns
    ]
    table = design_table.set_index("scenario").join(shown)
    table.index.name = "point"
    return "\n".join(
        [
            f"Sweep of {scenario.name!r}: {len(design_table)} design points x "
            f"{_period(scenario, seeds)}",
            "",
            f"{team_label(SERVICE)}, mean over replications:",
            table.to_string(),
        ]
    )
