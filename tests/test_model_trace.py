"""Layer 1: deterministic traces. Fixed durations and arrivals, the whole trace asserted."""

from __future__ import annotations

import numpy as np

from demandsim.demand import Plans
from demandsim.eventlog import Contract, Kind
from demandsim.model import Model
from demandsim.scenario_files import apply_overrides
from tests.factories import queue_scenario, two_stage_scenario

E, A, X, B, U = Kind.ENTER, Kind.ALLOC, Kind.EXIT, Kind.BLOCK, Kind.UNBLOCK


def fixed_plans(arrivals: list[float], stages: list[int], durations: list[float]) -> Plans:
    n = len(arrivals)
    return Plans(
        arrival_t=np.array(arrivals, dtype=float),
        source=np.zeros(n, dtype=int),
        stages=np.tile(np.array(stages, dtype=np.int16), (n, 1)),
        durations=np.tile(np.array(durations, dtype=float), (n, 1)),
        exits=np.zeros(n, dtype=np.int16),
    )


def case_trace(model: Model) -> list[tuple]:
    log = model.run().frame()
    cases = log[log["case"] >= 0]
    return [
        (round(r.t, 9), Kind(r.kind), r.case, r.stage, r.worker)
        for r in cases.itertuples(index=False)
    ]


def test_single_worker_serves_three_cases_in_turn():
    scenario = queue_scenario(1.0, 2.0, workers=1, dist="fixed", days=10)
    plans = fixed_plans([0.0, 0.5, 1.0], stages=[0], durations=[2.0])
    # worker 0 takes case 0 on arrival; cases 1 and 2 wait and are taken as it frees up
    assert case_trace(Model(scenario, seed=0, plans=plans)) == [
        (0.0, E, 0, 0, 0),
        (0.5, E, 1, 0, -1),
        (1.0, E, 2, 0, -1),
        (2.0, X, 0, 0, 0),
        (2.0, A, 1, 0, 0),
        (4.0, X, 1, 0, 0),
        (4.0, A, 2, 0, 0),
        (6.0, X, 2, 0, 0),
    ]


def test_workforce_setup_is_logged():
    scenario = queue_scenario(1.0, 2.0, workers=2, dist="fixed", days=10)
    log = Model(scenario, 0, plans=fixed_plans([], [0], [1.0])).run().frame()
    starts = log[log["kind"] == Kind.START]
    capacity = log[log["kind"] == Kind.CAPACITY]
    assert list(starts["worker"]) == [0, 1]
    assert list(starts["value"]) == [Contract.PERMANENT, Contract.PERMANENT]
    assert capacity["value"].sum() == 2  # caseload cap 1 each, no sickness


def test_blocked_transfer_holds_the_sending_worker():
    """Team B is full, so the case finished in stage a stays with A's worker, and A's next case
    cannot start until B takes the blocked one (the review's CiN -> CiC blockage)."""
    scenario = two_stage_scenario(blocking=True)
    plans = fixed_plans([0.0, 0.1, 0.2], stages=[0, 1], durations=[1.0, 3.0])
    worker_a, worker_b = 0, 1
    assert case_trace(Model(scenario, 0, plans=plans)) == [
        (0.0, E, 0, 0, worker_a),
        (0.1, E, 1, 0, -1),
        (0.2, E, 2, 0, -1),
        (1.0, X, 0, 0, worker_a),
        (1.0, E, 0, 1, worker_b),
        (1.0, A, 1, 0, worker_a),
        (2.0, B, 1, 1, worker_a),  # B is full: case 1 waits, still held by A's worker
        (4.0, X, 0, 1, worker_b),
        (4.0, U, 1, 1, worker_a),
        (4.0, X, 1, 0, worker_a),
        (4.0, E, 1, 1, worker_b),
        (4.0, A, 2, 0, worker_a),  # only now can A's worker take case 2
        (5.0, B, 2, 1, worker_a),
        (7.0, X, 1, 1, worker_b),
        (7.0, U, 2, 1, worker_a),
        (7.0, X, 2, 0, worker_a),
        (7.0, E, 2, 1, worker_b),
        (10.0, X, 2, 1, worker_b),
    ]


def test_without_blocking_the_sender_is_released_at_once():
    scenario = two_stage_scenario(blocking=False)
    plans = fixed_plans([0.0, 0.1], stages=[0, 1], durations=[1.0, 3.0])
    trace = case_trace(Model(scenario, 0, plans=plans))
    # case 1 leaves A at 2.0 and waits unallocated in B instead of holding A's worker
    assert (2.0, X, 1, 0, 0) in trace and (2.0, E, 1, 1, -1) in trace
    assert (4.0, A, 1, 1, 1) in trace


def starter_capacity(cap: int, ramp_up_days: float) -> list[tuple[float, int]]:
    """(t, change) of the caseload capacity of a permanent starter who arrives on day 5 (a fixed
    4-day campaign that always hires, then a 1-day notice) and ramps up over ``ramp_up_days``."""
    one_post_vacant = queue_scenario(0.0, 1.0, workers=1, days=60, caseload_cap=cap)
    scenario = apply_overrides(
        one_post_vacant,
        [
            "teams.team.posts=2",
            "workforce.agency_policy.request_on='never'",
            "workforce.permanent.recruit_days={dist = 'fixed', mean_days = 4}",
            "workforce.permanent.notice_days={dist = 'fixed', mean_days = 1}",
            "workforce.permanent.hire_success_share=1",
            f"workforce.permanent.ramp_up_days={ramp_up_days}",
        ],
    )
    log = Model(scenario, 0, plans=fixed_plans([], [0], [1.0])).run().frame()
    starter = log[(log["kind"] == Kind.CAPACITY) & (log["worker"] == 1)]
    return [(round(r.t, 9), r.value) for r in starter.itertuples(index=False)]


def test_starters_ramp_up_one_case_at_a_time():
    # cap 4 over 8 days: one more case every 2 days from day 5
    assert starter_capacity(4, 8.0) == [(7.0, 1), (9.0, 1), (11.0, 1), (13.0, 1)]


def test_a_huge_cap_ramps_up_in_a_bounded_number_of_steps():
    # 1,000 cases over 2 days would be a step every 0.002 days; steps are at most 4 a day, so 8
    # steps of 125 cases, 0.25 days apart
    steps = starter_capacity(1000, 2.0)
    assert steps == [(5.0 + 0.25 * k, 125) for k in range(1, 9)]
