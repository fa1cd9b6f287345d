"""What a user reads equals what the replications produced, for every kind of run.

Each test recomputes a table, workbook sheet, HTML table or printed line from the stored
per-replication results (``--keep-replications``: each replication's daily cube and KPI rows),
with plain numpy and pandas rather than demandsim's own aggregation, on real model output. The
layout is chosen to expose order bugs: the forecast has an odd number of days crossing a
financial year, the teams (7 with the service), days and measures all differ in number.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim.batch.aggregate import BAND_COLUMNS, QUANTILES
from demandsim.calendar import financial_year
from demandsim.cli import main
from demandsim.measures import (
    DAILY,
    DAILY_NAMES,
    FORECAST,
    HEADLINE,
    SERVICE,
    TOTAL_COST,
    team_label,
)
from demandsim.replication import forecast_dates, simulate, team_labels
from demandsim.run import run_replication
from demandsim.scenario_files import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# 1.13 years from 1 April 2026: 413 days, into a second (part) financial year
SHORT = ["--years", "1.13", "--set", "warmup_days=20"]
WORKBOOK = "costs_and_staffing.xlsx"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--jobs", "1", "--keep-replications"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("e2e")
    fill = [str(SCENARIOS / "agency-fill-26d.toml"), str(SCENARIOS / "agency-fill-3d.toml")]
    commands = {
        "run": ["run", *SHORT, "--seed", "3"],
        "run -n": ["run", *SHORT, "-n", "5"],
        "compare": ["compare", *fill, "--years", "0.6", "-n", "4"],
        "sweep": ["sweep", "--vary", "workforce.agency.fill_days=2,40", *SHORT, "-n", "3"],
    }
    return {
        kind: (
            root / kind.replace(" ", ""),
            invoke(*args, "--out", str(root / kind.replace(" ", ""))),
        )
        for kind, args in commands.items()
    }


KINDS = ["run", "run -n", "compare", "sweep"]


def scenario_of(folder: Path, key: str):
    return load_scenario(folder / "scenarios" / f"{key}.toml")


def keys_of(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "replications").iterdir())


def cubes(folder: Path, key: str) -> tuple[list[int], np.ndarray]:
    """Every stored replication's daily cube: (replications, days, teams, measures), by seed."""
    files = sorted((folder / "replications" / key).glob("seed-*.npy"))
    seeds = [int(re.search(r"seed-(\d+)", f.name).group(1)) for f in files]
    return seeds, np.stack([np.load(f).astype(float) for f in files])


def raw_kpis(folder: Path, key: str) -> pd.DataFrame:
    files = sorted((folder / "replications" / key).glob("seed-*.kpis.parquet"))
    return pd.concat(
        [
            pd.read_parquet(f).assign(replication=int(re.search(r"seed-(\d+)", f.name).group(1)))
            for f in files
        ],
        ignore_index=True,
    )


