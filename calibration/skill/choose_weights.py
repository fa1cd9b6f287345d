"""Choose the forecast's weights (demandsim.calibration.flows.WEIGHTS) on the tune half only.

For each stock, every grid point of (flows, level, neighbours per year) is scored on the tune
half's forecasts at every origin: the median absolute % error as a multiple of persistence's at
each horizon, with a bootstrap over councils. The chosen point is the one most likely to be no
worse than persistence at every horizon at once: the largest share of bootstrap draws in which
every horizon's ratio is at most 1 (ties: the lowest worst ratio). Not the best in-sample median,
which does not carry over to fresh councils. The test half is never read.

Usage: python calibration/skill/choose_weights.py [DRAWS]   (about 1 minute on one core)
"""

import itertools
import sys

import numpy as np
import pandas as pd

from demandsim import skill
from demandsim.calibration import flows as fl
from demandsim.calibration.history import STOCKS
from demandsim.calibration.report import markdown_table

GRID = {
    "flows": (0.0, 0.05, 0.1, 0.2),
    "level": (0.0, 0.1, 0.2, 0.3),
    "neighbours_per_year": (0.03, 0.05, 0.08, 0.1),
}


def components() -> pd.DataFrame:
    """The tune half's log moves towards each part alone (unit weights), and the outcome."""
    parts = {}
    for k, name in enumerate(GRID):
        unit = fl.Weights(*(float(i == k) for i in range(3)))
        t = skill.run_skill(workers=1, pooling=fl.Pooling(weights=dict.fromkeys(STOCKS, unit)))
        t = t.loc[(t["half"] == "tune") & (t["actual"] > 0)]
        wide = t.pivot_table(index=["code", "stock", "origin", "horizon"], columns="method",
                             values="forecast")  # fmt: skip
        parts[name] = np.log(wide["demandsim"] / wide["persistence"])
        actual = t.groupby(wide.index.names)["actual"].first()
        parts["outcome"] = np.log(actual / wide["persistence"])
    return pd.DataFrame(parts).dropna().reset_index()


def choose(c: pd.DataFrame, stock: str, draws: int, seed: int = 0) -> pd.DataFrame:
    c = c.loc[c["stock"] == stock].reset_index(drop=True)
    y = c["outcome"].to_numpy()
    codes = c["code"].unique()
    rows_of = c.groupby("code").indices
    rng = np.random.default_rng(seed)
    samples = [np.concatenate([rows_of[k] for k in rng.choice(codes, len(codes))])
               for _ in range(draws)]  # fmt: skip
    horizon = c["horizon"].to_numpy()
    persistence = np.abs(np.expm1(-y))
    out = []
    for w in itertools.product(*GRID.values()):
        move = w[0] * c["flows"] + w[1] * c["level"] + w[2] * c["neighbours_per_year"]
        ape = np.abs(np.expm1(move.to_numpy() - y))
        ratios, boots = [], []
        for h in skill.HORIZONS:
            at = horizon == h
            ratios.append(np.median(ape[at]) / np.median(persistence[at]))
            boots.append([np.median(ape[s[at[s]]]) / np.median(persistence[s[at[s]]])
                          for s in samples])  # fmt: skip
        boots = np.array(boots)
        out.append({"stock": stock, **dict(zip(GRID, w, strict=True)),
                    "all_no_worse": float((boots <= 1).all(axis=0).mean()),
                    "worst": max(ratios),
                    **{f"h{h}": r for h, r in zip(skill.HORIZONS, ratios, strict=True)}})  # fmt: skip
    return pd.DataFrame(out).sort_values(["all_no_worse", "worst"], ascending=[False, True])


def main(draws: int = 200) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        c = components()
    for stock in STOCKS:
        print(markdown_table(choose(c, stock, draws).head(3).round(3)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
