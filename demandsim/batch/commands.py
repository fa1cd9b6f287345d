"""The library calls behind ``demandsim run -n``, ``demandsim compare`` and ``demandsim sweep``.

Each builds a :class:`~demandsim.batch.replicate.Plan`, runs the replications the results
folder does not hold yet, then writes the tables:

- ``kpis_by_replication.parquet``: scenario, seed, team, kpi, value (one row per replication);
- ``kpi_summary.parquet`` / ``.csv``: per scenario, team and KPI: n, mean, sd, 95% CI, p5/p50/p95;
- ``daily_bands.parquet``: per scenario, date, team and measure: p5, p25, p50, p75, p95, mean;
- ``paired_differences.parquet`` / ``.csv`` (compare), ``sweep.parquet`` / ``.csv`` and
  ``plots/KPI--KEY.png`` (sweep);
- ``scenarios/KEY.toml`` (each resolved scenario), ``summary.txt`` (the printed table) and
  ``manifest.json`` (provenance, written last).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from demandsim.batch import report
from demandsim.batch.aggregate import daily_bands, kpi_summary
from demandsim.batch.compare import paired_differences
from demandsim.batch.plots import sweep_curve
from demandsim.batch.replicate import (
    Executor,
    Plan,
    available_cores,
    check_executor,
    run_plan,
)
from demandsim.batch.store import BatchStore
from demandsim.batch.summaries import SERVICE
from demandsim.batch.sweep import Vary, design, sweep_table
from demandsim.costs import FY_PREFIX, TOTAL, is_cost_kpi
from demandsim.report import DIFFERENCES, TABLES, batch_tables, format_budget, write_report
from demandsim.results_store import manifest, write_scenario_toml
from demandsim.scenario import Scenario

Writer = Callable[[Path], None]


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch; none of these change its results."""

    replications: int = 1
    first_seed: int = 0
    jobs: int | None = None
    executor: Executor = "local"
    scheduler: str | None = None
    progress: bool | None = None
    keep_replications: bool = False

    def seeds(self) -> tuple[int, ...]:
        """The seeds to run, after checking every option (before any folder is made)."""
        check_executor(self.executor, self.scheduler, self.jobs)
        if self.replications < 1:
            raise ValueError(f"-n/--replications must be at least 1, got {self.replications}")
        if self.first_seed < 0:
            raise ValueError(f"--seed must be 0 or more, got {self.first_seed}")
        return tuple(range(self.first_seed, self.first_seed + self.replications))


@dataclass(frozen=True)
class BatchOutcome:
    folder: Path
    text: str
    kpis: pd.DataFrame  # per replication
    summary: pd.DataFrame  # per scenario, team, KPI
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # compare / sweep extras


def replicate(
    scenario: Scenario,
    out: str | Path,
    options: BatchOptions,
    resume: bool = False,
    overwrite: bool = False,
) -> BatchOutcome:
    """``demandsim run SCENARIO -n N``: N replications of one scenario."""
    plan = Plan("run", {_key(scenario.name): scenario}, options.seeds())

    def extras(kpis: pd.DataFrame, summary: pd.DataFrame) -> tuple[dict, dict, str]:
        return {}, {}, report.format_run(summary, scenario, list(plan.seeds))

    return _execute(plan, out, options, resume, overwrite, extras)


def compare(
    scenarios: list[Scenario],
    out: str | Path,
    options: BatchOptions,
    resume: bool = False,
    overwrite: bool = False,
) -> BatchOutcome:
    """``demandsim compare A B ...``: every scenario on the same seeds; differences from A."""
    if len(scenarios) < 2:
        raise ValueError("compare needs at least two scenarios")
    keyed: dict[str, Scenario] = {}
    for scenario in scenarios:
        key, n = _key(scenario.name), 2
        while key in keyed:  # the same scenario twice, or two files with one name
            key, n = f"{_key(scenario.name)}-{n}", n + 1
        keyed[key] = scenario
    plan = Plan("compare", keyed, options.seeds())
    reference = next(iter(keyed))

    def extras(kpis: pd.DataFrame, summary: pd.DataFrame) -> tuple[dict, dict, str]:
        diffs = paired_differences(kpis, reference)
        text = report.format_compare(
            summary, diffs, {k: k for k in keyed}, keyed[reference], list(plan.seeds)
        )
        return _tables("paired_differences", diffs), {"paired_differences": diffs}, text

    return _execute(plan, out, options, resume, overwrite, extras)


