"""Costs: hand-computed totals, financial-year boundaries, percentiles and paired differences."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from demandsim.costs import (
    COMPONENTS,
    TOTAL,
    budget_by_year,
    cost_percentiles,
    daily_costs,
    financial_year_costs,
    monthly_costs,
)
from demandsim.run import run_replication
from demandsim.scenario import Costs
from demandsim.scenario_files import ScenarioError, apply_overrides, load_scenario

# 36,525 a year with no on-costs is exactly 100 a day; 200 a billed day for every day; a
# residential placement at 700 a week is 100 a day, plus 20% uplift for half placed out of area.
UNIT = Costs(
    permanent_salary_per_year_gbp=36_525,
    permanent_on_costs_share=0,
    agency_day_rate_gbp=200,
    agency_billed_days_per_year=365.25,
    recruitment_per_permanent_hire_gbp=1_000,
    agency_finder_fee_gbp=300,
    placement_per_week_gbp={"residential": 700},
    placement_mix={"residential": 1.0},
    out_of_area_share=0.5,
    out_of_area_uplift_share=0.2,
    inflation_per_year=0.1,
)


def four_days_across_april() -> pd.DataFrame:
    dates = pd.date_range("2027-03-30", "2027-04-02")
    daily = pd.DataFrame(
        {"date": dates.repeat(2), "team": ["a", "b"] * 4, "staff_permanent": [2.0, 0.0] * 4,
         "staff_agency": [0.0, 1.0] * 4}
    )  # fmt: skip
    starters = pd.DataFrame(
        {"date": [pd.Timestamp("2027-04-01")], "team": ["a"], "permanent_starters": [1],
         "agency_starters": [0]}
    )  # fmt: skip
    in_care = pd.DataFrame({"date": dates, "team": "b", "children_in_care": 3.0})
    return daily_costs(daily, starters, in_care, UNIT, base_year="2026-27")


def test_hand_computed_costs_with_inflation_from_1_april():
    daily = four_days_across_april()
    # per day: 2 permanent x 100 + 1 agency x 200 + 3 children x 110 = 730 at 2026-27 prices
    per_day = daily.groupby("date")[TOTAL].sum()
    assert per_day.tolist() == pytest.approx([730, 730, 730 * 1.1 + 1_100, 730 * 1.1])
    team_b = daily[daily["team"] == "b"].set_index("date")  # agency worker and the placements
    assert team_b[TOTAL].iloc[0] == pytest.approx(200 + 330)
    years = financial_year_costs(daily).set_index("financial_year")
    assert years.loc["2026-27", TOTAL] == pytest.approx(1_460)
    assert years.loc["2027-28", TOTAL] == pytest.approx(2 * 730 * 1.1 + 1_100)
    assert years.loc["2027-28", "recruitment_gbp"] == pytest.approx(1_100)
    assert years.loc["2027-28", "placements_gbp"] == pytest.approx(2 * 330 * 1.1)
    assert years["days"].tolist() == [2, 2] and years["partial"].all()


def test_financial_years_start_on_1_april():
    dates = pd.date_range("2026-03-01", "2027-04-30")
    daily = pd.DataFrame({"date": dates, TOTAL: 1.0, "staff_agency_gbp": 0.0})
    years = financial_year_costs(daily).set_index("financial_year")
    assert years["days"].to_dict() == {"2025-26": 31, "2026-27": 365, "2027-28": 30}
    assert years["partial"].to_dict() == {"2025-26": True, "2026-27": False, "2027-28": True}
    months = monthly_costs(daily).set_index("month")["financial_year"]
    assert months[pd.Timestamp("2026-03-01")] == "2025-26"
    assert months[pd.Timestamp("2026-04-01")] == "2026-27"
    assert months[pd.Timestamp("2027-03-01")] == "2026-27"


STILL = """
    name = "still"
    start_date = 2027-04-01
    years = 1
    warmup_days = 10
    [demand]
    contacts_per_year = 0
    [pathway]
    entry = "front_door"
    referral_stage = "front_door"
    assessment_stage = "front_door"
    exits = ["closed"]
    [pathway.stages.front_door]
    team = "social_work"
    duration = { dist = "fixed", mean_days = 1 }
    routes = { closed = 1.0 }
    [pathway.stages.cic]
    team = "social_work"
    duration = { dist = "fixed", mean_days = 100000 }
    clock = "entry"
    routes = { closed = 1.0 }
    initial_cases = 10
    [teams.social_work]
    posts = 4
    initial_permanent = 3
    initial_agency = 1
    [workforce.permanent]
    turnover_per_year = 0
    recruit_days = { dist = "fixed", mean_days = 100000 }
    [workforce.agency]
    turnover_per_year = 0
    [costs]
    care_stages = ["cic"]
    permanent_salary_per_year_gbp = 36525
    permanent_on_costs_share = 0
    agency_day_rate_gbp = 200
    agency_billed_days_per_year = 365.25
    placement_per_week_gbp = { residential = 700 }
    placement_mix = { residential = 1.0 }
    budget_by_financial_year_gbp = { 2027-28 = 200000 }
