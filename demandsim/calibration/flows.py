"""Flows pooled over several years, and the stock-flow projection they drive.

Covers: for a stock S at 31 March with inflow I during the year (children in need, children
looked after, child protection plans), the effective outflow O = I - (S_t - S_{t-1}) (so the
recursion reproduces every published year exactly, whatever the tables' own ended/ceased counts
leave out), the exit rate e = O / S_{t-1}, and the inflow per child of the population.

Pooling: each rate is the median over the last ``years`` years up to the origin (a median of three
or more years is not moved by one odd year such as the pandemic year 2020/21), shrunk towards the
median over councils in the same years with weight n / (n + ``prior_years``) for a council with n
years of its own (so a council with one year of history, as the looked-after tables have for 2021,
leans on the others). Demand growth: the slope of log referrals per child over the last
``growth_years`` years, damped by ``damping`` per year ahead (a trend that fades), shrunk like the
rates.

Projection: S_{t+1} = S_t (1 - e) + I_{t+1}, I_{t+1} = I_t (1 + g_t) with g_t = g * damping^t.

The forecast (:func:`forecast`) starts from the origin's stock and, in logs, moves part of the
way towards the flows' path, towards the mean of the last years' stocks (a single year's count is
partly noise) and, h times a weight per year, towards the stock per child of its statistical
neighbours (councils far from similar councils drift back): :class:`Weights`, one set per stock.
The weights were chosen on the skill table's ``tune`` half of councils only
(``calibration/skill/choose_weights.py``, docs/forecast-skill.md); on their own the flows move a
stock too far (a 2020/21 starts-to-ceased ratio carried forward).
Only data up to the origin are read: every function takes the history already cut there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from demandsim.calibration.history import STOCKS


@dataclass(frozen=True)
class Weights:
    """The forecast, in logs, moves from the origin's stock this far towards ..."""

    flows: float  # ... the flows' path (0: persistence, 1: the flows alone)
    level: float  # ... the mean stock of the last ``Pooling.years`` years (noise fades)
    neighbours_per_year: float  # ... (times h) its statistical neighbours' stock per child


#: chosen on the tune half only (calibration/skill/choose_weights.py): the grid point most
#: likely, over a bootstrap of councils, to be no worse than persistence at every horizon. Looked
#: after takes no pull to its level: children stay in care for years, so the stock is not noisy
#: from one year to the next and its recent mean says nothing about next year.
WEIGHTS = {
    "cin": Weights(flows=0.05, level=0.3, neighbours_per_year=0.03),
    "cla": Weights(flows=0.1, level=0.0, neighbours_per_year=0.05),
    "cpp": Weights(flows=0.05, level=0.3, neighbours_per_year=0.1),
}


@dataclass(frozen=True)
class Pooling:
    years: int = 3
    growth_years: int = 5
    damping: float = 0.6
    prior_years: float = 2.0
    weights: dict[str, Weights] = field(default_factory=lambda: dict(WEIGHTS))


@dataclass(frozen=True)
class Flows:
    stock: float  # at the origin
    inflow: float  # per year, pooled level at the origin
    exit_rate: float  # per year
    growth: float  # per year, at the origin
    n_years: int  # years of own flows behind the rates


def exit_rates(stock: np.ndarray, inflow: np.ndarray) -> np.ndarray:
    """Each year's effective exit rate: what left (the inflow less the stock's rise) over the
    stock of the row before (NaN for the first row)."""
    before = np.concatenate([[np.nan], stock[:-1]])
    return (inflow - (stock - before)) / before


def rates(history: pd.DataFrame, stock: str) -> pd.DataFrame:
    """Per year: stock, inflow, effective outflow and exit rate, inflow per child, growth of
    referrals per child (log)."""
    s_col, i_col, _ = STOCKS[stock]
    s = history[s_col]
    inflow = history[i_col]
    out = pd.DataFrame({"stock": s, "inflow": inflow})
    out["exit_rate"] = exit_rates(s.to_numpy(dtype=float), inflow.to_numpy(dtype=float))
    out["inflow_rate"] = inflow / history["population"]
    per_child = np.log(history["referrals"] / history["population"])
    out["demand_log"] = per_child
    return out


def _slope(y: np.ndarray, x: np.ndarray) -> float:
    keep = np.isfinite(y)
    if keep.sum() < 3:
        return np.nan
    x, y = x[keep], y[keep]
    return float(np.polyfit(x - x.mean(), y, 1)[0])


