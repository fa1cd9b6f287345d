"""Back-testing calibration: fit on the past up to a cut-off, forecast what followed, score it.

Covers two checks.

- Demand (a council's own ``demand.csv``): Prophet is fitted on the data before the cut-off and
  its predictive sample paths give each following month's contacts (with the Poisson noise the
  simulation adds to an intensity); the score is the error of the median forecast and the share of
  actual months inside the 80% and 95% predictive intervals.
- Published statistics (``--la``): a scenario calibrated to the year ending 31 March ``year`` is
  simulated forward, and its children in need and children looked after on 31 March of the
  following years are compared with the published figures. Children in need, as the DfE counts
  them, are all open cases from referral on (MASH, assessment, s47, CiN, CP and CiC).

This module runs the simulation, so it lives outside :mod:`demandsim.calibration` (which never
imports the model).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from statistics import NormalDist

import click
import numpy as np
import pandas as pd
import tomli_w
from matplotlib.figure import Figure

from demandsim.calibration import published
from demandsim.calibration.inputs import InputError, read_folder
from demandsim.calibration.outputs import _plain
from demandsim.calibration.report import markdown_table
from demandsim.calibration.seasonality import fit_demand
from demandsim.eventlog import Kind
from demandsim.model import Model
from demandsim.results_store import OutputExistsError, atomic_dir, write_json
from demandsim.scenario import Scenario
from demandsim.scenario_files import load_scenario


def strict_json(value):
    """``value`` with every non-finite float (NaN, inf) as None, so the file is strict JSON."""
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# -- demand -------------------------------------------------------------------------------------
def backtest_demand(
    demand: pd.DataFrame,
    cutoff: dt.date,
    months: int = 12,
    seed: int = 0,
    samples: int = 500,
    calibrate_bands: bool = True,
) -> pd.DataFrame:
    """Monthly forecast against actual contacts for ``months`` whole months from ``cutoff``.

    Prophet's predictive intervals hold the month-to-month noise and its trend uncertainty, but
    not the level shifts that councils' demand makes (on the demo, over every rolling cut-off, its
    80% intervals held 24% of months). With ``calibrate_bands`` the intervals are widened, where
    they are narrower, twice, reading nothing after the cut-off:

    - to a random walk in the level (:func:`_widen_by_level_shifts`), the prior that stands
      alone while the council has no forecast errors of its own;
    - to split-conformal intervals (:func:`conformal_halfwidths`) from Prophet's own log errors
      at each lead in rolling forecasts made at every month start inside the training data
      (with 18 months of history before them) whose month was over before ``cutoff``.

    Columns: month, actual, median, lower_80, upper_80, lower_95, upper_95, inside_80, inside_95.
    """
    cut = pd.Timestamp(cutoff)
    train = demand.loc[demand["date"] < cut]
    if train.empty:
        raise ValueError(f"backtest: no demand data before the cut-off {cutoff}")
    forecast = _quantiles(train, cut, months, seed, samples)
    table = _scored(forecast, demand.loc[demand["date"] >= cut], months).reset_index(drop=True)
    if table.empty:
        raise ValueError(f"backtest: no whole months of actual demand after {cutoff}")
    if calibrate_bands:
        _widen_by_level_shifts(table, train, cut)
        errors = past_errors(train, cut, months, seed, samples)
        for level in (80, 95):
            half = conformal_halfwidths(errors, len(table), level / 100)
            low = np.where(np.isfinite(half), table["median"] * np.exp(-half), np.inf)
            high = np.where(np.isfinite(half), table["median"] * np.exp(half), 0.0)
            table[f"lower_{level}"] = np.minimum(table[f"lower_{level}"], low)
            table[f"upper_{level}"] = np.maximum(table[f"upper_{level}"], high)
    table["inside_80"] = table["actual"].between(table["lower_80"], table["upper_80"])
    table["inside_95"] = table["actual"].between(table["lower_95"], table["upper_95"])
    return table


def conformal_halfwidths(errors: pd.DataFrame, leads: int, level: float) -> np.ndarray:
    """Half-width of the log interval at leads 1..``leads`` from past log errors (lead,
    log_error): the ceil((n + 1) level)-th smallest of the n absolute errors at that lead, the
    split-conformal quantile that holds ``level`` of exchangeable errors for any n. Where n is too
    small for it (n < level / (1 - level): 4 at 80%, 19 at 95%), the longest shorter lead with
    enough errors stands in, widened by sqrt(L / L'), as the skill table's bands do; failing that,
    above 80% the 80% half-width scaled by the normal quantiles' ratio; failing that, NaN."""
    by_lead = {k: np.sort(g.abs().to_numpy()) for k, g in errors.groupby("lead")["log_error"]}

    def half(lead: int, level: float) -> float:
        for shorter in range(lead, 0, -1):
            a = by_lead.get(shorter, np.array([]))
            k = int(np.ceil((len(a) + 1) * level))
            if k <= len(a):
                return float(a[k - 1] * np.sqrt(lead / shorter))
        if level > 0.8:
            z = NormalDist().inv_cdf
            return half(lead, 0.8) * z((1 + level) / 2) / z(0.9)
        return np.nan

    return np.array([half(lead, level) for lead in range(1, leads + 1)])


def past_errors(train: pd.DataFrame, cut: pd.Timestamp, months: int, seed: int,
                samples: int) -> pd.DataFrame:  # fmt: skip
    """log(actual / median) by lead month of Prophet's forecasts from every month start inside
    ``train`` that has 18 months of history (its yearly season is not identified on less): only
    months that ended before ``cut``, since ``train`` holds nothing later."""
    start = train["date"].min()
    first = (start + pd.Timedelta(days=540)).to_period("M")
    if first.start_time < start + pd.Timedelta(days=540):
        first += 1
    rows = []
    for inner in pd.period_range(first, cut.to_period("M") - 1, freq="M"):
        at = inner.start_time
        part = _scored(
            _quantiles(train.loc[train["date"] < at], at, months, seed, samples),
            train.loc[train["date"] >= at],
            months,
        )
        for lead, row in enumerate(part.itertuples(), start=1):
            rows.append({"lead": lead, "log_error": np.log(row.actual / row.median)})
    return pd.DataFrame(rows, columns=["lead", "log_error"])


#: a council's own year-on-year spread counts as this many years of the English councils' spread
LEVEL_PRIOR_YEARS = 2.0


def national_level_sd(before: pd.Timestamp) -> float:
    """The robust spread (1.4826 x median absolute deviation) of the year-on-year log change of
    English councils' referrals in the published tables, years ending before ``before`` only
    (robust: a recording break is not a level shift a council's demand makes)."""
    from demandsim.calibration.history import panel

    log_referrals = np.log(panel()["referrals"]).replace([np.inf, -np.inf], np.nan)
    change = log_referrals.groupby(level="code").diff().dropna()
    year_end = pd.to_datetime(change.index.get_level_values("year").astype(str) + "-03-31")
    change = change.loc[year_end < before]
    return float(1.4826 * (change - change.median()).abs().median()) if len(change) else 0.0


def _widen_by_level_shifts(table: pd.DataFrame, train: pd.DataFrame, cut: pd.Timestamp) -> None:
    """Widen the intervals for a level that wanders, as a random walk (sd x sqrt(L / 12) at lead
    L months) around Prophet's own interval (added in quadrature, on the log scale). The sd pools
    the year-on-year change of 12-month contact totals in the training data (a council's own
    two or three years say little about the next level shift) with English councils' spread
    (:func:`national_level_sd`), weighted n : LEVEL_PRIOR_YEARS for n years of its own."""
    monthly = train.groupby(train["date"].dt.to_period("M"))["contacts"].sum().iloc[1:-1]
    yearly = monthly.rolling(12).sum().dropna()
    change = np.log(yearly / yearly.shift(12)).dropna()
    n = len(change) / 12  # overlapping 12-month changes: about one independent one a year
    own = float(np.mean(change**2)) if len(change) else 0.0  # around no change: either way
    sd = float(np.sqrt((n * own + LEVEL_PRIOR_YEARS * national_level_sd(cut) ** 2)
                       / (n + LEVEL_PRIOR_YEARS)))  # fmt: skip
    lead = np.arange(1, len(table) + 1)
    walk = sd * np.sqrt(lead / 12)
    for level, z in ((80, 1.2816), (95, 1.96)):
        own = np.log(table[f"upper_{level}"] / table[f"lower_{level}"]) / (2 * z)
        total = np.sqrt(own**2 + walk**2)
        table[f"lower_{level}"] = np.minimum(
            table[f"lower_{level}"], table["median"] * np.exp(-z * total)
        )
        table[f"upper_{level}"] = np.maximum(
            table[f"upper_{level}"], table["median"] * np.exp(z * total)
        )


#: Prophet forecasts already made: (training data's hash, cut-off, months, seed, samples) ->
#: quantiles. Rolling back-tests refit the same inner cut-offs; the key holds the data itself.
_FORECASTS: dict[tuple, pd.DataFrame] = {}


def _quantiles(train, cut, months, seed, samples) -> pd.DataFrame:
    """Predictive quantiles of each month's contacts (index month): Prophet's sample paths with
    the Poisson noise the simulation draws around an intensity."""
    key = (int(pd.util.hash_pandas_object(train, index=False).sum()), cut, months, seed, samples)
    if key not in _FORECASTS:
        fit = fit_demand(
            train, cut.date(), seed=seed, samples=samples, horizon_years=months / 12 + 0.2
        )
        paths = fit.intensity.set_index("month")
        draws = np.random.default_rng(seed).poisson(paths.to_numpy())
        q = np.quantile(draws, [0.025, 0.1, 0.5, 0.9, 0.975], axis=1).T
        if len(_FORECASTS) > 500:
            _FORECASTS.clear()
        _FORECASTS[key] = pd.DataFrame(
            q, index=paths.index,
            columns=["lower_95", "lower_80", "median", "upper_80", "upper_95"],
        )  # fmt: skip
    return _FORECASTS[key]


def _scored(forecast: pd.DataFrame, later: pd.DataFrame, months: int) -> pd.DataFrame:
    """The forecast's first ``months`` whole months of ``later`` with their actual contacts."""
    actual = later.groupby(later["date"].dt.to_period("M"))["contacts"].sum()
    days_seen = later.groupby(later["date"].dt.to_period("M"))["date"].nunique()
    rows = []
    for period, value in actual.items():
        key = str(period)
        if key not in forecast.index or not _complete(later, period, days_seen[period]):
            continue
        if len(rows) >= months:
            break
        q = forecast.loc[key]
        rows.append({"month": key, "actual": float(value), "median": q["median"],
                     "lower_80": q["lower_80"], "upper_80": q["upper_80"],
                     "lower_95": q["lower_95"], "upper_95": q["upper_95"]})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["month", "actual", "median", "lower_80", "upper_80", "lower_95", "upper_95"]
    )


