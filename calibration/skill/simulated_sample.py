"""The issue's measurement, re-run: a random sample of councils calibrated to 2021, simulated four
years ahead with parameter draws per replication, scored against the published CIN and CLA.

Usage: python calibration/skill/simulated_sample.py N_COUNCILS REPLICATIONS OUT.csv
"""

import sys
import time

import numpy as np
import pandas as pd

from demandsim.backtest import backtest_published
from demandsim.calibration import published
from demandsim.calibration.history import panel


def main(n: int, replications: int, out: str) -> None:
    data = panel()
    ok = [c for c in data.index.get_level_values("code").unique()
          if np.isfinite(data["cla_at31"].get((c, 2025), np.nan))
          and np.isfinite(data["cin_at31"].get((c, 2021), np.nan))]  # fmt: skip
    codes = sorted(np.random.default_rng(2021).choice(sorted(ok), n, replace=False))
    rows = []
    for code in codes:
        started = time.perf_counter()
        try:
            table, _ = backtest_published(code, 2021, 4, replications, 0, True)
        except published.PublishedDataError as exc:
            print(code, "skipped:", exc, flush=True)
            continue
        table["code"] = code
        table["seconds"] = time.perf_counter() - started
        rows.append(table)
        print(code, f"{table['seconds'].iloc[0]:.0f} s", flush=True)
        pd.concat(rows).to_csv(out, index=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
