"""The ``demandsim optimise`` command: a thin shell over :func:`.command.optimise`.

It imports only the target file's checks at load time, so ``--help`` and a bad target file answer
at once, before pandas, SciPy, matplotlib or Optuna are loaded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from demandsim.cli_checks import MAX_JOBS, MAX_SEED, BadInput, OutputFolder
from demandsim.optimise.target import TargetError, load_target


@click.command("optimise")
@click.argument("target_file", type=click.Path(dir_okay=False))
@click.option(
    "--years",
    type=float,
    default=None,
    help="Forecast years (default: the file's, else the scenario's).",
)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(2, 1000),
    default=None,
    help="Search replications per plan (default: search.replications).",
)
@click.option(
    "--confirm",
    type=click.IntRange(2, 10_000),
    default=None,
    help="Fresh-seed replications confirming the chosen plan (default: search.confirm_replications).",
)
@click.option(
    "--max-plans",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Most plans to evaluate (default: search.max_plans).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=None,
    help="First search seed (default: search.first_seed); the confirmation's follow the search's.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, MAX_JOBS),
    default=None,
    help="Local worker processes (default: every core).",
)
@click.option(
    "--out",
    type=OutputFolder(),
    default=None,
    help="Results folder (default: reports/output/optimise-NAME-TIMESTAMP).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing results folder.")
@click.option(
    "--no-report",
    "report",
    is_flag=True,
    default=True,
    flag_value=False,
    help="Write the tables only: no HTML report, workbook or charts.",
)
def optimise_command(
    target_file, years, replications, confirm, max_plans, seed, jobs, out, overwrite, report
):
    """Find the cheapest plan (posts, caseload caps, agency policy, a premium agency contract)
    that meets the service target in TARGET_FILE; confirm it on fresh seeds and write the
    comparison of today and the plan, with the plan table and the cost-risk frontier."""
    try:
        spec, base = load_target(target_file, years)
    except TargetError as exc:
        raise BadInput(str(exc)) from None
    if seed is not None:
        spec = spec.model_copy(
            update={"search": spec.search.model_copy(update={"first_seed": seed})}
        )
    from demandsim.batch.replicate import available_cores
    from demandsim.optimise.command import optimise
    from demandsim.results_store import OutputExistsError, safe_name

    jobs = jobs or available_cores()

    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("reports") / "output" / f"optimise-{safe_name(spec.name)}-{stamp}"

    def say(text: str) -> None:
        click.echo(f"demandsim: {text}", err=True)

    try:
        outcome = optimise(
            spec, base, out, jobs=jobs, replications=replications, confirm=confirm,
            max_plans=max_plans, report=report, overwrite=overwrite, say=say,
        )  # fmt: skip
    except OutputExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(outcome.text)
    if outcome.folder is None:
        raise click.ClickException("no plan met the target")
    click.echo(f"\nResults written to {outcome.folder}/")
    if (outcome.folder / "report.html").exists():
        click.echo(f"Report: {outcome.folder / 'report.html'}")
