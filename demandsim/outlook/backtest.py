"""The back-test of the warning: issued at many past dates from the data known then, scored
against what the backlog really did.

Covers: for each issue date, the council's data cut back to that date
(:func:`~demandsim.outlook.asof.as_of`: no row, end date, next stage or fill date after it is
read), calibrated on it (Prophet included) and run forward ``weeks`` weeks on the same seeds;
the warning (a red week anywhere ahead) and the chance in each week are scored against the true
daily unallocated series (for the demo, ``calibration/demo_truth/unallocated_daily.csv``,
written by ``calibration/make_demo.py``).

Scores, per team: a *real rise* is the true backlog at or under the threshold on the issue date
and above it on some day of the weeks ahead; a *hit* is a warning before a real rise, a *miss*
a real rise with no warning, a *false alarm* a warning with no rise (and the backlog not already
over the threshold). Each week's chance is scored by the Brier score against what happened,
next to the naive forecast (persistence: the chance is 1 if the backlog is over the threshold
on the issue date, else 0), and the band by how often the true weekly mean falls inside the
10-90% band (it should be about 80%).

Assumptions: the truth's teams are the teams scored (the demo's truth has no front door);
thresholds, lights and the weeks ahead are the outlook's own settings, fixed before the
back-test, never chosen from its results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from demandsim.batch.aggregate import quantiles
from demandsim.outlook.act import Runner
from demandsim.outlook.settings import OutlookError, OutlookSettings, thresholds_for
from demandsim.outlook.weekly import WEEK_DAYS
from demandsim.results_store import atomic_dir, manifest, spreadsheet_safe, write_json

#: Prophet's seasonal fit (and the calibration's input check) need two years of demand
MIN_HISTORY_DAYS = 731
TRUTH_COLUMNS = ("date", "team", "unallocated_cases")


@dataclass
class BacktestOutcome:
    folder: Path
    text: str
    by_date: pd.DataFrame
    weekly: pd.DataFrame
    scores: pd.DataFrame


def read_truth(path: str | Path) -> pd.DataFrame:
    """The true daily unallocated cases: ``date, team, unallocated_cases`` (more columns allowed)."""
    try:
        truth = pd.read_csv(path, parse_dates=["date"])
    except (ValueError, OSError) as exc:
        raise OutlookError(
            f"{path}: cannot read the truth as CSV with a date column ({exc})"
        ) from None
    missing = [c for c in TRUTH_COLUMNS if c not in truth]
    if missing:
        raise OutlookError(f"{path}: {', '.join(missing)}: required column missing; expected "
                           f"{', '.join(TRUTH_COLUMNS)}")  # fmt: skip
    return truth[list(TRUTH_COLUMNS)]


def issue_dates(
    data_start: dt.date, data_end: dt.date, truth_end: dt.date, weeks: int, every_weeks: int,
    first: dt.date | None = None,
) -> list[dt.date]:  # fmt: skip
    """Issue dates ``every_weeks`` apart, from ``first`` (default: two years into the demand
    data) to the last date whose weeks ahead the truth covers and the data reach."""
    start = first or data_start + dt.timedelta(days=MIN_HISTORY_DAYS)
    last = min(data_end, truth_end - dt.timedelta(days=weeks * WEEK_DAYS - 1))
    out, day = [], start
    while day <= last:
        out.append(day)
        day += dt.timedelta(weeks=every_weeks)
    return out


def warning_at(
    data, day: dt.date, baseline, settings: OutlookSettings, source: str, runner: Runner,
    teams: list[str],
) -> tuple[pd.DataFrame, dict[str, int]]:  # fmt: skip
    """The warning issued on ``day`` from ``data`` (cut back to it here): per team and week, the
    chance over the threshold, and the backlog's mean and 10-90% band."""
    from demandsim.outlook.asof import as_of, outlook_scenario

    scenario, _ = outlook_scenario(as_of(data, day), baseline, settings.weeks)
    thresholds = thresholds_for(settings, scenario, source)
    judged = runner.run(scenario)
    names = list(scenario.teams)
    rows = []
    for team in teams:
        i = names.index(team)
        most = np.stack([j.weekly_max[:, i] for j in judged])  # (seeds, weeks)
        mean = np.stack([j.weekly_mean[:, i] for j in judged])
        band = quantiles(mean, (0.10, 0.90))
        for w in range(settings.weeks):
            rows.append({
                "issue_date": day, "team": team, "week": w + 1,
                "threshold_cases": thresholds[team],
                "chance_over_threshold": float((most[:, w] > thresholds[team]).mean()),
                "mean_unallocated": float(mean[:, w].mean()),
                "p10_unallocated": float(band[0, w]), "p90_unallocated": float(band[1, w]),
            })  # fmt: skip
    return pd.DataFrame(rows), thresholds


