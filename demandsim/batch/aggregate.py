"""Across replications: KPI summaries with confidence intervals, and percentile bands of every
daily series computed a block of days at a time.

Everything here reads replications in seed order, so the same replications give bit-identical
tables however they were run (one process, many, a cluster, or a resumed run). Percentile bands
never hold every replication's full series: each block of days is read (memory-mapped) from the
per-replication files, reduced, and dropped; the block length is chosen so one block stays under
:data:`BLOCK_BYTES`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from demandsim.batch.store import BatchStore
from demandsim.batch.summaries import MEASURES, PROPORTIONS, forecast_dates, team_labels
from demandsim.scenario import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_COLUMNS = tuple(f"p{round(100 * q)}" for q in QUANTILES)
#: bytes of float32 replication data read per block of days (working memory is about 3x this)
BLOCK_BYTES = 64 * 2**20
CONFIDENCE = 0.95


def quantiles(values: np.ndarray, qs: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles over axis 0, ignoring NaN (linear interpolation, numpy's default method).

    Returns ``(len(qs), *values.shape[1:])``; NaN where a cell has no values."""
    ordered = np.sort(values, axis=0)  # NaN sorts last
    count = (~np.isnan(values)).sum(axis=0)
    out = np.full((len(qs), *values.shape[1:]), np.nan)
    last = np.maximum(count - 1, 0)
    for i, q in enumerate(qs):
        pos = q * last
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, last)
        below = np.take_along_axis(ordered, lo[None], axis=0)[0].astype(float)
        above = np.take_along_axis(ordered, hi[None], axis=0)[0].astype(float)
        out[i] = np.where(count > 0, below + (above - below) * (pos - lo), np.nan)
    return out


def describe(values: np.ndarray) -> pd.DataFrame:
    """Per row of ``values`` (groups x replications): n, mean, sd, a 95% t-interval for the mean,
    and the 5th, 50th and 95th percentiles of the replications. NaN entries are left out."""
    values = np.asarray(values, dtype=float)
    n = (~np.isnan(values)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # groups with no or one value give NaN
        mean = np.nansum(values, axis=1) / n
        sd = np.sqrt(np.nansum((values - mean[:, None]) ** 2, axis=1) / (n - 1))
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / np.sqrt(n)
    half = np.where(sd == 0, 0.0, half)  # identical values: the interval is the value itself
    pct = quantiles(values.T, (0.05, 0.5, 0.95))
    return pd.DataFrame(
        {
            "n": n,
            "mean": mean,
            "sd": sd,
            "ci_low": mean - half,
            "ci_high": mean + half,
            "p5": pct[0],
            "p50": pct[1],
            "p95": pct[2],
        }
    )


def wide_by_seed(kpis: pd.DataFrame) -> pd.DataFrame:
    """Per-replication KPIs as one row per (scenario, team, kpi) and one column per seed, rows in
    the order they first appear."""
    index = ["scenario", "team", "kpi"]
    order = kpis[index].drop_duplicates()
    wide = kpis.set_index([*index, "seed"])["value"].unstack("seed")
    return wide.reindex(pd.MultiIndex.from_frame(order)).sort_index(axis=1)


def kpi_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """Each scenario's KPIs across replications (see :func:`describe`). For 0/1 KPIs (chances)
    the interval is Wilson's score interval, which stays within [0, 1]."""
    wide = wide_by_seed(kpis)
    table = describe(wide.to_numpy())
    labels = wide.index.to_frame(index=False)
    chance = labels["kpi"].isin(PROPORTIONS).to_numpy()
    low, high = wilson_interval(table["mean"].to_numpy()[chance], table["n"].to_numpy()[chance])
    table.loc[chance, "ci_low"] = low
    table.loc[chance, "ci_high"] = high
    return pd.concat([labels, table], axis=1)


def wilson_interval(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's 95% score interval for a proportion ``p`` of ``n`` trials."""
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def daily_bands(store: BatchStore, key: str, scenario: Scenario, seeds: list[int]) -> pd.DataFrame:
    """Percentile bands and the mean of every daily series of one scenario across replications:
    one row per date, team and measure (the service-wide series included)."""
    dates = forecast_dates(scenario)
    teams = team_labels(scenario)
    per_day = len(seeds) * len(teams) * len(MEASURES) * 4
    block = max(1, BLOCK_BYTES // per_day)
    frames = []
    for start in range(0, len(dates), block):
        stop = min(start + block, len(dates))
        stack = store.daily_block(key, seeds, start, stop)
        bands = quantiles(stack)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (no staff)
            mean = np.nanmean(stack, axis=0, dtype=np.float64)
        del stack
        frame = pd.DataFrame(
            {
                "date": np.repeat(dates[start:stop], len(teams) * len(MEASURES)),
                "team": np.tile(np.repeat(teams, len(MEASURES)), stop - start),
                "measure": np.tile(MEASURES, (stop - start) * len(teams)),
            }
        )
        for column, band in zip(BAND_COLUMNS, bands, strict=True):
            frame[column] = band.reshape(-1)
        frame["mean"] = mean.reshape(-1)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "scenario", key)
    return out