def sweep(
    base: Scenario,
    varies: list[Vary],
    out: str | Path,
    options: BatchOptions,
    resume: bool = False,
    overwrite: bool = False,
) -> BatchOutcome:
    """``demandsim sweep SCENARIO --vary KEY=v1,v2``: the factorial design, each point on the
    same seeds; a table and one curve per KPI per varied key."""
    scenarios, design_table = design(base, varies)
    plan = Plan("sweep", scenarios, options.seeds(), design_table)
    keys = [v.key for v in varies]

    def extras(kpis: pd.DataFrame, summary: pd.DataFrame) -> tuple[dict, dict, str]:
        table = sweep_table(summary, design_table)
        files = _tables("sweep", table)
        diffs = paired_differences(kpis, next(iter(scenarios)))
        files[DIFFERENCES] = lambda p: diffs.to_parquet(p, index=False)
        files["design.csv"] = lambda p: design_table.to_csv(p, index=False)
        service = table[(table["team"] == SERVICE) & table["mean"].notna()]
        for kpi in dict.fromkeys(service["kpi"]):
            if is_cost_kpi(kpi) and not (kpi.startswith(FY_PREFIX) and kpi.endswith(TOTAL)):
                continue  # one curve per year's total cost, not one per month and component
            for key in keys:
                others = [k for k in keys if k != key]
                files[f"plots/{kpi}--{key}.png"] = _figure_writer(table, key, kpi, others)
        text = report.format_sweep(summary, design_table, base, list(plan.seeds))
        return files, {"sweep": table, "design": design_table}, text

    return _execute(plan, out, options, resume, overwrite, extras)


def _execute(
    plan: Plan,
    out: str | Path,
    options: BatchOptions,
    resume: bool,
    overwrite: bool,
    extras: Callable[[pd.DataFrame, pd.DataFrame], tuple[dict[str, Writer], dict, str]],
) -> BatchOutcome:
    now = dt.datetime.now(dt.UTC)
    record = plan.record()
    if resume:
        store = BatchStore.resume(out, record)
    else:
        stamped = {**record, "started": now.isoformat(timespec="seconds")}
        store = BatchStore.create(out, stamped, overwrite=overwrite)
    ran = run_plan(plan, store, options.jobs, options.executor, options.scheduler, options.progress)
    keys = list(plan.scenarios)
    kpis = store.replication_kpis(keys, plan.seeds)
    summary = kpi_summary(kpis)
    extra_files, tables, text = extras(kpis, summary)
    files: dict[str, Writer] = {
        "kpis_by_replication.parquet": lambda p: kpis.to_parquet(p, index=False),
        **_tables("kpi_summary", summary),
        "daily_bands.parquet": lambda p: pd.concat(
            [daily_bands(store, k, plan.scenarios[k], list(plan.seeds)) for k in keys],
            ignore_index=True,
        ).to_parquet(p, index=False),
        **{
            f"scenarios/{k}.toml": _scenario_writer(scenario)
            for k, scenario in plan.scenarios.items()
        },
        **extra_files,
    }
    report_tables = batch_tables(plan.scenarios, kpis, summary)
    files.update({TABLES[k]: _csv_writer(t) for k, t in report_tables.items()})
    diffs = tables.get("paired_differences")
    text += "\n\n" + format_budget(report_tables["budget"], diffs)
    files["summary.txt"] = lambda p: p.write_text(text + "\n")
    started = dt.datetime.fromisoformat(store.plan.get("started", now.isoformat()))
    provenance = manifest([], list(plan.seeds), started)
    provenance.update(
        kind=plan.kind,
        scenarios=record["scenarios"],
        design=record["design"],
        resumed=resume,
        this_session_started=now.isoformat(timespec="seconds"),
        replications_this_session=ran,
        executor=options.executor,
        jobs=options.jobs or available_cores(),
    )
    # last: the report reads the tables above from the staging folder
    files["report.html"] = lambda p: write_report(p.parent, manifest=provenance)
    store.finish(files, provenance, keep_replications=options.keep_replications)
    return BatchOutcome(Path(out), text, kpis, summary, tables)


def _key(name: str) -> str:
    """A scenario name made safe as a folder and file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return safe or "scenario"


def _tables(stem: str, table: pd.DataFrame) -> dict[str, Writer]:
    return {
        f"{stem}.parquet": lambda p: table.to_parquet(p, index=False),
        f"{stem}.csv": lambda p: table.to_csv(p, index=False, float_format="%.6g"),
    }


def _csv_writer(table: pd.DataFrame) -> Writer:
    return lambda p: table.to_csv(p, index=False)


def _scenario_writer(scenario: Scenario) -> Writer:
    return lambda p: write_scenario_toml(scenario, p)


def _figure_writer(table: pd.DataFrame, key: str, kpi: str, others: list[str]) -> Writer:
    def write(path: Path) -> None:
        sweep_curve(table, key, kpi, SERVICE, others).savefig(path, dpi=100)

    return write
