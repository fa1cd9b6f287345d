"""The documentation says what the program does: generated references are current, and every
command the README shows is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.cli import main
from demandsim.scenario_reference import markdown

ROOT = Path(__file__).resolve().parents[1]


def test_scenario_reference_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "reference" / "scenario.md").read_text()
    assert committed == markdown(), (
        "docs/reference/scenario.md is out of date: run "
        "python -m demandsim.scenario_reference > docs/reference/scenario.md"
    )


def documented_commands() -> list[tuple[str, list[str]]]:
    """Every `demandsim ...` line in a code block of the README and docs/."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text()
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                match = re.search(r"(?:^|\s|/)demandsim (\w.*)$", line)
                if match and not line.startswith(("pip", "python")):
                    found.append((f"{path.name}: {line}", shlex.split(match.group(1))))
    return found


@pytest.mark.parametrize(("where", "args"), documented_commands(), ids=lambda v: str(v)[:60])
def test_documented_commands_parse(where, args):
    """Each documented command names a real command and options it accepts (checked with
    --help appended, so nothing runs)."""
    words = [a for a in args if not a.startswith("-")][:1]
    assert words, where
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, f"{where}\n{result.output}"


EXAMPLES = ROOT / "docs" / "examples"
SCENARIOS = ROOT / "scenarios"
#: each transcript in docs/examples, and the command that prints it (run from an empty folder)
COMMANDS = {
    "compare-agency-fill.txt": [
        "compare", str(SCENARIOS / "agency-fill-26d.toml"), str(SCENARIOS / "agency-fill-3d.toml"),
        "-n", "20", "--out", "runs/agency-fill",
    ],
    "run-baseline.txt": ["run", "--years", "2", "-n", "8", "--out", "runs/baseline"],
    "optimise-quick.txt": [
        "optimise", str(SCENARIOS / "optimise-autumn-2014.toml"), "-n", "4", "--max-plans", "8",
        "--confirm", "4", "--no-report", "--out", "runs/optimise-quick",
    ],
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_transcripts_are_what_the_commands_print(name, tmp_path, monkeypatch):
    """The outputs the README and guides show are real: each command is run again and must
    print its stored transcript exactly."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, COMMANDS[name])
    assert result.exit_code == 0, result.output
    assert result.stdout == (EXAMPLES / name).read_text(), (
        f"the output of {name} changed: if that is intended, regenerate docs/examples/{name} "
        "and the excerpts of it in the README and docs/"
    )


def test_every_output_shown_in_the_docs_is_part_of_a_transcript():
    """A ```text block in the README or a guide is an excerpt of a tested transcript."""
    transcripts = [p.read_text() for p in EXAMPLES.glob("*.txt")]
    assert set(COMMANDS) == {p.name for p in EXAMPLES.glob("*.txt")}
    shown = 0
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"```text\n(.*?)```", path.read_text(), flags=re.S):
            shown += 1
            assert any(block in text for text in transcripts), f"{path.name}:\n{block}"
    assert shown >= 3


README_STOCKS = {"children in need": "cin", "children looked after": "cla",
                 "child protection plans": "cpp"}  # fmt: skip


def test_readme_skill_table_is_the_committed_skill_summary():
    """Each figure of the README's skill table, recomputed from the committed
    calibration/skill/all-councils/skill_summary.csv (test half): the median error against
    persistence's by horizon, and the 80% and 50% bands' coverage (a range gives the smallest
    and largest over the horizons)."""
    import pandas as pd

    summary = pd.read_csv(ROOT / "calibration" / "skill" / "all-councils" / "skill_summary.csv")
    summary = summary[summary["councils_half"] == "test"].set_index(["stock", "method", "horizon"])
    summary = summary.sort_index()
    text = (ROOT / "README.md").read_text()
    checked = 0
    for name, stock in README_STOCKS.items():
        row = re.search(rf"^\| {name} \| (.*?) \| (.*?) \| (.*?) \|$", text, flags=re.M)
        assert row, f"README: no skill table row for {name}"
        ours, naive = summary.loc[(stock, "demandsim")], summary.loc[(stock, "persistence")]
        ratios = [f"{ours.loc[h, 'median_ape'] / naive.loc[h, 'median_ape']:.2f}" for h in (1, 2, 3, 4)]  # fmt: skip
        assert row.group(1) == " / ".join(ratios), name
        for cell, level in ((row.group(2), "cover_80"), (row.group(3), "cover_50")):
            cover = [f"{ours.loc[h, level]:.2f}" for h in (1, 2, 3, 4)]
            if "-" in cell:
                assert cell == f"{min(cover)}-{max(cover)}", (name, level, cover)
            else:
                assert cell == " / ".join(cover), (name, level, cover)
            checked += 1
    assert checked == 6


BACKTEST_TEAMS = {"CiN": "cin", "assessment": "assessment", "CiC": "cic",
                  "leaving care": "after_care"}  # fmt: skip


def test_outlook_backtest_table_is_the_committed_scores():
    """docs/outlook.md's back-test table, row by row, from the committed back-tests' scores
    (counts summed over a row's teams; Brier and band coverage the same for each of them)."""
    import pandas as pd

    folders = {"default (5% of capacity)": "outlook-demo", "any unallocated case (0)": "outlook-demo-any"}  # fmt: skip
    text = (ROOT / "docs" / "outlook.md").read_text()
    rows = re.findall(r"^\|\s*(default \(5% of capacity\)|any unallocated case \(0\)|)\s*\| (.+) \|$",
                      text, flags=re.M)  # fmt: skip
    assert len(rows) == 5
    counts = ["real_rises", "hits", "misses", "false_alarms", "quiet", "already_over"]
    current = None
    for thresholds, rest in rows:
        current = thresholds or current
        path = ROOT / "calibration" / "backtests" / folders[current] / "outlook_backtest_scores.csv"
        scores = pd.read_csv(path).set_index("team")
        cells = [c.strip() for c in rest.split("|")]
        teams = [BACKTEST_TEAMS[t.strip()] for t in re.split(r",| and ", cells[0]) if t.strip()]
        mine = scores.loc[teams]
        assert [int(c) for c in cells[1:7]] == mine[counts].sum().tolist(), (current, cells[0])
        for column, shown in zip(("brier", "brier_persistence"), cells[7:9], strict=True):
            assert all(f"{v:.3f}" == shown for v in mine[column]), (current, cells[0], column)
        assert all(f"{100 * v:.0f}%" == cells[9] for v in mine["band_coverage"]), cells[0]
    default = pd.read_csv(ROOT / "calibration" / "backtests" / "outlook-demo" / "outlook_backtest_scores.csv").set_index("team")  # fmt: skip
    readme = " ".join((ROOT / "README.md").read_text().split())
    cin, every = default.loc["cin"], default.loc["all"]
    for said in (
        f"warned before {int(cin['hits'])} of the {int(cin['real_rises'])} real rises",
        f"raised no false alarm in the {int(every['quiet'] + every['false_alarms'])} team-dates",
        f"(Brier {cin['brier']:.3f} against {cin['brier_persistence']:.3f})",
        f"its bands held {100 * cin['band_coverage']:.0f}% of CiN's weeks",
    ):
        assert said in readme, said
    assert every["false_alarms"] == 0
