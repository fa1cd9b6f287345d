"""Demand: when contacts arrive, and each child's plan through the pathway.

Covers:
- the daily intensity of contacts: monthly volumes (a base annual volume, a growth trend, a
  month-of-year profile, or exact volumes for named months), shared out within each month by
  weekday, school holidays and the end-of-term surge; or, where a calibrated intensity file covers
  the dates, a predictive sample path from it; a ``[demand.surge]`` then multiplies every day
  of its months by ``1 + percent / 100``;
- arrival times as a non-homogeneous Poisson process (a Poisson count per day, uniform within it);
- each case's plan, drawn when it arrives: its source, its route through the stages and how long
  each piece of work takes. Plans never depend on staffing, so case *k* is the same child in every
  staffing scenario run with the same seed.

Assumptions: routing that varies by month applies by the month of the contact; the duration of a
piece of work is drawn by inverse CDF from a per-case, per-step uniform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from demandsim.calendar import school_calendar
from demandsim.distributions import quantile, residual_quantile
from demandsim.scenario import Scenario, _parse_month
from demandsim.streams import Stream

#: plans start this many stages wide and grow while any case is still in the pathway (a loop
#: with a way out can hold a rare case for long); the scenario's absorbing-chain check
#: (:meth:`demandsim.scenario.Pathway._absorbing`) guarantees every case leaves
MAX_STEPS = 8
#: a safety net that validation makes unreachable: no realistic plan is this long
HARD_MAX_STEPS = 100_000
STEP_BLOCK = 8


@dataclass(frozen=True)
class Plans:
    """Pre-drawn plans for every case, as arrays (index = case number)."""

    arrival_t: np.ndarray  # days since the origin; NaN for cases open at the start
    source: np.ndarray  # index into scenario.demand.sources (-1 for cases open at the start)
    stages: np.ndarray  # (n, steps) stage index per step, -1 after the plan ends
    durations: np.ndarray  # (n, steps) days of work (or episode) per step
    exits: np.ndarray  # exit index where the plan ends

    @property
    def n(self) -> int:
        return len(self.arrival_t)


def daily_days(scenario: Scenario) -> np.ndarray:
    """The calendar days the run covers, as ``datetime64[D]`` (day 0 is the origin)."""
    n = int(np.ceil(scenario.horizon_days))
    return np.datetime64(scenario.origin_date, "D") + np.arange(n)


def daily_intensity(scenario: Scenario, rng: np.random.Generator | None = None) -> np.ndarray:
    """Expected contacts on each day of the run.

    With an intensity file, ``rng`` picks one predictive sample path for the whole run.
    """
    d = scenario.demand
    days = daily_days(scenario)
    months = days.astype("datetime64[M]")
    month_of_year = months.astype(int) % 12
    holiday, end_of_term = school_calendar(days, d.end_of_term_days)
    shape = np.asarray(d.weekday_factors)[(days.astype(int) + 3) % 7]  # 1970-01-01 was a Thursday
    shape = shape * np.where(holiday, d.school_holiday_factor, 1.0)
    shape = shape * np.where(end_of_term, d.end_of_term_factor, 1.0)

    # monthly factors scale the daily rate; normalised so a year at factor 1 is contacts_per_year
    month_days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    factors = np.asarray(d.monthly_factors) * 365.25 / np.dot(d.monthly_factors, month_days)
    days_in_month = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
    years_from_start = (days - np.datetime64(scenario.start_date, "D")).astype(float) / 365.25
    monthly_volume = (
        d.contacts_per_year / 365.25 * factors[month_of_year] * days_in_month.astype(float)
    )
    monthly_volume = monthly_volume * (1 + d.growth_per_year) ** years_from_start
    for text, volume in d.monthly_contacts.items():
        year, month = _parse_month(text)
        this_month = months == np.datetime64(f"{year:04d}-{month:02d}")
        monthly_volume = np.where(this_month, volume, monthly_volume)
    daily_override = None
    if d.intensity_file:
        period, values = _read_intensity_file(Path(d.intensity_file), rng)
        if period.dtype == np.dtype("datetime64[M]"):
            monthly_volume = _override(months, period, values, monthly_volume)
        else:
            daily_override = (period, values)

    # share each month's volume across its days in proportion to the within-month shape
    _, month_idx = np.unique(months, return_inverse=True)
    month_shape = np.bincount(month_idx, weights=shape)
    covered = np.bincount(month_idx)[month_idx]
    intensity = np.divide(
        monthly_volume * shape,
        month_shape[month_idx] * (days_in_month.astype(float) / covered),
        out=np.zeros(len(days)),
        where=month_shape[month_idx] > 0,
    )
    if daily_override is not None:
        intensity = _override(days, *daily_override, intensity)
    if d.surge is not None:
        first, last = (np.datetime64(m, "M") for m in (d.surge.first_month, d.surge.last_month))
        intensity = np.where(
            (months >= first) & (months <= last), intensity * (1 + d.surge.percent / 100), intensity
        )
    return intensity


def _read_intensity_file(
    path: Path, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """One sample path from a calibrated intensity file: (periods, expected contacts).

    The file has either a ``month`` column ('YYYY-MM': expected contacts in the month, shared
    across its days like ``monthly_contacts``) or a ``date`` column (expected contacts that day),
    then one column per predictive sample; ``rng`` picks the column for this replication.
    """
    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, ValueError) as exc:
        raise ValueError(f"{path}: demand.intensity_file could not be read: {exc}") from None
    key = "month" if "month" in table.columns else "date"
    samples = [c for c in table.columns if c != key]
    if key not in table.columns or not samples:
        raise ValueError(
            f"{path}: expected a 'month' (YYYY-MM) or 'date' (YYYY-MM-DD) column, then one "
            f"column per sample path; got columns {list(table.columns)}"
        )
    unit = "M" if key == "month" else "D"
    try:
        periods = pd.to_datetime(table[key]).to_numpy().astype(f"datetime64[{unit}]")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: column {key!r}: unparseable date: {exc}") from None
    column = samples[0] if rng is None else samples[int(rng.integers(len(samples)))]
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2  # 1-based, after the header line
        raise ValueError(
            f"{path}: row {row}, column {column!r}: expected a non-negative number of contacts"
        )
    return periods, values


def _override(
    keys: np.ndarray, periods: np.ndarray, values: np.ndarray, base: np.ndarray
) -> np.ndarray:
    """``base`` with the entries whose key appears in ``periods`` replaced by ``values``."""
    order = np.argsort(periods)
    periods, values = periods[order], values[order]
    position = np.minimum(np.searchsorted(periods, keys), len(periods) - 1)
    found = periods[position] == keys
    out = np.array(base, dtype=float)
    out[found] = values[position[found]]
    return out


def arrival_times(intensity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (days) of a Poisson process with piecewise-constant daily rate."""
    counts = rng.poisson(intensity)
    times = np.repeat(np.arange(len(intensity), dtype=float), counts) + rng.random(counts.sum())
    times.sort()
    return times