def council_flows(history: pd.DataFrame, stock: str, pooling: Pooling) -> dict:
    """The council's own pooled figures (medians over the last years), NaN where it has none.

    ``history`` is cut at the origin; a year's rates read only that year and the one before."""
    return flows_at(rates(history, stock), history["population"], len(history), pooling)


def flows_at(r: pd.DataFrame, population: pd.Series, n: int, pooling: Pooling) -> dict:
    """council_flows from the rates of the first ``n`` rows (the years up to the origin)."""
    if n == 0:
        keys = ("level", "population", "exit_rate", "inflow_rate", "last_inflow_rate", "growth")
        return {**dict.fromkeys(keys, np.nan), "n_years": 0}
    exit_rate = r["exit_rate"].to_numpy()[:n][-pooling.years :]
    inflow_rate = r["inflow_rate"].to_numpy()[:n][-pooling.years :]
    ok = np.isfinite(exit_rate) & np.isfinite(inflow_rate)
    demand = r["demand_log"].to_numpy()[:n][-pooling.growth_years :]
    years = r.index.to_numpy(dtype=float)[:n][-pooling.growth_years :]
    return {
        "level": float(r["stock"].iloc[n - 1]),
        "population": float(population.iloc[n - 1]),
        "exit_rate": float(np.median(exit_rate[ok])) if ok.any() else np.nan,
        "inflow_rate": float(np.median(inflow_rate[ok])) if ok.any() else np.nan,
        "last_inflow_rate": float(r["inflow_rate"].iloc[n - 1]),
        "growth": _slope(demand, years),
        "n_years": int(ok.sum()),
    }


def shrink(own: dict, prior: dict, pooling: Pooling) -> Flows:
    """Partial pooling: own * n / (n + prior_years) + prior * prior_years / (n + prior_years)."""
    n = own["n_years"]
    w = n / (n + pooling.prior_years)

    def mix(key: str) -> float:
        a, b = own[key], prior[key]
        if not np.isfinite(a):
            return b
        return w * a + (1 - w) * b if np.isfinite(b) else a

    growth = own["growth"] if np.isfinite(own["growth"]) else prior["growth"]
    growth = w * growth + (1 - w) * prior["growth"] if np.isfinite(prior["growth"]) else growth
    inflow_rate = mix("inflow_rate")
    return Flows(
        stock=own["level"],
        inflow=inflow_rate * own["population"],
        exit_rate=float(np.clip(mix("exit_rate"), 0.01, 2.0)),
        growth=float(np.nan_to_num(growth)),
        n_years=n,
    )


def project(flows: Flows, horizons: int, pooling: Pooling, draws: dict | None = None) -> np.ndarray:
    """The stock at the end of each of ``horizons`` years ahead.

    ``draws`` optionally multiplies the parameters (arrays of one shape: a path per draw):
    inflow (level), exit_rate, and adds to growth; the result then has that shape plus horizons.
    """
    d = draws or {}
    inflow = flows.inflow * np.asarray(d.get("inflow", 1.0))
    exit_rate = np.clip(flows.exit_rate * np.asarray(d.get("exit_rate", 1.0)), 0.0, 1.5)
    growth = flows.growth + np.asarray(d.get("growth", 0.0))
    path = np.full(np.broadcast(inflow, exit_rate, growth).shape, flows.stock, dtype=float)
    out = []
    for t in range(horizons):
        inflow = inflow * np.exp(growth * pooling.damping ** (t + 1))
        path = path * (1 - exit_rate) + inflow
        out.append(np.maximum(path, 0.0))
    return np.stack(out, axis=-1)


def forecast(
    history: pd.DataFrame,
    stock: str,
    flows: Flows,
    neighbour_log_rate: float,
    horizons: int,
    pooling: Pooling,
) -> np.ndarray:
    """The stock at 31 March of each of ``horizons`` years after the last row of ``history``."""
    s = history[STOCKS[stock][0]]
    origin = float(s.iloc[-1])
    if not origin > 0:
        return np.full(horizons, max(origin, 0.0))
    w = pooling.weights[stock]
    h = np.arange(1, horizons + 1)
    towards_flows = np.log(np.maximum(project(flows, horizons, pooling), 1.0) / origin)
    # a council with no flows at all (neither its own nor a prior) moves on the other two only
    log_move = w.flows * np.nan_to_num(towards_flows)
    level = s.dropna().tail(pooling.years).mean()
    log_move = log_move + w.level * np.log(level / origin)
    own_rate = np.log(origin / history["population"].iloc[-1])
    if np.isfinite(neighbour_log_rate) and np.isfinite(own_rate):
        log_move = log_move + w.neighbours_per_year * h * (neighbour_log_rate - own_rate)
    return origin * np.exp(log_move)
