"""The forecast skill table: every council, every origin the tables allow, horizons 1-4 years.

Covers: rolling-origin cross-validation of the stocks at 31 March the DfE tables publish
(children in need, children looked after, child protection plans). At each origin year Y the
forecasters see only the council's rows up to Y (and other councils' rows up to Y, for the pooled
priors); their forecasts of Y+1..Y+4 are scored against what was published.

Forecasters:
- ``persistence``: same as the origin year;
- ``trend``: the least-squares line through the last three years, from the origin's value;
- ``demandsim``: :func:`demandsim.calibration.flows.forecast`: the origin's stock moved part of
  the way towards the stock-flow path (pooled inflow per child with damped growth, pooled exit
  rate, both shrunk towards all councils' medians at the origin), the mean of its last years, and
  its statistical neighbours' stock per child.

Bands: the forecast times quantiles of the forecaster's own past log errors at that horizon
(conformal intervals: only errors of forecasts whose outcome was published by the origin year;
while fewer than ``MIN_PAST`` exist, the year-on-year changes of the stocks up to the origin stand
in, widened by sqrt(h)).

Hold-out: councils are split into halves by a seeded shuffle of their codes; tuning may look at the
``tune`` half only, and the reported table is the ``test`` half (``all`` is shown alongside).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import numpy as np
import pandas as pd

from demandsim.calibration import flows as fl
from demandsim.calibration import published
from demandsim.calibration.history import STOCKS, panel

METHODS = ("demandsim", "persistence", "trend")
HORIZONS = (1, 2, 3, 4)
LEVELS = (0.5, 0.8, 0.95)
MIN_PAST = 30
FIRST_ORIGIN = {"cin": 2016, "cpp": 2016, "cla": 2021}
LABELS = {
    "cin": "children in need",
    "cla": "children looked after",
    "cpp": "child protection plans",
}


def split_councils(codes: Iterable[str], seed: int = 2026) -> dict[str, str]:
    """code -> 'tune' or 'test', a seeded half each (stable whatever order the codes come in)."""
    codes = sorted(set(codes))
    order = np.random.default_rng(seed).permutation(len(codes))
    return {codes[i]: ("tune" if k % 2 == 0 else "test") for k, i in enumerate(order)}


def _trend(stock: pd.Series, horizons: int) -> np.ndarray:
    y = stock.dropna().tail(3)
    if len(y) < 2:
        return np.full(horizons, stock.iloc[-1])
    slope = np.polyfit(y.index.to_numpy(dtype=float), y.to_numpy(), 1)[0]
    return np.maximum(stock.iloc[-1] + slope * np.arange(1, horizons + 1), 0.0)


def own_flows(codes: list[str], pooling: fl.Pooling, last_year: int) -> pd.DataFrame:
    """Each council's own pooled flows at each origin, from rows up to that origin only."""
    data = panel()
    rows = []
    for code in codes:
        history = data.xs(code, level="code")
        for stock in STOCKS:
            for origin in range(FIRST_ORIGIN[stock], last_year):
                cut = history.loc[history.index <= origin]
                if cut.empty or not np.isfinite(cut[STOCKS[stock][0]].iloc[-1]):
                    continue
                own = fl.council_flows(cut, stock, pooling)
                rows.append({"code": code, "stock": stock, "origin": origin, **own})
    return pd.DataFrame(rows)


def log_rates(data: pd.DataFrame) -> pd.DataFrame:
    """log(stock per child): index code, columns (stock, year)."""
    out = {s: np.log(data[STOCKS[s][0]] / data["population"]).unstack("year") for s in STOCKS}
    return pd.concat(out, axis=1).replace([np.inf, -np.inf], np.nan)


def neighbour_rate(rates: pd.DataFrame, code: str, stock: str, year: int) -> float:
    """Median log stock per child of the council's statistical neighbours in ``year``."""
    if (stock, year) not in rates.columns:
        return np.nan
    column = rates[(stock, year)]
    values = column.reindex(published.neighbours(code)).dropna()
    return float(values.median()) if len(values) else np.nan


