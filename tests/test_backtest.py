"""Back-tests: the demand forecast is scored against what followed; the published path is
simulated forward and compared with later published figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from demandsim.backtest import backtest_demand, backtest_published, demand_scores
from demandsim.calibration.inputs import read_folder

DEMO = Path(__file__).resolve().parents[1] / "calibration" / "demo"


@pytest.mark.slow
def test_demand_backtest_scores_whole_months_after_the_cutoff():
    data = read_folder(DEMO)
    table = backtest_demand(data.demand, dt.date(2024, 4, 1), months=6, seed=0, samples=100)
    assert table["month"].tolist() == [f"2024-{m:02d}" for m in range(4, 10)]
    assert (table["lower_95"] <= table["lower_80"]).all()
    assert (table["lower_80"] <= table["median"]).all() and (
        table["median"] <= table["upper_80"]
    ).all()
    scores = demand_scores(table)
    assert 0 <= scores["inside_80_share"] <= scores["inside_95_share"] <= 1
    assert scores["mean_abs_pct_error"] < 25


@pytest.mark.slow
def test_published_backtest_compares_later_years():
    table, notes = backtest_published("Bath and North East Somerset", 2022, 1, replications=1)
    assert "Bath and North East Somerset" in notes[0]
    start = table.loc[table["date"] == dt.date(2022, 3, 31)].set_index("measure")
    # the run starts from the published stock (open at the start of the warm-up)
    assert start.loc["cla", "simulated_mean"] == pytest.approx(
        start.loc["cla", "published"], rel=0.25
    )
    later = table.loc[table["date"] == dt.date(2023, 3, 31)].set_index("measure")
    assert later.loc["cla", "published"] > 0
    assert later.loc["cla", "simulated_mean"] > 0
    # a one-year projection of a stock that turns over slowly stays within a factor of two
    assert 0.5 < later.loc["cla", "simulated_mean"] / later.loc["cla", "published"] < 2


def test_calibration_reproduces_its_own_year_without_a_backlog():
    """Bolton 2021: in the issue, 6,971 simulated CIN against 2,184 published after four years
    with a runaway backlog; now the first year's flows match what it was calibrated to."""
    from demandsim.backtest import calibration_check

    table, notes = calibration_check("Bolton", 2021, replications=1)
    t = table.set_index("figure")
    for figure in ("referrals", "cpp_start", "cla_started", "cla_ceased"):
        assert abs(t.loc[figure, "pct_difference"]) < 15, figure
    for stock in ("cin_at31", "cpp_at31", "cla_at31"):
        assert abs(t.loc[stock, "pct_difference"]) < 15, stock
    assert t.loc["unallocated_share", "simulated_mean"] < 0.05
    assert any("pooled" in n for n in notes)


def test_national_level_spread_reads_only_years_before_the_cutoff(monkeypatch):
    """The English councils' spread that widens the demand bands is known at the cut-off."""
    import numpy as np
    import pandas as pd

    from demandsim import backtest
    from demandsim.calibration import history

    cut = pd.Timestamp("2022-09-01")
    before = backtest.national_level_sd(cut)
    data = history.panel().copy()
    later = data.index.get_level_values("year") > 2022
    data.loc[later, "referrals"] = data.loc[later, "referrals"] * np.exp(
        np.random.default_rng(0).normal(0, 1, later.sum())
    )
    monkeypatch.setattr(history, "panel", lambda: data)
    assert backtest.national_level_sd(cut) == before
    assert 0.05 < before < 0.5
    assert backtest.national_level_sd(pd.Timestamp("2026-01-01")) != before


def test_conformal_halfwidth_is_the_finite_sample_quantile_with_fallbacks():
    import numpy as np
    import pandas as pd

    from demandsim.backtest import conformal_halfwidths

    errors = pd.DataFrame(
        {"lead": [1] * 9 + [2] * 2, "log_error": [-9, 1, -2, 3, 4, -5, 6, 7, 8, 0.5, 0.5]}
    )
    half = conformal_halfwidths(errors, 3, 0.8)
    # lead 1: the ceil(10 x 0.8) = 8th smallest absolute error; leads 2-3 have too few of their
    # own (2 and 0 < 4) and borrow lead 1's, widened by sqrt(L)
    np.testing.assert_allclose(half, [8, 8 * np.sqrt(2), 8 * np.sqrt(3)])
    # 95% needs 19 errors: with 9, the 80% half-width scaled by 1.96 / 1.2816
    np.testing.assert_allclose(
        conformal_halfwidths(errors, 1, 0.95), [8 * 1.95996 / 1.28155], rtol=1e-4
    )
    assert np.isnan(conformal_halfwidths(errors.iloc[:3], 2, 0.8)).all()


@pytest.mark.slow
def test_demand_bands_never_read_after_the_cutoff():
    """Tripling every contact from the cut-off on changes the actuals, not the forecast or its
    bands; and the bands do use the forecaster's own past errors from before the cut-off."""
    import numpy as np
    import pandas as pd

    from demandsim import backtest

    demand = read_folder(DEMO).demand
    cut = dt.date(2023, 4, 1)
    before = backtest_demand(demand, cut, months=3, seed=0, samples=50)
    changed = demand.copy()
    later = changed["date"] >= pd.Timestamp(cut)
    changed.loc[later, "contacts"] = changed.loc[later, "contacts"] * 3
    backtest._FORECASTS.clear()
    after = backtest_demand(changed, cut, months=3, seed=0, samples=50)
    bands = ["median", "lower_80", "upper_80", "lower_95", "upper_95"]
    pd.testing.assert_frame_equal(before[bands], after[bands])
    np.testing.assert_allclose(after["actual"], 3 * before["actual"])
    train = demand.loc[demand["date"] < pd.Timestamp(cut)]
    errors = backtest.past_errors(train, pd.Timestamp(cut), 3, 0, 50)
    assert len(errors) == 6 + 5 + 4  # cut-offs 2022-10..2023-03, leads up to 3, months before
    half = backtest.conformal_halfwidths(errors, 3, 0.8)
    width = np.log(before["upper_80"] / before["median"]).to_numpy()
    assert np.isfinite(half).all() and (width >= half - 1e-12).all()
