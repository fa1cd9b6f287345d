"""Duration distributions fitted by maximum likelihood, with right-censoring.

Covers: gamma and lognormal fits to durations in days, where some durations are only known to be
at least so long (episodes still open, vacancies not yet filled): an observed duration adds its
log density to the likelihood and a censored one its log survival. Dropping censored durations
would keep only the short ones that have finished and understate the mean; treating them as if
they ended at the extract date would understate it too. The family with the higher likelihood is
chosen (both have two parameters). Results are given as the scenario's ``Duration`` keys: ``dist``,
``mean_days`` and ``cv``.

Left truncation is handled too: see ``entry`` in :func:`fit_censored`.

Assumption: same-day durations are recorded as half a day (the distributions live on (0, inf)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

MIN_DAYS = 0.5


def _nll(dist, x: np.ndarray, observed: np.ndarray, entry: np.ndarray) -> float:
    late = entry > 0
    return -(
        dist.logpdf(x[observed]).sum()
        + dist.logsf(x[~observed]).sum()
        - dist.logsf(entry[late]).sum()
    )


def _nll_gamma(theta: np.ndarray, x, observed, entry) -> float:
    shape, scale = np.exp(theta)
    return _nll(stats.gamma(shape, scale=scale), x, observed, entry)


def _nll_lognormal(theta: np.ndarray, x, observed, entry) -> float:
    return _nll(stats.lognorm(math.exp(theta[1]), scale=math.exp(theta[0])), x, observed, entry)


def fit_censored(
    days: np.ndarray,
    observed: np.ndarray,
    families: tuple[str, ...] = ("gamma", "lognormal"),
    entry: np.ndarray | None = None,
) -> dict:
    """Best of ``families`` by likelihood: ``{"dist", "mean_days", "cv", "n", "censored",
    "log_likelihood"}``. Needs at least two observed (uncensored) durations.

    ``entry`` (days, default 0) is how long each duration had already run when the data began to
    watch it (left truncation: an episode open when the extract period began is in the data only
    because it lasted that long); its likelihood is conditioned on surviving to ``entry``.
    """
    x = np.maximum(np.asarray(days, dtype=float), MIN_DAYS)
    observed = np.asarray(observed, dtype=bool)
    entry = np.zeros(len(x)) if entry is None else np.minimum(np.asarray(entry, float), x - 1e-9)
    args = (x, observed, entry)
    if observed.sum() < 2:
        raise ValueError("need at least two completed durations to fit a distribution")
    logs = np.log(x[observed])
    fits = []
    if "gamma" in families:
        mean, var = x[observed].mean(), max(x[observed].var(), 1e-6)
        start = np.log([mean * mean / var, var / mean])
        res = optimize.minimize(_nll_gamma, start, args=args, method="Nelder-Mead")
        shape, scale = np.exp(res.x)
        fits.append(("gamma", shape * scale, 1 / math.sqrt(shape), -res.fun))
    if "lognormal" in families:
        start = np.array([logs.mean(), math.log(max(logs.std(), 1e-3))])
        res = optimize.minimize(_nll_lognormal, start, args=args, method="Nelder-Mead")
        mu, sigma = res.x[0], math.exp(res.x[1])
        mean = math.exp(mu + sigma * sigma / 2)
        fits.append(("lognormal", mean, math.sqrt(math.expm1(sigma * sigma)), -res.fun))
    dist, mean, cv, loglik = max(fits, key=lambda f: f[3])
    return {
        "dist": dist,
        "mean_days": float(mean),
        "cv": float(cv),
        "n": len(x),
        "censored": int((~observed).sum()),
        "log_likelihood": float(loglik),
    }


def as_duration(fit: dict) -> dict:
    """The scenario's ``Duration`` table for a fit, rounded for reading."""
    return {"dist": fit["dist"], "mean_days": round(fit["mean_days"], 2), "cv": round(fit["cv"], 3)}