def forecasts(codes: list[str], pooling: fl.Pooling, priors: pd.DataFrame, last_year: int):
    """Point forecasts of every method: code, stock, origin, horizon, target year, method, value."""
    data = panel()
    rates = log_rates(data)
    own = own_flows(codes, pooling, last_year).set_index(["code", "stock", "origin"])
    rows = []
    for (code, stock, origin), row in own.iterrows():
        history = data.xs(code, level="code")
        rows_cut = history.loc[history.index <= origin]
        cut = rows_cut[STOCKS[stock][0]]
        flows = fl.shrink(row.to_dict(), priors.loc[(stock, origin)].to_dict(), pooling)
        horizons = min(len(HORIZONS), last_year - origin)
        near = neighbour_rate(rates, code, stock, origin)
        paths = {
            "persistence": np.full(horizons, cut.iloc[-1]),
            "trend": _trend(cut, horizons),
            "demandsim": fl.forecast(rows_cut, stock, flows, near, horizons, pooling),
        }
        for method, values in paths.items():
            for h, value in enumerate(values, start=1):
                rows.append({"code": code, "stock": stock, "origin": origin, "horizon": h,
                             "year": origin + h, "method": method, "forecast": float(value)})  # fmt: skip
    return pd.DataFrame(rows)


def _chunks(codes: list[str], n: int) -> list[list[str]]:
    return [codes[i::n] for i in range(n) if codes[i::n]]


