"""Duration distributions, sampled by inverse CDF from uniforms.

Drawing through the quantile function means a given uniform (case *k*'s *j*-th piece of work,
the *n*-th agency request) maps to the same quantile whatever the distribution's mean: a scenario
that halves the agency fill time halves every fill, rather than drawing new ones.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special

from demandsim.scenario import Duration

#: the gamma quantile function is tabulated on this grid of logit(u) for vectorised draws
_LOGIT_GRID = np.linspace(-32.0, 32.0, 2**15 + 1)


def _gamma_shape_scale(d: Duration) -> tuple[float, float]:
    shape = 1.0 / (d.cv * d.cv)
    return shape, d.mean_days / shape


def _lognormal_mu_sigma(d: Duration) -> tuple[float, float]:
    sigma2 = math.log1p(d.cv * d.cv)
    return math.log(d.mean_days) - sigma2 / 2, math.sqrt(sigma2)


def quantile(d: Duration, u: np.ndarray | float) -> np.ndarray | float:
    """Inverse CDF of ``d`` at ``u`` in [0, 1); works on arrays and scalars."""
    if d.mean_days == 0 or d.dist == "fixed":
        return u * 0.0 + d.mean_days
    if d.dist == "exponential":
        return -d.mean_days * np.log1p(-u)
    if d.dist == "gamma":
        shape, scale = _gamma_shape_scale(d)
        if np.ndim(u) == 0:
            return special.gammaincinv(shape, u) * scale
        return _gamma_quantile_vector(shape, np.asarray(u)) * scale
    mu, sigma = _lognormal_mu_sigma(d)
    return np.exp(mu + sigma * special.ndtri(np.clip(u, 1e-12, 1 - 1e-12)))


@lru_cache(maxsize=64)
def _gamma_table(shape: float) -> np.ndarray:
    return special.gammaincinv(shape, special.expit(_LOGIT_GRID))


def _gamma_quantile_vector(shape: float, u: np.ndarray) -> np.ndarray:
    """Unit-scale gamma quantiles for many uniforms: ``gammaincinv`` evaluated once per shape on
    a fine logit grid, then interpolated (relative error under 3e-6; about 5x faster)."""
    z = special.logit(np.clip(u, 1e-14, 1 - 1e-14))
    return np.interp(z, _LOGIT_GRID, _gamma_table(shape))


def residual_quantile(d: Duration, u_length: np.ndarray, u_elapsed: np.ndarray) -> np.ndarray:
    """Remaining durations of episodes already open in a stationary service.

    An episode found open at a random instant is length-biased (long ones are more likely to be
    open), and the instant falls uniformly within it. The length-biased law of a gamma(k, s) is
    gamma(k + 1, s); of a lognormal(mu, sigma), lognormal(mu + sigma^2, sigma); of an
    exponential(mean m), gamma(2, m).
    """
    if d.mean_days == 0 or d.dist == "fixed":
        length = np.full_like(u_length, d.mean_days, dtype=float)
    elif d.dist == "exponential":
        length = special.gammaincinv(2.0, u_length) * d.mean_days
    elif d.dist == "gamma":
        shape, scale = _gamma_shape_scale(d)
        length = special.gammaincinv(shape + 1.0, u_length) * scale
    else:
        mu, sigma = _lognormal_mu_sigma(d)
        z = special.ndtri(np.clip(u_length, 1e-12, 1 - 1e-12))
        length = np.exp(mu + sigma * sigma + sigma * z)
    return length * (1.0 - u_elapsed)