"""


@pytest.fixture(scope="module")
def still_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("still") / "still.toml"
    path.write_text(textwrap.dedent(STILL))
    return path


@pytest.fixture(scope="module")
def still(still_file):
    return load_scenario(still_file)


def test_model_run_with_known_staff_and_placements_gives_hand_total(still):
    result = run_replication(still, seed=3)
    years = financial_year_costs(result.costs)
    assert years["financial_year"].tolist() == ["2027-28"]
    assert not years["partial"].iloc[0]
    # 366 days (2027-28 holds 29 Feb 2028): 3 x 100 + 1 x 200 + 10 children x 100 a day
    row = years.iloc[0]
    assert row["days"] == 366
    assert row["staff_permanent_gbp"] == pytest.approx(366 * 300)
    assert row["staff_agency_gbp"] == pytest.approx(366 * 200)
    assert row["placements_gbp"] == pytest.approx(366 * 1_000)
    assert row["recruitment_gbp"] == 0 and row["agency_fees_gbp"] == 0
    assert row[TOTAL] == pytest.approx(366 * 1_500)
    table = budget_by_year([years], still.costs.budget_by_financial_year_gbp)
    assert table["p50_gbp"].iloc[0] == pytest.approx(549_000)
    assert table["overspend_chance"].iloc[0] == 1.0  # 549,000 against a budget of 200,000


def test_agency_staff_cost_more_than_permanent_in_the_same_posts(still_file):
    agency = load_scenario(still_file, ["teams.social_work.initial_permanent=0",
                                        "teams.social_work.initial_agency=4"])  # fmt: skip
    permanent = load_scenario(still_file, ["teams.social_work.initial_permanent=4",
                                           "teams.social_work.initial_agency=0"])  # fmt: skip
    cost = {
        name: financial_year_costs(run_replication(s, seed=3).costs)[TOTAL].sum()
        for name, s in {"agency": agency, "permanent": permanent}.items()
    }
    assert cost["agency"] - cost["permanent"] == pytest.approx(366 * 4 * (200 - 100))


def test_agency_heavy_baseline_costs_more_than_permanent(baseline):
    short = ["years=0.5", "warmup_days=30"]
    staffed = [n for n, t in baseline.teams.items() if not t.is_service]
    agency_heavy = apply_overrides(
        baseline,
        short
        + [f"teams.{n}.initial_permanent=0" for n in staffed]
        + [f"teams.{n}.initial_agency={baseline.teams[n].posts}" for n in staffed],
    )
    permanent = apply_overrides(
        baseline,
        short
        + [f"teams.{n}.initial_permanent={baseline.teams[n].posts}" for n in staffed]
        + [f"teams.{n}.initial_agency=0" for n in staffed],
    )
    staff = ["staff_permanent_gbp", "staff_agency_gbp", "recruitment_gbp", "agency_fees_gbp"]
    heavy = run_replication(agency_heavy, seed=2).costs[staff].sum().sum()
    light = run_replication(permanent, seed=2).costs[staff].sum().sum()
    assert heavy > 1.2 * light


def fy_frame(totals: list[float], years=("2026-27", "2027-28"), partial=(False, True)):
    return pd.DataFrame(
        {"financial_year": list(years), "days": [365, 100], "partial": list(partial),
         "staff_permanent_gbp": totals, TOTAL: totals}
    )  # fmt: skip


def test_percentiles_and_overspend_chance_across_replications():
    frames = (fy_frame([float(i), 10.0 * i]) for i in range(1, 11))  # a stream, read once
    table = budget_by_year(frames, {"2026-27": 7.0, "2027-28": 1.0}).set_index("financial_year")
    assert table.loc["2026-27", "p50_gbp"] == pytest.approx(5.5)
    assert table.loc["2026-27", "p10_gbp"] == pytest.approx(np.percentile(range(1, 11), 10))
    assert table.loc["2026-27", "overspend_chance"] == pytest.approx(0.3)  # 8, 9, 10 exceed 7
    assert np.isnan(table.loc["2027-28", "overspend_chance"])  # partial year: no verdict
    assert table["replications"].tolist() == [10, 10]
    long = cost_percentiles([fy_frame([float(i), 1.0]) for i in range(1, 11)])
    total = long[(long["component"] == TOTAL) & (long["financial_year"] == "2026-27")]
    assert total["p90_gbp"].iloc[0] == pytest.approx(9.1)


def test_costs_by_team_add_up_to_the_service_and_survive_the_reduction(still):
    from demandsim.measures import SERVICE
    from demandsim.replication import reduce

    result = run_replication(still, seed=3)
    expected = financial_year_costs(result.costs).set_index("financial_year")
    kpis = reduce(result, still).kpis
    money = kpis[kpis["period"] != "forecast"]
    service = money[money["team"] == SERVICE].pivot(
        index="period", columns="measure", values="value"
    )
    for column in (*COMPONENTS, TOTAL):
        assert service[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-5)
    teams = money[money["team"] != SERVICE].groupby(["period", "measure"])["value"].sum()
    assert teams.unstack()[TOTAL].to_numpy() == pytest.approx(service[TOTAL].to_numpy(), rel=1e-5)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("costs.placement_mix.residential=0.5", "costs.placement_mix: placement_mix must sum to 1"),
        ("costs.placement_mix.hotel=0.0", "unknown placement types"),
        ("costs.budget_by_financial_year_gbp.2026=1", "financial years are written '2026-27'"),
        ("costs.care_stages=['care']", "costs.care_stages names 'care'"),
        ("costs.agency_day_rate_gbp=-1", "costs.agency_day_rate_gbp"),
        ("costs.agency_charge='markup'", "costs.agency_charge"),
    ],
)
def test_bad_costs_are_errors_naming_the_key(baseline, override, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        apply_overrides(baseline, [override])


def test_agency_premium_prices_agency_from_permanent_cost():
    costs = Costs(agency_charge="premium", agency_premium_share=0.5)
    assert costs.agency_per_day_gbp == pytest.approx(1.5 * costs.permanent_per_day_gbp)


def test_staff_in_post_at_the_origin_are_not_hired_again(baseline):
    """With no warm-up the starting staff START on day 0 of the forecast. They were hired before
    it, so no recruitment cost or finder fee is charged for them (the outlook's one-day 2024-25
    was charged £415,000: 83 starting permanent staff x £5,000). Later starts still count."""
    from demandsim import daily
    from demandsim.eventlog import Kind
    from demandsim.model import Model

    scenario = apply_overrides(baseline, ["warmup_days=0", "years=0.5"])
    log = Model(scenario, 0).run().columns()
    counted = daily.starters(log, scenario)
    starts = log["kind"] == Kind.START
    at_origin = sum(t.initial_permanent + t.initial_agency for t in scenario.teams.values())
    assert at_origin > 100
    first_day = int((starts & (log["t"] < 1)).sum())
    assert counted[:, 0, :].sum() == first_day - at_origin  # none hired on day 0 itself
    assert counted.sum() == int(starts.sum()) - at_origin > 0  # every later start is costed


def test_a_budget_replaces_the_base_budget_whole(baseline):
    """A budget is the council's own: set over a base that has one, it replaces it (merged key
    by key, the base's years stayed beside the new one), and an empty table clears it."""
    assert len(baseline.costs.budget_by_financial_year_gbp) == 3
    one = apply_overrides(baseline, ['costs.budget_by_financial_year_gbp={"2026-27"=1.0}'])
    assert one.costs.budget_by_financial_year_gbp == {"2026-27": 1.0}
    cleared = load_scenario(None, ["costs.budget_by_financial_year_gbp={}"])
    assert cleared.costs.budget_by_financial_year_gbp == {}


