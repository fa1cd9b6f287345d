"""The finance workbook: every number in each sheet recomputed from the per-replication results.

A real ``run -n`` (1.3 years from 1 April 2026: a whole financial year, then a part year ending
mid-quarter) and a real ``compare`` keep their replications (``--keep-replications``); each test
rebuilds a sheet's figures from the daily cubes (days x (teams + service) x measures) and the KPI
rows with plain numpy and pandas, and checks the number formats and headings a finance officer
sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim.calendar import financial_year
from demandsim.cli import main
from demandsim.measures import COST_COMPONENTS, DAILY_NAMES, SERVICE, TOTAL_COST, team_label
from demandsim.replication import forecast_dates, team_labels
from demandsim.scenario_files import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
WORKBOOK = "costs_and_staffing.xlsx"
HEADER = 1  # row 1 is the caption, row 2 the headings
YEAR = re.compile(r"^(\d{4}-\d{2})( \(part year\))?$")


def invoke(*args: str) -> None:
    result = CliRunner().invoke(main, [*args, "--jobs", "1", "--keep-replications"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wb") / "run"
    invoke("run", "--years", "1.3", "--set", "warmup_days=20", "-n", "4", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wb") / "cmp"
    fill = [str(SCENARIOS / "agency-fill-26d.toml"), str(SCENARIOS / "agency-fill-3d.toml")]
    invoke("compare", *fill, "--years", "0.6", "--set", "warmup_days=20", "-n", "3",
           "--out", str(out))  # fmt: skip
    return out


def sheet(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_excel(folder / WORKBOOK, sheet_name=name, header=HEADER)


def year_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Financial year -> its column heading."""
    return {m.group(1): c for c in frame.columns if (m := YEAR.match(str(c)))}


def cube(folder: Path, key: str) -> np.ndarray:
    """(replications, days, teams + service, measures), by seed."""
    files = sorted((folder / "replications" / key).glob("seed-*.npy"))
    return np.stack([np.load(f).astype(float) for f in files])


def kpis(folder: Path, key: str) -> pd.DataFrame:
    files = sorted((folder / "replications" / key).glob("seed-*.kpis.parquet"))
    return pd.concat(
        [pd.read_parquet(f).assign(seed=int(f.name[5:11])) for f in files], ignore_index=True
    )


def per_replication(folder: Path, key: str, team: str, measure: str) -> pd.DataFrame:
    """A KPI by replication (rows) and period (columns)."""
    rows = kpis(folder, key)
    rows = rows[(rows["team"] == team) & (rows["measure"] == measure)]
    return rows.pivot(index="seed", columns="period", values="value")


def years_of(scenario) -> np.ndarray:
    return financial_year(forecast_dates(scenario).to_numpy().astype("datetime64[D]"))


