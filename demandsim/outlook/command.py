"""``demandsim outlook DATA_DIR``: calibrate, search "act today", run, write the results folder.

Covers: the library call :func:`outlook`. It reads and checks the council's folder, calibrates
on it (:func:`~demandsim.outlook.asof.outlook_scenario`), searches the least agency request
(:mod:`.act`) and runs the scenario as a normal batch (``demandsim run -n N``, the same seeds),
reducing the daily unallocated cube to the weekly outlook before the replications are removed.
The folder gains:

- ``outlook_weekly.csv``: per team and week, the threshold, the chance of passing it and its
  light, and the expected backlog with its 10/50/90% band;
- ``outlook_weekly_by_replication.parquet``: each replication's week (largest and mean daily
  unallocated count by team), from which the table above is recomputed;
- ``outlook_act_today.csv``: every request tried, the chance in its worst judged week, whether
  it meets the level, the answer, and its paired extra cost;
- ``outlook.json``: the settings, thresholds and first judged week; and a section of
  ``summary.txt`` and of ``report.html``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from demandsim.batch.commands import BatchOptions, Writer, replicate
from demandsim.batch.store import BatchStore
from demandsim.measures import DAILY_NAMES
from demandsim.outlook.act import Runner, Search, act_text, act_today
from demandsim.outlook.settings import (
    OutlookError,
    OutlookSettings,
    first_week_judged,
    thresholds_for,
)
from demandsim.outlook.weekly import (
    WEEK_DAYS,
    backlog_text,
    lights_text,
    weekly_by_replication,
    weekly_outlook,
)
from demandsim.results_store import spreadsheet_safe
from demandsim.scenario import Scenario

WEEKLY = "outlook_weekly.csv"
BY_REPLICATION = "outlook_weekly_by_replication.parquet"
ACT_TODAY = "outlook_act_today.csv"
SETTINGS = "outlook.json"


@dataclass
class OutlookOutcome:
    folder: Path
    text: str  # what the terminal shows
    weekly: pd.DataFrame
    by_replication: pd.DataFrame
    act_table: pd.DataFrame
    chosen: dict[str, int | None]
    scenario: Scenario


def outlook(
    data_dir: str | Path,
    out: str | Path,
    settings: OutlookSettings,
    *,
    settings_source: str = "outlook settings",
    replications: int = 100,
    first_seed: int = 0,
    jobs: int = 1,
    report: bool = True,
    overwrite: bool = False,
    colour: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> OutlookOutcome:
    """The early warning for the council in ``data_dir``, written to ``out``."""
    from demandsim.calibration.inputs import read_folder
    from demandsim.outlook.asof import outlook_scenario
    from demandsim.scenario_files import load_scenario

    say(f"checking the council's files in {data_dir}")
    data = read_folder(data_dir)
    if data.snapshot_cases is None:
        if data.episodes is None and data.ssda903 is None:
            raise OutlookError(
                f"{data_dir}: the outlook starts from the council's open cases: it needs "
                "snapshot_cases.csv, or case_episodes.csv (or ssda903/episodes.csv) to rebuild "
                "them from (docs/calibration.md)"
            )
        from demandsim.outlook.asof import as_of

        say(f"no snapshot_cases.csv: open cases rebuilt from the histories on {data.extract_date}")
        data = as_of(data, data.extract_date)
    say("calibrating to them (demand, churn, lead times, routes, durations, the snapshot)")
    scenario, _ = outlook_scenario(data, load_scenario(), settings.weeks)
    return outlook_from_scenario(
        scenario, out, settings, settings_source=settings_source, replications=replications,
        first_seed=first_seed, jobs=jobs, report=report, overwrite=overwrite, colour=colour,
        say=say,
    )  # fmt: skip


def outlook_from_scenario(
    scenario: Scenario,
    out: str | Path,
    settings: OutlookSettings,
    *,
    settings_source: str = "outlook settings",
    replications: int = 100,
    first_seed: int = 0,
    jobs: int = 1,
    report: bool = True,
    overwrite: bool = False,
    colour: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> OutlookOutcome:
    """The outlook of a scenario that starts from the council's snapshot (see :func:`outlook`)."""
    thresholds = thresholds_for(settings, scenario, settings_source)
    first_week = first_week_judged(scenario)
    seeds = tuple(range(first_seed, first_seed + replications))
    say(f"act today: searching agency requests on seeds {seeds[0]}..{seeds[-1]}")
    runner = Runner(seeds, settings.weeks, jobs)
    search = Search(scenario, thresholds, first_week, settings.level,
                    settings.act_today.most_per_team, runner, say)  # fmt: skip
    try:
        chosen, act_table = act_today(search)
    finally:
        runner.close()
    fill = scenario.workforce.agency.fill_days.mean_days
    act = act_text(act_table, chosen, settings.level, first_week, fill)
    found: dict[str, pd.DataFrame] = {}
    shown: list[str] = []

    def finishing(store: BatchStore, seeds: tuple[int, ...]) -> tuple[dict[str, Writer], str]:
        key = next(iter(store.plan["scenarios"]))
        staffed = list(thresholds)
        index = [list(scenario.teams).index(t) for t in staffed]
        cube = store.daily_block(key, seeds, 0, settings.weeks * WEEK_DAYS)
        unallocated = cube[:, :, index, DAILY_NAMES.index("unallocated_cases")]
        by_rep = weekly_by_replication(
            unallocated, list(seeds), staffed, scenario.start_date, settings.weeks
        )
        weekly = weekly_outlook(by_rep, thresholds, settings)
        found.update(weekly=weekly, by_replication=by_rep)
        text = "\n\n".join([lights_text(weekly, settings), backlog_text(weekly), act])
        shown.append(
            "\n\n".join([lights_text(weekly, settings, colour), backlog_text(weekly), act])
        )
        record = {
            "settings": settings.model_dump(mode="json"),
            "settings_source": settings_source,
            "thresholds": thresholds,
            "level": settings.level,
            "first_week_judged": first_week,
            "agency_fill_days_mean": fill,
            "snapshot_date": str(scenario.start_date),
            "act_today": chosen,
        }
        files: dict[str, Writer] = {
            WEEKLY: lambda p: spreadsheet_safe(weekly).to_csv(p, index=False, float_format="%.6g"),
            BY_REPLICATION: lambda p: by_rep.to_parquet(p, index=False),
            ACT_TODAY: lambda p: spreadsheet_safe(act_table).to_csv(
                p, index=False, float_format="%.6g"
            ),
            SETTINGS: lambda p: p.write_text(json.dumps(record, indent=2) + "\n"),
        }
        return files, f"Outlook from {scenario.start_date}\n\n{text}"

    options = BatchOptions(replications=replications, first_seed=first_seed, jobs=jobs,
                           report=report, progress=False)  # fmt: skip
    outcome = replicate(scenario, out, options, overwrite=overwrite, finishing=finishing)
    text = f"Outlook from {scenario.start_date} ({replications} replications)\n\n{shown[0]}"
    return OutlookOutcome(
        outcome.folder, text, found["weekly"], found["by_replication"], act_table, chosen, scenario
    )


def default_out(data_dir: str | Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / "output" / f"outlook-{Path(data_dir).name}-{stamp}"
