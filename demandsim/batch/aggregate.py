"""Across replications: KPI summaries with confidence intervals, percentile bands of every daily
series, monthly views, and costs by financial year against the budget.

Everything here reads replications in seed order, so the same replications give bit-identical
tables however they were run (one process, many, a cluster, or a resumed run). The daily series
are never all in memory: each block of whole months is read from the per-replication files,
reduced to daily bands and to each replication's monthly means (levels) or sums (money), and
dropped; a block stays under :data:`BLOCK_BYTES`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import special  # the quantiles only: scipy.stats takes most of a second to import

from demandsim.batch.store import BatchStore
from demandsim.calendar import financial_year
from demandsim.costs import budget_by_year, cost_percentiles
from demandsim.measures import (
    COST_COMPONENTS,
    DAILY,
    DAILY_NAMES,
    FORECAST,
    SERVICE,
    TOTAL_COST,
    highest,
    is_chance,
    lowest,
)
from demandsim.replication import forecast_dates, team_labels
from demandsim.scenario import Scenario

#: quantiles of the daily and monthly bands, stored as columns p5, p10, p25, p50, p75, p90, p95
QUANTILES = (0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95)
BAND_COLUMNS = tuple(f"p{round(100 * q)}" for q in QUANTILES)
#: bytes of float32 replication data read per block: working memory is about 3x this (the block,
#: the quantiles' sorted copy, the bands in float64), so 16 MiB keeps the bands of a batch's
#: parent to about 50 MiB whatever the replications (a block is at least a month: more above
#: about 500 replications of 5 years); smaller blocks only add passes
BLOCK_BYTES = 16 * 2**20
#: the mean of a block of bands is taken a few days (or months) at a time, up to this many bytes
#: of the block: nanmean copies what it averages
MEAN_BYTES = 2 * 2**20
CONFIDENCE = 0.95
KPI_KEYS = ["scenario", "team", "measure", "period"]


def quantiles(
    values: np.ndarray, qs: tuple[float, ...] = QUANTILES, overwrite: bool = False
) -> np.ndarray:
    """Quantiles over axis 0, ignoring NaN (linear interpolation, numpy's default method).
    With ``overwrite``, ``values`` is sorted in place (no copy) and left sorted.

    Returns ``(len(qs), *values.shape[1:])``; NaN where a cell has no values."""
    if len(values) == 1:  # one replication (a single run): every quantile is its value
        return np.repeat(values.astype(float), len(qs), axis=0)
    if overwrite:
        values.sort(axis=0)  # NaN sorts last
        ordered = values
    else:
        ordered = np.sort(values, axis=0)
    count = (~np.isnan(values)).sum(axis=0)
    out = np.full((len(qs), *values.shape[1:]), np.nan)
    last = np.maximum(count - 1, 0)
    for i, q in enumerate(qs):
        pos = q * last
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, last)
        below = np.take_along_axis(ordered, lo[None], axis=0)[0].astype(float)
        above = np.take_along_axis(ordered, hi[None], axis=0)[0].astype(float)
        out[i] = np.where(count > 0, below + (above - below) * (pos - lo), np.nan)
    return out


def describe(values: np.ndarray) -> pd.DataFrame:
    """Per row of ``values`` (groups x replications): n, mean, sd, a 95% t-interval for the mean,
    and the 5th, 10th, 50th, 90th and 95th percentiles of the replications. NaN entries are left
    out."""
    values = np.asarray(values, dtype=float)
    n = (~np.isnan(values)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # groups with no or one value give NaN
        mean = np.nansum(values, axis=1) / n
        sd = np.sqrt(np.nansum((values - mean[:, None]) ** 2, axis=1) / (n - 1))
        half = special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2) * sd / np.sqrt(n)
    half = np.where(sd == 0, 0.0, half)  # identical values: the interval is the value itself
    pct = quantiles(values.T, (0.05, 0.10, 0.5, 0.90, 0.95))
    return pd.DataFrame(
        {
            "n": n,
            "mean": mean,
            "sd": sd,
            "ci_low": mean - half,
            "ci_high": mean + half,
            "p5": pct[0],
            "p10": pct[1],
            "p50": pct[2],
            "p90": pct[3],
            "p95": pct[4],
        }
    )


def wide_by_replication(kpis: pd.DataFrame) -> pd.DataFrame:
    """Per-replication KPIs as one row per (scenario, team, measure, period) and one column per
    replication, rows in the order they first appear.

    Made from the labels' codes, not the labels: one int64 array per step is the most it adds to
    the rows (1.5 million at 2,000 replications x 2 scenarios), where grouping on the labels
    held several."""
    group = np.zeros(len(kpis), dtype=np.int64)
    vocabularies = []
    for key in KPI_KEYS:  # a number per distinct combination of the labels' codes
        codes, names = _codes(kpis[key])
        group *= len(names)
        group += codes
        vocabularies.append(names)
    row, seen = pd.factorize(group)  # group numbers in order of first appearance
    del group
    labels = {}
    for key, names in zip(KPI_KEYS[::-1], vocabularies[::-1], strict=True):
        seen, code = np.divmod(seen, len(names))
        labels[key] = names.take(code).astype(str)
    order = pd.DataFrame({key: labels[key] for key in KPI_KEYS})
    column, replications = pd.factorize(kpis["replication"].to_numpy(), sort=True)
    row *= len(replications)
    row += column
    del column
    values = np.full(len(order) * len(replications), np.nan)
    values[row] = 0.0
    if np.count_nonzero(values == 0.0) < len(row):  # fewer cells than rows
        raise ValueError("KPI rows repeat a (scenario, team, measure, period, replication)")
    values[row] = kpis["value"].to_numpy(dtype=float)
    return pd.DataFrame(
        values.reshape(len(order), len(replications)),
        index=pd.MultiIndex.from_frame(order),
        columns=pd.Index(replications, name="replication"),
    )


def _codes(labels: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """A label column as codes into its distinct names (a categorical's own codes, no copy)."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        codes, names = labels.cat.codes.to_numpy(), labels.cat.categories
    else:
        codes, names = pd.factorize(labels.to_numpy())
        names = pd.Index(names)
    if len(codes) and codes.min() < 0:
        raise ValueError(f"KPI rows with no {labels.name}")
    return codes, names


def kpi_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """Each scenario's KPIs across replications (see :func:`describe`). For chances (0/1 per
    replication) the interval is Wilson's score interval. Every interval is cut to the values
    its measure can take (no count below 0, no share above 100%): a t-interval on a few
    replications can reach past them, and cutting it there keeps every mean it held."""
    wide = wide_by_replication(kpis)
    table = describe(wide.to_numpy())
    labels = wide.index.to_frame(index=False)
    chance = labels["measure"].map(is_chance).to_numpy(dtype=bool)
    low, high = wilson_interval(table["mean"].to_numpy()[chance], table["n"].to_numpy()[chance])
    table.loc[chance, "ci_low"] = low
    table.loc[chance, "ci_high"] = high
    floor, ceiling = (labels["measure"].map(f).to_numpy(dtype=float) for f in (lowest, highest))
    table["ci_low"] = np.clip(table["ci_low"].to_numpy(), floor, ceiling)
    table["ci_high"] = np.clip(table["ci_high"].to_numpy(), floor, ceiling)
    return pd.concat([labels, table], axis=1)


def wilson_interval(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's 95% score interval for a proportion ``p`` of ``n`` trials."""
    z = special.ndtri(0.5 + CONFIDENCE / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def month_blocks(dates: pd.DatetimeIndex, max_days: int) -> list[tuple[int, int]]:
    """Day ranges ``[start, stop)`` of whole calendar months, each at most ``max_days`` long
    unless a single month is longer."""
    months = dates.to_period("M")
    starts = [0, *np.flatnonzero(months[1:] != months[:-1]) + 1, len(dates)]
    blocks, begin = [], 0
    for edge, after in itertools.pairwise(starts[1:]):
        if after - begin > max_days and edge > begin:
            blocks.append((begin, edge))
            begin = edge
    if len(dates):
        blocks.append((begin, len(dates)))
    return blocks


def series_bands(
    store: BatchStore,
    key: str,
    scenario: Scenario,
    seeds: list[int],
    daily_to: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Daily and monthly percentile bands of every daily measure of one scenario, one row per
    date (or month), team and measure, with the mean across replications. With ``daily_to``,
    the daily bands are handed to it a block of months at a time (a batch writes them to a file
    as they are made: they are most of its tables) and None is returned in their place.

    Monthly: each replication's mean over the month's days (levels, shares) or sum (money),
    then quantiles across replications; so a monthly band says how the month as a whole may
    turn out, not how one day may."""
    dates = forecast_dates(scenario)
    teams = team_labels(scenario)
    per_day = max(1, len(seeds)) * len(teams) * len(DAILY) * 4
    money = np.array([m.is_money for m in DAILY.values()])
    daily_frames, monthly_frames = [], []
    for start, stop in month_blocks(dates, max(31, BLOCK_BYTES // per_day)):
        stack = store.daily_block(key, seeds, start, stop)  # float32: sums are taken in float64
        months = dates[start:stop].to_period("M")
        edges = [0, *np.flatnonzero(months[1:] != months[:-1]) + 1, len(months)]
        per_month = [_month_value(stack, a, b, money) for a, b in itertools.pairwise(edges)]
        starts = [m.to_timestamp() for m in dict.fromkeys(months)]
        monthly_frames.append(_band_frame(np.stack(per_month, axis=1), starts, teams))
        # last: the daily bands sort the block in place
        block = _band_frame(stack, dates[start:stop], teams, overwrite=True)
        del stack
        block = block.rename(columns={"when": "date"})
        block.insert(0, "scenario", key)
        if daily_to is None:
            daily_frames.append(block)
        else:
            daily_to(block)
            del block
    daily = pd.concat(daily_frames, ignore_index=True) if daily_to is None else None
    monthly = pd.concat(monthly_frames, ignore_index=True).rename(columns={"when": "month"})
    monthly.insert(0, "scenario", key)
    return daily, monthly


#: daily measures whose paired monthly differences a comparison keeps
DIFFERENCE_MEASURES = ("unallocated_cases", "caseload_per_worker", "staff_in_post", "total_gbp")


def monthly_differences(
    store: BatchStore, reference: str, key: str, scenario: Scenario, seeds: list[int]
) -> pd.DataFrame:
    """Per month, team and measure of :data:`DIFFERENCE_MEASURES`: percentiles and mean of the
    seed-by-seed difference (``key`` minus ``reference``) of each replication's monthly mean
    (money: monthly total). Both scenarios must have the same dates and teams."""
    dates = forecast_dates(scenario)
    teams = team_labels(scenario)
    wanted = [DAILY_NAMES.index(m) for m in DIFFERENCE_MEASURES]
    money = np.array([DAILY[m].is_money for m in DIFFERENCE_MEASURES])
    seeds = sorted(seeds)
    per_day = len(teams) * len(DAILY) * 4  # one replication's day as stored (float32)
    frames = []
    for start, stop in month_blocks(dates, max(31, BLOCK_BYTES // (max(1, len(seeds)) * per_day))):
        months = dates[start:stop].to_period("M")
        spans = {m: np.flatnonzero(months == m)[[0, -1]] + [0, 1] for m in dict.fromkeys(months)}
        diffs = np.empty((len(spans), len(seeds), len(teams), len(wanted)))
        # a few replications at a time: a month of 2,000 replications is 26 MiB per scenario
        step = max(1, BLOCK_BYTES // ((stop - start) * per_day))
        for first in range(0, len(seeds), step):
            part = seeds[first : first + step]
            ours = store.daily_block(key, part, start, stop)[..., wanted]
            theirs = store.daily_block(reference, part, start, stop)[..., wanted]
            if ours.shape != theirs.shape:
                raise ValueError(f"{key} and {reference} cover different days or teams")
            for m, (a, b) in enumerate(spans.values()):
                diffs[m, first : first + len(part)] = _month_value(
                    ours, a, b, money
                ) - _month_value(theirs, a, b, money)
        for month, diff in zip(spans, diffs, strict=True):
            diff = diff[:, None]  # (replications, 1, teams, measures)
            bands = quantiles(diff)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(diff, axis=0)
            frame = pd.DataFrame(
                {
                    "month": month.to_timestamp(),
                    "team": np.repeat(teams, len(wanted)),
                    "measure": np.tile(DIFFERENCE_MEASURES, len(teams)),
                }
            )
            for column, band in zip(BAND_COLUMNS, bands, strict=True):
                frame[column] = band.reshape(-1)
            frame["mean"] = mean.reshape(-1)
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "reference", reference)
    out.insert(0, "scenario", key)
    return out


def _month_value(stack: np.ndarray, start: int, stop: int, money: np.ndarray) -> np.ndarray:
    """Each replication's value of days ``start:stop`` of ``stack`` (replications, days, teams,
    measures): the sum for money, else the mean, over the days that have a value (NaN when none:
    nobody in post all month). Summed in float64 a day at a time, so no copy of the block is
    made (nansum and nanmean would each copy it, twice the block at 2,000 replications)."""
    total = np.zeros((stack.shape[0], *stack.shape[2:]))
    count = np.zeros(total.shape, dtype=np.int32)
    for day in range(start, stop):
        values = stack[:, day]
        missing = np.isnan(values)
        total += np.where(missing, 0.0, values)
        count += ~missing
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(money, total, total / count)


def _band_frame(stack: np.ndarray, when, teams: list[str], overwrite: bool = False) -> pd.DataFrame:
    """Bands of ``stack`` (replications, times, teams, measures) as a long frame (the quantiles
    sort ``stack`` as it is, float32 for the daily cubes, in place with ``overwrite``; the mean
    is summed in float64, in replication order, before that sort)."""
    n_times = stack.shape[1]
    mean = np.empty(stack.shape[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (no staff)
        step = max(1, MEAN_BYTES // max(1, stack[:, :1].nbytes))
        for start in range(0, n_times, step):
            times = slice(start, start + step)
            mean[times] = np.nanmean(stack[:, times], axis=0, dtype=np.float64)
    bands = quantiles(stack, overwrite=overwrite)
    team = np.tile(np.repeat(np.arange(len(teams)), len(DAILY)), n_times)
    return pd.DataFrame(
        {
            "when": np.repeat(np.asarray(when), len(teams) * len(DAILY)),
            "team": _labels(teams, team),
            "measure": _labels(DAILY_NAMES, np.tile(np.arange(len(DAILY)), n_times * len(teams))),
            **{column: band.reshape(-1) for column, band in zip(BAND_COLUMNS, bands, strict=True)},
            "mean": mean.reshape(-1),
        }
    )


def _labels(names, codes: np.ndarray):
    """The column of ``names[code]`` for each code, as pandas stores a column of those strings
    (made from the few names, not from a Python string per row)."""
    return pd.Series(list(names)).array.take(codes)


def costs_by_replication(kpis: pd.DataFrame, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Service-wide costs by financial year, one row per scenario, replication and year, with
    the days of the year inside the forecast and whether that is only part of the year."""
    money = kpis[
        (kpis["team"] == SERVICE)
        & (kpis["period"] != FORECAST)
        & kpis["measure"].isin([*COST_COMPONENTS, TOTAL_COST])
    ].astype({c: str for c in KPI_KEYS})
    wide = money.pivot_table(
        index=["scenario", "replication", "period"], columns="measure", values="value", sort=False
    )
    wide.columns.name = None
    wide = wide.reset_index().rename(columns={"period": "financial_year"})
    days = pd.concat(
        [_year_days(key, scenario) for key, scenario in scenarios.items()], ignore_index=True
    )
    wide = wide.merge(days, on=["scenario", "financial_year"], how="left", validate="m:1")
    columns = ["scenario", "replication", "financial_year", "days", "partial"]
    return wide[[*columns, *[c for c in (*COST_COMPONENTS, TOTAL_COST) if c in wide]]]


def _year_days(key: str, scenario: Scenario) -> pd.DataFrame:
    years = pd.Series(financial_year(forecast_dates(scenario).to_numpy().astype("datetime64[D]")))
    days = years.value_counts(sort=False)
    full = [
        (pd.Timestamp(int(y[:4]) + 1, 4, 1) - pd.Timestamp(int(y[:4]), 4, 1)).days
        for y in days.index
    ]
    return pd.DataFrame(
        {
            "scenario": key,
            "financial_year": days.index,
            "days": days.to_numpy(),
            "partial": days.to_numpy() < np.array(full),
        }
    )


def budget_tables(
    fy_costs: pd.DataFrame, scenarios: Mapping[str, Scenario]
) -> dict[str, pd.DataFrame]:
    """Per scenario: the budget table (P10/P50/P90 of the total by financial year, and the
    chance of overspend against the scenario's budget) and cost percentiles by component."""
    budget, percentiles = [], []
    for key, frame in fy_costs.groupby("scenario", sort=False):
        own = frame.drop(columns="scenario")
        budget.append(
            budget_by_year(own, scenarios[key].costs.budget_by_financial_year_gbp).assign(
                scenario=key
            )
        )
        percentiles.append(cost_percentiles(own).assign(scenario=key))
    return {
        "budget": _scenario_first(pd.concat(budget, ignore_index=True)),
        "cost_percentiles": _scenario_first(pd.concat(percentiles, ignore_index=True)),
    }


def _scenario_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["scenario", *[c for c in frame if c != "scenario"]]]
