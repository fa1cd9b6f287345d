"""The demand surge: ``[demand.surge]`` raises contacts in its months and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from demandsim.demand import arrival_times, daily_days, daily_intensity
from demandsim.scenario_files import ScenarioError, load_scenario

SURGE = [
    'demand.surge.first_month="2026-10"',
    'demand.surge.last_month="2026-11"',
    "demand.surge.percent=25",
]


def _in_surge(scenario) -> np.ndarray:
    months = daily_days(scenario).astype("datetime64[M]")
    return (months >= np.datetime64("2026-10")) & (months <= np.datetime64("2026-11"))


def test_no_surge_is_the_default():
    assert load_scenario(None).demand.surge is None


def test_a_surge_raises_the_intensity_in_its_months_only():
    base, surged = load_scenario(None), load_scenario(None, SURGE)
    inside = _in_surge(base)
    assert inside.sum() == 61  # October and November, every day
    before, after = daily_intensity(base), daily_intensity(surged)
    np.testing.assert_allclose(after[inside], before[inside] * 1.25)
    np.testing.assert_array_equal(after[~inside], before[~inside])
    assert before[inside].sum() > 0


def test_a_surge_raises_arrivals_by_about_its_percentage():
    base, surged = load_scenario(None), load_scenario(None, SURGE)
    inside = _in_surge(base)
    counts = {}
    for name, scenario in (("base", base), ("surged", surged)):
        times = arrival_times(daily_intensity(scenario), np.random.default_rng(7))
        day = np.floor(times).astype(int)
        counts[name] = (inside[day].sum(), (~inside[day]).sum())
    ratio_in = counts["surged"][0] / counts["base"][0]
    ratio_out = counts["surged"][1] / counts["base"][1]
    # about 3,000 contacts in the two months: the Poisson noise on the ratio is about 3%
    assert 1.15 < ratio_in < 1.35, counts
    assert 0.97 < ratio_out < 1.03, counts


def test_a_negative_surge_is_a_lull():
    lull = [*SURGE[:2], "demand.surge.percent=-40"]
    inside = _in_surge(load_scenario(None))
    np.testing.assert_allclose(
        daily_intensity(load_scenario(None, lull))[inside],
        daily_intensity(load_scenario(None))[inside] * 0.6,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (['demand.surge.first_month="Oct 2026"'],
         "demand.surge.first_month: expected a month as 'YYYY-MM'"),
        (['demand.surge.last_month="2026-09"'],
         "demand.surge.last_month: expected a month no earlier than demand.surge.first_month"),
        (["demand.surge.percent=-100"], "demand.surge.percent: Input should be greater than -100"),
        (['demand.surge.percent="25"'], "demand.surge.percent"),
    ],
)  # fmt: skip
def test_a_bad_surge_names_the_key(changes, expected):
    keys = {c.partition("=")[0] for c in changes}
    rest = [c for c in SURGE if c.partition("=")[0] not in keys]
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, rest + changes)
    assert expected in str(err.value)


def test_a_surge_needs_its_months():
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, ["demand.surge.percent=25"])
    assert "demand.surge.first_month" in str(err.value)
