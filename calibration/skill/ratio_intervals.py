"""Bootstrap over councils: a 90% interval for demandsim's median (and p90) absolute % error as a
multiple of persistence's, from a skill table's skill.csv (the councils' half given).

Usage: python calibration/skill/ratio_intervals.py SKILL_CSV HALF [DRAWS]
"""

import sys

import numpy as np
import pandas as pd

from demandsim.calibration.report import markdown_table


def main(path: str, half: str, draws: int = 500) -> None:
    t = pd.read_csv(path, dtype={"code": str})
    t = t.loc[(t["half"] == half) | (half == "all")].dropna(subset=["actual"])
    t = t.loc[t["actual"] > 0].assign(ape=lambda d: (d["forecast"] / d["actual"] - 1).abs())
    rng = np.random.default_rng(0)
    rows = []
    for (stock, h), g in t.groupby(["stock", "horizon"]):
        wide = g.pivot_table(index=["code", "origin"], columns="method", values="ape").dropna()
        codes = wide.index.get_level_values("code").unique()
        by_code = {c: wide.xs(c, level="code") for c in codes}
        stats = []
        for _ in range(draws):
            pick = pd.concat([by_code[c] for c in rng.choice(codes, len(codes))])
            stats.append([pick["demandsim"].median() / pick["persistence"].median(),
                          pick["demandsim"].quantile(0.9) / pick["persistence"].quantile(0.9)])  # fmt: skip
        lo, hi = np.quantile(stats, [0.05, 0.95], axis=0)
        rows.append({"stock": stock, "horizon": h,
                     "median_ratio": wide["demandsim"].median() / wide["persistence"].median(),
                     "median_ratio_90ci": f"{lo[0]:.2f}-{hi[0]:.2f}",
                     "p90_ratio": wide["demandsim"].quantile(0.9) / wide["persistence"].quantile(0.9),
                     "p90_ratio_90ci": f"{lo[1]:.2f}-{hi[1]:.2f}"})  # fmt: skip
    print(markdown_table(pd.DataFrame(rows).round(3)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 500)
