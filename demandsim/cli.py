"""Command line: a thin shell over library functions that tests call directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from demandsim.batch import commands as batch
from demandsim.batch.store import ResumeError
from demandsim.batch.sweep import parse_vary
from demandsim.cli_checks import (
    MAX_JOBS,
    MAX_REPLICATIONS,
    MAX_SEED,
    BadInput,
    Main,
    OutputFolder,
    allow_outside_paths,
    allow_outside_paths_option,
    check_varies,
    check_years,
)
from demandsim.report import write_report
from demandsim.results_store import OutputExistsError
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, load_scenario

SET_HELP = (
    "Override a scenario key (in every scenario), e.g. --set workforce.agency.fill_days=3 "
    "(repeatable)."
)


@click.group(cls=Main)
@click.version_option(package_name="demandsim")
def main() -> None:
    """demandsim: children's social care demand and workforce simulation."""


def load_or_fail(
    path: str | None, overrides: tuple[str, ...], years: float | None = None
) -> Scenario:
    try:
        return load_scenario(path, overrides, years, allow_outside_paths=allow_outside_paths())
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


def default_out(scenario: Scenario, prefix: str = "") -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / "output" / f"{prefix}{scenario.name}-{stamp}"


def shared_options(command):
    """Options shared by run, compare and sweep."""
    options = [
        click.option("--years", type=float, default=None, callback=check_years,
                     help="Forecast years (default: the scenario's; at most limits.max_years)."),
        click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                     help="Replication seed (with -n: the first of N consecutive seeds)."),
        click.option("--out", type=OutputFolder(), default=None,
                     help="Results folder (default: reports/output/[KIND-]NAME-TIMESTAMP)."),
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP),
        click.option("--overwrite", is_flag=True, help="Replace an existing results folder."),
        click.option("-n", "--replications", type=click.IntRange(1, MAX_REPLICATIONS), default=None,
                     help="Replications, with seeds SEED..SEED+N-1 (default: run 1, compare 100, "
                     "sweep 20 per design point)."),
        click.option("--jobs", type=click.IntRange(1, MAX_JOBS), default=None,
                     help="Local worker processes (default: every core)."),
        click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
                     show_default=True, help="Where replications run."),
        click.option("--scheduler", metavar="tcp://HOST:8786", default=None,
                     help="Dask scheduler address, with --executor dask."),
        click.option("--resume", type=click.Path(file_okay=False), default=None, metavar="DIR",
                     help="Finish an interrupted batch in DIR: run only its missing replications."),
        click.option("--keep-replications", is_flag=True,
                     help="Keep each replication's daily series (replications/) in the folder."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return allow_outside_paths_option(command)


def run_batch(call, out: str | None, resume: str | None, default: Path, **kwargs):
    """Run a batch library call, turning expected failures into clear command-line errors."""
    if resume and out and Path(out) != Path(resume):
        raise click.ClickException("give the folder once: --resume DIR (it is the output folder)")
    folder = Path(resume or out or default)
    try:
        outcome = call(out=folder, resume=resume is not None, **kwargs)
    except OutputExistsError as exc:
        raise click.ClickException(str(exc)) from None
    except (ResumeError, ScenarioError, ValueError) as exc:  # bad input found late (a --vary key)
        raise BadInput(str(exc)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            f"interrupted; finished replications are kept in {folder}: run the same command "
            f"with --resume {folder} to complete it"
        ) from None
    click.echo(outcome.text)
    click.echo(f"\nResults written to {outcome.folder}/")


def options_for(replications: int | None, default_n: int, seed: int, **kwargs):
    return batch.BatchOptions(
        replications=default_n if replications is None else replications, first_seed=seed, **kwargs
    )


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@shared_options
def run(
    scenario: str | None,
    years: float | None,
    seed: int,
    out: str | None,
    overrides: tuple[str, ...],
    overwrite: bool,
    replications: int | None,
    resume: str | None,
    **run_options,
) -> None:
    """Run SCENARIO (default: the built-in baseline) and write its results folder: tables,
    report and workbook.

    With -n N, run N replications on all cores: per-replication KPIs, their summary with 95%
    intervals, and percentile bands of every daily and monthly series."""
    resolved = load_or_fail(scenario, overrides, years)
    run_batch(
        batch.replicate,
        out,
        resume,
        default_out(resolved),
        scenario=resolved,
        options=options_for(replications, 1, seed, **run_options),
        overwrite=overwrite,
    )


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
def report(run_dir: str) -> None:
    """Rebuild the HTML report, workbook and charts of RUN_DIR from its stored results."""
    try:
        paths = write_report(Path(run_dir))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Report written to {paths['html']}, workbook to {paths['workbook']}")


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@shared_options
def compare(
    scenarios: tuple[str, ...],
    years: float | None,
    seed: int,
    out: str | None,
    overrides: tuple[str, ...],
    overwrite: bool,
    replications: int | None,
    resume: str | None,
    **run_options,
) -> None:
    """Run every SCENARIO on the same seeds and report each KPI with the paired difference from
    the first scenario (95% CI), and the chance the backlog passes the threshold in 12 months."""
    if len(scenarios) < 2:
        raise click.UsageError("compare needs at least two scenario files")
    resolved = [load_or_fail(path, overrides, years) for path in scenarios]
    run_batch(
        batch.compare,
        out,
        resume,
        default_out(resolved[0], prefix="compare-"),
        scenarios=resolved,
        options=options_for(replications, 100, seed, **run_options),
        overwrite=overwrite,
    )


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--vary",
    "varies",
    multiple=True,
    required=True,
    callback=check_varies,
    metavar="KEY=V1,V2,...",
    help="A key and its values, e.g. --vary workforce.agency.fill_days=1,3,7,14,26 "
    "(repeatable: every combination is run).",
)
@shared_options
def sweep(
    scenario: str | None,
    varies: tuple[str, ...],
    years: float | None,
    seed: int,
    out: str | None,
    overrides: tuple[str, ...],
    overwrite: bool,
    replications: int | None,
    resume: str | None,
    **run_options,
) -> None:
    """Run the factorial design of the --vary values over SCENARIO (default: the baseline) on
    the same seeds; write a table and one curve per KPI per varied key (plots/)."""
    base = load_or_fail(scenario, overrides, years)
    try:
        parsed = [parse_vary(text) for text in varies]
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--vary") from None
    run_batch(
        batch.sweep,
        out,
        resume,
        default_out(base, prefix="sweep-"),
        base=base,
        varies=parsed,
        options=options_for(replications, 20, seed, **run_options),
        overwrite=overwrite,
    )


from demandsim.backtest import backtest  # noqa: E402
from demandsim.calibration.cli import calibrate  # noqa: E402

main.add_command(calibrate)
main.add_command(backtest)