def _complete(later: pd.DataFrame, period: pd.Period, days_seen: int) -> bool:
    """A month counts only if the data cover it: every day (daily data) or its start (coarser)."""
    dates = later["date"].drop_duplicates().sort_values()
    step = dates.diff().dt.days.median() if len(dates) > 1 else 31
    if step <= 1.5:
        return days_seen == period.days_in_month
    if step <= 10:
        return days_seen >= 4
    return True


def demand_scores(table: pd.DataFrame) -> dict[str, float]:
    err = table["median"] - table["actual"]
    return {
        "months": len(table),
        "mean_abs_pct_error": float((err.abs() / table["actual"]).mean() * 100),
        "mean_pct_error": float((err / table["actual"]).mean() * 100),
        "inside_80_share": float(table["inside_80"].mean()),
        "inside_95_share": float(table["inside_95"].mean()),
    }


def demand_figure(table: pd.DataFrame, history: pd.DataFrame | None = None) -> Figure:
    fig = Figure(figsize=(9, 3.5))
    ax = fig.subplots()
    x = pd.PeriodIndex(table["month"], freq="M").to_timestamp()
    if history is not None:
        ax.plot(history.index, history.to_numpy(), color="grey", lw=1, label="before cut-off")
    ax.fill_between(x, table["lower_95"], table["upper_95"], alpha=0.2, label="95% interval")
    ax.fill_between(x, table["lower_80"], table["upper_80"], alpha=0.3, label="80% interval")
    ax.plot(x, table["median"], label="forecast median")
    ax.plot(x, table["actual"], "ko", ms=3, label="actual")
    ax.set_ylabel("contacts per month")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# -- published statistics --------------------------------------------------------------------
