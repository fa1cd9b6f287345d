"""Coverage of the demand back-test's intervals over rolling cut-offs (not the reported ones).

For every cut-off every ``step`` months from the first with 18 months of history, Prophet is
fitted on the data before it and the following months (up to 12) are scored: the share of all
those months inside the 80% and 95% intervals, with and without the calibrated bands.

Usage: python calibration/backtests/demand_coverage.py DATA_DIR [STEP] [SAMPLES]
"""

import sys
import time

import pandas as pd

from demandsim.backtest import backtest_demand
from demandsim.calibration.inputs import read_folder
from demandsim.calibration.report import markdown_table


def main(folder: str, step: int = 3, samples: int = 200) -> None:
    demand = read_folder(folder).demand
    first = demand["date"].min().to_period("M") + 18
    last = demand["date"].max().to_period("M") - 2
    rows = []
    start = time.process_time()
    for cut in pd.period_range(first, last, freq=f"{step}M"):
        for calibrated in (False, True):
            t = backtest_demand(demand, cut.start_time.date(), 12, 0, samples, calibrated)
            rows.append(t.assign(cutoff=str(cut), calibrated=calibrated))
    table = pd.concat(rows)
    out = table.groupby("calibrated").agg(
        cutoffs=("cutoff", "nunique"), months=("actual", "size"),
        inside_80=("inside_80", "mean"), inside_95=("inside_95", "mean"),
    )  # fmt: skip
    print(markdown_table(out.reset_index().round(3)))
    by_cut = table.loc[table["calibrated"]].groupby("cutoff")[["inside_80", "inside_95"]].mean()
    print(markdown_table(by_cut.reset_index().round(2)))
    print(f"CPU {time.process_time() - start:.0f} s")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], *(int(a) for a in args[1:]))
