"""Pure plotting for batches: tidy frames in, a matplotlib Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from demandsim.measures import label as measure_label


def sweep_curve(
    table: pd.DataFrame,
    key: str,
    measure: str,
    team: str,
    others: list[str],
    ax: Axes | None = None,
) -> Figure:
    """Mean of ``measure`` for ``team`` against the varied ``key``, with 95% intervals; one line
    per combination of the ``others`` varied keys. ``table`` is a sweep table (see
    :func:`demandsim.batch.sweep.sweep_table`) for one period."""
    rows = table[(table["measure"] == measure) & (table["team"] == team)]
    if ax is None:
        fig = Figure(figsize=(6, 4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    numeric = pd.api.types.is_numeric_dtype(rows[key])
    categories = list(dict.fromkeys(rows[key]))
    groups = rows.groupby(others, sort=False) if others else [((), rows)]
    for label, group in groups:
        group = group.sort_values(key) if numeric else group
        x = group[key].to_numpy() if numeric else [categories.index(v) for v in group[key]]
        err = np.vstack([group["mean"] - group["ci_low"], group["ci_high"] - group["mean"]])
        name = ", ".join(f"{k}={v}" for k, v in zip(others, np.atleast_1d(label), strict=True))
        ax.errorbar(x, group["mean"], yerr=err, marker="o", capsize=3, label=name or None)
    if not numeric:
        ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    ax.set_xlabel(key.rsplit(".", 1)[-1].replace("_", " ") + f"  ({key})")
    ax.set_ylabel(measure_label(measure))
    ax.set_title(f"{team}: mean over replications, 95% CI", fontsize="medium")
    if others:
        ax.legend(fontsize="small")
    return fig
