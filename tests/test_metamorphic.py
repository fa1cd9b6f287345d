"""Layer 5: changes whose direction is known, compared on common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demandsim.eventlog import Kind
from demandsim.kpis import stage_waits
from demandsim.model import Model
from demandsim.run import run_replication
from demandsim.scenario_files import apply_overrides, load_scenario
from tests.factories import queue_scenario
from tests.stats import mean_ci


@pytest.mark.parametrize("seed", range(5))
def test_more_workers_never_lengthen_waits(seed):
    """First come first served with work attached to the case: each extra worker can only
    bring each case's allocation forward, replication by replication."""
    previous = None
    for workers in (3, 4, 5, 8):
        log = Model(queue_scenario(3.0, 1.0, workers, dist="gamma", days=200), seed).run().frame()
        waits = stage_waits(log, 0)["wait_days"].to_numpy()
        if previous is not None:
            assert np.all(
                np.nan_to_num(waits, nan=np.inf) <= np.nan_to_num(previous, nan=np.inf) + 1e-9
            )
        previous = waits


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [
        ["workforce.agency.fill_days=3"],
        ["teams.assessment.caseload_cap=12", "teams.cin.caseload_cap=14"],
    ],
)
def test_case_k_is_the_same_child_in_every_staffing_scenario(changes):
    """Common random numbers, case by case: staffing changes when a case is allocated, never
    who comes, when, from where, or the route the case takes. Each case arrives at the same time
    from the same source in both runs, and the stages one run has it enter are the start of
    the other's (a case that waited longer may not have reached the end of its route by the
    horizon)."""
    base = load_scenario(None, ["years=0.3"])
    entries = []
    for scenario in (base, apply_overrides(base, changes)):
        log = Model(scenario, 4).run().frame()
        entries.append(log[log["kind"] == Kind.ENTER])
    arrivals = [e.groupby("case")[["t", "stage", "value"]].first() for e in entries]
    pd.testing.assert_frame_equal(arrivals[0], arrivals[1])
    assert len(arrivals[0]) > 10_000
    routes = [e.groupby("case")["stage"].agg(tuple) for e in entries]
    times = [e.groupby("case")["t"].agg(tuple) for e in entries]
    moved = 0
    for case, one in routes[0].items():
        other = routes[1][case]
        short, long = sorted((one, other), key=len)
        assert long[: len(short)] == short, (case, one, other)
        moved += times[0][case] != times[1][case]
    assert moved > 100  # the staffing did change when cases moved on


def paired_backlog(base, changes, seeds, window) -> np.ndarray:
    """Per seed: (changed - base) mean unallocated cases across social work teams in window."""
    changed = apply_overrides(base, changes)
    out = []
    for seed in seeds:
        values = []
        for scenario in (base, changed):
            daily = run_replication(scenario, seed).daily
            staffed = [n for n, t in scenario.teams.items() if not t.is_service]
            total = daily[daily["team"].isin(staffed)].groupby("date")["unallocated_cases"].sum()
            values.append(total[window[0] : window[1]].mean())
        out.append(values[1] - values[0])
    return np.array(out)


@pytest.mark.slow
def test_shorter_agency_fill_shrinks_the_backlog():
    surge = load_scenario("scenarios/autumn-2014-surge.toml")
    diff = paired_backlog(
        surge, ["workforce.agency.fill_days=3"], range(12), ("2014-10", "2015-01")
    )
    mean, low, high = mean_ci(diff)
    assert high < 0, (
        f"3-day fill should cut the backlog: mean change {mean:.1f} [{low:.1f}, {high:.1f}]"
    )
    assert np.all(diff <= 0), f"a seed where faster fill grew the backlog: {diff.round(1)}"


@pytest.mark.slow
def test_more_posts_shrink_the_backlog():
    surge = load_scenario("scenarios/autumn-2014-surge.toml")
    more = ["teams.assessment.posts=38", "teams.cin.posts=100"]
    diff = paired_backlog(surge, more, range(12), ("2014-10", "2015-01"))
    mean, low, high = mean_ci(diff)
    assert high < 0, (
        f"more posts should cut the backlog: mean change {mean:.1f} [{low:.1f}, {high:.1f}]"
    )
