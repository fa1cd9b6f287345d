"""``demandsim neighbours``: every number a person reads (the CSV, the terminal table, the
workbook) rebuilt here from the raw DfE CSVs with the csv module, not with the library; the
neighbours are the DfE's; missing figures stay missing; the page is self-contained; bad input is
one line and exit code 2.

One run of the command (Leeds, year ending 31 March 2021) serves every check of its outputs.
"""

from __future__ import annotations

import base64
import csv
import re
import statistics
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from demandsim.cli import main
from demandsim.neighbours.table import MEASURES
from demandsim.resources import DFE_DIR

pytestmark = pytest.mark.slow  # the neighbours command's folder, report and workbook

LEEDS, YEAR = "383", 2021
SALFORD = "355"  # a Leeds neighbour whose referrals with no further action are 'c' in 2024


@cache
def raw(file: str) -> list[dict[str, str]]:
    with open(DFE_DIR / file, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@cache
def rows_by_area(file: str) -> dict[tuple[str, str], dict[str, str]]:
    """(area, time_period) -> row; area 'England' is the national row."""
    out = {}
    for row in raw(file):
        if row["geographic_level"] == "National":
            out.setdefault(("England", row["time_period"]), row)
        elif row["geographic_level"] == "Local authority":
            out.setdefault((row["old_la_code"], row["time_period"]), row)
    return out


def raw_value(file: str, column: str, area: str, time_period: int) -> str | None:
    """The cell as the table has it."""
    row = rows_by_area(file).get((area, str(time_period)))
    return None if row is None else row[column]


def number(text: str | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
POP = "ons_mid-year_population_estimates_2012_to_2024.csv"
CSWW = "csww_indicators_2017_to_2025.csv"


def sn_row(code: str) -> list[str]:
    row = next(r for r in raw("sn_model_2025_wide.csv") if r["old_la_code"] == code)
    return [row[f"SN_{i}"] for i in range(1, 11)]


def referral_rate(area: str, year: int) -> float | None:
    """Referrals / children aged 0-17 (ONS mid-year estimate of the June inside the year) x
    10,000."""
    referrals = number(raw_value(C1, "referral_count", area, year))
    children = number(raw_value(POP, "population_estimate", area, year - 1))
    return None if referrals is None or not children else referrals / children * 10_000


def nfa_share(area: str, year: int) -> float | None:
    nfa = number(raw_value(C1, "no_further_action_count", area, year))
    referrals = number(raw_value(C1, "referral_count", area, year))
    return None if nfa is None or not referrals else 100 * nfa / referrals


def vacancy_rate(area: str, year: int) -> float | None:
    """As published, from the census at 30 September of the year before 31 March."""
    return number(raw_value(CSWW, "vacancy_rate_fte", area, year - 1))


EXPECTED = {"referrals_per_10k": referral_rate, "nfa_pct": nfa_share, "vacancy_rate": vacancy_rate}


def expected(key: str, year: int = YEAR) -> dict:
    """The council's figure, its neighbours' median and England, and its rank (1 = highest)."""
    compute = EXPECTED[key]
    own = compute(LEEDS, year)
    near = [v for c in sn_row(LEEDS) if (v := compute(c, year)) is not None]
    ranked = [own, *near]
    return {
        "council": own,
        "median": statistics.median(near),
        "england": compute("England", year),
        "rank": 1 + sum(v > own for v in ranked),
        "of": len(ranked),
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("neighbours") / "leeds"
    result = CliRunner().invoke(
        main, ["neighbours", "--la", "Leeds", "--year", str(YEAR), "--out", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder, result.output


@pytest.fixture(scope="module")
def book(run):
    return load_workbook(run[0] / "neighbours.xlsx")


@pytest.fixture(scope="module")
def table(run):
    return pd.read_csv(run[0] / "neighbours.csv", dtype={"area_code": str})


def pick(table: pd.DataFrame, key: str, role: str, year: int = YEAR) -> pd.Series:
    rows = table[(table["measure"] == key) & (table["role"] == role) & (table["year"] == year)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_the_neighbours_are_the_ten_of_the_dfe_model(table):
    got = set(table.loc[table["role"] == "neighbour", "area_code"])
    assert got == set(sn_row(LEEDS))
    assert len(got) == 10


@pytest.mark.parametrize("key", list(EXPECTED))
def test_csv_recomputed_from_the_raw_tables(table, key):
    want = expected(key)
    assert pick(table, key, "council")["value"] == pytest.approx(want["council"], rel=1e-12)
    assert pick(table, key, "neighbours' median")["value"] == pytest.approx(want["median"])
    assert pick(table, key, "England")["value"] == pytest.approx(want["england"], rel=1e-12)
    assert pick(table, key, "council")["rank"] == want["rank"]
    assert pick(table, key, "council")["of"] == want["of"]
    # every neighbour's own figure too
    for code in sn_row(LEEDS):
        row = table[(table["measure"] == key) & (table["area_code"] == code)]
        row = row[row["year"] == YEAR].iloc[0]
        value = EXPECTED[key](code, YEAR)
        assert (pd.isna(row["value"]) and value is None) or row["value"] == pytest.approx(value)


def test_looked_after_rates_round_to_the_dfe_published_rates(table):
    """The population convention (ONS June inside the year) is the DfE's own: every looked-after
    rate in the CSV rounds to the table's published rate_per_10000."""
    published = {
        (r["old_la_code"] or "England", int(r["time_period"])): number(r["rate_per_10000"])
        for r in raw("cla_number_and_rate_per_10k_children.csv")
        if r["population_type"] == "Children looked after on 31 March each year"
        and r["geographic_level"] in ("Local authority", "National")
    }
    rows = table[(table["measure"] == "cla_per_10k") & table["value"].notna()]
    rows = rows[rows["role"] != "neighbours' median"]
    assert len(rows) >= 50
    for row in rows.itertuples():
        assert round(row.value) == published[(row.area_code, row.year)], row


@pytest.mark.parametrize(
    ("key", "column"),
    [("rereferral_pct", "rereferral_percent"), ("nfa_pct", "no_further_action_percent"),
     ("not_in_need_pct", "not_in_need_percent")],
)  # fmt: skip
def test_shares_agree_with_the_dfe_published_percentages(table, key, column):
    """Shares computed from the counts agree with the DfE's own (rounded) percentages."""
    rows = table[(table["measure"] == key) & table["value"].notna()]
    rows = rows[rows["role"] != "neighbours' median"]
    assert len(rows) >= 100
    for row in rows.itertuples():
        published = number(raw_value(C1, column, row.area_code, row.year))
        assert abs(row.value - published) <= 0.05 + 1e-9, row


def test_parquet_holds_the_csv(run, table):
    stored = pd.read_parquet(run[0] / "neighbours.parquet")
    assert len(stored) == len(table)
    pd.testing.assert_series_equal(stored["value"], table["value"], check_dtype=False)
    assert set(stored["measure"]) == set(MEASURES)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_terminal_table_recomputed(run, key):
    want = expected(key)
    measure = MEASURES[key]
    line = next(s for s in run[1].splitlines() if s.startswith(f"{measure.label} ("))
    suffix = "%" if measure.unit == "%" else ""
    shown = [f"{want[k]:,.1f}{suffix}" for k in ("council", "median", "england")]
    assert re.search(r"\s+".join(map(re.escape, shown)), line), line
    assert f"{want['rank']} of {want['of']}" in line


@pytest.mark.parametrize("key", list(EXPECTED))
def test_workbook_recomputed(book, key):
    sheet = book[f"Year {YEAR}"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    heading, body = rows[0], rows[1:]
    row = dict(zip(heading, next(r for r in body if r[0] == MEASURES[key].label), strict=True))
    want = expected(key)
    scale = 100 if MEASURES[key].unit == "%" else 1  # percentages stored as fractions
    assert row["Leeds"] * scale == pytest.approx(want["council"])
    assert row["Neighbours' median"] * scale == pytest.approx(want["median"])
    assert row["England"] * scale == pytest.approx(want["england"])
    assert row["Rank (1 = highest)"] == want["rank"]
    assert row["Ranked out of"] == want["of"]
    cell = next(c for c in sheet["C"] if c.value == row["Leeds"])
    assert cell.number_format == ("0.0%" if scale == 100 else "#,##0.0")
    years = book["By year"]
    head = [c.value for c in years[2]]
    col = head.index(str(YEAR))
    council_row = next(
        r for r in years.iter_rows(min_row=3, values_only=True)
        if r[0] == MEASURES[key].label and r[2] == "council"
    )  # fmt: skip
    assert council_row[col] * scale == pytest.approx(want["council"])


def test_missing_figures_stay_missing(table, book):
    """Salford's 2024 referrals with no further action are 'c': missing, with the reason, left
    out of the median and the rank; children looked after before 2021 are not in the tables."""
    assert raw_value(C1, "no_further_action_count", SALFORD, 2024) == "c"
    row = table[(table["measure"] == "nfa_pct") & (table["area_code"] == SALFORD)]
    row = row[row["year"] == 2024].iloc[0]
    assert pd.isna(row["value"]) and pd.isna(row["rank"])
    assert "suppressed (c)" in row["status"]
    median = pick(table, "nfa_pct", "neighbours' median", 2024)
    others = [v for c in sn_row(LEEDS) if (v := nfa_share(c, 2024)) is not None]
    assert median["value"] == pytest.approx(statistics.median(others))
    assert median["status"] == f"median of {len(others)} of 10 neighbours"
    early = table[(table["measure"] == "cla_per_10k") & (table["year"] < 2021)]
    assert early["value"].isna().all()
    assert early.loc[early["role"] == "council", "status"].str.contains("not in the tables").all()
    years = book["By year"]
    head = [c.value for c in years[2]]
    cla = next(
        r for r in years.iter_rows(min_row=3, values_only=True)
        if r[0] == MEASURES["cla_per_10k"].label and r[2] == "council"
    )  # fmt: skip
    assert cla[head.index("2020")] is None and cla[head.index("2021")] is not None
    reasons = list(book["Missing"].iter_rows(min_row=3, values_only=True))
    assert (MEASURES["nfa_pct"].label, "2013-2025", "Salford", "2024",
            "no_further_action_count: suppressed (c)") in reasons  # fmt: skip


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.external, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("data:", "#")):
                self.external.append(value)
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def test_html_is_self_contained_with_every_chart(run):
    text = (run[0] / "neighbours.html").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(text)
    assert parsed.external == []
    assert "script" not in parsed.tags and "link" not in parsed.tags
    assert len(parsed.images) == len(MEASURES)
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for measure in MEASURES.values():
        assert f"id='chart-{measure.key}'" in text
        assert measure.numerator.column in text  # the notes name each measure's column
    assert "Not available from the shipped tables" in text
    assert "Salford 2024 (no_further_action_count: suppressed (c))" in text  # said under its chart
    assert len(list((run[0] / "charts").glob("*.png"))) == len(MEASURES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--la", "Narnia"], "no English council of that name or code"),
        (["--la", "Leeds", "--year", "2030"], "the DfE tables cover the years ending 31 March"),
        (["--la", "Northamptonshire", "--year", "2023"], "abolished"),
        (["--la", "Northamptonshire", "--year", "2019"], "has no statistical neighbours"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(main, ["neighbours", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_overwrite_only_replaces_our_folders(tmp_path, run):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("not ours")
    for extra in ([], ["--overwrite"]):
        result = CliRunner().invoke(
            main, ["neighbours", "--la", "383", "--out", str(theirs), *extra]
        )
        assert result.exit_code == 2, result.output
        assert (theirs / "keep.txt").read_text() == "not ours"
    result = CliRunner().invoke(
        main, ["neighbours", "--la", "E08000035", "--year", "2021", "--out", str(run[0])]
    )
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_listed_in_the_help_which_loads_no_heavy_library():
    """`demandsim --help` lists the command and `demandsim neighbours --help` answers without
    pandas or matplotlib (the command imports them when it runs)."""
    from tests.imports import heavy_modules_loaded

    assert "neighbours" in CliRunner().invoke(main, ["--help"]).output
    calls = [(["--help"], 0), (["neighbours", "--help"], 0)]
    assert heavy_modules_loaded(calls, ("pandas", "matplotlib")) == []


def test_the_guide_shows_what_the_command_prints(run):
    """docs/neighbours.md's excerpt is the first lines the Leeds 2021 command prints."""
    guide = (Path(__file__).resolve().parents[1] / "docs" / "neighbours.md").read_text()
    shown = guide.split("what the first command prints):\n\n```\n", 1)[1].split("```", 1)[0]
    assert len(shown.splitlines()) > 8
    assert run[1].startswith(shown)


def test_a_missing_own_figure_is_shown_missing_in_the_terminal_and_the_workbook(tmp_path):
    """Salford's 2024 referrals with no further action are 'c': the terminal shows '-', no rank,
    and says why, and the workbook leaves the cells empty; the library is called directly (no
    charts) to keep this fast."""
    from demandsim.neighbours.report import text, write_workbook
    from demandsim.neighbours.table import comparison, council

    place, year = council("Salford", 2024)
    table = comparison(place)
    printed = text(table, place, year)
    line = next(s for s in printed.splitlines() if s.startswith(MEASURES["nfa_pct"].label))
    cells = re.split(r"\s{2,}", line)
    assert cells[1] == "-" and cells[4] == "-", line
    assert "no_further_action_count: suppressed (c)" in printed
    write_workbook(table, place, year, tmp_path / "salford.xlsx")
    sheet = load_workbook(tmp_path / "salford.xlsx")[f"Year {year}"]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == MEASURES["nfa_pct"].label)
    assert row[2] is None and row[5] is None and row[3] is not None
