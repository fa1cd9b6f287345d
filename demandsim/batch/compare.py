"""Comparing scenarios on common random numbers: paired differences with 95% t-intervals.

Replication *i* of every scenario uses seed *i*, so it sees the same children arriving with the
same needs and the same draws for everything the scenarios share. The difference between two
scenarios is therefore taken seed by seed (scenario minus the reference, the first scenario
named), and the interval is a t-interval on those paired differences: far narrower than one from
two independent samples, and exactly zero when the scenarios are the same. Chances ("the backlog
passes 50 cases at some point in the next 12 months") are means of 0/1 KPIs: their difference is
paired too, but its interval is Newcombe's for paired proportions (:func:`newcombe_paired`),
which stays within -1 to 1 and does not claim a difference of exactly zero from a few
replications that happen to agree, as a t-interval on 0/1 differences does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim.batch.aggregate import describe, wide_by_replication, wilson_interval
from demandsim.measures import is_chance


def paired_differences(kpis: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per other scenario, team, KPI and period: the seed-by-seed difference (scenario -
    reference), described by :func:`~demandsim.batch.aggregate.describe` (mean, sd, 95% CI,
    percentiles), with the share of replications in which the scenario's value is higher."""
    wide = wide_by_replication(kpis)
    base = wide.xs(reference, level="scenario")
    frames = []
    for key in wide.index.unique("scenario"):  # in order of first appearance
        if key == reference:
            continue
        other = wide.xs(key, level="scenario").reindex(index=base.index, columns=base.columns)
        diff = other.to_numpy() - base.to_numpy()
        table = describe(diff)
        chance = np.array([is_chance(m) for m in base.index.get_level_values("measure")], bool)
        low, high = newcombe_paired(other.to_numpy()[chance], base.to_numpy()[chance])
        table.loc[chance, "ci_low"] = low
        table.loc[chance, "ci_high"] = high
        with np.errstate(invalid="ignore"):
            counted = (~np.isnan(diff)).sum(axis=1)
            table["share_higher"] = (diff > 0).sum(axis=1) / counted
            table["share_lower"] = (diff < 0).sum(axis=1) / counted
        labels = base.index.to_frame(index=False)
        labels.insert(0, "reference", reference)
        labels.insert(0, "scenario", key)
        frames.append(pd.concat([labels, table], axis=1))
    if not frames:
        raise ValueError("a comparison needs at least two scenarios")
    return pd.concat(frames, ignore_index=True)


def newcombe_paired(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's 95% interval for the difference of two paired proportions, x's minus y's, per
    row of 0/1 outcomes (groups x replications, replication i of ``x`` paired with replication
    i of ``y``; pairs with a NaN left out), after Newcombe (1998, Statistics in Medicine
    17:2635): the Wilson intervals of the two proportions, combined through their correlation
    (phi, its cross-product corrected for continuity). It stays within [-1, 1]."""
    known = ~(np.isnan(x) | np.isnan(y))
    xs, ys = (x == 1) & known, (y == 1) & known
    n = known.sum(axis=1)
    r = (xs & ys).sum(axis=1)  # both
    s = (xs & ~ys).sum(axis=1)  # x only
    t = (~xs & ys).sum(axis=1)  # y only
    u = n - r - s - t  # neither
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = (r + s) / n, (r + t) / n
        l1, u1 = wilson_interval(p1, n)
        l2, u2 = wilson_interval(p2, n)
        margins = ((r + s) * (t + u) * (r + t) * (s + u)).astype(float)
        cross = (r * u - s * t).astype(float)
        corrected = np.where(cross > n / 2, cross - n / 2, np.where(cross < 0, cross, 0.0))
        phi = np.where(margins > 0, corrected / np.sqrt(margins), 0.0)
        d = p1 - p2
        low = d - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
        high = d + np.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    return low, high
