"""``demandsim outlook``: the weekly chances and bands recomputed from the stored replications
and from the model itself, the printed table and the report against the stored table, the
act-today answer (monotone in the request, the least that meets the level, on the same seeds),
the back-test's cut of the data (it never reads the future) and its scoring, and bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim.calibration.inputs import read_folder
from demandsim.calibration.leadtimes import recent_fill_factors
from demandsim.calibration.published import calibrate_published, find_council, own_figure
from demandsim.cli import main
from demandsim.measures import DAILY_NAMES, team_label
from demandsim.outlook.act import TOGETHER, Runner, Search
from demandsim.outlook.asof import as_of, outlook_scenario
from demandsim.outlook.backtest import by_issue_date, score_weeks, scores
from demandsim.outlook.settings import OutlookSettings, first_week_judged, load_settings
from demandsim.outlook.weekly import LETTER, _short
from demandsim.parameter_draws import simulate_drawn
from demandsim.replication import simulate
from demandsim.results_store import scenario_record
from demandsim.scenario_files import load_scenario

pytestmark = pytest.mark.slow  # outlooks with their act-today searches and back-tests

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "calibration" / "demo"
WEEKS = 8
N = 4
SEARCH_SEEDS = range(4)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("outlook") / "demo"
    args = ["outlook", str(DEMO), "--weeks", str(WEEKS), "-n", str(N), "--seed", "3",
            "--threshold", "front_door=2", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_the_outlook_is_the_same_on_one_process_as_on_every_core(run, tmp_path):
    out, printed = run  # every core, the default
    args = ["outlook", str(DEMO), "--weeks", str(WEEKS), "-n", str(N), "--seed", "3",
            "--threshold", "front_door=2", "--jobs", "1", "--no-report", "--out", str(tmp_path / "one")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.replace(str(tmp_path / "one"), str(out)) == printed.replace(
        f"Report: {out}/report.html\n", ""
    )
    for name in ("outlook_weekly.csv", "outlook_act_today.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (out / name).read_bytes(), name
    # each request tried is announced as it starts: each row's request (the requests together
    # are one); today's staffing is the outlook's own batch, not run again
    act = pd.read_csv(out / "outlook_act_today.csv")
    tried = (act["search"] != TOGETHER).sum() + (act["search"] == TOGETHER).any()
    assert tried > 0
    assert result.stderr.count("act today: agency workers asked for: ") == tried
    assert "asked for: none" not in result.stderr


def check_weekly_against_replications(out: Path, n: int, weeks: int, first_seed: int) -> None:
    """Every chance, light and band of ``outlook_weekly.csv`` from the stored replications."""
    stored = pd.read_csv(out / "outlook_weekly.csv")
    reps = pd.read_parquet(out / "outlook_weekly_by_replication.parquet")
    assert sorted(reps["replication"].unique()) == list(range(first_seed, first_seed + n))
    assert len(reps) == n * weeks * stored["team"].nunique()
    for row in stored.itertuples():
        g = reps[(reps["team"] == row.team) & (reps["week"] == row.week)]
        assert len(g) == n == row.replications
        assert row.chance_over_threshold == pytest.approx(
            (g["max_unallocated"] > row.threshold_cases).mean()
        )
        assert row.mean_unallocated == pytest.approx(
            g["mean_unallocated"].mean(), rel=1e-5, abs=1e-5
        )
        for q, col in ((10, "p10_unallocated"), (50, "p50_unallocated"), (90, "p90_unallocated")):
            assert getattr(row, col) == pytest.approx(
                np.percentile(g["mean_unallocated"], q), rel=1e-5, abs=1e-5
            )
        light = (
            "red"
            if row.chance_over_threshold >= 0.3
            else "amber"
            if row.chance_over_threshold >= 0.1
            else "green"
        )
        assert row.light == light


def check_act_today_against_weekly(out: Path, n: int, first_seed: int) -> pd.DataFrame:
    """Today's worst judged week in the act-today table is the weekly table's, on its seeds."""
    act = pd.read_csv(out / "outlook_act_today.csv")
    weekly = pd.read_csv(out / "outlook_weekly.csv")
    first = int(json.loads((out / "outlook.json").read_text())["first_week_judged"])
    for team, rows in act.groupby("team"):
        judged = weekly[(weekly["team"] == team) & (weekly["week"] >= first)]
        assert rows["today_worst_chance"].iloc[0] == pytest.approx(
            judged["chance_over_threshold"].max()
        )
    assert (act["first_seed"] == first_seed).all() and (act["replications"] == n).all()
    return act


def test_weekly_chances_and_bands_are_recomputed_from_the_stored_replications(run):
    out, _ = run
    check_weekly_against_replications(out, N, WEEKS, 3)
    stored = pd.read_csv(out / "outlook_weekly.csv")
    assert stored.loc[stored["team"] == "front_door", "threshold_cases"].eq(2).all()


def test_each_stored_week_is_the_model_replication_reduced(run):
    """The per-replication weeks are the daily unallocated cube of that seed, re-simulated from
    the resolved scenario in the folder, cut into weeks."""
    out, _ = run
    scenario = load_scenario(out / "scenarios" / "outlook.toml")
    reps = pd.read_parquet(out / "outlook_weekly_by_replication.parquet")
    seed = 4
    daily = simulate(scenario, seed).daily[: WEEKS * 7, :, DAILY_NAMES.index("unallocated_cases")]
    teams = list(scenario.teams)
    mine = reps[reps["replication"] == seed]
    for row in mine.itertuples():
        week = daily[(row.week - 1) * 7 : row.week * 7, teams.index(row.team)]
        assert row.max_unallocated == week.max()
        assert row.mean_unallocated == pytest.approx(week.mean(), abs=1e-5)
        assert row.week_start == pd.Timestamp(scenario.start_date) + pd.Timedelta(
            days=7 * (row.week - 1)
        )


def test_the_printed_table_and_the_report_show_the_stored_chances(run):
    out, stdout = run
    stored = pd.read_csv(out / "outlook_weekly.csv")
    teams = list(dict.fromkeys(stored["team"]))
    printed = {}
    for line in stdout.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d{4}-\d\d-\d\d)((?:\s+[GAR]\s+\d+)+)\s*$", line)
        if m:
            printed[int(m[1])] = re.findall(r"([GAR])\s+(\d+)", m[3])
    assert sorted(printed) == list(range(1, WEEKS + 1))
    html = (out / "report.html").read_text()
    cells = re.findall(r"<td class='light-(\w+)' title='\w+'>([GAR]) (\d+)%</td>", html)
    assert len(cells) == WEEKS * len(teams)
    for row in stored.itertuples():
        letter, shown = printed[row.week][teams.index(row.team)]
        assert letter == LETTER[row.light]
        assert int(shown) == math.floor(100 * row.chance_over_threshold + 1e-9)  # rounded down
        light, letter, shown = cells[(row.week - 1) * len(teams) + teams.index(row.team)]
        assert (light, letter) == (row.light, LETTER[row.light])
        assert int(shown) == math.floor(100 * row.chance_over_threshold + 1e-9)  # rounded down
    assert (out / "charts" / "outlook_backlog.png").stat().st_size > 10_000
    record = json.loads((out / "outlook.json").read_text())
    assert record["thresholds"]["front_door"] == 2
    assert record["settings_source"] == "--threshold"


def test_vacancy_fill_factors_are_the_vacancy_logs_and_shown_as_stored(run):
    """Each team's factor, recomputed from the demo's vacancy log on its snapshot date, is the
    one the run used (its resolved scenario), recorded (outlook.json), printed and in the report."""
    out, stdout = run
    record = json.loads((out / "outlook.json").read_text())
    scenario = load_scenario(out / "scenarios" / "outlook.toml")
    data = read_folder(DEMO)
    expected = recent_fill_factors(data.vacancies, scenario.start_date).set_index("team")["factor"]
    stored = record["vacancy_fill_factors"]
    assert set(stored) == set(record["thresholds"])
    html = (out / "report.html").read_text()
    for team, factor in stored.items():
        assert factor == scenario.teams[team].vacancy_fill_factor
        assert factor == pytest.approx(expected[team], abs=5e-4)
        shown = f"{_short(team)} {factor:.2f}"
        assert shown in stdout and shown in html, shown
    assert stored["cin"] < 1  # the freeze's posts were filled in the autumn: faster than usual


def test_the_reports_act_today_table_shows_the_stored_requests(run):
    """Row by row, the report's act-today table is outlook_act_today.csv: the request, both
    chances (as percentages), whether it meets the level and was chosen, and the cost in pounds."""
    out, _ = run
    act = pd.read_csv(out / "outlook_act_today.csv")
    html = (out / "report.html").read_text()
    section = html[html.index("<h3>Act today</h3>") :]
    table = section[: section.index("</table>")]
    heads = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]  # fmt: skip
    assert heads[:3] == ["searched for", "team", "agency workers asked for today"]
    body = table[table.index("<tbody>") :]
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]  # fmt: skip
    assert len(rows) == len(act) > 0
    for row, stored in zip(rows, act.itertuples(), strict=True):
        assert row[1] == _short(stored.team)
        assert int(row[2]) == stored.agency_requested
        assert row[3] == f"{100 * stored.today_worst_chance:.0f}%"
        assert row[4] == f"{100 * stored.worst_chance:.0f}%"
        assert row[5:7] == ["yes" if stored.meets_level else "no", "yes" if stored.chosen else "no"]
        pounds = float(
            row[7].replace("£", "").replace(",", "").replace("k", "e3").replace("m", "e6")
        )
        assert pounds == pytest.approx(stored.extra_cost_gbp, rel=0.01, abs=1)


def test_act_today_table_agrees_with_the_weekly_table_on_the_same_seeds(run):
    out, stdout = run
    act = check_act_today_against_weekly(out, N, 3)
    assert "Act today" in stdout
    assert "front_door" in set(act["team"])  # the end of term in week 8 passes 2 cases


@pytest.fixture(scope="module")
def search(run) -> Search:
    """The demo's calibrated scenario (as the run resolved it), its end of term in week 8."""
    scenario = load_scenario(run[0] / "scenarios" / "outlook.toml")
    thresholds = {"front_door": 3, "assessment": 18, "cin": 55, "cic": 15, "after_care": 8}
    runner = Runner(SEARCH_SEEDS, WEEKS)
    return Search(scenario, thresholds, first_week_judged(scenario), 0.3, 12, runner)


