"""Command line: a thin shell over library functions that tests call directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from demandsim.results_store import (
    OutputExistsError,
    atomic_dir,
    manifest,
    write_json,
    write_scenario_toml,
)
from demandsim.run import RunResult, run_replication
from demandsim.scenario import Scenario
from demandsim.scenario_files import DEFAULT_SCENARIO, ScenarioError, load_scenario

SET_HELP = "Override a scenario key, e.g. --set workforce.agency.fill_days=3 (repeatable)."


@click.group()
@click.version_option(package_name="demandsim")
def main() -> None:
    """demandsim: children's social care demand and workforce simulation."""


def load_or_fail(
    path: str | None, overrides: tuple[str, ...], years: float | None = None
) -> Scenario:
    extra = [f"years={years}"] if years is not None else []
    try:
        return load_scenario(path, [*overrides, *extra])
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


def default_out(scenario: Scenario) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / "output" / f"{scenario.name}-{stamp}"


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--years", type=float, default=None, help="Forecast years (default: the scenario's).")
@click.option("--seed", type=int, default=0, show_default=True, help="Replication seed.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Results folder (default: reports/output/NAME-TIMESTAMP).")  # fmt: skip
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--overwrite", is_flag=True, help="Replace an existing results folder.")
def run(
    scenario: str | None,
    years: float | None,
    seed: int,
    out: str | None,
    overrides: tuple[str, ...],
    overwrite: bool,
) -> None:
    """Run SCENARIO (default: the built-in baseline) and write tidy results to --out."""
    started = dt.datetime.now(dt.UTC)
    resolved = load_or_fail(scenario, overrides, years)
    result = run_replication(resolved, seed)
    destination = Path(out) if out else default_out(resolved)
    try:
        with atomic_dir(destination, overwrite=overwrite) as tmp:
            write_run(result, tmp)
            write_scenario_toml(resolved, tmp / "scenario.toml")
            write_json(
                manifest(
                    [resolved], [seed], started, scenario_file=str(scenario or DEFAULT_SCENARIO)
                ),
                tmp / "manifest.json",
            )
    except OutputExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(format_summary(result, resolved))
    click.echo(f"\nResults written to {destination}/")


def write_run(result: RunResult, folder: Path) -> None:
    result.daily.to_csv(folder / "daily_teams.csv", index=False, float_format="%.4g")
    result.flows.to_csv(folder / "monthly_flows.csv", index=False)
    result.tallies.to_csv(folder / "monthly_tallies.csv", index=False, float_format="%.4g")
    result.summary.to_csv(folder / "summary.csv", index=False, float_format="%.4g")


def format_summary(result: RunResult, scenario: Scenario) -> str:
    table = result.summary.set_index("team")
    shown = pd.DataFrame(
        {
            "posts": table["posts"],
            "in post": table["staff_in_post_mean"].round(1),
            "agency %": (100 * table["agency_share_mean"]).round(0),
            "vacant": table["vacant_posts_mean"].round(1),
            "open cases": table["open_cases_mean"].round(0),
            "caseload": table["caseload_per_worker_mean"].round(1),
            "unalloc mean": table["unallocated_mean"].round(1),
            "unalloc peak": table["unallocated_peak"].round(0),
            f"days >{scenario.backlog_threshold_cases}": table["days_unallocated_above_threshold"],
        }
    )
    attrs = result.summary.attrs
    first = result.daily["date"].min().date()
    last = result.daily["date"].max().date()
    lines = [
        f"Scenario {scenario.name!r}, seed {result.seed}: {first} to {last} "
        f"(daily means over the forecast; warm-up of {scenario.warmup_days} days excluded)",
        "",
        shown.to_string(na_rep="-"),
        "",
        f"Referrals: {attrs['referrals']:,}   mean days from referral to allocation: "
        f"{attrs['mean_days_referral_to_allocation']:.1f}   assessments within 45 working days: "
        f"{100 * attrs['assessed_within_45_working_days_share']:.0f}%",
    ]
    return "\n".join(lines)


from demandsim.backtest import backtest  # noqa: E402
from demandsim.calibration.cli import calibrate  # noqa: E402

main.add_command(calibrate)
main.add_command(backtest)
