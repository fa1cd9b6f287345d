"""`demandsim run`: the planner's table, the one results-folder layout with provenance, and
nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim import cli
from tests.imports import heavy_modules_loaded

ARGS = ["--years", "0.2", "--set", "warmup_days=20", "--seed", "4"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "baseline"
    result = CliRunner().invoke(cli.main, ["run", *ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_prints_the_planners_table(finished_run):
    _, output = finished_run
    for team in ("Front door", "Assessment", "Child in need", "Children in care", "Leaving care",
                 "All social work teams"):  # fmt: skip
        assert team in output
    assert "unallocated cases, peak" in output and "assessments within 45 working days" in output
    assert "1 replication (seed 4)" in output


def test_writes_tidy_files_and_provenance(finished_run):
    out, _ = finished_run
    names = {p.name for p in out.iterdir()}
    assert {"kpis_by_replication.parquet", "kpi_summary.csv", "daily_bands.parquet",
            "monthly_bands.csv", "budget_by_financial_year.csv", "report.html",
            "costs_and_staffing.xlsx", "manifest.json", "scenarios"} <= names  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == [4] and manifest["kind"] == "run"
    assert manifest["scenarios"]["baseline"]["warmup_days"] == 20
    assert manifest["demandsim_version"] and manifest["started"] <= manifest["finished"]
    daily = pd.read_parquet(out / "daily_bands.parquet")
    assert daily["date"].min() == pd.Timestamp("2026-04-01")  # the warm-up is not reported


def test_outputs_hold_no_case_or_worker_identifiers(finished_run):
    out, _ = finished_run
    tables = [*out.glob("*.csv"), *out.glob("*.parquet")]
    assert len(tables) >= 8
    for table in tables:
        frame = pd.read_csv(table, nrows=1) if table.suffix == ".csv" else pd.read_parquet(table)
        columns = set(frame.columns)
        assert not columns & {"case", "worker", "case_id", "worker_id", "child"}, table.name


def test_resolved_scenario_reloads_to_the_same_scenario(finished_run):
    from demandsim.scenario_files import load_scenario

    out, _ = finished_run
    again = load_scenario(out / "scenarios" / "baseline.toml")
    original = load_scenario(None, ["years=0.2", "warmup_days=20"])
    assert again.model_dump(exclude={"source_dir"}) == original.model_dump(exclude={"source_dir"})


def test_refuses_to_overwrite_without_asking(finished_run):
    out, _ = finished_run
    result = CliRunner().invoke(cli.main, ["run", *ARGS, "--out", str(out)])
    assert result.exit_code != 0 and "--overwrite" in result.output


def test_a_failed_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    from demandsim.batch import commands

    def broken(folder, manifest=None):
        (folder / "report.html").write_text("half a file")
        raise OSError("disk full")

    monkeypatch.setattr(commands, "write_report", broken)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli.main, ["run", *ARGS, "--out", str(out)])
    assert result.exit_code != 0
    names = {p.name for p in out.iterdir()}
    # no manifest, no tables, no report: only what --resume needs, and a note saying so
    assert names <= {"INCOMPLETE", "plan.json", "replications", ".finishing"}
    assert "INCOMPLETE" in names


def test_bad_scenario_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(
        cli.main, ["run", "--set", "teams.cin.posts=-3", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2  # bad input
    assert "--set: teams.cin.posts: Input should be greater than or equal to 0" in result.output
    assert "Traceback" not in result.output


def test_results_folder_is_an_ordinary_folder(finished_run):
    import os
    import stat

    out, _ = finished_run
    mode = stat.S_IMODE(out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o777 & ~umask
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o044 == 0o044 & ~umask for p in out.iterdir())


def test_help_and_bad_input_do_not_load_the_heavy_libraries():
    """`demandsim --help` and a scenario error answer at once: the CLI imports pandas, SciPy,
    matplotlib and Prophet only in the commands that use them."""
    calls = [(["--help"], 0), (["run", "--set", "teams.cin.posts=-3"], 2)]
    assert heavy_modules_loaded(calls, ("pandas", "scipy", "matplotlib", "prophet")) == []


def test_no_report_writes_the_tables_only(tmp_path):
    out = tmp_path / "tables"
    result = CliRunner().invoke(cli.main, ["run", *ARGS, "--no-report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").exists() and (out / "kpi_summary.csv").exists()
    assert not (out / "report.html").exists() and not (out / "costs_and_staffing.xlsx").exists()
    rebuilt = CliRunner().invoke(cli.main, ["report", str(out)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (out / "report.html").exists()


def test_a_calibrated_scenarios_folder_reports_and_reloads_wherever_it_is_moved(tmp_path):
    """A scenario calibrated from a council's own data reads its demand from intensity.csv
    beside it. Its results folder keeps a copy, so the report builds, the stored scenario loads
    back as the one that ran, and both still work after the folder is moved (the report once
    failed: the stored scenario named the CSV outside its folder)."""
    import filecmp

    from demandsim.results_store import scenario_record
    from demandsim.scenario_files import load_scenario

    source = Path(__file__).resolve().parents[1] / "calibration" / "fitted" / "demo"
    source = source / "scenario.toml"
    ran = load_scenario(source, ["years=0.2", "warmup_days=20"])
    out = tmp_path / "first"
    result = CliRunner().invoke(cli.main, ["run", str(source), *ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and not (out / "INCOMPLETE").exists()
    moved = out.rename(tmp_path / "moved")
    again = load_scenario(moved / "scenarios" / f"{ran.name}.toml")
    copy = moved / "scenarios" / f"{ran.name}.intensity.csv"
    assert again.demand.intensity_file == str(copy.resolve())
    assert filecmp.cmp(copy, ran.demand.intensity_file, shallow=False)
    record, expected = scenario_record(again), scenario_record(ran)
    record["demand"].pop("intensity_file"), expected["demand"].pop("intensity_file")
    assert record == expected
    rebuilt = CliRunner().invoke(cli.main, ["report", str(moved)])
    assert rebuilt.exit_code == 0, rebuilt.output
