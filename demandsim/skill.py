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
(conformal intervals: only errors of forecasts whose outcome was published in the ``RECENT_YEARS``
years up to the origin); errors from fewer than ``SIGNED_FROM_YEARS`` outcome years give a
symmetric band (quantiles of the absolute errors). Bands from past errors are narrowed by
``BAND_SHRINK_PER_YEAR`` a year beyond the first. While fewer than ``MIN_PAST`` errors exist at
horizon h, those of the longest shorter horizon h' that has them stand in, widened by how much
more the stock's h-year changes up to the origin spread than its h'-year changes (the ratio of
their median absolute deviations; a random walk's sqrt(h / h') beyond the longest span with
``MIN_PAST`` changes). Failing that, the band is the stock's h-year changes up to the origin
(centred; the longest span known, widened by sqrt), not narrowed. A band is never narrower than
the one a year shorter.

Hold-out: councils are split into halves by a seeded shuffle of their codes; tuning may look at the
``tune`` half only, and the reported table is the ``test`` half (``all`` is shown alongside).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from functools import lru_cache

import numpy as np
import pandas as pd

from demandsim.batch.replicate import available_cores, check_executor
from demandsim.calibration import flows as fl
from demandsim.calibration import published
from demandsim.calibration.history import STOCKS, panel

METHODS = ("demandsim", "persistence", "trend")
HORIZONS = (1, 2, 3, 4)
LEVELS = (0.5, 0.8, 0.95)
MIN_PAST = 30
#: only past errors whose outcome fell in the last RECENT_YEARS years up to the origin
RECENT_YEARS: int | None = 3
#: bands from past errors at horizon h are narrowed by (1 - BAND_SHRINK_PER_YEAR * (h - 1)): past
#: errors at long horizons come from older, noisier years (chosen on the tune half,
#: docs/forecast-skill.md); bands from the stock's changes are not
BAND_SHRINK_PER_YEAR = 0.05
#: past errors from fewer outcome years than this give symmetric bands (quantiles of |error|):
#: one or two years' errors share those years' common shock, whose sign says nothing about the
#: next year's (looked after: every origin; chosen on the tune half, docs/forecast-skill.md)
SIGNED_FROM_YEARS = 3
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
        years = history.index.to_numpy()
        for stock in STOCKS:
            r = fl.rates(history, stock)
            level = history[STOCKS[stock][0]].to_numpy()
            for origin in range(FIRST_ORIGIN[stock], last_year):
                n = int((years <= origin).sum())
                if n == 0 or not np.isfinite(level[n - 1]):
                    continue
                own = fl.flows_at(r, history["population"], n, pooling)
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
    values = rates[(stock, year)].reindex(_neighbours().get(code, [])).dropna()
    return float(values.median()) if len(values) else np.nan


@lru_cache(maxsize=1)
def _neighbours() -> dict[str, list[str]]:
    table = published._table(published.NEIGHBOURS_FILE)
    columns = [f"SN_{i}" for i in range(1, 11)]
    return {
        str(row["old_la_code"]): [str(row[c]) for c in columns if row[c]]
        for _, row in table.iterrows()
    }


def forecasts(
    codes: list[str],
    pooling: fl.Pooling,
    priors: pd.DataFrame,
    last_year: int,
    own: pd.DataFrame | None = None,
):
    """Point forecasts of every method: code, stock, origin, horizon, target year, method, value.
    ``own``: :func:`own_flows` of these councils if already at hand."""
    data = panel()
    rates = log_rates(data)
    if own is None:
        own = own_flows(codes, pooling, last_year)
    own = own.loc[own["code"].isin(codes)].set_index(["code", "stock", "origin"])
    histories = {code: data.xs(code, level="code") for code in codes}
    prior = {key: row.to_dict() for key, row in priors.iterrows()}
    rows = []
    for (code, stock, origin), row in zip(own.index, own.to_dict(orient="records"), strict=True):
        history = histories[code]
        rows_cut = history.loc[history.index <= origin]
        cut = rows_cut[STOCKS[stock][0]]
        flows = fl.shrink(row, prior[(stock, origin)], pooling)
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


def _map(fn, chunks: list[list[str]], args: tuple, executor: str, scheduler: str | None,
         workers: int) -> list:  # fmt: skip
    """fn(chunk, *args) for every chunk: here, in a local process pool, or on a Dask cluster."""
    if executor == "dask":
        from distributed import Client

        with Client(scheduler) as client:
            futures = [client.submit(fn, c, *args, pure=False) for c in chunks]
            return client.gather(futures)
    if workers == 1 or len(chunks) == 1:
        return [fn(c, *args) for c in chunks]
    with ProcessPoolExecutor(min(workers, len(chunks))) as pool:
        return [f.result() for f in [pool.submit(fn, c, *args) for c in chunks]]


