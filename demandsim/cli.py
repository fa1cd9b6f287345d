"""Command line: a thin shell over library functions that tests call directly.

Each command imports what it uses when it runs, so ``demandsim --help`` and a bad scenario
answer at once, without loading pandas, SciPy, matplotlib or Prophet.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from demandsim.cli_checks import (
    MAX_JOBS,
    MAX_REPLICATIONS,
    MAX_SEED,
    BadInput,
    Interrupted,
    Main,
    OutputFolder,
    allow_outside_paths,
    allow_outside_paths_option,
    check_varies,
    check_years,
)
from demandsim.scenario_files import ScenarioError, load_scenario

if TYPE_CHECKING:
    from demandsim.scenario import Scenario

SET_HELP = (
    "Override a scenario key (in every scenario), e.g. --set workforce.agency.fill_days=3 "
    "(repeatable)."
)


class LazyGroup(Main):
    """A group whose heavier commands are imported only when they are run (or their own
    ``--help`` is asked for); the group's ``--help`` lists them from a short description."""

    #: command name -> (module, attribute, one-line help)
    LAZY: ClassVar[dict[str, tuple[str, str, str]]] = {
        "calibrate": (
            "demandsim.calibration.cli",
            "calibrate",
            "Fit a scenario to a council's data folder, or to the DfE published tables (--la).",
        ),
        "backtest": (
            "demandsim.backtest",
            "backtest",
            "Back-test demand forecasts, or the published-statistics path (--la), out of sample.",
        ),
        "neighbours": (
            "demandsim.neighbours.cli",
            "neighbours",
            "A council against its ten statistical neighbours and England (DfE published tables).",
        ),
        "serve": (
            "demandsim.serve.cli",
            "serve",
            "Explore scenarios in the browser: change levers, run, compare (127.0.0.1).",
        ),
        "optimise": (
            "demandsim.optimise.cli",
            "optimise_command",
            "Find the cheapest plan meeting a service target; its cost-risk frontier.",
        ),
        "outlook": (
            "demandsim.outlook.cli",
            "outlook_command",
            "The early warning from a council's latest data: backlog risk by team and week.",
        ),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, attribute, _ = self.LAZY[name]
            return getattr(import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.LAZY[name][2]) if name in self.LAZY
                else (name, self.commands[name].get_short_help_str(limit=80))
                for name in self.list_commands(ctx)]  # fmt: skip
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
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
    from demandsim.results_store import safe_name

    return Path("reports") / "output" / safe_name(f"{prefix}{scenario.name}-{stamp}")


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
        click.option("--no-report", "report", is_flag=True, default=True, flag_value=False,
                     help="Write the tables only: no HTML report, workbook or charts "
                     "(demandsim report DIR builds them later)."),
        click.option("--keep-replications", is_flag=True,
                     help="Keep each replication's daily series (replications/) in the folder."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return allow_outside_paths_option(command)


def run_batch(call_name: str, out: str | None, resume: str | None, default: Path, **kwargs):
    """Run a batch library call (by its name in :mod:`demandsim.batch.commands`), turning
    expected failures into clear command-line errors."""
    from demandsim.batch import commands
    from demandsim.batch.store import ResumeError
    from demandsim.results_store import OutputExistsError

    call = getattr(commands, call_name)
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
        raise Interrupted(
            f"interrupted; finished replications are kept in {folder}: run the same command "
            f"with --resume {folder} to complete it"
        ) from None
    click.echo(outcome.text)
    click.echo(f"\nResults written to {outcome.folder}/")
    if (outcome.folder / "report.html").exists():
        click.echo(f"Report: {outcome.folder / 'report.html'}")
        click.echo(f"Workbook: {outcome.folder / 'costs_and_staffing.xlsx'}")


def options_for(replications: int | None, default_n: int, seed: int, **kwargs):
    from demandsim.batch.commands import BatchOptions

    return BatchOptions(
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
        "replicate",
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
    from demandsim.report import write_report

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
        "compare",
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
    from demandsim.batch.sweep import parse_vary

    base = load_or_fail(scenario, overrides, years)
    try:
        parsed = [parse_vary(text) for text in varies]
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--vary") from None
    run_batch(
        "sweep",
        out,
        resume,
        default_out(base, prefix="sweep-"),
        base=base,
        varies=parsed,
        options=options_for(replications, 20, seed, **run_options),
        overwrite=overwrite,
    )
