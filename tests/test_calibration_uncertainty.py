"""Parameter uncertainty: estimated from the past only; one draw per replication is a pure
function of (scenario, uncertainty, seed) whose spread matches the stated standard deviations;
a batch of a scenario with an [uncertainty] draws replication i's parameters with seed i."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demandsim.batch import commands
from demandsim.batch.commands import BatchOptions
from demandsim.calibration import uncertainty as unc
from demandsim.calibration.history import panel
from demandsim.parameter_draws import draw_scenario
from demandsim.scenario import Uncertainty
from demandsim.scenario_files import apply_overrides

U = Uncertainty(
    demand_level_sd=0.1, demand_growth_sd=0.02, conversion_sd=0.1, routes_sd=0.1,
    duration_sd=0.1, care_entry_sd=0.2, care_exit_sd=0.15,
)  # fmt: skip


def test_draw_is_pure_and_seeded(baseline):
    assert draw_scenario(baseline, U, 7) == draw_scenario(baseline, U, 7)
    assert draw_scenario(baseline, U, 7) != draw_scenario(baseline, U, 8)
    assert draw_scenario(baseline, Uncertainty(), 7) is baseline
    assert draw_scenario(baseline, U.model_copy(update={"draw": False}), 7) is baseline


def test_draws_keep_the_scenario_valid_and_spread_as_stated(baseline):
    draws = [draw_scenario(baseline, U, seed) for seed in range(300)]
    for s in draws[:20]:
        for stage in s.pathway.stages.values():
            assert sum(stage.routes.values()) == pytest.approx(1.0, abs=1e-6)
    level = np.log([s.demand.contacts_per_year / baseline.demand.contacts_per_year for s in draws])
    care = np.log([s.pathway.stages["cic"].duration.mean_days for s in draws])
    # sd of 300 normal draws is within ~4 standard errors (sd / sqrt(2n)) of the truth
    assert np.std(level, ddof=1) == pytest.approx(0.1, abs=4 * 0.1 / np.sqrt(600))
    assert np.std(care, ddof=1) == pytest.approx(0.15, abs=4 * 0.15 / np.sqrt(600))
    growth = [s.demand.growth_per_year for s in draws]
    assert abs(np.mean(growth)) < 4 * 0.02 / np.sqrt(300)
    entry = [s.pathway.stages["cin"].routes["cic"] for s in draws]
    assert len(set(entry)) > 250  # every replication its own route into care


def test_estimate_reads_only_years_up_to_the_calibration_year(monkeypatch):
    before = unc.estimate_uncertainty("383", 2019)
    data = panel().copy()
    later = data.index.get_level_values("year") > 2019
    data.loc[later, data.columns] = data.loc[later].to_numpy() * 5.0
    monkeypatch.setattr(unc, "panel", lambda: data)
    assert unc.estimate_uncertainty("383", 2019) == before
    assert all(v >= unc.FLOOR for k, v in before.model_dump().items() if k != "draw")


def test_a_councils_spreads_are_those_of_its_last_five_years():
    history = panel().xs("383", level="code")  # Leeds
    history = history[history.index <= 2024]
    spreads = unc._spreads(history, 5)
    last = history.tail(5)
    per_child = np.log(last["referrals"] / last["population"])
    cla_exit = (history["cla_started"] - history["cla_at31"].diff()) / history["cla_at31"].shift()
    expected = {
        "routes_sd": np.log(last["cin_started"] / last["referrals"]).std(),
        "demand_growth_sd": per_child.diff().std() / np.sqrt(4),
        "care_exit_sd": np.log(cla_exit.tail(5)).dropna().std(),
        "care_entry_sd": np.log(last["cla_started"] / last["population"]).dropna().std(),
    }
    for key, value in expected.items():
        assert spreads[key] == pytest.approx(value, rel=1e-12), key
    assert np.isfinite(list(spreads.values())).all()


def test_draws_come_in_antithetic_pairs(baseline):
    a, b = draw_scenario(baseline, U, 4), draw_scenario(baseline, U, 5)
    base = baseline.demand.contacts_per_year
    assert np.log(a.demand.contacts_per_year / base) == pytest.approx(
        -np.log(b.demand.contacts_per_year / base)
    )


@pytest.mark.slow
def test_batches_draw_each_replications_parameters_on_common_seeds(baseline, tmp_path):
    """run -n: replications differ in demand by the draw (and the same seed repeats exactly);
    compare: replication i of two scenarios draws the same parameters, so two copies of one
    scenario give identical replications; draw=false runs the scenario as written."""
    short = ["years=0.25", "warmup_days=30", "uncertainty.demand_level_sd=0.3"]
    drawn = apply_overrides(baseline, short)
    opts = BatchOptions(replications=2, jobs=1, report=False)
    first = commands.replicate(drawn, tmp_path / "a", opts).kpis
    again = commands.replicate(drawn, tmp_path / "b", opts).kpis
    pd.testing.assert_frame_equal(first, again)
    fixed = apply_overrides(drawn, ["uncertainty.draw=false"])
    plain = commands.replicate(fixed, tmp_path / "c", opts).kpis
    contacts = [draw_scenario(drawn, drawn.uncertainty, s).demand.contacts_per_year for s in (0, 1)]
    assert contacts[0] != contacts[1]  # seeds 0 and 1: mirror-image demand levels
    assert not first["value"].equals(plain["value"])
    both = commands.compare([drawn, drawn], tmp_path / "d", opts).kpis
    a, b = (g.drop(columns="scenario").reset_index(drop=True) for _, g in both.groupby("scenario"))
    pd.testing.assert_frame_equal(a, b)
