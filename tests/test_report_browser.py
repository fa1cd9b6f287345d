"""The report in a real browser: headless Chromium opens it offline, logs no errors, and every
image decodes. Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them);
without them the test is skipped, unless DEMANDSIM_REQUIRE_BROWSER=1 (as in CI) makes it fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.cli import main
from demandsim.report import CHARTS, COMPARE_SECTIONS, OUTLOOK_SECTIONS, REPORT_HTML, SECTIONS
from demandsim.scenario_files import DEFAULT_SCENARIO

pytestmark = pytest.mark.slow  # the reports opened in a real browser

ROOT = Path(__file__).resolve().parents[1]


def single_run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["run", "--years", "1", "--set", "warmup_days=30", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def comparison(tmp_path: Path) -> Path:
    out = tmp_path / "compare"
    a, b = str(DEFAULT_SCENARIO), str(DEFAULT_SCENARIO)
    args = ["compare", a, b, "-n", "2", "--jobs", "1", "--years", "1", "--set", "warmup_days=30"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def optimised(tmp_path: Path) -> Path:
    """A two-plan search of the surge: the comparison's report with the plan section first."""
    target = tmp_path / "target.toml"
    target.write_text(
        f'name = "t"\nscenario = "{SURGE.as_posix()}"\n'
        '[target]\nchance_at_least = 0.5\n[[target.daily]]\nteams = ["assessment"]\n'
        "at_most = 1000\n[levers.posts]\nassessment = [32, 33]\n"
        "[search]\nreplications = 2\nprune_after = 1\nconfirm_replications = 2\n"
    )
    out = tmp_path / "optimise"
    args = ["optimise", str(target), "--years", "0.1", "--max-plans", "2", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def outlook(tmp_path: Path) -> Path:
    out = tmp_path / "outlook"
    args = ["outlook", str(ROOT / "calibration" / "demo"), "--weeks", "4", "-n", "2"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def neighbours(tmp_path: Path) -> Path:
    out = tmp_path / "neighbours"
    args = ["neighbours", "--la", "Kent", "--year", "2024", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


SURGE = Path(__file__).resolve().parents[1] / "scenarios" / "autumn-2014-surge.toml"
NEIGHBOURS_SECTIONS = ("summary", "charts-demand", "charts-conversion", "charts-workforce",
                       "neighbours", "notes", "provenance")  # fmt: skip
OPTIMISE_SECTIONS = (COMPARE_SECTIONS[0], "plan", *COMPARE_SECTIONS[1:])


@pytest.mark.parametrize(
    ("make", "sections"),
    [
        (single_run, SECTIONS),
        (comparison, COMPARE_SECTIONS),
        (optimised, OPTIMISE_SECTIONS),
        (outlook, OUTLOOK_SECTIONS),
        (neighbours, NEIGHBOURS_SECTIONS),
    ],
)
def test_report_loads_offline_with_no_errors_and_every_image_renders(
    browser, tmp_path, make, sections
):
    out = make(tmp_path)
    page = out / ("neighbours.html" if make is neighbours else REPORT_HTML)
    browser.get(page.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth,"
        " i.naturalHeight, i.getBoundingClientRect().width])"
    )
    assert len(images) == len(list((out / CHARTS).glob("*.png"))) >= 8
    for alt, complete, width, height, shown in images:
        assert complete and width > 100 and height > 100 and shown > 100, alt
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('section')).map(s => s.id)"
    )
    assert found == list(sections)
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert [url for url in fetched if not url.startswith(("data:", "file:"))] == []
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    # nothing wider than the window: wide tables scroll inside their own box
    overflow = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert overflow[0] <= overflow[1], overflow
    if make is outlook:  # the traffic lights are coloured cells, each with its letter
        lights = browser.execute_script(
            "return Array.from(document.querySelectorAll('table.lights td[class^=light-]'))"
            ".map(td => [td.className, td.textContent, getComputedStyle(td).backgroundColor])"
        )
        assert len(lights) == 4 * 5
        colours = {"light-green": "rgb(217, 240, 217)", "light-amber": "rgb(251, 229, 182)",
                   "light-red": "rgb(244, 194, 194)"}  # fmt: skip
        for name, text, colour in lights:
            assert colours[name] == colour and text[0] == name[6].upper(), (name, text)
    shot = tmp_path / f"{out.name}.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