def test_budget_sheet_has_years_across_with_variance_and_chance(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    table = sheet(run, "Budget").set_index("Line")
    columns = year_columns(table)
    totals = per_replication(run, "baseline", SERVICE, TOTAL_COST)
    assert list(columns) == list(totals.columns) == ["2026-27", "2027-28"]
    assert columns["2027-28"] == "2027-28 (part year)" and columns["2026-27"] == "2026-27"
    for year, column in columns.items():
        values = totals[year].to_numpy()
        budget = scenario.costs.budget_by_financial_year_gbp[year]
        for q in (10, 50, 90):
            assert table.loc[f"Cost, P{q}", column] == pytest.approx(np.percentile(values, q))
        assert table.loc["Budget", column] == budget
        if "part" in column:  # a whole year's budget: no variance or chance for a part year
            assert np.isnan(table.loc["Variance: P50 minus budget", column])
            assert np.isnan(table.loc["Chance of overspend", column])
        else:
            assert table.loc["Variance: P50 minus budget", column] == pytest.approx(
                np.percentile(values, 50) - budget
            )
            assert table.loc["Chance of overspend", column] == pytest.approx(
                np.mean(values > budget)
            )
    assert table.loc["Days of the year in the forecast"][list(columns.values())].tolist() == [
        365,
        (forecast_dates(scenario) >= "2027-04-01").sum(),
    ]
    # formats: pounds for money, a percentage for the chance, stored as numbers
    book = openpyxl.load_workbook(run / WORKBOOK)
    ws = book["Budget"]
    heads = [c.value for c in ws[2]]
    lines = [c.value for c in ws["B"]]
    column = heads.index("2026-27") + 1
    for line in ("Cost, P50", "Budget", "Variance: P50 minus budget"):
        cell = ws.cell(row=lines.index(line) + 1, column=column)
        assert isinstance(cell.value, int | float) and cell.number_format.startswith('"£"#,##0')
    chance = ws.cell(row=lines.index("Chance of overspend") + 1, column=column)
    assert 0 <= chance.value <= 1 and chance.number_format == "0%"
    assert ws.freeze_panes == "D3"


def test_cost_by_team_is_the_mean_of_each_teams_costs(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    table = sheet(run, "Cost by team")
    columns = year_columns(table)
    rows = kpis(run, "baseline")
    means = rows.groupby(["team", "measure", "period"])["value"].mean()
    checked = 0
    for team in scenario.teams:
        shown = table[table["Team"] == team_label(team)].set_index("Cost")
        for measure in (*COST_COMPONENTS, TOTAL_COST):
            label = {"staff_permanent_gbp": "Permanent staff", "placements_gbp": "Placements",
                     "agency_fees_gbp": "Agency finder fees", TOTAL_COST: "Total cost"}.get(measure)  # fmt: skip
            values = [means[(team, measure, y)] for y in columns]
            if label is None:
                continue
            if label not in shown.index:
                assert not np.any(values), (team, measure)  # left out only when it is nothing
                continue
            for year, column in columns.items():
                assert shown.loc[label, column] == pytest.approx(means[(team, measure, year)])
                checked += 1
    assert checked > 20
    # placements sit on the team serving the care stages only
    placed = table[table["Cost"] == "Placements"]
    assert placed["Team"].tolist() == [team_label("cic"), "All teams"]
    # the teams add up to all teams, which is the service's own total
    totals = table[table["Cost"] == "Total cost"].set_index("Team")
    for year, column in columns.items():
        teams = totals.drop(index="All teams")[column].sum()
        assert totals.loc["All teams", column] == pytest.approx(teams)
        assert teams == pytest.approx(means[(SERVICE, TOTAL_COST, year)])


def test_placements_are_split_by_type_with_the_mix_and_unit_costs(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    costs = scenario.costs
    table = sheet(run, "Placements by type")
    columns = year_columns(table)
    stack = cube(run, "baseline")
    years = years_of(scenario)
    in_care = stack[:, :, -1, DAILY_NAMES.index("children_in_care")]  # the service
    spend = per_replication(run, "baseline", SERVICE, "placements_gbp").mean()
    weighted = {
        k: costs.placement_mix[k] * costs.placement_per_week_gbp[k] for k in costs.placement_mix
    }
    labels = {"in_house_fostering": "In-house fostering", "residential": "Residential (children's homes)"}  # fmt: skip
    for kind, name in labels.items():
        rows = table[table["Placement type"] == name].set_index("Line")
        assert rows["Share of children"].iloc[0] == costs.placement_mix[kind]
        assert rows["Weekly cost"].iloc[0] == costs.placement_per_week_gbp[kind]
        for year, column in columns.items():
            children = in_care[:, years == year].mean(axis=1).mean()
            assert rows.loc["Children in care, average", column] == pytest.approx(
                children * costs.placement_mix[kind], rel=1e-6
            )
            share = weighted[kind] / sum(weighted.values())
            assert rows.loc["Cost, mean", column] == pytest.approx(spend[year] * share)
    everything = table[table["Placement type"] == "All placements"].set_index("Line")
    types = table[~table["Placement type"].isin(["All placements", "of which out-of-area uplift"])]
    for year, column in columns.items():
        assert everything.loc["Cost, mean", column] == pytest.approx(spend[year])
        by_type = types[types["Line"] == "Cost, mean"][column].sum()
        assert by_type == pytest.approx(spend[year])
        uplift = table[table["Placement type"] == "of which out-of-area uplift"][column].iloc[0]
        extra = costs.out_of_area_share * costs.out_of_area_uplift_share
        assert uplift == pytest.approx(spend[year] * extra / (1 + extra))
    # cost per child per week of a type, from the sheet, is its unit cost with the uplift and
    # inflation (the first year is in base prices)
    first = columns["2026-27"]
    row = table[table["Placement type"] == labels["residential"]].set_index("Line")
    weekly = row.loc["Cost, mean", first] / row.loc["Children in care, average", first] / 365 * 7
    assert weekly == pytest.approx(5_500 * (1 + extra), rel=1e-4)


def quarter(date: pd.Timestamp) -> str:
    start = date.year if date.month >= 4 else date.year - 1
    return f"{start}-{(start + 1) % 100:02d} Q{(date.month - 4) % 12 // 3 + 1}"


def test_cost_by_quarter_is_the_mean_of_each_quarters_sum(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    table = sheet(run, "Cost by quarter").set_index("Cost")
    stack = cube(run, "baseline")
    quarters = np.array([quarter(d) for d in forecast_dates(scenario)])
    shown = [c for c in table.columns if " Q" in str(c)]
    assert [c.split(" (")[0] for c in shown] == list(dict.fromkeys(quarters))
    assert shown[-1].endswith("(part)") and not shown[0].endswith("(part)")
    for measure, name in (("total_gbp", "Total cost"), ("placements_gbp", "Placements"),
                          ("staff_agency_gbp", "Agency staff")):  # fmt: skip
        daily = stack[:, :, -1, DAILY_NAMES.index(measure)]
        for column in shown:
            expected = daily[:, quarters == column.split(" (")[0]].sum(axis=1).mean()
            assert table.loc[name, column] == pytest.approx(expected, rel=1e-6)
    assert "mean" in openpyxl.load_workbook(run / WORKBOOK)["Cost by quarter"]["A1"].value


def test_staffing_and_backlog_are_the_percentiles_of_each_months_mean(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    table = sheet(run, "Staffing and backlog")
    stack = cube(run, "baseline")
    months = forecast_dates(scenario).to_period("M")
    teams = team_labels(scenario)
    columns = {
        ("unallocated_cases", 10): "Unallocated cases, P10",
        ("unallocated_cases", 50): "Unallocated cases, P50",
        ("unallocated_cases", 90): "Unallocated cases, P90",
        ("open_cases", 50): "Open cases, P50",
        ("caseload_per_worker", 50): "Caseload per worker, P50",
        ("staff_permanent", 50): "Permanent staff in post, P50",
        ("staff_agency", 50): "Agency staff in post, P50",
        ("staff_in_post", 50): "Staff in post, P50",
        ("vacant_posts", 50): "Vacant posts, P50",
    }
    assert len(table) == len(teams) * len(set(months))
    for month in (months[0], months[len(months) // 2], months[-1]):  # the last is a part month
        rows = table[pd.to_datetime(table["Month"]) == month.start_time].set_index("Team")
        for (measure, q), heading in columns.items():
            per_rep = stack[:, :, :, DAILY_NAMES.index(measure)][:, months == month]
            with (
                np.errstate(all="ignore"),
                pytest.warns(RuntimeWarning) if measure == ("caseload_per_worker") else _nothing(),
            ):
                expected = np.nanpercentile(np.nanmean(per_rep, axis=1), q, axis=0)
            got = rows.loc[[team_label(t) for t in teams], heading].to_numpy(dtype=float)
            np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    posts = table.drop_duplicates("Team").set_index("Team")["Posts (establishment)"]
    for team, spec in scenario.teams.items():
        assert posts[team_label(team)] == spec.posts
    assert posts[team_label(SERVICE)] == sum(
        t.posts for t in scenario.teams.values() if not t.is_service
    )
    ws = openpyxl.load_workbook(run / WORKBOOK)["Staffing and backlog"]
    assert ws["C3"].is_date and ws["C3"].number_format == "mmm yyyy" and ws.freeze_panes == "D3"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_paired_differences_show_pounds_and_shares(compared):
    reference, other = "agency-fill-26d", "agency-fill-3d"
    table = sheet(compared, "Paired differences")
    a = per_replication(compared, reference, SERVICE, TOTAL_COST)
    b = per_replication(compared, other, SERVICE, TOTAL_COST)
    money = table[table["Measure"] == "Total cost"].set_index("Period")
    assert set(money["Compared with"]) == {reference} and set(money["Scenario"]) == {other}
    # 219 days from 1 September 2014: part of 2014-15 and of 2015-16, and marked so
    assert list(a.columns) == ["2014-15", "2015-16"]
    for year in a.columns:
        d = (b[year] - a[year]).to_numpy()
        row = money.loc[f"{year} (part year)"]
        assert row["Mean difference"] == pytest.approx(d.mean())
        assert row["P50"] == pytest.approx(np.percentile(d, 50))
        assert row["Share of replications higher"] == pytest.approx(np.mean(d > 0))
        assert row["Share of replications lower"] == pytest.approx(np.mean(d < 0))
    ws = openpyxl.load_workbook(compared / WORKBOOK)["Paired differences"]
    heads = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        unit = row[heads.index("Unit")].value
        mean = row[heads.index("Mean difference")]
        shares = [row[heads.index(h)] for h in heads if h.startswith("Share of replications")]
        assert all(c.number_format == "0%" for c in shares if c.value is not None)
        if unit == "£":
            assert mean.number_format.startswith('"£"#,##0')
        elif unit == "%":  # percentage points to one decimal: 0.6 points is not shown as 1%
            assert mean.number_format == "0.0%"
        elif unit == "days":
            assert mean.number_format == "#,##0.0"
    assert "Budget" in openpyxl.load_workbook(compared / WORKBOOK).sheetnames
    budget = sheet(compared, "Budget")
    assert set(budget["Scenario"]) == {reference, other}


def test_headline_shows_chances_and_shares_as_percentages(run):
    ws = openpyxl.load_workbook(run / WORKBOOK)["Headline"]
    heads = [c.value for c in ws[2]]
    for heading in ("Chance unallocated cases pass 50 in the first 12 months",
                    "Agency share, mean", "Assessments within 45 working days"):  # fmt: skip
        cells = [row[heads.index(heading)] for row in ws.iter_rows(min_row=3)]
        values = [c for c in cells if c.value is not None]
        assert values and all(c.number_format == "0%" and 0 <= c.value <= 1 for c in values)
    mean = ws.cell(row=3, column=heads.index("Unallocated cases, mean") + 1)
    assert mean.number_format == "#,##0.0"


def test_notes_name_every_assumption_with_its_value_and_the_seeds(run):
    scenario = load_scenario(run / "scenarios" / "baseline.toml")
    notes = sheet(run, "Notes")
    book = openpyxl.load_workbook(run / WORKBOOK)
    listed = notes[notes["Section"] == "Sheets"]["Item"].tolist()
    assert listed == book.sheetnames
    assert notes.loc[notes["Item"] == "Seeds", "Value"].item() == "0 to 3"
    assert notes.loc[notes["Item"] == "Replications", "Value"].item() == 4
    costs = notes[notes["Section"] == "Assumptions: baseline"].set_index("Item")
    salary = costs.loc["Permanent social worker salary, per year"]
    assert salary["Value"] == scenario.costs.permanent_salary_per_year_gbp
    assert salary["Note"].startswith("Assumed") and "council's own" in salary["Note"]
    assert salary["Assumed"] == "yes"
    out_of_area = costs.loc["Share of children placed out of area"]
    assert out_of_area["Value"] == 0.56 and "report" in out_of_area["Note"]
    assert out_of_area["Assumed"] == "no"
    assert costs.loc["Inflation, per year from each 1 April", "Value"] == 0.03
    weekly = costs.loc["Placement, weekly cost: Residential (children's homes)"]
    assert weekly["Value"] == 5_500 and weekly["Note"].startswith("Assumed")
    assert costs.loc["Budget 2026-27", "Value"] == 40_500_000
    text = " ".join(notes["Note"].dropna())
    assert "part" in text and "no variance or chance of overspend" in text and "P90" in text
    ws = book["Notes"]
    heads = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        unit, value = row[heads.index("Unit")].value, row[heads.index("Value")]
        if unit == "%":
            assert value.number_format == "0%" and 0 <= value.value <= 1
        if unit == "£":
            assert value.number_format.startswith('"£"')


def test_headings_are_for_people_and_panes_are_frozen(run, compared):
    for folder in (run, compared):
        book = openpyxl.load_workbook(folder / WORKBOOK)
        for ws in book.worksheets:
            heads = [c.value for c in ws[2] if c.value is not None]
            assert heads, ws.title
            for head in heads:
                assert not re.search(r"[a-z]_[a-z]", head), (ws.title, head)  # no snake_case
            assert ws.freeze_panes is not None and ws.freeze_panes.endswith("3"), ws.title
            assert ws["A1"].font.bold and ws["A2"].font.bold
            for j in range(1, len(heads) + 1):
                width = ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width
                assert 10 <= width <= 60
            for row in ws.iter_rows(min_row=3):
                for cell in row:  # numbers are numbers, never text that looks like one
                    assert not (
                        isinstance(cell.value, str)
                        and re.fullmatch(r"-?£?\d[\d,]*(\.\d+)?%?", cell.value)
                    )


def test_a_cost_the_scenario_sets_is_not_called_demandsims_assumption(baseline):
    from demandsim.report.finance import notes_sheet
    from demandsim.scenario_files import apply_overrides

    own = apply_overrides(baseline, ["costs.agency_day_rate_gbp=410"])
    notes = notes_sheet({"seeds": [7]}, {"ours": own}, ["Notes"], baseline).set_index("Item")
    rate = notes.loc["Agency day rate"]
    assert rate["Value"] == 410 and rate["Assumed"] == "scenario's own"
    assert rate["Note"].startswith("Set by this scenario")
    assert notes.loc["Agency days billed per year", "Assumed"] == "yes"  # kept from the baseline
    assert notes.loc["Seeds", "Value"] == 7


def test_an_interrupted_workbook_leaves_no_file_and_no_tracebacks(tmp_path, monkeypatch):
    """Ctrl-C while the sheets are written: no workbook, and nothing left for the garbage
    collector to finish (half-written sheets once wrote to closed files and printed tracebacks
    after the interrupted run's one line)."""
    import gc
    import sys

    from demandsim.report import workbook

    tables = {
        f"S{i}": workbook.Sheet(f"sheet {i}", pd.DataFrame({"a": [1.0, 2.0]})) for i in range(4)
    }
    written = []

    def write_then_interrupt(sheet, table):
        written.append(table.caption)
        if len(written) == 3:
            raise KeyboardInterrupt
        workbook_write(sheet, table)

    workbook_write = workbook._write
    monkeypatch.setattr(workbook, "_write", write_then_interrupt)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(u.exc_value))
    with pytest.raises(KeyboardInterrupt):
        workbook.write_sheets(tables, tmp_path / "book.xlsx")
    gc.collect()
    assert not (tmp_path / "book.xlsx").exists()
    assert unraisable == []
