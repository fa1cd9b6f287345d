"""Every council's published history as one tidy panel, and the flows pooled from it.

Covers: the stocks at 31 March the DfE tables publish with their flows during the year ending
then — children in need (episodes started and ended, 2013 on), child protection plans (started;
ended = started less the change in the stock), children looked after (started and ceased, 2021 on;
the stock at 31 March 2020 is rebuilt as the 2021 stock less starts plus ceasings) — and referrals
and the child population.

Assumptions: a council's own figures only (suppressed = missing; statistical neighbours never
stand in here, so a skill score is never flattered by a neighbour's number); a year with a
figure missing is skipped by the pooling that needs it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from demandsim.calibration import published

#: panel column -> (table, column, CLA population_type or None)
COLUMNS = {
    "cin_at31": ("b1_children_in_need_2013_to_2025.csv", "At31_episodes"),
    "cin_started": ("b1_children_in_need_2013_to_2025.csv", "Started_episodes"),
    "cin_ended": ("b1_children_in_need_2013_to_2025.csv", "Ended_episodes"),
    "referrals": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "referral_count"),
    "cpp_at31": ("d5_cpps_at31march_by_duration_2013_to_2025.csv", "CPP_At31"),
    "cpp_started": ("d3_cpps_subsequent_plan_2013_to_2025.csv", "CPP_start"),
    "cla_at31": (published.CLA_FILE, "Children looked after on 31 March each year"),
    "cla_started": (published.CLA_FILE, "Children starting to be looked after each year"),
    "cla_ceased": (published.CLA_FILE, "Children ceasing to be looked after each year"),
}  # fmt: skip
#: the stocks a forecast is scored on, each with its inflow and outflow columns
STOCKS = {
    "cin": ("cin_at31", "cin_started", "cin_ended"),
    "cla": ("cla_at31", "cla_started", "cla_ceased"),
    "cpp": ("cpp_at31", "cpp_started", "cpp_ended"),
}


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace(",", "").str.strip(), errors="coerce")


@lru_cache(maxsize=1)
def panel() -> pd.DataFrame:
    """One row per council and year (year ending 31 March): index (code, year), the columns of
    COLUMNS plus cpp_ended and population (children aged 0-17); NaN where not published."""
    parts = []
    for name, (file, column) in COLUMNS.items():
        table = published._table(file)
        if file == published.CLA_FILE:
            table = table.loc[table["population_type"] == column]
            column = "children_count"
        part = pd.DataFrame(
            {
                "code": table["old_la_code"].to_numpy(),
                "year": table["time_period"].astype(int).to_numpy(),
                name: _numbers(table[column]).to_numpy(),
            }
        )
        parts.append(part.drop_duplicates(["code", "year"]).set_index(["code", "year"]))
    out = pd.concat(parts, axis=1).sort_index()
    pop = published._table(published.POPULATION_FILE)
    pop = pd.DataFrame(
        {
            "code": pop["old_la_code"].to_numpy(),
            "year": pop["time_period"].astype(int).to_numpy(),
            "population": _numbers(pop["population_estimate"]).to_numpy(),
        }
    ).drop_duplicates(["code", "year"])
    out = out.join(pop.set_index(["code", "year"]), how="left")
    out["population"] = out.groupby(level="code")["population"].ffill()
    prev = out.groupby(level="code")["cpp_at31"].shift(1)
    out["cpp_ended"] = out["cpp_started"] - (out["cpp_at31"] - prev)
    return _rebuild_cla_2020(out)


def _rebuild_cla_2020(out: pd.DataFrame) -> pd.DataFrame:
    """Children looked after at 31 March 2020 = the 2021 stock less 2021's starts plus ceasings."""
    first = out.loc[out.index.get_level_values("year") == 2021]
    rebuilt = first["cla_at31"] - first["cla_started"] + first["cla_ceased"]
    rebuilt.index = pd.MultiIndex.from_arrays(
        [first.index.get_level_values("code"), np.full(len(first), 2020)], names=["code", "year"]
    )
    have = rebuilt.index.intersection(out.index)
    out.loc[have, "cla_at31"] = out.loc[have, "cla_at31"].fillna(rebuilt.loc[have])
    return out


def series(code: str) -> pd.DataFrame:
    """One council's rows, indexed by year."""
    return panel().xs(code, level="code")
