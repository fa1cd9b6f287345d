"""``demandsim outlook DATA_DIR``: calibrate, search "act today", run, write the results folder.

Covers: the library call :func:`outlook`. It reads and checks the council's folder, calibrates
on it (:func:`~demandsim.outlook.asof.outlook_scenario`), searches the least agency request
(:mod:`.act`) and runs the scenario as a normal batch (``demandsim run -n N``), reducing the
daily unallocated cube to the weekly outlook before the replications are removed. The batch's
replications are also the search's staffing as things stand (the same seeds): they run once.
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
from typing import Any

import pandas as pd

from demandsim.batch.commands import BatchOptions, Writer, replicate
from demandsim.batch.store import BatchStore
from demandsim.measures import DAILY_NAMES
from demandsim.outlook.act import Runner, Search, act_text, act_today, judged
from demandsim.outlook.settings import (
    OutlookError,
    OutlookSettings,
    first_week_judged,
    thresholds_for,
)
from demandsim.outlook.weekly import (
    WEEK_DAYS,
    backlog_text,
    fill_text,
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


#: what an outlook from a council's own data folder starts from
FROM_SNAPSHOT = "the council's snapshot of open cases and staff"


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


def published_limits(la_name: str, year: int, fill_days: float) -> list[str]:
    """What an outlook from the DfE published tables cannot know, said in its output."""
    return [
        f"Started from the DfE published tables for {la_name} (year ending 31 March {year}), "
        f"not from the council's own data: the outlook runs from 1 April {year}, not today.",
        "Open cases are the published stocks at 31 March; the tables do not say how many were "
        "waiting unallocated, so each is allocated on day one as far as the team has room.",
        "Staff are the calibration's sizing of each team from the published FTE, vacancy and "
        "agency rates (see demandsim calibrate --la), not the workers in post with their "
        "caseloads and start dates.",
        f"The agency fill time ({fill_days:.0f} days on average) and the pattern of demand "
        "through the year are the baseline's, not the council's: a council's own vacancy log "
        "and demand series (a data folder) give its own.",
    ]


def outlook_published(
    la: str,
    year: int | None,
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
    """The early warning for a council of the DfE published tables: the scenario ``demandsim
    calibrate --la LA --year YEAR`` builds (stocks at 31 March, teams sized from the published
    workforce), run from 1 April for the weeks ahead. Thresholds are checked against it before
    anything runs; :func:`published_limits` says what it cannot know."""
    from demandsim.calibration.published import calibrate_published, find_council, latest_year
    from demandsim.outlook.asof import forecast_scenario
    from demandsim.scenario_files import load_scenario

    year = year or latest_year()
    say(f"calibrating to the DfE published tables for {la}, year ending 31 March {year}")
    cal = calibrate_published(la, year, load_scenario())
    _, la_name = find_council(la, year)
    description = (
        f"Calibrated to the DfE published tables for {la_name}, year ending 31 March {year}."
    )
    scenario = forecast_scenario(cal.parameters, description, settings.weeks)
    fill = scenario.workforce.agency.fill_days.mean_days
    return outlook_from_scenario(
        scenario, out, settings, settings_source=settings_source, replications=replications,
        first_seed=first_seed, jobs=jobs, report=report, overwrite=overwrite, colour=colour,
        say=say, starts_from=f"the DfE published stocks at 31 March {year} for {la_name}",
        limits=published_limits(la_name, year, fill),
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
    starts_from: str = FROM_SNAPSHOT,
    limits: list[str] | None = None,
) -> OutlookOutcome:
    """The outlook of a scenario that starts from the council's snapshot (see :func:`outlook`),
    or from what ``starts_from`` says, with the ``limits`` of that start shown in its output."""
    thresholds = thresholds_for(settings, scenario, settings_source)
    first_week = first_week_judged(scenario)
    fill = scenario.workforce.agency.fill_days.mean_days
    caveat = (
        "\n".join(["What this outlook cannot know:", *(f"- {x}" for x in limits)]) if limits else ""
    )
    factors = {t: spec.vacancy_fill_factor for t, spec in scenario.teams.items() if t in thresholds}
    filling = fill_text(factors)
    found: dict[str, Any] = {}
    shown: list[str] = []

    def finishing(
        store: BatchStore, seeds: tuple[int, ...], kpis: pd.DataFrame
    ) -> tuple[dict[str, Writer], str]:
        key = next(iter(store.plan["scenarios"]))
        staffed = list(thresholds)
        index = [list(scenario.teams).index(t) for t in staffed]
        cube = store.daily_block(key, seeds, 0, settings.weeks * WEEK_DAYS)
        # the batch's replications are the search's "as things stand", on the same seeds
        by_seed = dict(iter(kpis.groupby("replication", observed=True)))
        teams = len(scenario.teams)
        today = [judged(s, cube[i], by_seed[s], teams, settings.weeks) for i, s in enumerate(seeds)]
        say(f"act today: searching agency requests on seeds {seeds[0]}..{seeds[-1]}")
        with Runner(seeds, settings.weeks, jobs) as runner:
            search = Search(scenario, thresholds, first_week, settings.level,
                            settings.act_today.most_per_team, runner, say)  # fmt: skip
            chosen, act_table = act_today(search, today)
        act = act_text(act_table, chosen, settings.level, first_week, fill, settings.weeks)
        found.update(act_table=act_table, chosen=chosen)
        unallocated = cube[:, :, index, DAILY_NAMES.index("unallocated_cases")]
        by_rep = weekly_by_replication(
            unallocated, list(seeds), staffed, scenario.start_date, settings.weeks
        )
        weekly = weekly_outlook(by_rep, thresholds, settings)
        found.update(weekly=weekly, by_replication=by_rep)
        tail = [backlog_text(weekly), act, filling, caveat]
        text = "\n\n".join(filter(None, [lights_text(weekly, settings), *tail]))
        shown.append("\n\n".join(filter(None, [lights_text(weekly, settings, colour), *tail])))
        record = {
            "settings": settings.model_dump(mode="json"),
            "settings_source": settings_source,
            "thresholds": thresholds,
            "level": settings.level,
            "first_week_judged": first_week,
            "agency_fill_days_mean": fill,
            "vacancy_fill_factors": factors,
            "snapshot_date": str(scenario.start_date),
            "starts_from": starts_from,
            "limits": limits or [],
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
    return OutlookOutcome(outcome.folder, text, found["weekly"], found["by_replication"],
                          found["act_table"], found["chosen"], scenario)  # fmt: skip


def default_out(source: str | Path) -> Path:
    """``reports/output/outlook-NAME-TIMESTAMP``: NAME the data folder's, or the council's."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = Path(source).name.replace(" ", "-")
    return Path("reports") / "output" / f"outlook-{name}-{stamp}"
