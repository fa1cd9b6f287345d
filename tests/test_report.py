"""Reports: every section and chart in the HTML, a workbook whose totals equal the run's tables,
a rebuild from stored results, and plotting functions that take tidy frames."""

from __future__ import annotations

import base64
import itertools
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.dates import date2num
from matplotlib.figure import Figure

from demandsim import plots
from demandsim.cli import main
from demandsim.costs import TOTAL, financial_year_costs
from demandsim.measures import DAILY_NAMES, SERVICE, service_total
from demandsim.report import (
    CHARTS,
    COMPARE_SECTIONS,
    REPORT_HTML,
    SECTIONS,
    WORKBOOK,
    figures,
    load_inputs,
)
from demandsim.run import run_replication
from demandsim.scenario_files import apply_overrides

SHORT = ["--years", "1.5", "--set", "warmup_days=30", "--seed", "4"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "short"
    result = CliRunner().invoke(main, ["run", *SHORT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def same_run(baseline):
    return run_replication(apply_overrides(baseline, ["years=1.5", "warmup_days=30"]), seed=4)


def embedded_images(page: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    ]


@pytest.mark.slow
def test_html_has_every_section_and_chart_and_nothing_external(run_dir):
    out, _ = run_dir
    page = (out / REPORT_HTML).read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    images = embedded_images(page)
    assert len(images) == len(figures(load_inputs(out)))
    assert all(img.startswith(PNG_MAGIC) for img in images)
    pngs = sorted((out / CHARTS).glob("*.png"))
    assert {p.read_bytes() for p in pngs} == set(images)
    # no resource from anywhere else: every src is inline data, and no link or script loads
    assert re.findall(r'src="(?!data:)', page) == []
    assert "<script" not in page and "<link" not in page and "url(" not in page


@pytest.mark.slow
def test_run_prints_budget_p50_per_financial_year(run_dir, same_run):
    _, output = run_dir
    years = financial_year_costs(same_run.costs)
    for row in years.itertuples():
        assert f"£{getattr(row, TOTAL):,.0f}" in output
        assert row.financial_year in output
    assert "(part)" in output  # 1.5 years from 1 April ends part way through a year


def budget_line(path, line: str) -> pd.Series:
    """One line of the workbook's Budget sheet (financial years across), by financial year."""
    sheet = pd.read_excel(path, sheet_name="Budget", header=1)
    row = sheet[sheet["Line"] == line].iloc[0]
    years = [c for c in sheet.columns if re.match(r"\d{4}-\d{2}", str(c))]
    return pd.Series([row[c] for c in years], index=[c[:7] for c in years], dtype=float)


@pytest.mark.slow
def test_workbook_totals_equal_the_run_tables(run_dir, same_run):
    out, _ = run_dir
    stored = pd.read_csv(out / "budget_by_financial_year.csv").set_index("financial_year")
    for line, column in (
        ("Cost, P50", "p50_gbp"),
        ("Cost, P90", "p90_gbp"),
        ("Budget", "budget_gbp"),
    ):
        shown = budget_line(out / WORKBOOK, line)
        assert shown.to_numpy() == pytest.approx(stored.loc[shown.index, column].to_numpy())
    years = financial_year_costs(same_run.costs)
    assert budget_line(out / WORKBOOK, "Cost, P50").to_numpy() == pytest.approx(
        years[TOTAL].to_numpy()
    )
    quarters = pd.read_excel(out / WORKBOOK, sheet_name="Cost by quarter", header=1)
    total = quarters[quarters["Cost"] == "Total cost"].iloc[0]
    shown = total[[c for c in quarters.columns if " Q" in str(c)]].astype(float)
    assert shown.sum() == pytest.approx(same_run.costs[TOTAL].sum())
    staffing = pd.read_excel(out / WORKBOOK, sheet_name="Staffing and backlog", header=1)
    assert {
        "Permanent staff in post, P50",
        "Agency staff in post, P50",
        "Vacant posts, P50",
    } <= set(staffing.columns)


@pytest.mark.slow
def test_workbook_numbers_are_numbers_with_formats(run_dir):
    out, _ = run_dir
    book = openpyxl.load_workbook(out / WORKBOOK)
    assert {"Notes", "Budget", "Cost by team", "Cost by quarter", "Staffing and backlog"} <= set(
        book.sheetnames
    )
    sheet = book["Budget"]
    header = [c.value for c in sheet[2]]
    lines = [c.value for c in sheet["B"]]
    p50 = sheet.cell(row=lines.index("Cost, P50") + 1, column=header.index("2026-27") + 1)
    assert isinstance(p50.value, float) and "£" in p50.number_format
    staffing = book["Staffing and backlog"]
    month = staffing.cell(row=3, column=[c.value for c in staffing[2]].index("Month") + 1)
    assert month.is_date and month.number_format == "mmm yyyy"
    for name in book.sheetnames:
        for row in book[name].iter_rows(min_row=3):
            assert not any(
                isinstance(c.value, str) and re.fullmatch(r"-?£?\d[\d,]*(\.\d+)?%?", c.value)
                for c in row
            )


@pytest.mark.slow
def test_report_rebuilds_from_stored_results_without_rerunning(run_dir, tmp_path):
    out, _ = run_dir
    before = (out / REPORT_HTML).read_bytes()
    (out / REPORT_HTML).unlink()
    (out / WORKBOOK).unlink()
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / REPORT_HTML).read_bytes() == before
    assert (out / WORKBOOK).exists()
    (tmp_path / "manifest.json").write_text("{}")
    failed = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert failed.exit_code != 0 and "missing" in failed.output and "bands.parquet" in failed.output


def monthly_frame(p50: dict[str, list[float]], measure: str = "unallocated_cases") -> pd.DataFrame:
    """A monthly bands frame (as stored in monthly_bands.parquet) with the given medians."""
    rows = []
    for team, values in p50.items():
        months = pd.date_range("2026-04-01", periods=len(values), freq="MS")
        for m in (measure, "staff_in_post", "staff_agency", "vacant_posts"):
            v = np.asarray(values, float) if m == measure else np.full(len(values), 2.0)
            rows.append(pd.DataFrame({"month": months, "team": team, "measure": m, "p10": v - 1,
                                      "p25": v - 0.5, "p50": v, "p75": v + 0.5, "p90": v + 1}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_service_total_sums_staffed_teams_and_takes_ratios_of_sums():
    cube = np.zeros((2, 3, len(DAILY_NAMES)))
    at = DAILY_NAMES.index
    cube[:, :, at("unallocated_cases")] = [[1, 2, 100], [3, 4, 100]]  # team 2 is a service
    cube[:, :, at("allocated_cases")] = [[10, 30, 0], [10, 30, 0]]
    cube[:, :, at("staff_in_post")] = [[1, 3, 0], [0.2, 0.1, 0]]
    cube[:, :, at("placements_gbp")] = [[0, 5, 7], [0, 5, 7]]  # money counts in every team
    total = service_total(cube, staffed=[0, 1])
    assert total[:, at("unallocated_cases")].tolist() == [3, 7]
    assert total[0, at("caseload_per_worker")] == pytest.approx(40 / 4)  # not mean of 10 and 10
    assert np.isnan(total[1, at("caseload_per_worker")])  # 0.3 staff: undefined
    assert total[:, at("placements_gbp")].tolist() == [12, 12]


def test_team_panels_draw_each_scenario_with_display_names_and_posts():
    now = monthly_frame({"front_door": [1.0, 5.0, 2.0], "cin": [0.0, 0.0, 1.0]})
    faster = monthly_frame({"front_door": [0.0, 1.0, 1.0], "cin": [0.0, 0.0, 0.0]})
    grid = plots.team_panels({"now": now, "faster": faster}, "unallocated_cases",
                             ["front_door", "cin"], replications=10, posts={"cin": 90})  # fmt: skip
    shown = [ax for ax in grid.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["Front door", "Child in need"]
    medians = [line.get_ydata().tolist() for line in shown[0].get_lines() if line.get_label() in
               ("now", "faster")]  # fmt: skip
    assert medians == [[1.0, 5.0, 2.0], [0.0, 1.0, 1.0]]
    assert any(line.get_label() == "posts" and line.get_ydata()[0] == 90
               for line in shown[1].get_lines())  # fmt: skip
    assert "10 replications" in grid.get_suptitle()


def test_time_charts_mark_each_first_of_april():
    frame = monthly_frame({SERVICE: list(np.arange(15.0))})  # April 2026 to June 2027
    fig = plots.service_chart({"s": frame}, "unallocated_cases", replications=1)
    ax = fig.axes[0]
    marks = [t.get_text() for t in ax.texts]
    assert marks == ["FY 2027-28"]  # 1 April 2026 is the first month itself, not a boundary
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert [x for (x, _), _ in lines.get_segments()] == [date2num(pd.Timestamp(2027, 4, 1))]
    assert "one replication" in ax.get_title()


def test_cost_charts():
    budget = pd.DataFrame({"financial_year": ["2026-27"], "partial": [False], "p10_gbp": [1.0],
                           "p50_gbp": [2.0], "p90_gbp": [3.0], "budget_gbp": [np.nan]})  # fmt: skip
    fig = plots.compare_costs_chart({"now": budget, "faster agency": budget.copy()})
    assert len(fig.axes[0].patches) == 2
    assert isinstance(plots.costs_by_year_chart(budget), Figure)
    # six years, the first and last part years, in millions: every label in place
    years = pd.DataFrame({"financial_year": [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2020)],
                          "partial": [True, False, False, False, False, True],
                          "p10_gbp": 4.0e7, "p50_gbp": 4.2e7, "p90_gbp": 4.4e7,
                          "budget_gbp": 4.1e7})  # fmt: skip
    assert misplaced_labels(plots.costs_by_year_chart(years)) == []
    assert misplaced_labels(plots.compare_costs_chart({"now": years, "other": years})) == []
    diffs = pd.DataFrame({"scenario": ["fast"], "reference": ["now"], "period": ["2026-27"],
                          "mean": [2e5], "ci_low": [1e5], "ci_high": [3e5]})  # fmt: skip
    fig = plots.cost_difference_chart(diffs)
    (bar,) = fig.axes[0].patches
    assert bar.get_height() == 2e5


# ----------------------------------------------------------------------------- batches
BATCH_SHORT = ["years=1.2", "warmup_days=30"]


@pytest.fixture(scope="module")
def compared(baseline, tmp_path_factory):
    from demandsim.batch import commands

    slow = apply_overrides(baseline, [*BATCH_SHORT, "name=slow-agency"])
    fast = apply_overrides(baseline, [*BATCH_SHORT, "name=fast-agency",
                                      "workforce.agency.fill_days=3"])  # fmt: skip
    out = tmp_path_factory.mktemp("compare") / "cmp"
    outcome = commands.compare([slow, fast], out, commands.BatchOptions(replications=3, jobs=1))
    return out, outcome, slow


def misplaced_labels(fig: Figure) -> list[str]:
    """The figure's titles, axis labels and tick labels (those in view) that fall outside the
    picture, and x tick labels that touch their neighbour, drawn as the PNG is drawn."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    picture = fig.bbox.expanded(1.001, 1.001)
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [t.label1 for t in axis.get_major_ticks() if low <= t.get_loc() <= high]
        texts = [t for t in texts if t.get_text() and t.get_visible()]
        for text in texts:
            box = text.get_window_extent(renderer)
            if not (picture.contains(box.x0, box.y0) and picture.contains(box.x1, box.y1)):
                found.append(f"outside: {text.get_text()!r}")
        ticks = [t.label1 for t in ax.xaxis.get_major_ticks() if t.label1 in texts]
        boxes = sorted((t.get_window_extent(renderer) for t in ticks), key=lambda b: b.x0)
        found += ["x tick labels touch" for a, b in itertools.pairwise(boxes) if a.x1 + 2 > b.x0]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("which", ["run", "compare"])
def test_every_label_of_every_chart_is_inside_its_picture_and_apart(which, run_dir, compared):
    from demandsim.report import chart_makers, load_inputs

    folder = run_dir[0] if which == "run" else compared[0]
    found = {
        stem: misplaced_labels(make()) for stem, make in chart_makers(load_inputs(folder)).items()
    }
    assert {stem: f for stem, f in found.items() if f} == {}


@pytest.mark.slow
def test_compare_report_has_every_section_chart_and_paired_cost_differences(compared):
    out, outcome, _ = compared
    page = (out / REPORT_HTML).read_text()
    for section in COMPARE_SECTIONS:
        assert f'<section id="{section}">' in page
    images = embedded_images(page)
    assert len(images) == len(figures(load_inputs(out))) >= 10
    assert all(img.startswith(PNG_MAGIC) for img in images)
    assert {p.read_bytes() for p in (out / CHARTS).glob("*.png")} == set(images)
    differences = page[page.index('<section id="differences">') :]
    assert "total cost" in differences and "2026-27" in differences
    assert "unalloc mean" in differences
    assert "slow-agency" in page and "fast-agency" in page
    assert "Total cost, paired difference from the reference" in outcome.text
    assert "slow-agency 2026-27" in " ".join(outcome.text.split())
    book = openpyxl.load_workbook(out / WORKBOOK)
    assert "Paired differences" in book.sheetnames


@pytest.mark.slow
def test_batch_budget_percentiles_are_those_of_the_single_runs(compared):
    out, _, slow = compared
    totals = [
        financial_year_costs(run_replication(slow, seed).costs).set_index("financial_year")[TOTAL]
        for seed in range(3)
    ]
    budget = pd.read_csv(out / "budget_by_financial_year.csv")
    mine = budget[budget["scenario"] == "slow-agency"].set_index("financial_year")
    for year in mine.index:
        values = [t[year] for t in totals]
        assert mine.loc[year, "p50_gbp"] == pytest.approx(np.percentile(values, 50))
        assert mine.loc[year, "p90_gbp"] == pytest.approx(np.percentile(values, 90))
        stated = slow.costs.budget_by_financial_year_gbp[year]
        if not mine.loc[year, "partial"]:
            chance = np.mean([v > stated for v in values])
            assert mine.loc[year, "overspend_chance"] == pytest.approx(chance)
    shown = budget_line(out / WORKBOOK, "Cost, P50")  # the first scenario's line
    assert shown.to_numpy() == pytest.approx(mine.loc[shown.index, "p50_gbp"].to_numpy())


@pytest.mark.slow
def test_compare_report_rebuilds_identically(compared):
    out, _, _ = compared
    before = (out / REPORT_HTML).read_bytes()
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / REPORT_HTML).read_bytes() == before


@pytest.mark.slow
def test_sweep_writes_a_comparison_report_and_one_cost_curve_per_year(baseline, tmp_path):
    from demandsim.batch import commands
    from demandsim.batch.sweep import parse_vary

    base = apply_overrides(baseline, BATCH_SHORT)
    out = tmp_path / "sweep"
    commands.sweep(base, [parse_vary("workforce.agency.fill_days=3,26")], out,
                   commands.BatchOptions(replications=2, jobs=1))  # fmt: skip
    page = (out / REPORT_HTML).read_text()
    for section in COMPARE_SECTIONS:
        assert f'<section id="{section}">' in page
    plots_made = {p.name for p in (out / "plots").glob("*.png")}
    assert "total_gbp_2026-27--workforce.agency.fill_days.png" in plots_made
    assert "staff_agency_gbp_2026-27--workforce.agency.fill_days.png" not in plots_made
    charts = {p.stem for p in (out / CHARTS).glob("*.png")}
    assert (
        out / WORKBOOK
    ).exists() and "sweep_unallocated_mean--workforce.agency.fill_days" in charts
    assert "sweep_total_gbp_2026-27--workforce.agency.fill_days" in charts