def scenario_from_parameters(params: dict, years: float) -> Scenario:
    """The baseline with a partial parameter set merged over it, as ``calibration =`` would."""
    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        (folder_path / "parameters.toml").write_text(tomli_w.dumps(_plain(params)))
        (folder_path / "scenario.toml").write_text(
            tomli_w.dumps(
                {
                    "name": "backtest",
                    "extends": "builtin:baseline",
                    "calibration": "parameters.toml",
                }
            )
        )
        return load_scenario(folder_path / "scenario.toml", [f"years={years}"])


def stage_stock(log: pd.DataFrame, scenario: Scenario, dates: list[dt.date]) -> pd.DataFrame:
    """Open cases by stage at the start of each date, after the events of that instant (so the
    start date shows the initial cases); index date, one column per stage."""
    names = list(scenario.pathway.stages)
    t = log["t"].to_numpy()
    kind = log["kind"].to_numpy()
    stage = log["stage"].to_numpy()
    step = np.where(kind == Kind.ENTER, 1, 0) - np.where(kind == Kind.EXIT, 1, 0)
    out = {}
    for day in dates:
        at = (pd.Timestamp(day) - pd.Timestamp(scenario.origin_date)).days
        before = (t <= at) & (step != 0)
        counts = np.bincount(stage[before], weights=step[before], minlength=len(names))
        out[day] = dict(zip(names, counts, strict=True))
    return pd.DataFrame.from_dict(out, orient="index")


