"""The skill table: rolling-origin forecasts see only the past, scores are recomputed from the
stored forecasts, bands nest, the CLI writes strict JSON, and parallel equals serial."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim import skill
from demandsim.calibration import flows as fl
from demandsim.calibration.history import STOCKS, panel
from demandsim.cli import main

LEEDS, KENT = "383", "886"


def test_panel_rebuilds_looked_after_2020_from_2021_flows():
    row = panel().loc[(LEEDS, 2021)]
    rebuilt = row["cla_at31"] - row["cla_started"] + row["cla_ceased"]
    assert panel().loc[(LEEDS, 2020), "cla_at31"] == rebuilt
    # effective outflow makes the stock-flow identity exact for every published year
    r = fl.rates(panel().xs(LEEDS, level="code"), "cin")
    prev = r["stock"].shift(1)
    np.testing.assert_allclose(
        (prev * (1 - r["exit_rate"]) + r["inflow"]).dropna(), r["stock"].iloc[1:], rtol=1e-9
    )


def test_forecasts_never_read_the_future(monkeypatch):
    """Changing every figure after the origin leaves the forecasts made at that origin alone."""
    before = skill.forecasts([LEEDS], fl.Pooling(), _priors(), 2025)
    data = panel().copy()
    later = data.index.get_level_values("year") > 2019
    data.loc[later, data.columns] = data.loc[later].to_numpy() * 3.0
    monkeypatch.setattr(skill, "panel", lambda: data)
    after = skill.forecasts([LEEDS], fl.Pooling(), _priors(), 2025)
    key = ["stock", "origin", "horizon", "method"]
    old = before.loc[before["origin"] <= 2019].set_index(key)["forecast"]
    new = after.loc[after["origin"] <= 2019].set_index(key)["forecast"]
    pd.testing.assert_series_equal(old.sort_index(), new.sort_index())


def _priors() -> pd.DataFrame:
    own = skill.own_flows([LEEDS, KENT], fl.Pooling(), 2025)
    return own.groupby(["stock", "origin"])[["exit_rate", "inflow_rate", "growth"]].median()


@pytest.fixture(scope="module")
def small():
    return skill.run_skill([LEEDS, KENT], workers=1, origins=[2021])


@pytest.mark.slow
def test_subset_has_every_stock_horizon_and_method(small):
    assert set(small["code"]) == {LEEDS, KENT}
    assert set(small["origin"]) == {2021}
    assert set(small["stock"]) == set(STOCKS)
    assert set(small["horizon"]) == {1, 2, 3, 4}
    assert set(small["method"]) == set(skill.METHODS)
    persistence = small.loc[small["method"] == "persistence"]
    origin_value = panel()["cin_at31"].loc[(LEEDS, 2021)]
    assert (persistence.loc[(persistence["code"] == LEEDS) & (persistence["stock"] == "cin"),
                            "forecast"] == origin_value).all()  # fmt: skip
    for a, b in (("lower_95", "lower_80"), ("lower_80", "lower_50"), ("lower_50", "forecast"),
                 ("forecast", "upper_50"), ("upper_50", "upper_80"), ("upper_80", "upper_95")):  # fmt: skip
        assert (small[a] <= small[b]).all(), (a, b)
    # bands widen with the horizon
    widths = small.assign(w=np.log(small["upper_80"] / small["lower_80"]))
    by_h = widths.loc[widths["method"] == "demandsim"].groupby(["code", "stock"])["w"]
    assert by_h.apply(lambda w: w.is_monotonic_increasing).all()


@pytest.mark.slow
def test_scores_recomputed_from_the_forecasts(small):
    summary = skill.scores(small).set_index(["stock", "horizon", "method"])
    part = small.loc[(small["stock"] == "cla") & (small["horizon"] == 2)
                     & (small["method"] == "demandsim")]  # fmt: skip
    ape = (100 * (part["forecast"] - part["actual"]).abs() / part["actual"]).to_numpy()
    row = summary.loc[("cla", 2, "demandsim")]
    assert row["median_ape"] == pytest.approx(np.median(ape))
    assert row["p90_ape"] == pytest.approx(np.quantile(ape, 0.9))
    inside = part["actual"].between(part["lower_80"], part["upper_80"]).mean()
    assert row["cover_80"] == pytest.approx(inside)


@pytest.mark.slow
def test_parallel_equals_serial(small):
    parallel = skill.run_skill([LEEDS, KENT], workers=2, origins=[2021])
    pd.testing.assert_frame_equal(small, parallel)


@pytest.mark.slow
def test_councils_all_in_the_other_half_are_one_clear_error(tmp_path):
    """forecast-skill.md's example picks Leeds, Kent and Dorset, all in the tune half, so the
    default --half test had nothing to show and ended in a KeyError's traceback."""
    args = ["backtest", "--all", "--councils", "Leeds,Kent,838", "--origins", "2022",
            "--workers", "1", "--out", str(tmp_path / "s")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and result.exception is not None
    assert isinstance(result.exception, SystemExit), result.exception
    assert "none of the councils given is in the test half" in result.output
    assert "--half tune or --half all" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_cli_backtest_all_writes_strict_json(tmp_path):
    out = tmp_path / "skill"
    result = CliRunner().invoke(
        main,
        ["backtest", "--all", "--councils", "Leeds,Kent,Dorset", "--origins", "2022",
         "--half", "all", "--workers", "1", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = (out / "scores.json").read_text()
    assert "NaN" not in text
    scores = json.loads(text)
    assert {r["stock"] for r in scores["summary"]} == set(STOCKS)
    summary = pd.read_csv(out / "skill_summary.csv")
    table = pd.read_csv(out / "skill.csv", dtype={"code": str})
    assert set(table["code"]) == {LEEDS, KENT, "838"}
    assert (
        summary.loc[summary["councils_half"] == "all", "cases"].sum()
        == table.dropna(subset=["actual"]).shape[0]
    )
    assert (out / "skill_errors.png").stat().st_size > 0


def test_bands_are_symmetric_until_errors_span_three_years():
    """Errors all about +10%: from two outcome years the band is symmetric about the forecast
    (their shared shock need not recur); from three it follows their sign."""
    rng = np.random.default_rng(0)
    rows = [{"code": str(c), "stock": "cin", "origin": o, "horizon": 1, "year": o + 1,
             "method": "demandsim", "forecast": 100.0,
             "actual": 100 * np.exp(0.1 + rng.normal(0, 0.02))}
            for c in range(40) for o in range(2016, 2021)]  # fmt: skip
    changes = pd.DataFrame({"code": "0", "year": [2015], "stock": ["cin"], "change": [0.0]})
    bands = skill.add_bands(pd.DataFrame(rows), changes).groupby("origin").first()
    two, three = bands.loc[2018], bands.loc[2019]  # errors of 2017-2018, of 2017-2019
    assert np.log(two["upper_50"] / 100) == pytest.approx(-np.log(two["lower_50"] / 100))
    assert three["lower_50"] > 100


def test_bands_widen_with_the_horizon_as_the_stock_changes_did():
    """Councils' 1-year changes spread +-0.1 and their 2-year changes +-0.2 (a stock whose changes
    persist, wider than a random walk's sqrt(2)). Without past errors the h2 band is the 2-year
    changes, not narrowed; extrapolated from h1 errors (+-0.05) it is widened 2x, then narrowed 5%."""
    rng = np.random.default_rng(1)
    sign = np.tile([-1.0, 1.0], 20)
    rows = [{"code": str(c), "stock": "cla", "origin": 2016, "horizon": 1, "year": 2017,
             "method": "demandsim", "forecast": 100.0, "actual": 100 * np.exp(0.05 * sign[c])}
            for c in range(40)]  # fmt: skip
    rows += [{"code": str(c), "stock": "cla", "origin": o, "horizon": 2, "year": o + 2,
              "method": "demandsim", "forecast": 100.0, "actual": np.nan}
             for c in range(40) for o in (2016, 2017)]  # fmt: skip
    changes = pd.DataFrame({"code": [str(c) for c in range(40)] * 2, "year": 2015,
                            "stock": "cla", "span": [1] * 40 + [2] * 40,
                            "change": np.r_[0.1 * sign, 0.2 * sign] + rng.normal(0, 1e-9, 80)})  # fmt: skip
    bands = skill.add_bands(pd.DataFrame(rows), changes)
    bands = bands.groupby(["origin", "horizon"]).first()
    half = np.log(bands["upper_50"] / 100)
    assert half.loc[(2016, 1)] == pytest.approx(0.1, abs=1e-6)
    assert half.loc[(2016, 2)] == pytest.approx(0.2, abs=1e-6)  # was 0.1 x sqrt(2) x 0.95
    assert half.loc[(2017, 2)] == pytest.approx(0.05 * 2 * 0.95, abs=1e-6)