def test_the_batch_replications_are_the_search_replications_as_things_stand(search, tmp_path):
    """The outlook's batch stands in for the search's "as things stand": reduced from the
    stored replications it is the search's own run of those seeds, exactly."""
    from demandsim.batch.commands import BatchOptions, replicate
    from demandsim.batch.store import BatchStore
    from demandsim.outlook.act import judge, judged

    scenario, seeds = search.base, (5, 6)
    options = BatchOptions(replications=2, first_seed=5, jobs=1, report=False,
                           keep_replications=True, progress=False)  # fmt: skip
    folder = replicate(scenario, tmp_path / "b", options).folder
    store = BatchStore(folder, {})
    (key,) = [p.name for p in (folder / "replications").iterdir()]
    cube = store.daily_block(key, seeds, 0, WEEKS * 7)
    kpis = store.replication_kpis([key], seeds)
    for i, seed in enumerate(seeds):
        stored = judged(
            seed, cube[i], kpis[kpis["replication"] == seed], len(scenario.teams), WEEKS
        )
        ran = judge(scenario, seed, WEEKS)
        np.testing.assert_array_equal(stored.weekly_max, ran.weekly_max)
        np.testing.assert_array_equal(stored.weekly_mean, ran.weekly_mean)
        assert stored.cost_gbp == ran.cost_gbp and stored.seed == ran.seed
    assert ran.weekly_max.any()  # something to compare: the demo's backlogs in those weeks


