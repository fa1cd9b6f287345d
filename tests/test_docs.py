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
