"""``demandsim calibrate``: a thin shell over the calibration library."""

from __future__ import annotations

from pathlib import Path

import click

from demandsim.cli_checks import MAX_SAMPLES, MAX_SEED, BadInput, OutputFolder
from demandsim.results_store import OutputExistsError
from demandsim.scenario_files import ScenarioError, load_scenario


@click.command()
@click.argument("data_dir", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("--out", type=OutputFolder(), required=True,
              help="Folder for the fitted parameters, scenario and report.")  # fmt: skip
@click.option(
    "--la", default=None, help="Calibrate from the DfE published tables for this council."
)
@click.option("--year", type=click.IntRange(1990, 2100), default=None,
              help="With --la: year ending 31 March of the published figures (default: latest).")  # fmt: skip
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed for Prophet's predictive samples.")  # fmt: skip
@click.option("--samples", type=click.IntRange(1, MAX_SAMPLES), default=200, show_default=True,
              help="Predictive sample paths of demand to write.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
def calibrate(
    data_dir: str | None,
    out: str,
    la: str | None,
    year: int | None,
    seed: int,
    samples: int,
    overwrite: bool,
) -> None:
    """Fit a scenario to a council's DATA_DIR, or to the DfE published tables with --la."""
    from demandsim.calibration import published
    from demandsim.calibration.council import calibrate_council
    from demandsim.calibration.inputs import InputError, read_folder
    from demandsim.calibration.outputs import write_calibration

    if (data_dir is None) == (la is None):
        raise click.UsageError("give either DATA_DIR or --la NAME")

    def say(text: str) -> None:  # what a long calibration is doing, on standard error
        click.echo(f"demandsim: {text}", err=True)

    baseline = load_scenario()
    try:
        if la is not None:
            say(f"calibrating to the DfE published tables for {la}")
            cal = published.calibrate_published(la, year, baseline)
            title = cal.notes[0].removeprefix("Council: ")
        else:
            say(f"checking the council's files in {data_dir}")
            data = read_folder(data_dir)
            say("fitting demand (Prophet), churn, lead times, routes and durations")
            cal = calibrate_council(data, baseline, seed=seed, samples=samples)
            title = f"council data in {data_dir}"
        say("writing the parameters, the scenario and the calibration report")
        scenario = write_calibration(
            cal, out, title, overwrite=overwrite,
            provenance={"data_dir": data_dir, "la": la, "year": year, "seed": seed},
        )  # fmt: skip
    except (InputError, published.PublishedDataError, ScenarioError, OutputExistsError) as exc:
        raise BadInput(str(exc)) from None
    for note in cal.notes:
        click.echo(f"- {note}")
    click.echo(f"\nWrote {Path(out)}/ ; run it with: demandsim run {scenario}")