def test_the_chance_falls_as_more_agency_workers_are_asked_for(search):
    """On the same seeds, each extra worker asked for never raises the worst week's chance by
    more than one replication's share, and enough of them bring it down."""
    worst = [search.worst(search.evaluate({"front_door": k}), "front_door") for k in range(5)]
    assert worst[0] >= search.level > worst[-1]
    step = 1 / len(SEARCH_SEEDS)
    assert all(b <= a + step + 1e-12 for a, b in itertools.pairwise(worst)), worst


def test_the_answer_is_the_least_request_that_meets_the_level_on_the_same_seeds(search):
    chosen = search.least("front_door")
    assert chosen is not None and chosen >= 1
    assert search.meets(search.evaluate({"front_door": chosen}), "front_door")
    assert not search.meets(search.evaluate({"front_door": chosen - 1}), "front_door")
    scan = next(
        k for k in range(13) if search.meets(search.evaluate({"front_door": k}), "front_door")
    )
    assert chosen == scan
    seeds = {c.judged[i].seed for c in search.tried.values() for i in range(len(c.judged))}
    assert seeds == set(SEARCH_SEEDS)  # every candidate on the same seeds
    costs = search.evaluate({"front_door": chosen}).cost_gbp() - search.evaluate({}).cost_gbp()
    assert costs.mean() > 0  # agency workers are paid