def backtest_published(
    la: str,
    year: int,
    years_ahead: int = 3,
    replications: int = 5,
    seed: int = 0,
    parameter_uncertainty: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Simulated against published CIN and CLA on 31 March of the ``years_ahead`` later years;
    with ``parameter_uncertainty`` each replication draws its own parameters first."""
    from demandsim.parameter_draws import draw_scenario

    base = load_scenario()
    cal = published.calibrate_published(la, year, base)
    scenario = scenario_from_parameters(cal.parameters, years=years_ahead + 0.05)
    code, _ = published.find_council(la, year)
    spread = scenario.uncertainty if parameter_uncertainty else None
    dates = [dt.date(year + k, 3, 31) for k in range(0, years_ahead + 1)]
    in_need = list(scenario.pathway.children_in_need_stages)  # what the DfE counts as in need
    runs = []
    for r in range(replications):
        sc = draw_scenario(scenario, spread, seed + r) if spread else scenario
        log = Model(sc, seed + r).run().frame()
        stock = stage_stock(log, scenario, [d + dt.timedelta(days=1) for d in dates])
        runs.append(
            pd.DataFrame(
                {"date": dates, "replication": r,
                 "cin": stock[in_need].sum(axis=1).to_numpy(),
                 "cla": stock["cic"].to_numpy()}
            )
        )  # fmt: skip
    sims = pd.concat(runs)
    rows = []
    for d, group in sims.groupby("date"):
        for measure, key in (("cin", "cin_at31"), ("cla", "cla_at31")):
            actual = published.own_figure(key, code, d.year)
            rows.append({
                "date": d, "measure": measure, "published": actual,
                "simulated_mean": group[measure].mean(), "simulated_min": group[measure].min(),
                "simulated_max": group[measure].max(),
            })  # fmt: skip
    table = pd.DataFrame(rows)
    table["pct_error"] = 100 * (table["simulated_mean"] - table["published"]) / table["published"]
    return table, cal.notes


def calibration_check(
    la: str, year: int, replications: int = 2, seed: int = 0, uncertainty: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """The calibrated scenario run for one year from 1 April ``year``: its referrals, care starts
    and ceasings against the (pooled) figures it was calibrated to, its stocks at the end against
    the ones it started from, and the share of open cases that wait unallocated at the end.

    A council that reports no crisis should not start one: unallocated near zero, stocks within
    a few per cent of where they started (less any growth the calibration put in)."""
    from demandsim.kpis import daily_team_series
    from demandsim.parameter_draws import draw_scenario

    base = load_scenario()
    cal = published.calibrate_published(la, year, base)
    scenario = scenario_from_parameters(cal.parameters, years=1.0)
    code, _ = published.find_council(la, year)
    figs = published.gather(code, year)
    spread = scenario.uncertainty if uncertainty else None
    names = list(scenario.pathway.stages)
    idx = {n: i for i, n in enumerate(names)}
    in_need = list(scenario.pathway.children_in_need_stages)
    end = scenario.end_date
    rows = []
    for r in range(replications):
        sc = draw_scenario(scenario, spread, seed + r) if spread else scenario
        log = Model(sc, seed + r).run().frame()
        enter = log.loc[(log["kind"] == Kind.ENTER) & (log["t"] > 0)]  # not the initial cases
        exits = log.loc[log["kind"] == Kind.EXIT]
        stock = stage_stock(log, sc, [end])
        daily = daily_team_series(log, sc)
        last = daily.loc[daily["date"] == daily["date"].max()]
        rows.append({
            "replication": r,
            "referrals": int((enter["stage"] == idx["mash"]).sum()),
            "cla_started": int((enter["stage"] == idx["cic"]).sum()),
            "cla_ceased": int((exits["stage"] == idx["cic"]).sum()),
            "cpp_start": int((enter["stage"] == idx["cp"]).sum()),
            "cin_at31": float(stock[in_need].sum(axis=1).iloc[0]),
            "cla_at31": float(stock["cic"].iloc[0]),
            "cpp_at31": float(stock["cp"].iloc[0]),
            "unallocated_share": float(last["unallocated_cases"].sum() / max(last["open_cases"].sum(), 1)),
        })  # fmt: skip
    sims = pd.DataFrame(rows)
    table = pd.DataFrame(
        [{"figure": k, "calibrated_to": figs[k].value if k in figs else np.nan,
          "simulated_mean": sims[k].mean(), "simulated_min": sims[k].min(),
          "simulated_max": sims[k].max()}
         for k in ("referrals", "cpp_start", "cla_started", "cla_ceased", "cin_at31", "cpp_at31",
                   "cla_at31")]
        + [{"figure": "unallocated_share", "calibrated_to": 0.0,
            "simulated_mean": sims["unallocated_share"].mean(),
            "simulated_min": sims["unallocated_share"].min(),
            "simulated_max": sims["unallocated_share"].max()}]
    )  # fmt: skip
    table["pct_difference"] = 100 * (table["simulated_mean"] / table["calibrated_to"] - 1)
    table.loc[table["figure"] == "unallocated_share", "pct_difference"] = np.nan
    return table, cal.notes


def published_figure(table: pd.DataFrame, title: str) -> Figure:
    fig = Figure(figsize=(10, 3.5))
    axes = fig.subplots(1, 2)
    for ax, measure in zip(axes, ("cin", "cla"), strict=True):
        part = table.loc[table["measure"] == measure]
        year = [d.year for d in part["date"]]
        ax.plot(year, part["published"], "ko-", label="published")
        ax.plot(year, part["simulated_mean"], "s--", label="simulated mean")
        ax.fill_between(year, part["simulated_min"], part["simulated_max"], alpha=0.2,
                        label="replication range")  # fmt: skip
        ax.set_xticks(year)
        ax.set_xlabel("31 March of")
        ax.set_title(f"{title}: {'children in need' if measure == 'cin' else 'looked after'}",
                     fontsize=9)  # fmt: skip
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# -- command -----------------------------------------------------------------------------------
@click.command()
@click.argument("data_dir", required=False, type=click.Path(file_okay=False))
@click.option("--cutoff", default=None, help="DATA_DIR: fit on data before this date (YYYY-MM-DD; default: 12 months before the end).")  # fmt: skip
@click.option("--months", type=int, default=12, show_default=True, help="DATA_DIR: months to forecast.")  # fmt: skip
@click.option("--la", default=None, help="Back-test the published-statistics path for this council.")  # fmt: skip
@click.option("--year", type=int, default=None, help="With --la: calibrate to the year ending 31 March YEAR.")  # fmt: skip
@click.option("--years-ahead", type=int, default=3, show_default=True)
@click.option("--replications", type=int, default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the table, chart and summary.")  # fmt: skip
@click.option("--overwrite", is_flag=True)
@click.option("--all", "all_councils", is_flag=True, help="The skill table: every council, every origin year the tables allow, horizons 1-4, against persistence and a trend.")  # fmt: skip
@click.option("--councils", default=None, help="With --all: only these councils (comma-separated names or codes).")  # fmt: skip
@click.option("--origins", default=None, help="With --all: only these origin years (2023, or 2021-2024).")  # fmt: skip
@click.option("--half", type=click.Choice(["test", "tune", "all"]), default="test", show_default=True, help="With --all: the councils the headline table reports (tuning looked at 'tune' only).")  # fmt: skip
@click.option("--workers", type=int, default=None, help="With --all: processes (default: every core).")  # fmt: skip
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True)  # fmt: skip
@click.option("--scheduler", default=None, help="With --executor dask: tcp://HOST:8786.")
@click.option("--check", is_flag=True, help="With --la: run the calibrated scenario over one year and compare it with the figures it was calibrated to (flows, stocks, unallocated).")  # fmt: skip
@click.option("--parameter-uncertainty", is_flag=True, help="With --la: each replication draws its own parameters from the calibration's uncertainty.")  # fmt: skip
def backtest(data_dir, cutoff, months, la, year, years_ahead, replications, seed, out, overwrite,
             all_councils, councils, origins, half, workers, executor, scheduler, check,
             parameter_uncertainty):  # fmt: skip
    """Fit up to a cut-off and score the forecast of what followed."""
    if all_councils:
        if data_dir is not None or la is not None:
            raise click.UsageError("--all scores every council; leave out DATA_DIR and --la")
        _skill_command(out, overwrite, councils, origins, half, workers, executor, scheduler)
        return
    if (data_dir is None) == (la is None):
        raise click.UsageError("give either DATA_DIR, --la NAME --year YEAR, or --all")
    try:
        if la is not None:
            if year is None:
                raise click.UsageError("--la needs --year (the year to calibrate to)")
            if check:
                _check_command(la, year, replications, seed, parameter_uncertainty, out, overwrite)
                return
            table, notes = backtest_published(
                la, year, years_ahead, replications, seed, parameter_uncertainty
            )
            figure = published_figure(table, la)
            scores = {
                f"{m}_mean_abs_pct_error": float(table.loc[(table["measure"] == m) & (table["date"].map(lambda d: d.year) > year), "pct_error"].abs().mean())
                for m in ("cin", "cla")
            }  # fmt: skip
            text = f"Published back-test: {notes[0]}; {replications} replications."
        else:
            data = read_folder(data_dir)
            if data.demand is None:
                raise click.UsageError(f"{data_dir}: the demand back-test needs demand.csv")
            last = data.demand["date"].max()
            cut = dt.date.fromisoformat(cutoff) if cutoff else (
                (last - pd.DateOffset(months=months)).to_period("M").start_time.date()
            )  # fmt: skip
            table = backtest_demand(data.demand, cut, months, seed)
            before = data.demand.loc[data.demand["date"] < pd.Timestamp(cut)]
            history = before.groupby(before["date"].dt.to_period("M").dt.start_time)[
                "contacts"
            ].sum()
            figure = demand_figure(table, history.iloc[1:])
            scores = demand_scores(table)
            text = f"Demand back-test of {data_dir}: fitted before {cut}, forecast {len(table)} months."
        with atomic_dir(out, overwrite=overwrite, marker="scores.json") as tmp:
            table.to_csv(tmp / "backtest.csv", index=False, float_format="%.4g")
            figure.savefig(tmp / "backtest.png", dpi=110)
            write_json(strict_json({"scores": scores, "seed": seed}), tmp / "scores.json")
            shown = pd.DataFrame([{k: round(v, 3) for k, v in scores.items()}])
            (tmp / "backtest.md").write_text(
                f"# Back-test\n\n{text}\n\n{markdown_table(shown)}\n![back-test](backtest.png)\n\n"
                + markdown_table(table.round(1))
            )
    except (InputError, published.PublishedDataError, OutputExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)
    for key, value in scores.items():
        click.echo(f"  {key}: {value:.3g}")
    click.echo(f"Written to {out}/")


def _skill_command(out, overwrite, councils, origins, half, workers, executor, scheduler):
    import sys
    import time

    from demandsim import skill

    try:
        codes = None
        if councils:
            codes = [published.find_council(c)[0] for c in councils.split(",") if c.strip()]
        years = None
        if origins:
            first, _, last = origins.partition("-")
            years = range(int(first), int(last or first) + 1)
        started = time.perf_counter()
        table = skill.run_skill(codes, workers=workers, origins=years, executor=executor,
                                scheduler=scheduler)  # fmt: skip
        if table.empty:
            raise ValueError("no forecast to score: check --councils and --origins")
        if half != "all" and not (table["half"] == half).any():
            theirs = " and ".join(sorted(set(table["half"])))
            raise ValueError(
                f"--half {half}: none of the councils given is in the {half} half (they are in "
                f"the {theirs} half); use --half {theirs if ' ' not in theirs else 'all'} or "
                "--half all"
            )
        seconds = time.perf_counter() - started
        command = "demandsim backtest " + " ".join(sys.argv[2:] if len(sys.argv) > 2 else [])
        with atomic_dir(out, overwrite=overwrite) as tmp:
            result = skill.write_skill(table, tmp, half, command.strip(), seconds)
    except (published.PublishedDataError, OutputExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Skill table: {table['code'].nunique()} councils, {len(table)} forecasts, {seconds:.0f} s"
    )
    for row in result["targets"]:
        click.echo(
            f"  {row['stock']} h{row['horizon']}: median {row['median_ratio']:.2f}x persistence, "
            f"p90 {row['p90_ratio']:.2f}x"
        )
    click.echo(f"Written to {out}/")


def _check_command(la, year, replications, seed, parameter_uncertainty, out, overwrite):
    table, notes = calibration_check(la, year, replications, seed, parameter_uncertainty)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "calibration_check.csv", index=False, float_format="%.4g")
        write_json(strict_json({"check": table.to_dict(orient="records"), "notes": notes,
                                "seed": seed, "replications": replications}),
                   tmp / "scores.json")  # fmt: skip
        (tmp / "calibration_check.md").write_text(
            f"# Calibration-year check\n\n{notes[0]}; one year simulated, {replications} "
            f"replications.\n\n"
            + "\n".join(f"- {n}" for n in notes[1:])
            + "\n\n"
            + markdown_table(table.round(3))
        )
    click.echo(f"Calibration-year check: {notes[0]}")
    for row in table.itertuples():
        click.echo(f"  {row.figure}: calibrated to {row.calibrated_to:.4g}, "
                   f"simulated {row.simulated_mean:.4g}")  # fmt: skip
    click.echo(f"Written to {out}/")