def score_weeks(
    forecast: pd.DataFrame, truth: pd.DataFrame, settings: OutlookSettings
) -> pd.DataFrame:
    """Each forecast week beside what happened: the truth's largest and mean daily count in the
    week, whether it was over the threshold, the light, and persistence's chance."""
    daily = truth.set_index(["team", "date"])["unallocated_cases"]
    out = forecast.copy()
    most, mean, at_issue = [], [], []
    for row in out.itertuples():
        first = pd.Timestamp(row.issue_date) + pd.Timedelta(days=7 * (row.week - 1))
        days = pd.date_range(first, periods=WEEK_DAYS, freq="D")
        values = daily.loc[row.team].reindex(days)
        if values.isna().any():
            raise OutlookError(f"the truth has no value for {row.team} on some day of the week "
                               f"from {first.date()}")  # fmt: skip
        most.append(float(values.max()))
        mean.append(float(values.mean()))
        at_issue.append(float(daily.loc[(row.team, pd.Timestamp(row.issue_date))]))
    out["truth_max"] = most
    out["truth_mean"] = mean
    out["truth_over"] = out["truth_max"] > out["threshold_cases"]
    out["over_at_issue"] = np.array(at_issue) > out["threshold_cases"]
    out["light"] = out["chance_over_threshold"].map(settings.light)
    out["persistence_chance"] = out["over_at_issue"].astype(float)
    out["in_band"] = (out["truth_mean"] >= out["p10_unallocated"]) & (
        out["truth_mean"] <= out["p90_unallocated"]
    )
    return out