@pytest.mark.parametrize("most", [1, 12, 40])
def test_the_search_finds_the_least_request_from_any_first_guess(search, most):
    """With the chance falling as the request grows, the answer is the least request meeting
    the level whatever the first guess, above or below it, and None beyond ``most``; each
    request is tried at most once."""
    for answer in [1, 2, 3, 7, 12, 13, 33, 40, 41, 100]:
        for guess in {1, 2, 5, 12, 30, most}:
            tried: list[int] = []

            def evaluate(requests, tried=tried):
                tried.append(requests.get("cin", 0))
                return tried[-1]

            fake = dataclasses.replace(search, most=most)
            fake.evaluate = evaluate
            fake.meets = lambda k, team, answer=answer: k >= answer
            fake.first_guess = lambda team, guess=guess: min(guess, most)
            expected = answer if answer <= most else None
            assert fake.least("cin") == expected, (answer, guess, most)
            assert len(tried) == len(set(tried)), tried
            assert max(tried) <= most


def perturb_after(data, day: dt.date):
    """The same data with everything after ``day`` changed: later rows dropped and invented,
    later ends moved, later next stages and fill routes swapped, sickness of running spells
    changed, later demand multiplied."""
    when = pd.Timestamp(day)
    later = pd.Timedelta(days=17)
    demand = data.demand.copy()
    demand.loc[demand["date"] > when, "contacts"] *= 10
    staff = data.staff.copy()
    running = staff["end_date"].isna() | (staff["end_date"] > when)
    staff.loc[running, "sickness_days"] += 50
    staff.loc[staff["end_date"] > when, "end_date"] += later
    vacancies = data.vacancies.copy()
    vac_later = vacancies["filled_date"] > when
    vacancies.loc[vac_later, "filled_by"] = "agency"
    vacancies.loc[vac_later, "filled_date"] += later
    episodes = data.episodes.copy()
    ep_later = episodes["end_date"] > when
    episodes.loc[ep_later, "next_stage"] = "closed"
    episodes.loc[ep_later, "end_date"] += later
    invented = episodes.iloc[:50].assign(
        start_date=when + later, end_date=pd.NaT, next_stage=np.nan
    )
    episodes = pd.concat([episodes[episodes["start_date"] <= when + later], invented])
    episodes = episodes.astype(data.episodes.dtypes.to_dict())
    ssda = data.ssda903.copy()
    ssda.loc[ssda["DEC"] > when, "REC"] = "E4A"
    ssda = ssda[ssda["DECOM"] <= when + pd.Timedelta(days=3)]
    return dataclasses.replace(data, demand=demand, staff=staff, vacancies=vacancies,
                               episodes=episodes, ssda903=ssda, snapshot_cases=None,
                               snapshot_staff=None)  # fmt: skip


def test_the_backtest_never_reads_the_future(baseline):
    data = read_folder(DEMO)
    day = dt.date(2023, 9, 4)
    cut, other = as_of(data, day), as_of(perturb_after(data, day), day)
    for field in ("demand", "staff", "vacancies", "episodes", "ssda903", "snapshot_cases"):
        a, b = getattr(cut, field), getattr(other, field)
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=field)
        for column in a.select_dtypes("datetime"):
            assert (a[column].dropna() <= pd.Timestamp(day)).all(), (field, column)
    assert cut.snapshot_date == day
    a, _ = outlook_scenario(cut, baseline, 4)
    b, _ = outlook_scenario(other, baseline, 4)
    assert scenario_record(a) == scenario_record(b)
    assert a.start_date == day