def run_skill(
    codes: list[str] | None = None,
    pooling: fl.Pooling | None = None,
    workers: int | None = None,
    origins: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Forecasts with bands and outcomes for every council x stock x origin x horizon x method.

    The priors (all councils' medians at each origin) always come from every council, so a subset
    run gives the same figures for its councils as the full run. ``workers`` processes share the
    councils (default: every core; 1 runs in this process)."""
    pooling = pooling or fl.Pooling()
    data = panel()
    every = sorted(data.index.get_level_values("code").unique())
    codes = every if codes is None else list(codes)
    last_year = int(data.index.get_level_values("year").max())
    workers = workers or os.cpu_count() or 1
    priors = _pool(every, pooling, last_year, workers)
    chunks = _chunks(codes, workers)
    if workers == 1 or len(chunks) == 1:
        parts = [forecasts(c, pooling, priors, last_year) for c in chunks]
    else:
        with ProcessPoolExecutor(workers) as ex:
            futures = [ex.submit(forecasts, c, pooling, priors, last_year) for c in chunks]
            parts = [f.result() for f in futures]
    table = pd.concat(parts, ignore_index=True)
    if origins is not None:
        table = table.loc[table["origin"].isin(list(origins))]
    actual = data[[STOCKS[s][0] for s in STOCKS]].rename(
        columns={v[0]: k for k, v in STOCKS.items()}
    )
    actual = actual.stack().rename("actual").rename_axis(["code", "year", "stock"]).reset_index()
    table = table.merge(actual, on=["code", "year", "stock"], how="left")
    table = add_bands(table, _history_changes(data, last_year))
    table["half"] = table["code"].map(split_councils(every))
    return table


def _pool(codes, pooling, last_year, workers) -> pd.DataFrame:
    chunks = _chunks(codes, workers)
    if workers == 1 or len(chunks) == 1:
        own = pd.concat([own_flows(c, pooling, last_year) for c in chunks])
    else:
        with ProcessPoolExecutor(workers) as ex:
            own = pd.concat(
                ex.map(own_flows, chunks, [pooling] * len(chunks), [last_year] * len(chunks))
            )
    cols = ["exit_rate", "inflow_rate", "growth"]
    return own.groupby(["stock", "origin"])[cols].median()


def _history_changes(data: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """Year-on-year log changes of each stock: stock, year (of the later value), change."""
    stocks = data[[STOCKS[s][0] for s in STOCKS]]
    change = np.log(stocks).groupby(level="code").diff()
    change.columns = list(STOCKS)
    return change.stack().rename("change").rename_axis(["code", "year", "stock"]).reset_index()


def add_bands(table: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """lower_/upper_ columns for each level in LEVELS from past log errors (see the module)."""
    table = table.copy()
    table["log_error"] = np.log(table["actual"] / table["forecast"])
    qs = sorted({q for lv in LEVELS for q in ((1 - lv) / 2, (1 + lv) / 2)})
    out = {q: np.full(len(table), np.nan) for q in qs}
    for (method, stock, origin, h), idx in table.groupby(
        ["method", "stock", "origin", "horizon"]
    ).groups.items():
        past = table.loc[
            (table["method"] == method) & (table["stock"] == stock) & (table["horizon"] == h)
            & (table["year"] <= origin), "log_error"
        ].dropna()  # fmt: skip
        if len(past) >= MIN_PAST:
            quant = np.quantile(past, qs)
        else:
            ch = changes.loc[(changes["stock"] == stock) & (changes["year"] <= origin), "change"]
            ch = ch.replace([np.inf, -np.inf], np.nan).dropna()
            quant = np.quantile(ch - ch.median(), qs) * np.sqrt(h)
        for q, v in zip(qs, quant, strict=True):
            out[q][table.index.get_indexer(idx)] = v
    for lv in LEVELS:
        lo, hi = (1 - lv) / 2, (1 + lv) / 2
        table[f"lower_{round(lv * 100)}"] = table["forecast"] * np.exp(out[lo])
        table[f"upper_{round(lv * 100)}"] = table["forecast"] * np.exp(out[hi])
    return table


def scores(table: pd.DataFrame) -> pd.DataFrame:
    """One row per stock x horizon x method: cases, median and p90 absolute % error, bias (median
    % error), share of councils it beats persistence on (median over origins), band coverage."""
    t = table.dropna(subset=["actual", "forecast"]).copy()
    t = t.loc[t["actual"] > 0]
    t["pct_error"] = 100 * (t["forecast"] - t["actual"]) / t["actual"]
    t["ape"] = t["pct_error"].abs()
    for lv in LEVELS:
        k = round(lv * 100)
        t[f"in_{k}"] = t["actual"].between(t[f"lower_{k}"], t[f"upper_{k}"])
    per_council = (
        t.groupby(["stock", "horizon", "method", "code"])["ape"].median().unstack("method")
    )
    rows = []
    for (stock, h, method), g in t.groupby(["stock", "horizon", "method"]):
        pc = per_council.loc[(stock, h)]
        row = {
            "stock": stock, "horizon": h, "method": method, "cases": len(g),
            "councils": g["code"].nunique(), "origins": f"{g['origin'].min()}-{g['origin'].max()}",
            "median_ape": g["ape"].median(), "p90_ape": g["ape"].quantile(0.9),
            "bias_pct": g["pct_error"].median(),
            "beats_persistence": float((pc[method] < pc["persistence"]).mean()) if method != "persistence" else np.nan,
        }  # fmt: skip
        row.update({f"cover_{round(lv * 100)}": g[f"in_{round(lv * 100)}"].mean() for lv in LEVELS})
        rows.append(row)
    return pd.DataFrame(rows)


def targets(summary: pd.DataFrame) -> pd.DataFrame:
    """The issue's figures for demandsim against persistence, per stock and horizon."""
    s = summary.set_index(["stock", "horizon", "method"])
    rows = []
    for stock, h in sorted({(a, b) for a, b, _ in s.index}):
        d, p = s.loc[(stock, h, "demandsim")], s.loc[(stock, h, "persistence")]
        rows.append({
            "stock": stock, "horizon": h,
            "median_ratio": d["median_ape"] / p["median_ape"],
            "p90_ratio": d["p90_ape"] / p["p90_ape"],
            "median_ok": d["median_ape"] <= p["median_ape"],
            "p90_ok": d["p90_ape"] <= 1.25 * p["p90_ape"],
            "cover_80_ok": 0.75 <= d["cover_80"] <= 0.85,
            "cover_50_ok": 0.45 <= d["cover_50"] <= 0.55,
        })  # fmt: skip
    return pd.DataFrame(rows)


def provenance(pooling: fl.Pooling) -> dict:
    return {"pooling": asdict(pooling), "min_past": MIN_PAST, "first_origin": FIRST_ORIGIN}
