"""The ``demandsim outlook`` command: a thin shell over :mod:`.command` and :mod:`.backtest`.

It imports only the settings' checks at load time, so ``--help`` and a bad option answer at
once; the error form is the CLI's (``Error: SOURCE: KEY: ...``, exit code 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from demandsim.cli_checks import MAX_JOBS, MAX_SEED, BadInput, Interrupted, OutputFolder
from demandsim.outlook.settings import OutlookError, load_settings, parse_threshold


@click.command("outlook")
@click.argument("data_dir", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("--la", default=None, metavar="NAME",
              help="Instead of DATA_DIR: a council of the DfE published tables (name or code), "
              "started from its stocks at 31 March as demandsim calibrate --la builds it.")  # fmt: skip
@click.option("--year", type=click.IntRange(1990, 2100), default=None,
              help="With --la: year ending 31 March of the published figures (default: latest).")  # fmt: skip
@click.option("--settings", "settings_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of thresholds, lights and the act-today level (docs/outlook.md).")  # fmt: skip
@click.option("--weeks", type=int, default=None,
              help="Weeks ahead, 4 to 26 (default: the settings file's, else 26).")  # fmt: skip
@click.option("--threshold", "thresholds", multiple=True, metavar="TEAM=CASES",
              help="A team's threshold of unallocated cases (repeatable; over the file's).")  # fmt: skip
@click.option("--level", type=float, default=None,
              help="Act today keeps the chance below this, 0 to 1 (default: the red light's).")  # fmt: skip
@click.option("-n", "--replications", type=click.IntRange(2, 10_000), default=100,
              show_default=True, help="Replications (the same seeds for every request tried).")  # fmt: skip
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="First seed.")  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, MAX_JOBS), default=None,
              help="Local worker processes (default: every core).")  # fmt: skip
@click.option("--backtest", "truth", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Back-test the warning at past dates against this daily truth CSV "
              "(calibration/demo_truth/unallocated_daily.csv) instead of warning from today.")  # fmt: skip
@click.option("--every", type=click.IntRange(1, 52), default=4, show_default=True,
              help="With --backtest: weeks between issue dates.")  # fmt: skip
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --backtest: the first issue date (default: two years into the demand data).")  # fmt: skip
@click.option("--out", type=OutputFolder(), default=None,
              help="Results folder (default: reports/output/outlook-DATA-TIMESTAMP).")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing results folder.")
@click.option("--no-report", "report", is_flag=True, default=True, flag_value=False,
              help="Write the tables only: no HTML report, workbook or charts.")  # fmt: skip
def outlook_command(
    data_dir, la, year, settings_file, weeks, thresholds, level, replications, seed, jobs, truth, every,
    first, out, overwrite, report,
):  # fmt: skip
    """The early warning from a council's latest data in DATA_DIR (the formats of
    docs/calibration.md), or from the DfE published tables with --la NAME: the chance each
    team's unallocated cases pass its threshold in each of the next weeks, the expected backlog
    with its band, and the least agency request today that keeps the chance below a level, with
    its cost."""
    if (data_dir is None) == (la is None):
        got = "neither" if la is None else f"both ({data_dir} and --la {la!r})"
        raise BadInput(
            "DATA_DIR or --la: expected one of them, a council's data folder or a council of "
            f"the DfE published tables; got {got}"
        )
    if la is None and year is not None:
        raise BadInput(f"--year: only with --la (the published tables' year); got --year {year}")
    if la is not None and truth is not None:
        raise BadInput(
            "--backtest: expected a council's data folder (DATA_DIR) to cut back to past dates; "
            "the published tables have no daily history to issue the warning from"
        )
    # where the thresholds came from, for messages and outlook.json
    source = settings_file or ("--threshold" if thresholds else "the defaults (no --settings)")
    try:
        settings = load_settings(
            settings_file, weeks=weeks, level=level,
            thresholds=dict(parse_threshold(t) for t in thresholds),
        )  # fmt: skip
        if settings.thresholds:  # every council's scenario has the baseline's teams
            from demandsim.outlook.settings import thresholds_for
            from demandsim.scenario_files import load_scenario

            thresholds_for(settings, load_scenario(), source)
    except OutlookError as exc:
        raise BadInput(str(exc)) from None
    from demandsim.batch.replicate import available_cores
    from demandsim.calibration.inputs import InputError
    from demandsim.calibration.published import PublishedDataError
    from demandsim.outlook.command import default_out
    from demandsim.results_store import OutputExistsError

    out = out or default_out(data_dir or la)
    jobs = jobs or available_cores()

    def say(text: str) -> None:
        click.echo(f"demandsim: {text}", err=True)

    try:
        if truth is not None:
            from demandsim.outlook.backtest import backtest

            result = backtest(
                data_dir, truth, out, settings, settings_source=source, every_weeks=every,
                first=first.date() if first else None, replications=replications,
                first_seed=seed, jobs=jobs, overwrite=overwrite, say=say,
            )  # fmt: skip
        elif la is not None:
            from demandsim.outlook.command import outlook_published

            result = outlook_published(
                la, year, out, settings, settings_source=source, replications=replications,
                first_seed=seed, jobs=jobs, report=report, overwrite=overwrite,
                colour=sys.stdout.isatty(), say=say,
            )  # fmt: skip
        else:
            from demandsim.outlook.command import outlook

            result = outlook(
                data_dir, out, settings, settings_source=source, replications=replications,
                first_seed=seed, jobs=jobs, report=report, overwrite=overwrite,
                colour=sys.stdout.isatty(), say=say,
            )  # fmt: skip
    except (OutlookError, InputError, PublishedDataError, OutputExistsError) as exc:
        raise BadInput(str(exc)) from None
    except KeyboardInterrupt:
        if Path(out).exists():  # an outlook cannot resume: say how to start it again
            raise Interrupted(
                f"interrupted; {out} is marked INCOMPLETE: run the same command with --overwrite "
                "to start it again"
            ) from None
        raise
    click.echo(result.text)
    click.echo(f"\nResults written to {result.folder}/")
    if (result.folder / "report.html").exists():
        click.echo(f"Report: {result.folder / 'report.html'}")
