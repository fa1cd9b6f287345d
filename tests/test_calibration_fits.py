"""Recovery of known parameters, and censoring that moves estimates the way survival analysis
says it should. Tolerances are several standard errors of the estimate at these sample sizes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from demandsim.calibration import churn, leadtimes, routes, ssda903
from demandsim.calibration.durations import fit_censored

EXTRACT = dt.date(2025, 3, 31)


def staff_spells(rng, n, hazard_per_year, contract="permanent", team="cin"):
    """Spells starting uniformly over 6 years before the extract date, exponential lengths."""
    start = pd.Timestamp(EXTRACT) - pd.to_timedelta(rng.uniform(0, 6 * 365.25, n), "D")
    end = start + pd.to_timedelta(rng.exponential(365.25 / hazard_per_year, n), "D")
    return pd.DataFrame({
        "worker_id": [f"{contract}{i}" for i in range(n)], "team": team, "contract": contract,
        "start_date": start.normalize(),
        "end_date": end.normalize().where(end <= pd.Timestamp(EXTRACT)), "fte": 1.0,
    })  # fmt: skip


def test_kaplan_meier_on_a_hand_worked_example():
    # times 1, 2+, 3, 3, 4+ : S(1) = 4/5, S(3) = 4/5 * (1 - 2/3)
    curve = churn.kaplan_meier(np.array([1, 2, 3, 3, 4]), np.array([1, 0, 1, 1, 0], bool))
    assert curve["time"].tolist() == [1, 3]
    assert curve["at_risk"].tolist() == [5, 3]
    assert curve["survival"].tolist() == pytest.approx([0.8, 0.8 / 3])


def test_churn_hazard_recovered_by_contract_with_censoring():
    rng = np.random.default_rng(1)
    staff = pd.concat([staff_spells(rng, 1500, 0.2), staff_spells(rng, 1500, 0.7, "agency")])
    fitted = churn.fit_churn(staff, EXTRACT)
    table = fitted["by_contract"].set_index("contract")
    # about 1,000 and 1,300 leavers: the relative SE is about 3%; allow 10%
    assert table.loc["permanent", "hazard_per_year"] == pytest.approx(0.2, rel=0.10)
    assert table.loc["agency", "hazard_per_year"] == pytest.approx(0.7, rel=0.10)
    assert fitted["parameters"]["workforce"]["agency"]["turnover_per_year"] == pytest.approx(
        0.7, rel=0.10
    )
    assert table.loc["permanent", "lower_95"] < 0.2 < table.loc["permanent", "upper_95"]


def test_staff_in_post_are_censored_not_dropped():
    """Dropping those still in post keeps only the short spells: the hazard is overstated."""
    rng = np.random.default_rng(2)
    spells = churn.exposure(staff_spells(rng, 2000, 0.2), EXTRACT)
    censored = churn.hazards(spells, ["contract"])["hazard_per_year"].iloc[0]
    dropped = churn.hazards(spells.loc[spells["left"]], ["contract"])["hazard_per_year"].iloc[0]
    assert censored == pytest.approx(0.2, rel=0.1)
    assert dropped > 1.5 * censored


def test_team_hazard_written_only_where_the_data_support_it():
    rng = np.random.default_rng(3)
    staff = pd.concat([staff_spells(rng, 400, 0.4, team="front_door"),
                       staff_spells(rng, 3, 0.2, team="cic")])  # fmt: skip
    teams = churn.fit_churn(staff, EXTRACT)["parameters"]["teams"]
    assert teams["front_door"]["permanent_turnover_per_year"] == pytest.approx(0.4, rel=0.2)
    assert "cic" not in teams


def test_sickness_share_from_days_lost():
    staff = pd.DataFrame({
        "worker_id": ["a", "b"], "team": "cin", "contract": "permanent",
        "start_date": pd.to_datetime(["2024-03-31", "2023-03-31"]), "end_date": pd.NaT,
        "fte": 1.0, "sickness_days": [12.65, 25.3],
    })  # fmt: skip
    table = churn.fit_churn(staff, EXTRACT)["sickness"]
    # 37.95 days lost over 3.0 worker-years x 253 working days = 5%
    assert table["sickness_share"].iloc[0] == pytest.approx(0.05, rel=0.01)


def test_lead_time_mean_and_cv_recovered_by_route():
    rng = np.random.default_rng(4)
    n = 600
    opened = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.uniform(0, 1800, n), "D")
    agency = rng.random(n) < 0.5
    shape_a, shape_p = 1 / 0.5**2, 1 / 0.4**2
    days = np.where(
        agency, rng.gamma(shape_a, 26 / shape_a, n), rng.gamma(shape_p, 41 / shape_p, n)
    )
    vac = pd.DataFrame({
        "vacancy_id": range(n), "team": "cin", "opened_date": opened.normalize(),
        "filled_date": (opened + pd.to_timedelta(days, "D")).normalize(),
        "filled_by": np.where(agency, "agency", "permanent"),
    })  # fmt: skip
    fitted = leadtimes.fit_lead_times(vac, EXTRACT)["parameters"]["workforce"]
    # whole-day dates shave about half a day off the mean; SE of the mean about 1.5 days
    assert fitted["agency"]["fill_days"]["mean_days"] == pytest.approx(26, abs=2.5)
    assert fitted["permanent"]["recruit_days"]["mean_days"] == pytest.approx(41, abs=4)
    assert fitted["agency"]["fill_days"]["cv"] == pytest.approx(0.5, abs=0.08)


def test_open_episodes_censored_recover_the_mean_that_dropping_them_understates():
    rng = np.random.default_rng(5)
    n = 3000
    shape = 1 / 0.8**2
    length = rng.gamma(shape, 300 / shape, n)
    elapsed = rng.uniform(0, 600, n)  # episodes started up to 600 days before the extract
    observed = length <= elapsed
    days = np.minimum(length, elapsed)
    fit = fit_censored(days, observed, families=("gamma",))
    naive = fit_censored(days[observed], observed[observed], families=("gamma",))
    assert fit["mean_days"] == pytest.approx(300, rel=0.08)
    assert fit["cv"] == pytest.approx(0.8, abs=0.08)
    assert naive["mean_days"] < 0.8 * fit["mean_days"]


def test_left_truncated_durations_are_conditioned_on_survival_to_entry():
    """Episodes already open when the extract began are there because they were long."""
    rng = np.random.default_rng(6)
    sigma2 = np.log1p(1.0)
    length = rng.lognormal(np.log(500) - sigma2 / 2, np.sqrt(sigma2), 20000)
    start = rng.uniform(-3000, 1000, 20000)  # the extract watches from day 0 to day 1000
    seen = start + length > 0
    length, start = length[seen], start[seen]
    entry = np.maximum(0, -start)
    observed = start + length <= 1000
    days = np.where(observed, length, 1000 - start)
    fit = fit_censored(days, observed, families=("lognormal",), entry=entry)
    ignored = fit_censored(days, observed, families=("lognormal",))
    assert fit["mean_days"] == pytest.approx(500, rel=0.08)
    assert ignored["mean_days"] > 1.2 * fit["mean_days"]


def test_routing_probability_recovered_and_tables_keep_every_base_key(baseline):
    rng = np.random.default_rng(7)
    n = 2000
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.uniform(0, 700, n), "D")
    end = start + pd.to_timedelta(rng.gamma(4, 8, n), "D")
    nxt = rng.choice(["cin", "nfa", "s47"], size=n, p=[0.5, 0.35, 0.15])
    still_open = end > pd.Timestamp(EXTRACT)
    episodes = pd.DataFrame({
        "case_id": range(n), "stage": "assessment", "start_date": start.normalize(),
        "end_date": end.normalize().where(~still_open), "next_stage": np.where(still_open, None, nxt),
    })  # fmt: skip
    fitted = routes.fit_routes(routes.episode_table(episodes, EXTRACT), baseline)
    table = fitted["parameters"]["pathway"]["stages"]["assessment"]["routes"]
    # binomial SE of a share of 0.15 from 2,000 episodes is 0.008
    assert table["s47"] == pytest.approx(0.15, abs=0.03)
    assert table["cin"] == pytest.approx(0.5, abs=0.04)
    assert set(table) == set(baseline.pathway.stages["assessment"].routes)
    assert sum(table.values()) == pytest.approx(1.0, abs=1e-6)


def test_ssda903_example_gives_periods_of_care_and_a_placement_mix():
    from demandsim.calibration.inputs import read_folder

    data = read_folder(routes_example())
    periods = ssda903.care_periods(data.ssda903, data.extract_date, data.ssda903_header)
    assert len(periods) > 100
    assert periods["observed"].any() and (~periods["observed"]).any()
    assert set(periods["next"].dropna()) <= {"after_care", "return_home"}
    mix = ssda903.placement_mix(data.ssda903, data.extract_date)
    assert mix["share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert list(mix["placement_group"]) == [
        "in_house_fostering", "ifa_other_fostering", "residential", "other"
    ]  # fmt: skip


def test_placement_mix_of_the_demo_recovers_its_known_mix():
    from demandsim.calibration.inputs import read_folder

    data = read_folder(routes_example().parent / "demo")
    mix = ssda903.placement_mix(data.ssda903, data.extract_date).set_index("placement_group")
    # make_demo.py: U1-U3 0.50, U4-U6 0.25, K2/R1/H5 0.17, other 0.08 (of placements)
    assert mix.loc["in_house_fostering", "share"] == pytest.approx(0.50, abs=0.07)
    assert mix.loc["residential", "share"] == pytest.approx(0.17, abs=0.05)


def routes_example():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "calibration" / "examples"


def test_recent_fill_factors_see_a_team_whose_posts_stopped_filling():
    """Two teams fill every vacancy in 30 days for two years; then team b's five newest stay
    open (one is filled, but after the day, so unknown then). b's posts fill more slowly than
    the council's usual rate, a's no more slowly, and a team with no vacancy lately gets 1."""
    day = dt.date(2024, 6, 30)
    rows = []
    for team in ("a", "b"):
        for k in range(24):
            opened = pd.Timestamp(day) - pd.Timedelta(days=730 - 30 * k)
            rows.append((team, opened, opened + pd.Timedelta(days=30), "agency"))
    for back in (150, 120, 90, 60, 30):
        filled = pd.Timestamp(day) + pd.Timedelta(days=5) if back == 150 else pd.NaT
        rows.append(("b", pd.Timestamp(day) - pd.Timedelta(days=back), filled, "permanent"))
    rows.append(("c", pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01"), "agency"))
    vacancies = pd.DataFrame(rows, columns=["team", "opened_date", "filled_date", "filled_by"])
    factors = leadtimes.recent_fill_factors(vacancies, day).set_index("team")
    assert factors.loc["b", "factor"] > 1.5
    assert factors.loc["a", "factor"] <= 1.0
    assert factors.loc["c", "factor"] == 1.0
    assert factors.loc["b", "fills"] == factors.loc["a", "fills"]  # the late fill is not known
