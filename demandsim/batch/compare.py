"""Comparing scenarios on common random numbers: paired differences with 95% t-intervals.

Replication *i* of every scenario uses seed *i*, so it sees the same children arriving with the
same needs and the same draws for everything the scenarios share. The difference between two
scenarios is therefore taken seed by seed (scenario minus the reference, the first scenario
named), and the interval is a t-interval on those paired differences: far narrower than one from
two independent samples, and exactly zero when the scenarios are the same. Chances ("the backlog
passes 50 cases at some point in the next 12 months") are means of 0/1 KPIs, compared the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim.batch.aggregate import describe, wide_by_replication


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
