"""Layer 4: a single team with Poisson arrivals, exponential work and c one-case workers is an
M/M/c queue; the simulated waits must match Erlang C, and Little's law must hold on the log.
Tolerances come from replications (99% t-intervals), not from rounding one run."""

from __future__ import annotations

import numpy as np
import pytest

from demandsim.eventlog import Kind
from demandsim.kpis import daily_team_series, stage_waits
from demandsim.model import Model
from tests.factories import queue_scenario
from tests.stats import erlang_c, mean_ci

WARMUP_DAYS = 60
REPLICATIONS = 30


@pytest.mark.slow
@pytest.mark.parametrize(
    ("servers", "arrivals_per_day", "mean_service_days"),
    [(1, 0.6, 1.0), (5, 3.5, 1.0), (12, 1.8, 5.0)],  # utilisation 0.6-0.75: skew stays tame
)
def test_mm_c_waits_match_erlang_c(servers, arrivals_per_day, mean_service_days):
    scenario = queue_scenario(
        arrivals_per_day, mean_service_days, servers, days=1000, warmup_days=WARMUP_DAYS
    )
    mean_waits, wait_shares = [], []
    for seed in range(REPLICATIONS):
        log = Model(scenario, seed).run().frame()
        waits = stage_waits(log, stage=0)
        waits = waits[waits["enter_t"] >= WARMUP_DAYS]["wait_days"].dropna()
        mean_waits.append(waits.mean())
        wait_shares.append((waits > 0).mean())
    p_wait, mean_wait = erlang_c(servers, arrivals_per_day, 1 / mean_service_days)
    _, low, high = mean_ci(mean_waits)
    assert low <= mean_wait <= high, (
        f"Erlang C mean wait {mean_wait:.4f} not in [{low:.4f}, {high:.4f}]"
    )
    _, low, high = mean_ci(wait_shares)
    assert low <= p_wait <= high, f"Erlang C P(wait) {p_wait:.4f} not in [{low:.4f}, {high:.4f}]"


@pytest.mark.slow
def test_littles_law_on_the_log():
    """Time-average cases open L equals arrival rate x mean time in the system W."""
    scenario = queue_scenario(3.0, 1.5, workers=5, days=1000, warmup_days=0)
    log = Model(scenario, seed=11).run().frame()
    daily = daily_team_series(log, scenario)
    start, end = 100, 900  # a window away from the empty start and the open tail
    level = daily["open_cases"].to_numpy()[start:end].mean()
    entered = log[(log["kind"] == Kind.ENTER) & (log["t"] >= start) & (log["t"] < end)]
    exited = log[log["kind"] == Kind.EXIT].set_index("case")["t"]
    sojourn = exited.reindex(entered["case"]).to_numpy() - entered["t"].to_numpy()
    rate = len(entered) / (end - start)
    assert level == pytest.approx(rate * np.nanmean(sojourn), rel=0.02)