def test_backtest_scores_count_hits_misses_and_false_alarms():
    settings = OutlookSettings()
    day = dt.date(2024, 1, 1)
    truth_rows = []
    for team, values in {
        "a": [0] * 7 + [9] * 7,
        "b": [0] * 14,
        "c": [0] * 14,
        "d": [9] * 14,
    }.items():
        for i, v in enumerate(values):
            truth_rows.append(
                {
                    "date": pd.Timestamp(day) + pd.Timedelta(days=i),
                    "team": team,
                    "unallocated_cases": v,
                }
            )
    truth = pd.DataFrame(truth_rows)
    chances = {"a": [0.1, 0.5], "b": [0.0, 0.4], "c": [0.0, 0.0], "d": [0.9, 0.9]}
    forecast = pd.DataFrame(
        [{"issue_date": day, "team": t, "week": w + 1, "threshold_cases": 5, "chance_over_threshold": c[w],
          "mean_unallocated": 1.0, "p10_unallocated": 0.0, "p90_unallocated": 2.0}
         for t, c in chances.items() for w in range(2)]
    )  # fmt: skip
    weekly = score_weeks(forecast, truth, settings)
    dates = by_issue_date(weekly)
    assert dict(zip(dates["team"], dates["outcome"], strict=True)) == {
        "a": "hit",
        "b": "false alarm",
        "c": "quiet",
        "d": "already over",
    }
    table = scores(weekly, dates).set_index("team")
    assert table.loc[
        "all", ["hits", "false_alarms", "quiet", "already_over", "real_rises"]
    ].tolist() == [1, 1, 1, 1, 1]
    truth_over = np.array([0, 1, 0, 0, 0, 0, 1, 1], dtype=float)
    chance = np.array([0.1, 0.5, 0.0, 0.4, 0.0, 0.0, 0.9, 0.9])
    assert table.loc["all", "brier"] == pytest.approx(((chance - truth_over) ** 2).mean())
    assert table.loc["all", "band_coverage"] == pytest.approx(weekly["in_band"].mean())


