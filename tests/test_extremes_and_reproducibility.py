"""Layers 2 and 3: the same seed gives the same result; extremes give the obvious answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demandsim.eventlog import Kind
from demandsim.kpis import daily_team_series, stage_waits
from demandsim.model import Model
from demandsim.run import run_replication
from demandsim.scenario_files import apply_overrides

SHORT = ["years=0.5", "warmup_days=30"]


@pytest.fixture(scope="module")
def short(baseline):
    return apply_overrides(baseline, SHORT)


def test_same_seed_gives_identical_results(short):
    first, second = run_replication(short, 3), run_replication(short, 3)
    pd.testing.assert_frame_equal(first.daily, second.daily)
    pd.testing.assert_frame_equal(first.leavers, second.leavers)
    pd.testing.assert_frame_equal(first.costs, second.costs)
    assert first.timeliness == second.timeliness


def test_event_logs_are_identical_for_the_same_seed(short):
    np.testing.assert_array_equal(Model(short, 5).run().rows, Model(short, 5).run().rows)


def test_different_seeds_differ(short):
    a, b = run_replication(short, 1).daily, run_replication(short, 2).daily
    assert not a["open_cases"].equals(b["open_cases"])


def test_no_staff_limit_means_no_waits(short):
    """Caps of 100,000 cases: nobody waits. Starters still ramp up (in at most 4 steps a day, not
    one event per unit of capacity), and the simulation runs once."""
    unlimited = [
        f"teams.{name}.{cap}=100000"
        for name, t in short.teams.items()
        if not t.is_service
        for cap in ("caseload_cap", "nq_caseload_cap")
    ]
    unlimited += ["teams.early_help.capacity_cases=100000"]
    unlimited += ["workforce.permanent.turnover_per_year=0", "workforce.agency.turnover_per_year=0"]
    scenario = apply_overrides(short, unlimited)
    log = Model(scenario, 0).run().frame()
    daily = daily_team_series(log, scenario)
    assert daily["unallocated_cases"].abs().max() == 0
    assert daily["awaiting_transfer_in"].max() == 0
    for stage in range(len(scenario.pathway.stages)):
        assert stage_waits(log, stage)["wait_days"].max() == 0
    # cases of an agency worker released for a permanent starter are re-allocated at once
    reallocated = log[log["kind"] == Kind.ALLOC]
    handed_back = log[log["kind"] == Kind.DEALLOC]
    assert len(handed_back) > 0
    assert set(reallocated["t"]) <= set(handed_back["t"])


def test_no_contacts_and_no_open_cases_means_an_empty_case_log(short):
    empty = ["demand.contacts_per_year=0"]
    empty += [f"pathway.stages.{name}.initial_cases=0" for name in short.pathway.stages]
    scenario = apply_overrides(short, empty)
    log = Model(scenario, 0).run().frame()
    assert (log["case"] < 0).all()
    daily = run_replication(scenario, 0).daily
    assert daily["open_cases"].max() == 0
