"""Layer 6: invariants that hold for any seed and any reasonable parameters (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demandsim.eventlog import Kind
from demandsim.model import Model
from demandsim.scenario_files import apply_overrides

runs = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10**6),
        "contacts": st.floats(0, 40_000),
        "perm_turnover": st.floats(0, 3),
        "agency_turnover": st.floats(0, 6),
        "fill_days": st.floats(0, 60),
        "request_on": st.sampled_from(["vacancy", "backlog", "never"]),
        "extra": st.integers(0, 3),
        "queue_order": st.sampled_from(["fifo", "priority"]),
    }
)


def simulate(baseline, p) -> tuple[pd.DataFrame, object]:
    scenario = apply_overrides(
        baseline,
        [
            "years=0.25",
            "warmup_days=0",
            f"demand.contacts_per_year={p['contacts']}",
            f"workforce.permanent.turnover_per_year={p['perm_turnover']}",
            f"workforce.agency.turnover_per_year={p['agency_turnover']}",
            f"workforce.agency.fill_days={p['fill_days']}",
            f"workforce.agency_policy.request_on='{p['request_on']}'",
            f"workforce.agency_policy.max_extra_per_team={p['extra']}",
            f"queue_order='{p['queue_order']}'",
            "teams.cic.posts=20",  # a short-staffed care team, so transfers block
            "teams.cic.initial_permanent=15",
            "teams.cic.initial_agency=3",
        ],
    )
    return Model(scenario, p["seed"]).run().frame(), scenario


settings_ = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(p=runs)
def test_cases_are_conserved_and_causal(baseline, p):
    log, scenario = simulate(baseline, p)
    n_stages = len(scenario.pathway.stages)
    cases = log[log["case"] >= 0]
    enters = cases[cases["kind"] == Kind.ENTER]
    exits = cases[cases["kind"] == Kind.EXIT]
    arrived = enters["case"].nunique()
    closed = exits[exits["value"] >= n_stages]["case"].nunique()
    still_open = (
        enters.groupby("case").size()
        - exits.groupby("case").size().reindex(enters["case"].unique(), fill_value=0)
    ).clip(lower=0)
    assert set(still_open.unique()) <= {0, 1}  # a case is in at most one stage at a time
    assert arrived == closed + int(still_open.sum())
    # nobody is allocated before they arrive
    first_seen = enters.groupby("case")["t"].min()
    allocs = cases[
        (cases["kind"] == Kind.ALLOC) | ((cases["kind"] == Kind.ENTER) & (cases["worker"] >= 0))
    ]
    first_allocated = allocs.groupby("case")["t"].min()
    assert (first_allocated >= first_seen.reindex(first_allocated.index)).all()


@settings_
@given(p=runs)
def test_levels_stay_within_bounds(baseline, p):
    """Open >= allocated >= 0 in every team, and no worker ever holds more than their capacity."""
    log, _ = simulate(baseline, p)
    kind, worker = log["kind"].to_numpy(), log["worker"].to_numpy()
    held = (
        ((kind == Kind.ENTER) & (worker >= 0)).astype(int)
        + (kind == Kind.ALLOC)
        - (kind == Kind.DEALLOC)
        - ((kind == Kind.EXIT) & (worker >= 0))
    )
    opened = (kind == Kind.ENTER).astype(int) - (kind == Kind.EXIT)
    frame = pd.DataFrame(
        {"t": log["t"], "team": log["team"], "worker": worker, "held": held, "open": opened,
         "cap": np.where(kind == Kind.CAPACITY, log["value"], 0)}
    )  # fmt: skip
    # levels after all events at the same instant (a leaver's cases go back in that instant)
    per_team = frame.groupby(["team", "t"])[["held", "open"]].sum().groupby("team").cumsum()
    assert (per_team["held"] >= 0).all() and (per_team["held"] <= per_team["open"]).all()
    per_worker = frame[frame["worker"] >= 0].groupby(["worker", "t"])[["held", "cap"]].sum()
    per_worker = per_worker.groupby("worker").cumsum()
    assert (per_worker["held"] <= per_worker["cap"]).all()