def test_a_calibrated_council_states_no_budget(baseline):
    """Rutland from the published tables: the built-in county's £40.5m budget is not Rutland's
    (its costs are about £3.5m a year, so the chance of overspend read 0%)."""
    from demandsim.calibration.council import NO_BUDGET_NOTE
    from demandsim.calibration.published import calibrate_published

    cal = calibrate_published("Rutland", 2025, baseline)
    assert cal.parameters["costs"]["budget_by_financial_year_gbp"] == {}
    assert NO_BUDGET_NOTE in cal.notes


def test_a_hire_before_the_first_case_is_still_a_hire(baseline):
    """The staff at the origin are the START rows at time 0 written before the first case
    enters; a worker who starts later is costed even if no case has entered yet (a council
    whose first contact comes on day 10 and whose day-one agency request fills on day 3)."""
    from demandsim import daily
    from demandsim.eventlog import Contract, Kind

    scenario = apply_overrides(baseline, ["warmup_days=0", "years=0.1"])
    rows = [  # t, kind, team, value
        (0.0, Kind.START, 0, Contract.PERMANENT), (0.0, Kind.START, 1, Contract.AGENCY),
        (3.5, Kind.START, 1, Contract.AGENCY), (10.0, Kind.ENTER, 0, 0),
        (12.0, Kind.START, 2, Contract.PERMANENT),
    ]  # fmt: skip
    log = {name: np.array([r[i] for r in rows], dtype=float)
           for i, name in enumerate(("t", "kind", "team", "value"))}  # fmt: skip
    counted = daily.starters(log, scenario)
    assert counted.sum() == 2
    assert counted[1, 3, 1] == 1 and counted[2, 12, 0] == 1