def by_issue_date(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per issue date and team: warned (a red week), rose (really passed the threshold after
    being at or under it on the issue date), and the outcome."""
    rows = []
    for (day, team), g in weekly.groupby(["issue_date", "team"], sort=False):
        warned = bool((g["light"] == "red").any())
        over_now = bool(g["over_at_issue"].iloc[0])
        rose = bool(g["truth_over"].any()) and not over_now
        red = g.loc[g["light"] == "red", "week"]
        over = g.loc[g["truth_over"], "week"]
        outcome = ("already over" if over_now else "hit" if warned and rose else
                   "miss" if rose else "false alarm" if warned else "quiet")  # fmt: skip
        rows.append({
            "issue_date": day, "team": team, "threshold_cases": int(g["threshold_cases"].iloc[0]),
            "worst_chance": float(g["chance_over_threshold"].max()), "warned": warned,
            "first_red_week": int(red.min()) if len(red) else None,
            "over_at_issue": over_now, "rose": rose,
            "first_week_over": int(over.min()) if len(over) else None,
            "truth_max": float(g["truth_max"].max()), "outcome": outcome,
        })  # fmt: skip
    return pd.DataFrame(rows)


def scores(weekly: pd.DataFrame, dates: pd.DataFrame) -> pd.DataFrame:
    """Per team and for all teams: the outcomes' counts, the Brier score of the weekly chances
    and of persistence, and the band's coverage."""
    rows = []
    for team, g in [*weekly.groupby("team", sort=False), ("all", weekly)]:
        d = dates if team == "all" else dates[dates["team"] == team]
        counts = d["outcome"].value_counts()
        truth = g["truth_over"].astype(float)
        rows.append({
            "team": team, "issue_dates": len(d), "real_rises": int(d["rose"].sum()),
            "hits": int(counts.get("hit", 0)), "misses": int(counts.get("miss", 0)),
            "false_alarms": int(counts.get("false alarm", 0)),
            "quiet": int(counts.get("quiet", 0)),
            "already_over": int(counts.get("already over", 0)),
            "weeks_scored": len(g), "weeks_over": int(truth.sum()),
            "brier": float(((g["chance_over_threshold"] - truth) ** 2).mean()),
            "brier_persistence": float(((g["persistence_chance"] - truth) ** 2).mean()),
            "band_coverage": float(g["in_band"].mean()),
        })  # fmt: skip
    return pd.DataFrame(rows)


def scores_text(
    table: pd.DataFrame, dates: list[dt.date], settings: OutlookSettings, n: int
) -> str:
    lines = [
        f"Back-test of the warning: {len(dates)} issue dates from {dates[0]} to {dates[-1]}, "
        f"{settings.weeks} weeks ahead, {n} replications each; warned = a red week "
        f"(chance {settings.lights.red_from:.0%} or more)",
        "",
        f"{'team':<12}{'rises':>7}{'hits':>6}{'misses':>8}{'false':>7}{'quiet':>7}"
        f"{'over':>6}{'Brier':>8}{'naive':>8}{'band':>7}",
    ]
    for r in table.itertuples():
        lines.append(
            f"{r.team:<12}{r.real_rises:>7}{r.hits:>6}{r.misses:>8}{r.false_alarms:>7}"
            f"{r.quiet:>7}{r.already_over:>6}{r.brier:>8.3f}{r.brier_persistence:>8.3f}"
            f"{r.band_coverage:>7.0%}"
        )
    lines += [
        "",
        "rises: the true backlog passed the threshold within the weeks ahead after being under "
        "it on the issue date; false: a warning with no rise; over: already over on the issue "
        "date; Brier: of the weekly chances (naive: persistence); band: weeks whose true mean "
        "is inside the 10-90% band (80% is right)",
    ]
    return "\n".join(lines)


def backtest(
    data_dir: str | Path,
    truth_path: str | Path,
    out: str | Path,
    settings: OutlookSettings,
    *,
    settings_source: str = "outlook settings",
    every_weeks: int = 4,
    first: dt.date | None = None,
    replications: int = 40,
    first_seed: int = 0,
    jobs: int = 1,
    overwrite: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> BacktestOutcome:
    """Issue the warning at past dates of ``data_dir`` and score it against the truth."""
    from demandsim.calibration.inputs import read_folder
    from demandsim.scenario_files import load_scenario

    started = dt.datetime.now(dt.UTC)
    truth = read_truth(truth_path)
    data = read_folder(data_dir)
    if data.demand is None:
        raise OutlookError(f"{data_dir}: the back-test needs demand.csv (for the calibration)")
    dates = issue_dates(
        data.demand["date"].min().date(), data.extract_date, truth["date"].max().date(),
        settings.weeks, every_weeks, first,
    )  # fmt: skip
    if not dates:
        raise OutlookError(
            f"--from: no issue date between it and the end of the data ({data.extract_date}) "
            f"with {settings.weeks} weeks of truth after it"
        )
    teams = list(dict.fromkeys(truth["team"]))
    baseline = load_scenario()
    seeds = tuple(range(first_seed, first_seed + replications))
    frames = []
    with Runner(seeds, settings.weeks, jobs) as runner:
        for i, day in enumerate(dates, 1):
            say(f"issue date {day} ({i} of {len(dates)}): data as of then, calibrate, run")
            forecast, _ = warning_at(data, day, baseline, settings, settings_source, runner, teams)
            frames.append(forecast)
    weekly = score_weeks(pd.concat(frames, ignore_index=True), truth, settings)
    dated = by_issue_date(weekly)
    table = scores(weekly, dated)
    text = scores_text(table, dates, settings, replications)
    record = manifest([], list(seeds), started, kind="outlook-backtest",
                      settings=settings.model_dump(mode="json"), truth=str(truth_path),
                      data_dir=str(data_dir), issue_dates=[str(d) for d in dates])  # fmt: skip
    with atomic_dir(out, overwrite=overwrite) as tmp:
        spreadsheet_safe(weekly).to_csv(tmp / "outlook_backtest_weekly.csv", index=False,
                                        float_format="%.6g")  # fmt: skip
        spreadsheet_safe(dated).to_csv(tmp / "outlook_backtest_by_date.csv", index=False)
        spreadsheet_safe(table).to_csv(tmp / "outlook_backtest_scores.csv", index=False,
                                       float_format="%.6g")  # fmt: skip
        (tmp / "summary.txt").write_text(text + "\n")
        write_json(record, tmp / "manifest.json")
    return BacktestOutcome(Path(out), text, dated, weekly, table)