def draw_plans(scenario: Scenario, streams: dict[Stream, np.random.Generator]) -> Plans:
    """Arrivals and every case's plan; cases open at the start come first, then new contacts."""
    pathway = scenario.pathway
    names = list(pathway.stages)
    intensity = daily_intensity(scenario, streams[Stream.DEMAND_PATH])
    arrivals = arrival_times(intensity, streams[Stream.ARRIVALS])
    sources = np.asarray(list(scenario.demand.sources.values()))
    source = np.searchsorted(
        np.cumsum(sources), streams[Stream.SOURCES].random(len(arrivals)), "right"
    )
    source = np.minimum(source, len(sources) - 1)

    initial = [(names.index(s), stage.initial_cases) for s, stage in pathway.stages.items()]
    first_initial = np.repeat([i for i, _ in initial], [c for _, c in initial]).astype(int)
    n_initial = len(first_initial)
    first = np.concatenate([first_initial, np.full(len(arrivals), names.index(pathway.entry))])
    arrival_t = np.concatenate([np.full(n_initial, np.nan), arrivals])
    contact_month = _contact_months(scenario, arrival_t)

    stages, durations, exits = _walk(scenario, first, contact_month, streams)
    # cases open at the start have already done part of their first piece of work
    rng = streams[Stream.INITIAL_CASES]
    u_len, u_done = rng.random(n_initial), rng.random(n_initial)
    for i, name in enumerate(names):
        mine = first_initial == i
        if mine.any():
            durations[:n_initial][mine, 0] = residual_quantile(
                pathway.stages[name].duration, u_len[mine], u_done[mine]
            )
    # the walk allows up to MAX_STEPS; keep only the steps some case takes (a plan is
    # usually 2-8 steps of 64, so this is most of a replication's memory)
    width = max(1, int((stages >= 0).sum(axis=1).max(initial=0)))
    return Plans(
        arrival_t=arrival_t,
        source=np.concatenate([np.full(n_initial, -1), source]),
        stages=np.ascontiguousarray(stages[:, :width]),
        durations=np.ascontiguousarray(durations[:, :width]),
        exits=exits,
    )


