"""``demandsim neighbours``: a thin shell over :mod:`demandsim.neighbours.table` and
:mod:`demandsim.neighbours.report`."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import click

from demandsim.cli_checks import BadInput, OutputFolder


@click.command()
@click.option("--la", required=True, metavar="NAME",
              help="The council: its name, old_la_code (e.g. 383) or ONS code (E08000035).")  # fmt: skip
@click.option("--year", type=click.IntRange(1990, 2100), default=None,
              help="Year ending 31 March shown in the terminal (default: the latest in the tables).")  # fmt: skip
@click.option("--out", type=OutputFolder(), default=None,
              help="Results folder (default: reports/output/neighbours-COUNCIL-YEAR-TIMESTAMP).")  # fmt: skip
@click.option("--overwrite", is_flag=True,
              help="Replace an existing results folder this command wrote.")  # fmt: skip
def neighbours(la: str, year: int | None, out: str | None, overwrite: bool) -> None:
    """The council against its ten statistical neighbours and England, from the DfE published
    tables: referral, child protection and looked-after rates per 10,000 children, conversion and
    no-further-action shares, and caseload, vacancy, agency, turnover and absence rates, over
    every year the tables hold, with the council's rank.

    Prints the year's table and writes a folder with a tidy CSV/parquet, an HTML report (one
    chart per measure) and a workbook."""
    from demandsim.calibration.published import PublishedDataError
    from demandsim.neighbours.report import REPORT_HTML, WORKBOOK, text, write_results
    from demandsim.neighbours.table import council
    from demandsim.results_store import OutputExistsError, safe_name

    try:
        place, year = council(la, year)
        if out is None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = str(
                Path("reports", "output", safe_name(f"neighbours-{place.name}-{year}-{stamp}"))
            )
        command = shlex.join(["demandsim", "neighbours", "--la", la, "--year", str(year),
                              "--out", str(out), *(["--overwrite"] if overwrite else [])])  # fmt: skip
        folder, table = write_results(place, year, Path(out), overwrite, command)
    except (PublishedDataError, OutputExistsError) as exc:
        raise BadInput(str(exc)) from None
    click.echo(text(table, place, year))
    click.echo(f"\nResults written to {folder}/")
    click.echo(f"Report: {folder / REPORT_HTML}")
    click.echo(f"Workbook: {folder / WORKBOOK}")