def percentiles(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: nobody in post
        return np.nanpercentile(values, [100 * q for q in QUANTILES], axis=0)


@pytest.mark.parametrize("kind", KINDS)
def test_daily_bands_are_the_percentiles_of_the_replications(runs, kind):
    folder, _ = runs[kind]
    bands = pd.read_parquet(folder / "daily_bands.parquet")
    for key in keys_of(folder):
        scenario = scenario_of(folder, key)
        _, stack = cubes(folder, key)
        dates, teams = forecast_dates(scenario), team_labels(scenario)
        assert stack.shape[1:] == (len(dates), len(teams), len(DAILY))
        mine = bands[bands["scenario"] == key]
        for measure in ("unallocated_cases", "caseload_per_worker", "staff_permanent", "total_gbp"):
            m = DAILY_NAMES.index(measure)
            expected = percentiles(stack[:, :, :, m])  # (quantiles, days, teams)
            for t, team in enumerate(teams):
                rows = mine[(mine["team"] == team) & (mine["measure"] == measure)]
                assert rows["date"].tolist() == list(dates)
                got = rows[list(BAND_COLUMNS)].to_numpy().T
                np.testing.assert_allclose(got, expected[:, :, t], rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("kind", KINDS)
def test_monthly_bands_and_kpi_summary_are_those_of_the_replications(runs, kind):
    folder, _ = runs[kind]
    monthly = pd.read_parquet(folder / "monthly_bands.parquet")
    summary = pd.read_parquet(folder / "kpi_summary.parquet")
    for key in keys_of(folder):
        scenario = scenario_of(folder, key)
        _, stack = cubes(folder, key)
        months = forecast_dates(scenario).to_period("M")
        teams = team_labels(scenario)
        for measure, how in (("unallocated_cases", np.nanmean), ("total_gbp", np.nansum)):
            m = DAILY_NAMES.index(measure)
            for month in dict.fromkeys(months):
                per_rep = how(
                    stack[:, :, :, m][:, months == month], axis=1
                )  # (replications, teams)
                row = monthly[
                    (monthly["scenario"] == key)
                    & (monthly["month"] == month.to_timestamp())
                    & (monthly["measure"] == measure)
                ].set_index("team")
                np.testing.assert_allclose(
                    row.loc[teams, "p50"], np.median(per_rep, axis=0), rtol=1e-6
                )
                np.testing.assert_allclose(row.loc[teams, "mean"], per_rep.mean(axis=0), rtol=1e-6)
        kpis = raw_kpis(folder, key)
        expected = kpis.groupby(["team", "measure", "period"])["value"].agg(["mean", "median"])
        got = summary[summary["scenario"] == key].set_index(["team", "measure", "period"])
        got = got.loc[expected.index]
        np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(got["p50"], expected["median"], rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("kind", KINDS)
def test_kpis_are_those_of_the_daily_series(runs, kind):
    """The whole-forecast KPIs agree with the cube the bands come from (one source)."""
    folder, _ = runs[kind]
    key = keys_of(folder)[0]
    scenario = scenario_of(folder, key)
    seeds, stack = cubes(folder, key)
    kpis = raw_kpis(folder, key).set_index(["replication", "team", "measure", "period"])["value"]
    unallocated = stack[:, :, :, DAILY_NAMES.index("unallocated_cases")]
    years = financial_year(forecast_dates(scenario).to_numpy().astype("datetime64[D]"))
    for r, seed in enumerate(seeds):
        for t, team in enumerate(team_labels(scenario)):
            assert kpis[(seed, team, "unallocated_mean", FORECAST)] == pytest.approx(
                unallocated[r, :, t].mean(), rel=1e-6
            )
            assert kpis[(seed, team, "unallocated_peak", FORECAST)] == pytest.approx(
                unallocated[r, :, t].max(), rel=1e-6
            )
            threshold = scenario.backlog_threshold_cases
            passed = float((unallocated[r, :365, t] > threshold).any())
            assert kpis[(seed, team, "backlog_passes_threshold_in_12_months", FORECAST)] == passed
        for year in dict.fromkeys(years):
            total = stack[r, years == year, -1, DAILY_NAMES.index(TOTAL_COST)].sum()
            assert kpis[(seed, SERVICE, TOTAL_COST, year)] == pytest.approx(total, rel=1e-6)


def service_costs(folder: Path, key: str) -> pd.DataFrame:
    kpis = raw_kpis(folder, key)
    rows = kpis[(kpis["team"] == SERVICE) & (kpis["measure"] == TOTAL_COST)]
    return rows.pivot(index="replication", columns="period", values="value")


@pytest.mark.parametrize("kind", KINDS)
def test_workbook_shows_the_replications_numbers(runs, kind):
    from demandsim.measures import label, team_label

    folder, _ = runs[kind]
    sheets = pd.read_excel(folder / WORKBOOK, sheet_name=None, header=1)
    budget = sheets["Budget"]
    headline = sheets["Headline"]
    staffing = sheets["Staffing and backlog"]
    for key in keys_of(folder):
        scenario = scenario_of(folder, key)
        totals = service_costs(folder, key)
        mine = budget[budget["Scenario"] == key].set_index("Line")
        shown = {c[:7]: c for c in budget.columns if re.match(r"\d{4}-\d{2}", str(c))}
        assert list(shown) == list(totals.columns)
        for year, column in shown.items():
            values = totals[year].to_numpy()
            for q in (10, 50, 90):
                assert mine.loc[f"Cost, P{q}", column] == pytest.approx(np.percentile(values, q))
            stated = scenario.costs.budget_by_financial_year_gbp.get(year)
            if stated is not None and "part" not in column:
                assert mine.loc["Chance of overspend", column] == pytest.approx(
                    np.mean(values > stated)
                )
        kpis = raw_kpis(folder, key)
        means = kpis[kpis["period"] == FORECAST].groupby(["team", "measure"])["value"].mean()
        rows = headline[headline["Scenario"] == key].set_index("Team")
        for team in team_labels(scenario):
            for measure in HEADLINE:
                expected = means.get((team, measure), np.nan)  # service-only KPIs: blank cells
                heading = label(measure, scenario)
                heading = heading[:1].upper() + heading[1:]
                assert rows.loc[team_label(team), heading] == pytest.approx(expected, nan_ok=True)
        # staffing: the median over replications of each month's mean staff in post
        _, stack = cubes(folder, key)
        months = forecast_dates(scenario).to_period("M")
        first = months[0]
        per_rep = stack[:, :, :, DAILY_NAMES.index("staff_agency")][:, months == first].mean(axis=1)
        sheet = staffing[
            (staffing["Scenario"] == key) & (pd.to_datetime(staffing["Month"]) == first.start_time)
        ].set_index("Team")
        teams = [team_label(t) for t in team_labels(scenario)]
        np.testing.assert_allclose(
            sheet.loc[teams, "Agency staff in post, P50"], np.median(per_rep, axis=0), rtol=1e-6
        )


def pounds(value: float) -> str:
    return f"-£{-value:,.0f}" if value < 0 else f"£{value:,.0f}"


@pytest.mark.parametrize("kind", KINDS)
def test_html_report_and_printed_summary_show_the_replications_numbers(runs, kind):
    folder, output = runs[kind]
    page = (folder / "report.html").read_text()
    for key in keys_of(folder):
        totals = service_costs(folder, key)
        for year in totals.columns:
            p50 = pounds(np.percentile(totals[year].to_numpy(), 50))
            assert p50 in page, (key, year, p50)
            assert p50 in output, (key, year, p50)
        kpis = raw_kpis(folder, key)
        service = kpis[(kpis["team"] == SERVICE) & (kpis["period"] == FORECAST)]
        peak = service[service["measure"] == "unallocated_peak"]["value"].mean()
        shown = f"{peak:,.0f}" if abs(peak) >= 100 else f"{peak:.1f}"
        assert shown in output
        assert f"{peak:,.1f}" in page  # the report's tables show one decimal
    assert (folder / "summary.txt").read_text().strip() in output


@pytest.mark.parametrize(
    "kind, reference, other",
    [("compare", "agency-fill-26d", "agency-fill-3d"), ("sweep", "fill_days=2", "fill_days=40")],
)
def test_cost_differences_are_the_paired_differences_of_the_replications(
    runs, kind, reference, other
):
    """Printed as people write money, the sign first: the sweep's slower fill costs less."""
    folder, output = runs[kind]
    diffs = pd.read_parquet(folder / "paired_differences.parquet")
    a, b = service_costs(folder, reference), service_costs(folder, other)
    assert (kind == "sweep") == ((b - a).to_numpy().mean() < 0)
    by_year = pd.read_csv(folder / "costs_by_replication.csv")
    part = set(by_year.loc[by_year["partial"], "financial_year"])  # years the forecast cuts
    assert part == ({"2014-15", "2015-16"} if kind == "compare" else {"2027-28"})
    for year in a.columns:
        d = (b[year] - a[year]).to_numpy()
        row = diffs[
            (diffs["scenario"] == other) & (diffs["team"] == SERVICE)
            & (diffs["measure"] == TOTAL_COST) & (diffs["period"] == year)
        ].iloc[0]  # fmt: skip
        assert row["mean"] == pytest.approx(d.mean())
        assert row["share_higher"] == pytest.approx(np.mean(d > 0))
        shown = f"{year} (part)" if year in part else year
        assert f"{other} - {reference}, {shown}: {pounds(d.mean())}" in output


PASSES = "backlog_passes_threshold_in_12_months"


def newcombe(x: list[float], y: list[float]) -> tuple[float, float]:
    """Newcombe's paired interval for x's chance minus y's, written out from the paper's
    formulas one pair at a time (r both, s x only, t y only, u neither)."""
    z = 1.959963984540054
    pairs = list(zip(x, y, strict=True))
    n = len(pairs)
    r, s = pairs.count((1.0, 1.0)), pairs.count((1.0, 0.0))
    t, u = pairs.count((0.0, 1.0)), pairs.count((0.0, 0.0))

    def wilson(p: float) -> tuple[float, float]:
        centre, half = 2 * n * p + z**2, z * math.sqrt(z**2 + 4 * n * p * (1 - p))
        return (centre - half) / (2 * (n + z**2)), (centre + half) / (2 * (n + z**2))

    p1, p2 = (r + s) / n, (r + t) / n
    (l1, u1), (l2, u2) = wilson(p1), wilson(p2)
    cross = r * u - s * t
    cross = cross - n / 2 if cross > n / 2 else min(cross, 0)
    margins = (r + s) * (t + u) * (r + t) * (s + u)
    phi = cross / math.sqrt(margins) if margins else 0.0
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    return low, high


def test_compare_chance_differences_are_newcombe_intervals_of_the_replications(runs):
    """Each chance's difference and interval, in the stored table and as printed, recomputed
    from the stored replications' 0/1 outcomes."""
    folder, output = runs["compare"]
    diffs = pd.read_parquet(folder / "paired_differences.parquet")
    kpis = pd.read_parquet(folder / "kpis_by_replication.parquet")
    reference, other = "agency-fill-26d", "agency-fill-3d"
    chances = diffs[diffs["measure"] == PASSES]
    checked = 0
    assert len(chances) >= 7 and (chances["ci_low"] < chances["ci_high"]).all()
    for row in chances.itertuples():
        mine = kpis[(kpis["team"] == row.team) & (kpis["measure"] == row.measure)
                    & (kpis["period"] == row.period)]  # fmt: skip
        x = mine[mine["scenario"] == other].sort_values("replication")["value"].tolist()
        y = mine[mine["scenario"] == reference].sort_values("replication")["value"].tolist()
        low, high = newcombe(x, y)
        assert row.mean == pytest.approx(np.mean(x) - np.mean(y))
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high)), row.team
        noise = not low > 0 and not high < 0
        mean, low, high = (shown_number(100 * v) for v in (row.mean, low, high))
        shown = f"{mean} ({low} to {high})"
        assert any(line.startswith(team_label(row.team)) and line.endswith(shown)
                   for line in output.splitlines()), (row.team, shown)  # fmt: skip
        # the headline marks a change of chance the interval does not separate from none
        brief = " ".join(output.split("Chance of passing")[1].split("\n\n")[0].split())
        named = re.search(rf"{team_label(row.team)} \d+% -> \d+%( \(within the noise\))?", brief)
        if named:
            assert bool(named.group(1)) == noise, (row.team, named.group(0))
            checked += 1
    assert checked >= 1


def test_newcombe_interval_is_the_formulas_on_tables_of_every_kind():
    """The vectorised interval against the formulas written out, on 300 random tables:
    agreeing and disagreeing pairs, every pair the same, one pair, positive and negative
    correlation (where the continuity correction of phi applies)."""
    from demandsim.batch.compare import newcombe_paired

    rng = np.random.default_rng(11)
    corrected = 0
    for _ in range(300):
        n = int(rng.integers(1, 30))
        probs = rng.dirichlet(np.full(4, 0.5))
        cells = rng.choice(4, size=n, p=probs)
        x, y = np.isin(cells, (0, 1)).astype(float), np.isin(cells, (0, 2)).astype(float)
        low, high = newcombe_paired(x[None, :], y[None, :])
        assert (low[0], high[0]) == pytest.approx(newcombe(x.tolist(), y.tolist()), abs=1e-12)
        r, u = np.sum(cells == 0), np.sum(cells == 3)
        corrected += r * u - np.sum(cells == 1) * np.sum(cells == 2) > n / 2
    assert corrected > 50


def shown_number(value: float) -> str:
    """As the printed tables show a number: whole above 100, else one decimal."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def test_stored_cube_is_the_replications_own_series(baseline, tmp_path):
    """Band storage with real model output: the bytes read back are the daily series of
    that replication, team by team, not a reshuffle of them."""
    from demandsim.batch.store import BatchStore
    from demandsim.scenario_files import apply_overrides

    scenario = apply_overrides(baseline, ["years=0.3", "warmup_days=10"])
    rep = simulate(scenario, seed=2)
    store = BatchStore.create(tmp_path / "b", {})
    store.save("s", rep)
    block = store.daily_block("s", [2], 0, rep.daily.shape[0])[0]
    np.testing.assert_array_equal(block, rep.daily)
    daily = run_replication(scenario, seed=2).daily
    for t, team in enumerate(scenario.teams):
        own = daily[daily["team"] == team]
        for measure in ("unallocated_cases", "staff_agency", "open_cases"):
            np.testing.assert_allclose(
                block[:, t, DAILY_NAMES.index(measure)], own[measure].to_numpy(), rtol=1e-6
            )
    # a cube saved in Fortran order is refused, never read as if it were C order
    fortran = store.root / "replications" / "s" / "seed-000003.npy"
    np.save(fortran, np.asfortranarray(rep.daily))
    (fortran.parent / "seed-000003.kpis.parquet").write_bytes(b"")
    with pytest.raises(ValueError, match="Fortran order"):
        store.daily_block("s", [3], 0, 5)


def cases(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}".replace(".0", "")


def html_table_after(page: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` in the report, row by row."""
    import html

    table = page[page.index(heading) :].split("</table>", 1)[0]
    rows = re.findall(r"<tr.*?>(.*?)</tr>", table, flags=re.S)
    return [
        [html.unescape(c) for c in re.findall(r"<t[hd].*?>(.*?)</t[hd]>", r, re.S)] for r in rows
    ]


@pytest.mark.parametrize("kind", ["run -n", "compare"])
def test_the_reports_cost_components_are_means_that_add_up(runs, kind):
    """The report's costs by component and financial year: each the mean over the replications
    of costs_by_replication.csv, and together the total shown below them."""
    from demandsim.measures import COST_COMPONENTS, short_label
    from demandsim.report.text import pounds

    folder, _ = runs[kind]
    rows = html_table_after((folder / "report.html").read_text(), "Mean by component")
    means = pd.read_csv(folder / "costs_by_replication.csv")
    means = means.groupby(["scenario", "financial_year"]).mean(numeric_only=True)
    names = {short_label(c).capitalize(): c for c in (*COST_COMPONENTS, TOTAL_COST)}
    head, shown = rows[0], 0
    years = [h for h in head if h[:2].isdigit()]
    assert years and set(years) == set(means.index.get_level_values("financial_year"))
    only = means.index.get_level_values("scenario")[0]
    for row in rows[1:]:
        cells = dict(zip(head, row, strict=True))
        scenario = cells.get("scenario", only)
        for year in years:
            assert cells[year] == pounds(means.loc[(scenario, year), names[cells["component"]]])
            shown += 1
    for (scenario, year), row in means.iterrows():  # the components add up to the total
        parts = row[list(COST_COMPONENTS)].sum()
        assert parts == pytest.approx(row[TOTAL_COST], abs=1.0), (scenario, year)  # float32 sums
    assert shown == len(means) * len(names)


def test_headline_words_are_the_replications_numbers(runs):
    from demandsim.headline import money
    from demandsim.measures import team_label

    folder, output = runs["run -n"]
    page = (folder / "report.html").read_text()
    flat = " ".join(output.split())
    kpis = raw_kpis(folder, "baseline")
    winter = kpis[kpis["measure"] == "unallocated_winter_mean"]
    assert set(winter["period"]) == {"2026-27"}
    for team, rows in winter.groupby("team"):
        values = rows["value"].to_numpy()
        if np.percentile(values, 90) < 0.5 and team != SERVICE:
            continue
        said = (
            f"{team_label(team)} {cases(np.percentile(values, 50))} "
            f"({cases(np.percentile(values, 10))} to {cases(np.percentile(values, 90))})"
        )
        assert said in flat, said
        assert said in page, said
    totals = service_costs(folder, "baseline")
    said = f"Cost 2026-27: {money(np.percentile(totals['2026-27'], 50))} at P50"
    assert said in flat and said in page
    said = re.search(
        r"Chance that a social work team's unallocated cases pass 50 on some day of the first "
        r"12 months: (.*?)\.",  # a 413-day forecast
        flat,
    ).group(1)
    chance = kpis[kpis["measure"] == "backlog_passes_threshold_in_12_months"]
    chance = chance.groupby("team")["value"].mean()
    staffed = [
        t for t, team in scenario_of(folder, "baseline").teams.items() if not team.is_service
    ]
    for team in staffed:  # each team at 5% or more is named with its chance; the others are not
        named = f"{team_label(team)} {100 * chance[team]:.0f}%"
        assert (named in said) == (chance[team] >= 0.05), (team, said)
    rest = [t for t in staffed if chance[t] < 0.05]
    assert ("every other social work team below 5%" in said) == bool(rest)

    folder, output = runs["compare"]
    flat = " ".join(output.split())
    # the chances of a forecast shorter than a year are over the whole of it: 0.6 x 365.25 days
    assert "12 months" not in flat
    assert "pass 50 in the 219-day forecast (%)" in flat  # the printed table's row
    assert "Chance of passing 50 unallocated cases in the 219-day forecast:" in flat
    page = re.sub(r"base64,[^\"']*", "", (folder / "report.html").read_text())  # text, not images
    assert "12 months" not in page and "12m" not in page
    assert "P(&gt; 50 in 219d)" in page  # the headline table's heading
    book = openpyxl.load_workbook(folder / WORKBOOK, read_only=True)
    words = {c for ws in book for row in ws.iter_rows(values_only=True) for c in row}
    assert not [w for w in words if isinstance(w, str) and "12 months" in w]
    assert "Chance unallocated cases pass 50 in the 219-day forecast" in words
    assert "backlog passes 50 cases on some day of the 219-day forecast:" in flat
    d = (service_costs(folder, "agency-fill-3d") - service_costs(folder, "agency-fill-26d"))[
        "2014-15"
    ]
    word = "more" if d.mean() > 0 else "less"
    assert f"Cost 2014-15 (part year): {money(abs(d.mean()))} {word}" in flat  # 212 days
    assert (
        f"{word} in {100 * np.mean(d > 0 if word == 'more' else d < 0):.0f}% of replications"
        in flat
    )


def test_children_in_need_and_on_a_plan_are_the_open_cases_of_their_stages(baseline):
    """Stocks by stage, on real output: a team all of whose stages count as children in need
    holds exactly its open cases; the teams add up to the service; plans are part of need."""
    from demandsim.scenario_files import apply_overrides

    scenario = apply_overrides(baseline, ["years=0.4", "warmup_days=20"])
    cube = simulate(scenario, seed=5).daily.astype(float)
    at = DAILY_NAMES.index
    need, plans, open_cases = (cube[:, :, at(m)] for m in
                               ("children_in_need", "child_protection", "open_cases"))  # fmt: skip
    counted = set(scenario.pathway.children_in_need_stages)
    for t, team in enumerate(scenario.teams):
        served = {s for s, stage in scenario.pathway.stages.items() if stage.team == team}
        if served and served <= counted:
            np.testing.assert_allclose(need[:, t], open_cases[:, t], rtol=1e-6)
        elif not served & counted:
            assert (need[:, t] == 0).all(), team
    np.testing.assert_allclose(need[:, -1], need[:, :-1].sum(axis=1), rtol=1e-5)
    assert (plans[:, -1] > 0).all() and (need[:, -1] >= plans[:, -1]).all()