def run_skill(
    codes: list[str] | None = None,
    pooling: fl.Pooling | None = None,
    workers: int | None = None,
    origins: Iterable[int] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Forecasts with bands and outcomes for every council x stock x origin x horizon x method.

    The priors (all councils' medians at each origin) and the bands (all councils' past errors)
    always come from every council, so a subset run gives the same figures for its councils as
    the full run. ``workers`` processes share the councils (default: every core; 1 runs in this
    process); ``executor="dask"`` sends them to the cluster at ``scheduler`` instead."""
    check_executor(executor, scheduler, workers)
    pooling = pooling or fl.Pooling()
    data = panel()
    every = sorted(data.index.get_level_values("code").unique())
    codes = every if codes is None else list(codes)
    last_year = int(data.index.get_level_values("year").max())
    workers = workers or available_cores()
    n = workers if executor == "local" else 4 * workers
    own = pd.concat(
        _map(own_flows, _chunks(every, n), (pooling, last_year), executor, scheduler, workers)
    )
    priors = own.groupby(["stock", "origin"])[["exit_rate", "inflow_rate", "growth"]].median()
    parts = _map(
        forecasts,
        _chunks(every, n),
        (pooling, priors, last_year, own),
        executor,
        scheduler,
        workers,
    )
    table = pd.concat(parts, ignore_index=True)
    actual = data[[STOCKS[s][0] for s in STOCKS]].rename(
        columns={v[0]: k for k, v in STOCKS.items()}
    )
    actual = actual.stack().rename("actual").rename_axis(["code", "year", "stock"]).reset_index()
    table = table.merge(actual, on=["code", "year", "stock"], how="left")
    table = add_bands(table, _history_changes(data, last_year))
    table["half"] = table["code"].map(split_councils(every))
    table = table.loc[table["code"].isin(codes)]
    if origins is not None:
        table = table.loc[table["origin"].isin(list(origins))]
    return table.reset_index(drop=True)


def _history_changes(data: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """Log changes of each stock over 1 to len(HORIZONS) years: stock, year (of the later value),
    span (years), change."""
    stocks = np.log(data[[STOCKS[s][0] for s in STOCKS]])
    parts = []
    for span in HORIZONS:
        change = stocks.groupby(level="code").diff(span)
        change.columns = list(STOCKS)
        change = change.stack().rename("change").rename_axis(["code", "year", "stock"])
        parts.append(change.reset_index().assign(span=span))
    return pd.concat(parts, ignore_index=True)


def _spans(changes: pd.DataFrame, stock: str, origin: int) -> dict[int, np.ndarray]:
    """The stock's changes known at the origin, centred on their median, by span in years."""
    ch = changes.loc[(changes["stock"] == stock) & (changes["year"] <= origin)]
    ch = ch.replace([np.inf, -np.inf], np.nan).dropna(subset=["change"])
    spans = ch["span"] if "span" in ch else pd.Series(1, index=ch.index)
    out = {}
    for span, g in ch["change"].groupby(spans):
        out[int(span)] = g.to_numpy() - g.median()
    return out


def _widening(spans: dict[int, np.ndarray], h: int, shorter: int) -> float:
    """How much wider h-year outcomes spread than ``shorter``-year ones: the ratio of the stock's
    h-year to ``shorter``-year changes' median absolute deviation, up to the longest span with
    MIN_PAST changes; beyond it (or without any), a random walk's sqrt."""
    measured = [k for k in range(shorter, h + 1) if len(spans.get(k, ())) >= MIN_PAST]
    if shorter not in measured:
        return float(np.sqrt(h / shorter))
    k = max(measured)
    ratio = np.median(np.abs(spans[k])) / np.median(np.abs(spans[shorter]))
    return float(ratio * np.sqrt(h / k))


def add_bands(table: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """lower_/upper_ columns for each level in LEVELS from past log errors (see the module)."""
    table = table.copy()
    table["log_error"] = np.log(table["actual"] / table["forecast"])
    qs = sorted({q for lv in LEVELS for q in ((1 - lv) / 2, (1 + lv) / 2)})
    out = {q: np.full(len(table), np.nan) for q in qs}
    errors = table.dropna(subset=["log_error"])
    errors = errors.loc[np.isfinite(errors["log_error"])]
    pools = {
        key: g[["year", "log_error"]] for key, g in errors.groupby(["method", "stock", "horizon"])
    }
    groups = table.groupby(["method", "stock", "origin", "horizon"]).groups
    found = {}
    spans = {}
    for (method, stock, origin, h), idx in sorted(groups.items(), key=lambda kv: kv[0][3]):
        if (stock, origin) not in spans:
            spans[(stock, origin)] = _spans(changes, stock, origin)
        known = spans[(stock, origin)]
        quant = None
        for shorter in range(h, 0, -1):  # the longest horizon with enough past errors, widened
            pool = pools.get((method, stock, shorter))
            if pool is None:
                continue
            recent = (pool["year"] <= origin) & (pool["year"] > origin - (RECENT_YEARS or 99))
            past = pool.loc[recent, "log_error"]
            if len(past) >= MIN_PAST:
                if pool.loc[recent, "year"].nunique() < SIGNED_FROM_YEARS:
                    half = np.quantile(np.abs(past), np.abs(2 * np.array(qs) - 1))
                    quant = np.where(np.array(qs) < 0.5, -half, half)
                else:
                    quant = np.quantile(past, qs)
                # errors at long horizons come from older, noisier years: narrowed
                quant = quant * _widening(known, h, shorter) * (1 - BAND_SHRINK_PER_YEAR * (h - 1))
                break
        if quant is None:  # no past errors: the changes over h years (or the longest span known)
            measured = [k for k in range(1, h + 1) if len(known.get(k, ())) >= MIN_PAST]
            k = max(measured) if measured else 1
            quant = np.quantile(known.get(k, np.full(1, np.nan)), qs) * np.sqrt(h / k)
        shorter = found.get((method, stock, origin, h - 1))
        if shorter is not None:  # a band never narrows with the horizon
            quant = np.where(
                np.array(qs) < 0.5, np.minimum(quant, shorter), np.maximum(quant, shorter)
            )
        found[(method, stock, origin, h)] = quant
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
    return {
        "pooling": asdict(pooling),
        "bands": {"min_past": MIN_PAST, "recent_years": RECENT_YEARS,
                  "shrink_per_year": BAND_SHRINK_PER_YEAR, "signed_from_years": SIGNED_FROM_YEARS,
                  "widening": "ratio of the stock's h-year to h'-year changes"},
        "first_origin": FIRST_ORIGIN,
    }  # fmt: skip


def write_skill(table: pd.DataFrame, out, half: str, command: str, seconds: float) -> dict:
    """skill.csv (every forecast), skill_summary.csv (``half``, and all councils), skill.md,
    charts and a strict-JSON scores.json into the folder ``out`` (an atomic_dir's temporary)."""
    from demandsim.backtest import strict_json
    from demandsim.calibration.report import markdown_table
    from demandsim.skill_plots import coverage_figure, error_figure

    shown = table if half == "all" else table.loc[table["half"] == half]
    summary = scores(shown)
    overall = scores(table)
    check = targets(summary)
    table.to_csv(out / "skill.csv", index=False, float_format="%.6g")
    both = [overall.assign(councils_half="all")]
    if half != "all":
        both.insert(0, summary.assign(councils_half=half))
    pd.concat(both).to_csv(out / "skill_summary.csv", index=False, float_format="%.4g")
    for name, fig in (("skill_errors.png", error_figure(summary)),
                      ("skill_coverage.png", coverage_figure(summary))):  # fmt: skip
        fig.savefig(out / name, dpi=110)
    cols = ["stock", "horizon", "method", "cases", "councils", "origins", "median_ape", "p90_ape",
            "bias_pct", "beats_persistence", "cover_50", "cover_80", "cover_95"]  # fmt: skip
    text = (
        f"# Forecast skill: rolling origins over the DfE tables\n\n"
        f"Command: `{command}` ({seconds:.0f} s). Councils reported: **{half}** half "
        f"({shown['code'].nunique()} councils); settings `{provenance(fl.Pooling())}`.\n\n"
        f"## Skill ({half} half)\n\n{markdown_table(summary[cols].round(3))}\n"
        f"## demandsim against the issue's figures\n\n{markdown_table(check.round(3))}\n"
        f"![errors](skill_errors.png)\n\n![coverage](skill_coverage.png)\n\n"
        f"## All councils (tune and test halves)\n\n{markdown_table(overall[cols].round(3))}\n"
    )
    (out / "skill.md").write_text(text)
    result = {
        "command": command, "seconds": seconds, "half": half,
        "summary": summary.to_dict(orient="records"), "targets": check.to_dict(orient="records"),
        "all_councils": overall.to_dict(orient="records"), **provenance(fl.Pooling()),
    }  # fmt: skip
    (out / "scores.json").write_text(
        json.dumps(strict_json(result), indent=2, allow_nan=False) + "\n"
    )
    return result
