"""The tables a person reads at the end of a batch (also saved as ``summary.txt``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim.batch.summaries import SERVICE, forecast_dates
from demandsim.scenario import Scenario

PROBABILITY = "backlog_passes_threshold_in_12_months"


def headline(threshold: int) -> dict[str, str]:
    """KPI -> column label, for the printed tables."""
    return {
        "unallocated_mean": "unallocated, mean",
        "unallocated_peak": "unallocated, peak",
        "days_unallocated_above_threshold": f"days unallocated > {threshold}",
        PROBABILITY: f"chance unallocated > {threshold} in 12 months (%)",
        "caseload_per_worker_mean": "caseload per worker, mean",
        "caseload_per_worker_peak": "caseload per worker, peak",
        "agency_share_mean": "agency share (%)",
        "leavers": "leavers",
        "mean_days_referral_to_allocation": "days referral to allocation",
        "assessed_within_45_working_days_share": "assessments within 45 working days (%)",
    }


def short(threshold: int) -> dict[str, str]:
    """KPI -> a short column label, for wide tables (sweeps)."""
    return {
        "unallocated_mean": "unalloc mean",
        "unallocated_peak": "unalloc peak",
        "days_unallocated_above_threshold": f"days >{threshold}",
        PROBABILITY: f"P(>{threshold} in 12m) %",
        "caseload_per_worker_mean": "caseload",
        "caseload_per_worker_peak": "caseload peak",
        "agency_share_mean": "agency %",
        "leavers": "leavers",
        "mean_days_referral_to_allocation": "days to alloc",
        "assessed_within_45_working_days_share": "in 45 wd %",
    }


PERCENT = {PROBABILITY, "agency_share_mean", "assessed_within_45_working_days_share"}


def _scale(kpi: str) -> float:
    return 100.0 if kpi in PERCENT else 1.0


def _num(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _interval(low: float, high: float) -> str:
    return f"({_num(low)} to {_num(high)})"


def _period(scenario: Scenario, seeds: list[int]) -> str:
    dates = forecast_dates(scenario)
    return (
        f"{len(seeds)} replications (seeds {seeds[0]}-{seeds[-1]}), forecast "
        f"{dates[0].date()} to {dates[-1].date()}"
    )


def format_run(summary: pd.DataFrame, scenario: Scenario, seeds: list[int]) -> str:
    """Per team means, then the service-wide KPIs with 95% intervals and the 5-95% spread."""
    labels = headline(scenario.backlog_threshold_cases)
    rows = summary[summary["kpi"].isin(labels)]
    per_team = rows.pivot(index="team", columns="kpi", values="mean")
    per_team = per_team.reindex(index=list(dict.fromkeys(rows["team"])))
    per_team = per_team[[k for k in labels if k in per_team and per_team[k].notna().sum() > 1]]
    shown = per_team.apply(lambda col: (col * _scale(col.name)).map(_num))
    shown.columns = [labels[k] for k in shown.columns]
    service = (
        rows[rows["team"] == SERVICE].set_index("kpi").reindex(list(labels)).dropna(subset=["mean"])
    )
    lines = pd.DataFrame(
        {
            "mean": [_num(r["mean"] * _scale(k)) for k, r in service.iterrows()],
            "95% CI of mean": [
                _interval(r["ci_low"] * _scale(k), r["ci_high"] * _scale(k))
                for k, r in service.iterrows()
            ],
            "5% to 95% of replications": [
                _interval(r["p5"] * _scale(k), r["p95"] * _scale(k)) for k, r in service.iterrows()
            ],
        },
        index=[labels[k] for k in service.index],
    )
    return "\n".join(
        [
            f"Scenario {scenario.name!r}: {_period(scenario, seeds)}",
            "",
            "Mean over replications, per team:",
            shown.T.to_string(),
            "",
            f"{SERVICE}:",
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
    labels = headline(scenario.backlog_threshold_cases)
    keys = list(names)
    reference = keys[0]

    def table(team: str, kpis: list[str]) -> pd.DataFrame:
        means = summary[summary["team"] == team].pivot(
            index="kpi", columns="scenario", values="mean"
        )
        diffs = differences[differences["team"] == team].set_index(["kpi", "scenario"])
        kpis = [k for k in kpis if k in means.index and means.loc[k].notna().all()]
        out = pd.DataFrame(index=[labels.get(k, k) for k in kpis])
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

    teams = list(dict.fromkeys(summary["team"]))
    chances = pd.concat([table(team, [PROBABILITY]).set_axis([team]) for team in teams])
    return "\n".join(
        [
            f"Comparison on common random numbers: {_period(scenario, seeds)}",
            f"Reference: {names[reference]}. Differences are paired, seed by seed.",
            "",
            f"{SERVICE}:",
            table(SERVICE, list(labels)).to_string(),
            "",
            f"Chance (%) that the unallocated backlog passes {scenario.backlog_threshold_cases} "
            "cases on some day of the first 12 months:",
            chances.to_string(),
        ]
    )


def format_sweep(
    summary: pd.DataFrame, design_table: pd.DataFrame, scenario: Scenario, seeds: list[int]
) -> str:
    """One row per design point: the varied values, then service-wide KPI means."""
    labels = short(scenario.backlog_threshold_cases)
    rows = summary[(summary["team"] == SERVICE) & summary["kpi"].isin(labels)]
    means = rows.pivot(index="scenario", columns="kpi", values="mean")
    means = means[[k for k in labels if k in means]]
    shown = means.apply(lambda col: (col * _scale(col.name)).map(_num))
    shown.columns = [labels[k] for k in shown.columns]
    table = design_table.set_index("scenario").join(shown)
    table.index.name = "point"
    return "\n".join(
        [
            f"Sweep of {scenario.name!r}: {len(design_table)} design points x {_period(scenario, seeds)}",
            "",
            f"{SERVICE}, mean over replications:",
            table.to_string(),
        ]
    )
