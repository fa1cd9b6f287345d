"""Layer 1: the duration distributions the model draws from, by their moments (as Ciw tests its
distributions): the mean and spread of many quantile draws, the residual lengths of episodes
found open, and the common-random-numbers property of drawing through the quantile function."""

from __future__ import annotations

import math

import numpy as np
import pytest

from demandsim.distributions import quantile, residual_quantile
from demandsim.scenario import Duration

DRAWS = 400_000
CASES = [
    Duration(dist="fixed", mean_days=3.0),
    Duration(dist="exponential", mean_days=26.0),
    Duration(dist="gamma", mean_days=26.0, cv=0.5),
    Duration(dist="gamma", mean_days=140.0, cv=1.5),
    Duration(dist="lognormal", mean_days=30.0, cv=0.8),
]


def cv_of(d: Duration) -> float:
    return {"fixed": 0.0, "exponential": 1.0}.get(d.dist, d.cv)


@pytest.mark.parametrize("d", CASES, ids=lambda d: f"{d.dist}-{d.mean_days:g}-{d.cv}")
def test_draws_have_the_mean_and_spread_asked_for(d):
    """The mean of 400,000 draws within 5 standard errors of ``mean_days``; the coefficient of
    variation within 3% of the one asked for (its standard error here is under 1% for a cv of
    1.5, more for the heavy-tailed lognormal, hence the margin)."""
    u = np.random.default_rng(1).random(DRAWS)
    x = np.asarray(quantile(d, u))
    se = d.mean_days * cv_of(d) / math.sqrt(DRAWS)
    assert abs(x.mean() - d.mean_days) <= 5 * se + 1e-9 * d.mean_days
    assert x.std() / x.mean() == pytest.approx(cv_of(d), rel=0.03, abs=1e-9)
    assert (x >= 0).all()


@pytest.mark.parametrize("d", CASES, ids=lambda d: f"{d.dist}-{d.mean_days:g}-{d.cv}")
def test_episodes_found_open_have_the_stationary_residual_mean(d):
    """An episode found open at a random instant has, on average, mean x (1 + cv^2) / 2 left
    (the renewal-theory residual life): half the mean for a fixed length, the mean itself for
    an exponential."""
    rng = np.random.default_rng(2)
    left = residual_quantile(d, rng.random(DRAWS), rng.random(DRAWS))
    expected = d.mean_days * (1 + cv_of(d) ** 2) / 2
    assert left.mean() == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("d", CASES[1:], ids=lambda d: f"{d.dist}-{d.mean_days:g}-{d.cv}")
def test_a_uniform_maps_to_the_same_quantile_whatever_the_mean(d):
    """Common random numbers through the quantile function: halving the mean halves every draw
    (the n-th agency fill of a 3-day scenario is the 26-day scenario's, scaled), draws rise with
    the uniform, and one uniform drawn alone equals the same uniform drawn among many."""
    u = np.random.default_rng(3).random(10_000)
    x = np.asarray(quantile(d, u))
    half = np.asarray(quantile(d.model_copy(update={"mean_days": d.mean_days / 2}), u))
    np.testing.assert_allclose(half, x / 2, rtol=1e-12)
    order = np.argsort(u)
    assert (np.diff(x[order]) >= 0).all()
    alone = [float(quantile(d, float(v))) for v in u[:50]]
    np.testing.assert_allclose(alone, x[:50], rtol=1e-5)  # the vector path interpolates gamma