def _contact_months(scenario: Scenario, arrival_t: np.ndarray) -> np.ndarray:
    """Calendar month of each contact as months since 1970 (the start month for initial cases)."""
    origin = np.datetime64(scenario.origin_date, "D")
    t = np.nan_to_num(arrival_t, nan=0.0)
    return (origin + t.astype("timedelta64[D]")).astype("datetime64[M]").astype(int)


def _walk(
    scenario: Scenario,
    first: np.ndarray,
    contact_month: np.ndarray,
    streams: dict[Stream, np.random.Generator],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pathway = scenario.pathway
    names = list(pathway.stages)
    targets = names + list(pathway.exits)
    n = len(first)
    route_u = streams[Stream.ROUTES].random((n, STEP_BLOCK))
    duration_u = streams[Stream.DURATIONS].random((n, STEP_BLOCK))
    tables = {name: _route_tables(stage, targets) for name, stage in pathway.stages.items()}

    stages = np.full((n, MAX_STEPS), -1, dtype=np.int16)
    durations = np.zeros((n, MAX_STEPS))
    exits = np.full(n, -1, dtype=np.int16)
    current = first.astype(int)
    active = np.ones(n, dtype=bool)
    for step in range(HARD_MAX_STEPS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        if step == stages.shape[1]:  # a case still looping: room for more stages
            stages = np.hstack([stages, np.full((n, MAX_STEPS), -1, dtype=np.int16)])
            durations = np.hstack([durations, np.zeros((n, MAX_STEPS))])
        if step == route_u.shape[1]:  # uniforms for the next block of steps, same layout always
            route_u = np.hstack([route_u, streams[Stream.ROUTES].random((n, STEP_BLOCK))])
            duration_u = np.hstack([duration_u, streams[Stream.DURATIONS].random((n, STEP_BLOCK))])
        here = current[idx]
        stages[idx, step] = here
        u_route, u_duration = route_u[idx, step], duration_u[idx, step]
        took = np.empty(idx.size)
        nxt = np.empty(idx.size, dtype=int)
        by_stage = np.argsort(here, kind="stable")
        bounds = np.searchsorted(here[by_stage], np.arange(len(names) + 1))
        for s, name in enumerate(names):
            mine = by_stage[bounds[s] : bounds[s + 1]]  # the active cases in stage s
            if mine.size == 0:
                continue
            took[mine] = quantile(pathway.stages[name].duration, u_duration[mine])
            default, by_month = tables[name]
            cum = default[None, :]
            if by_month:
                cum = np.broadcast_to(default, (mine.size, default.size)).copy()
                months = contact_month[idx[mine]]
                for month, table in by_month.items():
                    cum[months == month] = table
            nxt[mine] = (u_route[mine][:, None] >= cum).sum(axis=1)
        durations[idx, step] = took
        done = nxt >= len(names)
        exits[idx[done]] = nxt[done] - len(names)
        active[idx[done]] = False
        current[idx[~done]] = nxt[~done]
    else:
        raise ValueError(
            f"pathway: some cases were still open after {HARD_MAX_STEPS} stages; check that every "
            "loop in the routes has a way out"
        )
    return stages, durations, exits


def _route_tables(stage, targets: list[str]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    def cumulative(routes: dict[str, float]) -> np.ndarray:
        probs = np.array([routes.get(t, 0.0) for t in targets])
        cum = np.cumsum(probs)
        cum[np.flatnonzero(probs)[-1] :] = (
            np.inf
        )  # rounding: the last possible target takes the rest
        return cum

    by_month = {}
    for text, routes in stage.routes_by_month.items():
        year, month = _parse_month(text)
        by_month[(year - 1970) * 12 + month - 1] = cumulative(routes)
    return cumulative(stage.routes), by_month
