"""The library calls behind ``demandsim run``, ``demandsim compare`` and ``demandsim sweep``.

Every kind of run is a batch (a single run is a batch of one) and writes one results-folder
layout. Each builds a :class:`~demandsim.batch.replicate.Plan`, runs the replications the
folder does not hold yet, then writes the tables, all read from the per-replication results:

- ``kpis_by_replication.parquet``: scenario, replication, team, measure, period, value;
- ``kpi_summary.parquet`` / ``.csv``: per scenario, team, measure and period: n, mean, sd,
  95% CI, p5/p10/p50/p90/p95 across replications;
- ``daily_bands.parquet``: per scenario, date, team and daily measure: p5 ... p95 and mean;
- ``monthly_bands.parquet`` / ``.csv``: the same per calendar month (each replication's monthly
  mean, or sum for money);
- ``costs_by_replication.csv`` (service-wide costs by financial year and replication),
  ``budget_by_financial_year.csv`` and ``cost_percentiles.csv``;
- ``paired_differences.parquet`` / ``.csv`` (compare and sweep), ``sweep.parquet`` / ``.csv``,
  ``design.csv`` and ``plots/`` (sweep);
- ``scenarios/KEY.toml`` (each resolved scenario), ``summary.txt`` (the printed tables),
  ``report.html``, ``costs_and_staffing.xlsx``, ``charts/`` and ``manifest.json`` (provenance,
  written last: a folder with a manifest is complete).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from demandsim.batch import report
from demandsim.batch.aggregate import (
    budget_tables,
    costs_by_replication,
    kpi_summary,
    monthly_differences,
    series_bands,
)
from demandsim.batch.cache import ReplicationCache
from demandsim.batch.compare import paired_differences
from demandsim.batch.malloc import return_large_blocks
from demandsim.batch.plots import sweep_curve
from demandsim.batch.replicate import (
    Executor,
    Plan,
    available_cores,
    check_executor,
    run_plan,
)
from demandsim.batch.store import BatchStore, ParquetSink
from demandsim.batch.sweep import Vary, design, sweep_table
from demandsim.headline import as_text, headline
from demandsim.measures import FORECAST, SERVICE, TOTAL_COST
from demandsim.report import format_budget, write_report
from demandsim.results_store import manifest, safe_name, spreadsheet_safe, write_scenario_toml
from demandsim.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Writer = Callable[[Path], None]
#: more tables from the stored replications before they are removed (``demandsim outlook``):
#: called with the store, the seeds and every replication's KPI rows (as read for the summaries);
#: returns files to write and text to put first in the summary
Finishing = Callable[[BatchStore, tuple[int, ...], pd.DataFrame], tuple[dict[str, Writer], str]]


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
    report: bool = True  # the HTML report, workbook and charts
    #: called with (replications done, replications in all) as each is stored
    on_progress: Callable[[int, int], None] | None = field(default=None, compare=False)
    #: replications shared between batches (:mod:`demandsim.batch.cache`): not run twice
    cache: ReplicationCache | None = field(default=None, compare=False)
    #: set it to stop the batch (:class:`~demandsim.batch.replicate.Cancelled` is raised)
    stop: threading.Event | None = field(default=None, compare=False)

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
    finishing: Finishing | None = None,
) -> BatchOutcome:
    """``demandsim run SCENARIO -n N``: N replications of one scenario."""
    plan = Plan("run", {_key(scenario.name): scenario}, options.seeds())

    def extras(kpis: pd.DataFrame, summary: pd.DataFrame) -> tuple[dict, dict, str]:
        return {}, {}, report.format_run(summary, scenario, list(plan.seeds))

    return _execute(plan, out, options, resume, overwrite, extras, finishing=finishing)


def compare(
    scenarios: list[Scenario],
    out: str | Path,
    options: BatchOptions,
    resume: bool = False,
    overwrite: bool = False,
    extra_files: Mapping[str, Writer] | None = None,
    extra_text: str = "",
) -> BatchOutcome:
    """``demandsim compare A B ...``: every scenario on the same seeds; differences from A.
    ``extra_files`` and ``extra_text`` (a caller's own tables, and lines for ``summary.txt`` and
    the printed text) are written with the folder, before its manifest and its report."""
    if len(scenarios) < 2:
        raise ValueError("compare needs at least two scenarios")
    keyed: dict[str, Scenario] = {}
    for scenario in scenarios:
        key, n = _key(scenario.name), 2
        while key in keyed:  # the same scenario twice, or two files with one name
            key, n = f"{_key(scenario.name)}-{n}", n + 1
        keyed[key] = scenario
    _check_same_calendar(keyed)
    plan = Plan("compare", keyed, options.seeds())
    reference = next(iter(keyed))

    def extras(kpis: pd.DataFrame, summary: pd.DataFrame) -> tuple[dict, dict, str]:
        diffs = paired_differences(kpis, reference)
        text = report.format_compare(
            summary, diffs, {k: k for k in keyed}, keyed[reference], list(plan.seeds)
        )
        files = {**_tables("paired_differences", diffs), **(extra_files or {})}
        return files, {"paired_differences": diffs}, text

    return _execute(plan, out, options, resume, overwrite, extras, closing=extra_text)


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
        files.update(_tables("paired_differences", diffs))
        files["design.csv"] = _csv_writer(design_table)
        service = table[(table["team"] == SERVICE) & table["mean"].notna()]
        curves = service[(service["period"] == FORECAST) | (service["measure"] == TOTAL_COST)]
        curves_drawn = {}
        for measure, period in dict.fromkeys(zip(curves["measure"], curves["period"], strict=True)):
            for key in keys:
                others = [k for k in keys if k != key]
                stem = measure if period == FORECAST else f"{measure}_{period}"
                rows = table[table["period"] == period]
                curves_drawn[f"{stem}--{key}"] = partial(
                    sweep_curve, rows, key, measure, SERVICE, others
                )
        files["plots"] = _pngs_writer(curves_drawn)
        text = report.format_sweep(summary, design_table, base, list(plan.seeds))
        return files, {"sweep": table, "design": design_table, "paired_differences": diffs}, text

    return _execute(plan, out, options, resume, overwrite, extras)


def _check_same_calendar(scenarios: dict[str, Scenario]) -> None:
    """Refuse a comparison whose scenarios could not be paired day by day and year by year:
    they must cover the same dates (start, warm-up, years) with the same teams."""
    (first, reference), *others = scenarios.items()
    for key, scenario in others:
        for name, theirs, ours in [
            ("start_date", scenario.start_date, reference.start_date),
            ("years", scenario.years, reference.years),
            ("warmup_days", scenario.warmup_days, reference.warmup_days),
            ("teams", ", ".join(scenario.teams), ", ".join(reference.teams)),
        ]:
            if theirs != ours:
                raise ValueError(
                    f"compare pairs the scenarios day by day, so they need the same dates and "
                    f"teams: {key!r} has {name} {theirs}, {first!r} has {ours}; make them the "
                    "same in every file (--set applies to all of them)"
                )


def _execute(
    plan: Plan,
    out: str | Path,
    options: BatchOptions,
    resume: bool,
    overwrite: bool,
    extras: Callable[[pd.DataFrame, pd.DataFrame], tuple[dict[str, Writer], dict, str]],
    closing: str = "",
    finishing: Finishing | None = None,
) -> BatchOutcome:
    now = dt.datetime.now(dt.UTC)
    record = plan.record()
    if resume:
        store = BatchStore.resume(out, record)
    else:
        stamped = {**record, "started": now.isoformat(timespec="seconds")}
        store = BatchStore.create(out, stamped, overwrite=overwrite)
    say = _narrator(options.progress)
    tasks = len(plan.tasks())
    workers = min(options.jobs or available_cores(), tasks)
    where = (
        f"the Dask cluster at {options.scheduler}"
        if options.executor == "dask"
        else (f"{workers} worker processes" if workers > 1 else "this process")
    )
    say(f"running {tasks} replication{'s' if tasks != 1 else ''} on {where}")
    ran = run_plan(
        plan,
        store,
        options.jobs,
        options.executor,
        options.scheduler,
        options.progress,
        options.on_progress,
        options.cache,
        options.stop,
    )
    say("summarising the replications: KPIs, daily and monthly bands, costs")
    return_large_blocks()  # the summaries' large arrays, once freed, go back to the system
    keys = list(plan.scenarios)
    seeds = list(plan.seeds)
    kpis = store.replication_kpis(keys, seeds)
    summary = kpi_summary(kpis)
    extra_files, tables, text = extras(kpis, summary)
    if finishing is not None:
        more, first = finishing(store, plan.seeds, kpis)
        extra_files.update(more)
        text = f"{first}\n\n{text}"
    daily_bands = ParquetSink(store.root / ".daily_bands.parquet")  # written as they are made
    try:
        monthly = [
            series_bands(store, k, plan.scenarios[k], seeds, daily_bands.write)[1] for k in keys
        ]
    finally:
        daily_bands.close()
    if len(keys) > 1:
        differences = pd.concat(
            [monthly_differences(store, keys[0], k, plan.scenarios[k], seeds) for k in keys[1:]],
            ignore_index=True,
        )
        extra_files.update(_tables("monthly_differences", differences))
    fy_costs = costs_by_replication(kpis, plan.scenarios)
    money = budget_tables(fy_costs, plan.scenarios)
    text += "\n\n" + format_budget(money["budget"], tables.get("paired_differences"))
    words = headline(
        plan.kind, plan.scenarios, summary, money["budget"], tables.get("paired_differences")
    )
    if words:
        text = f"In brief:\n{as_text(words)}\n\n{text}"
    if closing:
        text += f"\n\n{closing}"
    files: dict[str, Writer] = {
        "kpis_by_replication.parquet": lambda p: _write_labels_as_text(kpis, p),
        **_tables("kpi_summary", summary),
        "daily_bands.parquet": daily_bands.move_to,
        **_tables("monthly_bands", pd.concat(monthly, ignore_index=True)),
        "costs_by_replication.csv": _csv_writer(fy_costs),
        "budget_by_financial_year.csv": _csv_writer(money["budget"]),
        "cost_percentiles.csv": _csv_writer(money["cost_percentiles"]),
        **{
            f"scenarios/{k}.toml": _scenario_writer(scenario)
            for k, scenario in plan.scenarios.items()
        },
        **extra_files,
        "summary.txt": lambda p: p.write_text(text + "\n"),
    }
    started = dt.datetime.fromisoformat(store.plan.get("started", now.isoformat()))
    provenance = manifest([], seeds, started)
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
    if options.report:  # last: the report reads the tables above from the staging folder

        def report(path: Path) -> None:
            say("building the report, charts and workbook")
            write_report(path.parent, manifest=provenance)

        files["report.html"] = report
    store.finish(files, provenance, keep_replications=options.keep_replications)
    return BatchOutcome(Path(out), text, kpis, summary, tables)


def _narrator(progress: bool | None) -> Callable[[str], None]:
    """Say what a long run is doing, on standard error (quiet when progress is False)."""

    def say(text: str) -> None:
        if progress is not False:
            print(f"demandsim: {text}", file=sys.stderr, flush=True)

    return say


def _key(name: str) -> str:
    """A scenario name made safe as a folder and file name."""
    return safe_name(name)


def _tables(stem: str, table: pd.DataFrame) -> dict[str, Writer]:
    return {
        f"{stem}.parquet": lambda p: table.to_parquet(p, index=False),
        f"{stem}.csv": lambda p: spreadsheet_safe(table).to_csv(
            p, index=False, float_format="%.6g"
        ),
    }


def _csv_writer(table: pd.DataFrame) -> Writer:
    return lambda p: spreadsheet_safe(table).to_csv(p, index=False)


def _parquet_writer(table: pd.DataFrame) -> Writer:
    return lambda p: table.to_parquet(p, index=False)


def _write_labels_as_text(kpis: pd.DataFrame, path: Path) -> None:
    """The KPI rows as parquet with text labels. The labels are categories, written as they are
    (Parquet keeps text in a dictionary of the distinct names anyway) without the Arrow schema
    that would make them categories again: readers get text, and no string is made per row
    (which cost hundreds of MiB at thousands of replications)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(kpis, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path, store_schema=False)


def _scenario_writer(scenario: Scenario) -> Writer:
    return lambda p: write_scenario_toml(scenario, p)


def _pngs_writer(makers: dict[str, Callable[[], Figure]]) -> Writer:
    """A folder of charts, one PNG per maker, drawn on every core (see ChartPainter)."""

    def write(folder: Path) -> None:
        from demandsim.report.charts import ChartPainter

        folder.mkdir()
        with ChartPainter(makers) as painter:
            for stem, png in painter.pngs().items():
                (folder / f"{stem}.png").write_bytes(png)

    return write
