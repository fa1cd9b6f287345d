"""Confidence intervals from replications, and the queueing results the model must reproduce."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values: np.ndarray, level: float = 0.99) -> tuple[float, float, float]:
    """Mean and the two-sided t-interval across independent replications."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half = (
        stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    )
    return mean, mean - half, mean + half


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> tuple[float, float]:
    """M/M/c: probability an arrival waits, and mean wait in queue."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1, "unstable queue"
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait, p_wait / (servers * service_rate - arrival_rate)