def test_bad_input_gets_the_cli_error_form(tmp_path):
    runner = CliRunner()
    settings = tmp_path / "outlook.toml"
    cases = [
        (["--weeks", "3"], "--weeks: expected a whole number of weeks from 4 to 26; got 3"),
        (["--weeks", "27"], "--weeks: expected a whole number of weeks from 4 to 26; got 27"),
        (["--level", "1.5"], "--level: expected a chance from 0 to 1; got 1.5"),
        (["--threshold", "cin=-3"], "--threshold: expected TEAM=CASES"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["outlook", str(DEMO), *args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2, result.output
        assert f"Error: {message}" in result.stderr
    settings.write_text("[lights]\nred_from = 1.2\n")
    result = runner.invoke(main, ["outlook", str(DEMO), "--settings", str(settings)])
    assert result.exit_code == 2
    assert f"{settings}: lights.red_from: Input should be less than or equal to 1" in result.stderr
    settings.write_text("weeks = 30\n")
    result = runner.invoke(main, ["outlook", str(DEMO), "--settings", str(settings)])
    assert result.exit_code == 2 and f"{settings}: weeks:" in result.stderr
    settings.write_text("[thresholds]\nmash = 10\n")
    result = runner.invoke(main, ["outlook", str(DEMO), "--settings", str(settings), "--weeks", "4",
                                  "-n", "2", "--out", str(tmp_path / "y")])  # fmt: skip
    assert result.exit_code == 2
    assert f"{settings}: thresholds.mash: not a staffed team" in result.stderr
    assert not (tmp_path / "y").exists()


def test_a_folder_without_open_cases_is_refused(tmp_path):
    folder = tmp_path / "council"
    folder.mkdir()
    (folder / "vacancies.csv").write_text((DEMO / "vacancies.csv").read_text())
    result = CliRunner().invoke(main, ["outlook", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"Error: {folder}: the outlook starts from the council's open cases" in result.stderr


def test_settings_file_and_options_combine():
    settings = load_settings(None, weeks=8, level=0.2, thresholds={"cin": 40})
    assert (settings.weeks, settings.level, settings.thresholds) == (8, 0.2, {"cin": 40})
    assert OutlookSettings().level == OutlookSettings().lights.red_from


def test_the_workbook_shows_the_stored_lights_and_act_today(run):
    """The workbook's Outlook sheet is ``outlook_weekly.csv`` laid out by week and team, its
    Act today sheet ``outlook_act_today.csv``, with percentages, pounds and dates as such."""
    out, _ = run
    book = out / "costs_and_staffing.xlsx"
    stored = pd.read_csv(out / "outlook_weekly.csv")
    sheet = pd.read_excel(book, sheet_name="Outlook", header=1)
    assert sheet["Week"].tolist() == list(range(1, WEEKS + 1))
    for row in stored.itertuples():
        label = team_label(row.team)
        shown = sheet.loc[sheet["Week"] == row.week].iloc[0]
        chance = f"{label}: chance over {row.threshold_cases} cases"
        assert shown[chance] == pytest.approx(row.chance_over_threshold)
        assert shown[f"{label}: light"] == row.light
        assert pd.Timestamp(shown["Week starting"]) == pd.Timestamp(row.week_start)
    act = pd.read_csv(out / "outlook_act_today.csv")
    sheet = pd.read_excel(book, sheet_name="Act today", header=1)
    assert len(sheet) == len(act) > 0
    assert sheet["Team"].tolist() == [team_label(t) for t in act["team"]]
    assert sheet["Agency workers asked for"].tolist() == act["agency_requested"].tolist()
    np.testing.assert_allclose(sheet["Extra cost"], act["extra_cost_gbp"], rtol=1e-5)
    np.testing.assert_allclose(
        sheet["Worst judged week's chance with the request"], act["worst_chance"], rtol=1e-5
    )
    assert sheet["Chosen"].tolist() == ["yes" if c else "no" for c in act["chosen"]]
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames[1:3] == ["Outlook", "Act today"]
    lights, acted = workbook["Outlook"], workbook["Act today"]
    assert lights["B3"].is_date and lights["C3"].number_format == "0.0%"  # 9.5% is not shown as 10%
    heads = [c.value for c in acted[2]]
    first = [c for c in acted[3]]
    assert first[heads.index("Extra cost")].number_format.startswith('"£"#,##0')
    assert first[heads.index("Worst judged week's chance today")].number_format == "0.0%"
    assert lights.freeze_panes == "C3" and acted.freeze_panes == "D3"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, str]:
    """Rutland from the DfE tables, 5 weeks (the baseline's agency fill time judges week 5),
    a threshold of 2 CiN cases so that act today has something to search."""
    out = tmp_path_factory.mktemp("outlook") / "rutland"
    args = ["outlook", "--la", "Rutland", "--year", "2024", "--weeks", "5", "-n", "3",
            "--threshold", "cin=2", "--no-report", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_any_council_of_the_published_tables(published, baseline):
    """``--la``: the scenario calibrate --la builds, from its stocks at 31 March, run with each
    replication's own parameter draw in the table and in act today alike; its limits said."""
    out, stdout = published
    check_weekly_against_replications(out, 3, 5, 0)
    act = check_act_today_against_weekly(out, 3, 0)
    assert "cin" in set(act["team"])
    scenario = load_scenario(out / "scenarios" / "outlook.toml")
    cal = calibrate_published("Rutland", 2024, baseline)
    assert scenario.start_date == dt.date(2024, 4, 1) and scenario.warmup_days == 0
    for name, team in cal.parameters["teams"].items():
        for key, value in team.items():
            assert getattr(scenario.teams[name], key) == pytest.approx(value), (name, key)
    code, _ = find_council("Rutland", 2024)
    stocks = {"cic": own_figure("cla_at31", code, 2024), "cp": own_figure("cpp_at31", code, 2024)}
    for stage, stock in stocks.items():
        assert scenario.pathway.stages[stage].initial_cases == round(stock)
    assert scenario.uncertainty.draw
    reps = pd.read_parquet(out / "outlook_weekly_by_replication.parquet")
    daily = simulate_drawn(scenario, 1).daily[:35, :, DAILY_NAMES.index("unallocated_cases")]
    teams = list(scenario.teams)
    for row in reps[reps["replication"] == 1].itertuples():
        week = daily[(row.week - 1) * 7 : row.week * 7, teams.index(row.team)]
        assert row.max_unallocated == week.max()
    record = json.loads((out / "outlook.json").read_text())
    assert record["starts_from"] == "the DfE published stocks at 31 March 2024 for Rutland"
    assert "What this outlook cannot know:" in stdout
    for limit in record["limits"]:
        assert limit in " ".join(stdout.split())
    assert "Outlook from 2024-04-01" in stdout


def test_each_cells_percent_agrees_with_its_light_and_the_legend():
    """Rounded, 19 in 200 (9.5%) read 'G 10' under 'green: under 10%' and 59 in 200 'A 30'
    under 'red: 30% or more'. Shown rounded down, every chance of k in n reads inside its
    light's range."""
    from demandsim.outlook.weekly import cell, percent

    settings = OutlookSettings()
    amber, red = 100 * settings.lights.amber_from, 100 * settings.lights.red_from
    assert cell(19 / 200, "green") == "G   9" and cell(59 / 200, "amber") == "A  29"
    for n in (20, 100, 200, 1000):
        for k in range(n + 1):
            shown, light = int(percent(k / n)), settings.light(k / n)
            assert shown <= 100 * k / n < shown + 1
            inside = {"green": shown < amber, "amber": amber <= shown < red, "red": shown >= red}
            assert inside[light], (k, n, shown, light)
