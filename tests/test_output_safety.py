"""Output that cannot hurt: --overwrite replaces only our own folders, names cannot escape the
results root, and no text cell becomes a live spreadsheet formula."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim.cli import main
from demandsim.results_store import spreadsheet_safe

QUICK = ["--years", "0.05", "--set", "warmup_days=5", "--jobs", "1"]


def test_overwrite_leaves_a_folder_that_is_not_ours_alone(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.docx").write_text("months of work")
    result = CliRunner().invoke(main, ["run", *QUICK, "--out", str(precious), "--overwrite"])
    assert result.exit_code != 0
    assert "replaces only a demandsim results folder" in result.output
    assert (precious / "chapter1.docx").read_text() == "months of work"
    calibrated = CliRunner().invoke(
        main, ["calibrate", "--la", "Leeds", "--out", str(precious), "--overwrite"]
    )
    assert calibrated.exit_code != 0 and "left alone" in calibrated.output
    assert sorted(p.name for p in precious.iterdir()) == ["chapter1.docx"]


def test_overwrite_replaces_our_own_results_folder(tmp_path):
    out = tmp_path / "run"
    first = CliRunner().invoke(main, ["run", *QUICK, "--no-report", "--out", str(out)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(
        main, ["run", *QUICK, "--no-report", "--seed", "1", "--out", str(out), "--overwrite"]
    )
    assert again.exit_code == 0, again.output
    assert "seed 1" in (out / "summary.txt").read_text()


def test_scenario_names_cannot_leave_the_results_root(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path) as here:
        result = runner.invoke(
            main, ["run", *QUICK, "--no-report", "--set", "name=../../../escaped"]
        )
        assert result.exit_code == 0, result.output
        made = [p for p in Path(here).rglob("manifest.json")]
        assert len(made) == 1
        assert made[0].parent.parent == Path(here) / "reports" / "output"
        assert not any(Path(tmp_path).parent.glob("escaped*"))


HOSTILE = """
extends = "builtin:baseline"
name = "hostile"
[pathway.stages.after_care]
team = "=HYPERLINK(1)"
[teams."=HYPERLINK(1)"]
posts = 5
initial_permanent = 5
"""


@pytest.mark.slow
def test_formula_text_is_written_as_text_in_csv_and_workbook(tmp_path):
    """A team named like a formula (a scenario file may name teams anything) stays text."""
    scenario = tmp_path / "hostile.toml"
    scenario.write_text(HOSTILE)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main, ["compare", str(scenario), str(scenario), *QUICK, "-n", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cells = 0
    for path in out.glob("*.csv"):
        with path.open(newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(("=", "+", "@")), (path.name, cell)
    assert cells > 1000
    book = openpyxl.load_workbook(out / "costs_and_staffing.xlsx")
    texts = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and "hyperlink" in cell.value.lower():
                    texts += 1
                    assert cell.value.startswith("'=")
    assert texts > 0


def test_spreadsheet_safe_leaves_numbers_and_plain_text_alone():
    frame = pd.DataFrame({"name": ["=1+1", "plain", "-cmd", "@x"], "value": [-1.0, 2.0, 3.0, 4.0]})
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist() == ["'=1+1", "plain", "'-cmd", "'@x"]
    assert safe["value"].tolist() == [-1.0, 2.0, 3.0, 4.0]
