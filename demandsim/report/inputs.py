"""Reading a results folder back: the stored tables every report and workbook is built from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from demandsim.calendar import financial_year
from demandsim.headline import headline
from demandsim.measures import (
    COST_COMPONENTS,
    FORECAST,
    HEADLINE,
    SERVICE,
    TOTAL_COST,
    is_money,
)
from demandsim.scenario import Scenario
from demandsim.scenario_files import load_scenario

DIFFERENCES = "paired_differences.parquet"


def differences_for_report(differences: pd.DataFrame) -> pd.DataFrame:
    """Service-wide paired differences worth a reader's time: the headline KPIs over the
    forecast, and the cost of each financial year (total and by component)."""
    service = differences[differences["team"] == SERVICE]
    keep = (service["period"] == FORECAST) & service["measure"].isin(HEADLINE)
    return service[keep | service["measure"].map(is_money)]


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows, as read back from a results folder."""

    manifest: dict
    scenario_tomls: dict[str, str]
    summary: pd.DataFrame  # kpi_summary: scenario, team, measure, period, n, mean, ...
    monthly: pd.DataFrame  # monthly bands
    budget: pd.DataFrame
    percentiles: pd.DataFrame
    fy_costs: pd.DataFrame  # per replication
    differences: pd.DataFrame | None  # paired differences, as stored
    folder: Path
    monthly_differences: pd.DataFrame | None = None  # paired, by month (comparisons)
    design: pd.DataFrame | None = None  # sweeps: the design points and their varied values
    sweep: pd.DataFrame | None = None  # sweeps: the KPI summary with the varied values
    optimise_plans: pd.DataFrame | None = None  # optimise: every plan tried (optimise_plans.csv)
    optimise_confirmation: pd.DataFrame | None = None  # optimise: today and the plan, fresh seeds
    optimise: dict | None = None  # optimise: optimise.json (the target and how the search ran)
    outlook: pd.DataFrame | None = None  # outlook: chance and backlog by team and week
    act_today: pd.DataFrame | None = None  # outlook: the agency requests tried
    outlook_record: dict | None = None  # outlook: outlook.json (what it starts from, its limits)

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
    "monthly": "monthly_bands.parquet",
    "budget": "budget_by_financial_year.csv",
    "percentiles": "cost_percentiles.csv",
    "fy_costs": "costs_by_replication.csv",
}


def load_inputs(folder: Path, manifest: dict | None = None) -> ReportInputs:
    """Read a results folder's stored tables back, naming any file that is missing."""
    folder = Path(folder)
    # the daily bands are not read (the report charts months), but a folder without them is
    # not a complete results folder
    needed = [*FILES.values(), "daily_bands.parquet"]
    needed += [] if manifest is not None else ["manifest.json"]
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

    def optional(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.exists():
            return None
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)

    return ReportInputs(
        manifest=manifest
        if manifest is not None
        else json.loads((folder / "manifest.json").read_text()),
        scenario_tomls=tomls,
        differences=pd.read_parquet(diffs) if diffs.exists() else None,
        folder=folder,
        monthly_differences=optional("monthly_differences.parquet"),
        design=optional("design.csv"),
        sweep=optional("sweep.parquet"),
        optimise_plans=optional("optimise_plans.csv"),
        optimise_confirmation=optional("optimise_confirmation.csv"),
        optimise=json.loads((folder / "optimise.json").read_text())
        if (folder / "optimise.json").exists()
        else None,
        outlook=optional("outlook_weekly.csv"),
        act_today=optional("outlook_act_today.csv"),
        outlook_record=json.loads((folder / "outlook.json").read_text())
        if (folder / "outlook.json").exists()
        else None,
        **tables,
    )
