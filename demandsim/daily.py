"""A run's daily series as arrays, straight from its event log: the numbers beneath every table.

:mod:`demandsim.kpis` and :mod:`demandsim.costs` turn these into tidy tables for people and
tests; a batch replication (:func:`demandsim.replication.simulate`) stacks them into its daily
cube without building a table, so both say the same numbers. Every array is per team (in
scenario order), per forecast day (the warm-up dropped), and float64 unless said otherwise.

``log`` is a mapping from :data:`~demandsim.eventlog.COLUMNS` to typed columns:
:meth:`EventLog.columns <demandsim.eventlog.EventLog.columns>`, or a DataFrame's columns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from demandsim.eventlog import Kind
from demandsim.measures import COST_COMPONENTS, TOTAL_COST
from demandsim.scenario import Costs, Scenario

Columns = Mapping[str, np.ndarray]

LEVELS = (
    "open_cases",
    "allocated_cases",
    "unallocated_cases",
    "awaiting_transfer_in",
    "staff_permanent",
    "staff_agency",
    "capacity_cases",
    "vacant_posts",
)
#: the columns of :func:`team_levels`, in order
TEAM_SERIES = (*LEVELS, "staff_in_post", "caseload_per_worker", "agency_share")
#: the columns of :func:`cost_series`, in order (the money as in ``measures.COST_COMPONENTS``)
COST_SERIES = ("children_in_care", *COST_COMPONENTS, TOTAL_COST)


def column(log: Columns, name: str) -> np.ndarray:
    """One column of ``log`` as a numpy array (a DataFrame's column or an array as it is)."""
    values = log[name]
    return values if isinstance(values, np.ndarray) else values.to_numpy()


def _deltas(log: Columns) -> dict[str, np.ndarray]:
    """For each level, the change each log row makes to it (in the row's team)."""
    kind = column(log, "kind")
    worker = column(log, "worker")
    value = column(log, "value")
    held = worker >= 0
    started = np.where(kind == Kind.START, 1, 0) - np.where(kind == Kind.LEAVE, 1, 0)
    return {
        "open_cases": (kind == Kind.ENTER).astype(int) - (kind == Kind.EXIT),
        "allocated_cases": ((kind == Kind.ENTER) & held).astype(int)
        + (kind == Kind.ALLOC)
        - (kind == Kind.DEALLOC)
        - ((kind == Kind.EXIT) & held),
        "awaiting_transfer_in": (kind == Kind.BLOCK).astype(int) - (kind == Kind.UNBLOCK),
        "staff_permanent": started * (value == 0),
        "staff_agency": started * (value > 0),
        "capacity_cases": np.where(kind == Kind.CAPACITY, value, 0),
        "vacant_posts": (kind == Kind.VACANCY_OPEN).astype(int) - (kind == Kind.VACANCY_FILLED),
    }


def daily_means(times: np.ndarray, deltas: np.ndarray, n_days: int) -> np.ndarray:
    """Time-weighted mean, over each day [d, d+1), of a level that starts at 0 and steps by
    ``deltas`` at ``times`` (sorted)."""
    if times.size == 0:
        return np.zeros(n_days)
    level = np.cumsum(deltas, dtype=float)
    widths = np.diff(times, append=float(n_days))
    area = np.concatenate([[0.0], np.cumsum(level * np.maximum(widths, 0))])
    points = np.concatenate([times, [max(float(n_days), times[-1])]])
    # before the first event the level is 0, so the running area is 0 there too
    cumulative = np.interp(np.arange(n_days + 1, dtype=float), points, area, left=0.0)
    return np.diff(cumulative)


def _grouped_means(
    times: np.ndarray, groups: np.ndarray, deltas: np.ndarray, n_groups: int, n_days: int
) -> np.ndarray:
    """:func:`daily_means` of each group's rows (``groups`` in 0..n_groups-1; others are
    ignored), as an (n_groups, n_days) array; rows keep their order within a group."""
    changes = np.flatnonzero(deltas)  # only the rows that change the level
    times, groups, deltas = times[changes], groups[changes], deltas[changes]
    order = np.argsort(groups, kind="stable")
    times, groups, deltas = times[order], groups[order], deltas[order]
    bounds = np.searchsorted(groups, np.arange(n_groups + 1))
    out = np.empty((n_groups, n_days))
    for g in range(n_groups):
        a, b = bounds[g], bounds[g + 1]
        out[g] = daily_means(times[a:b], deltas[a:b], n_days)
    return out


def n_days(scenario: Scenario) -> int:
    """Days from the origin to the end of the horizon (warm-up included)."""
    return int(np.ceil(scenario.horizon_days))


def team_levels(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, :data:`TEAM_SERIES`): time-weighted daily levels of each team,
    with staff in post, caseload per worker and agency share (NaN under half a worker)."""
    days, teams = n_days(scenario), len(scenario.teams)
    t, team = column(log, "t"), column(log, "team")
    series = {
        level: _grouped_means(t, team, delta, teams, days) for level, delta in _deltas(log).items()
    }
    series["unallocated_cases"] = series["open_cases"] - series["allocated_cases"]
    out = np.empty((len(TEAM_SERIES), teams, days - scenario.warmup_days))
    for i, level in enumerate(LEVELS):
        # integrals of integer levels: drop float dust and -0
        out[i] = series[level][:, scenario.warmup_days :].round(9) + 0.0
    allocated, agency = out[LEVELS.index("allocated_cases")], out[LEVELS.index("staff_agency")]
    staff = out[LEVELS.index("staff_permanent")] + agency
    out[len(LEVELS)] = staff
    out[len(LEVELS) + 1] = np.divide(
        allocated, staff, out=np.full(staff.shape, np.nan), where=staff > 0.5
    )
    out[len(LEVELS) + 2] = np.divide(
        agency, staff, out=np.full(staff.shape, np.nan), where=staff > 0.5
    )
    return np.ascontiguousarray(out.transpose(1, 2, 0))


def stage_deltas(log: Columns, waiting_to_enter: bool) -> np.ndarray:
    """The change each row makes to its stage's open cases; with ``waiting_to_enter``, cases
    waiting to transfer in (decided, but held by the sending team while the receiver is full)
    count as open in the receiving stage."""
    kind = column(log, "kind")
    delta = (kind == Kind.ENTER).astype(np.int8) - (kind == Kind.EXIT)
    if waiting_to_enter:
        delta = delta + (kind == Kind.BLOCK) - (kind == Kind.UNBLOCK)
    return delta


def stage_groups(
    log: Columns, scenario: Scenario, groups: Mapping[str, tuple[str, ...]], waiting: bool
) -> np.ndarray:
    """(teams, forecast days, groups): the time-weighted open cases of each group's stages (with
    ``waiting``, also those waiting to transfer in: see :func:`stage_deltas`), each on the team
    that serves the stage, so the teams add up to the whole group."""
    names, teams = list(scenario.pathway.stages), list(scenario.teams)
    days = n_days(scenario)
    stage = column(log, "stage")
    per_stage = _grouped_means(
        column(log, "t"), stage, stage_deltas(log, waiting), len(names), days
    )
    values = np.zeros((len(teams), days, len(groups)))
    for g, members in enumerate(groups.values()):
        for name in members:
            team = teams.index(scenario.pathway.stages[name].team)
            values[team, :, g] += per_stage[names.index(name)]
    return values[:, scenario.warmup_days :]


def in_care(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days): children in care, the open cases of each of
    ``costs.care_stages`` and those waiting to move into them, on the team serving the stage."""
    groups = {"children_in_care": scenario.costs.care_stages}
    return stage_groups(log, scenario, groups, waiting=True)[:, :, 0]


def stocks(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, 2): children in need and children on a child protection plan,
    the open cases of ``pathway.children_in_need_stages`` and
    ``pathway.child_protection_stages``, on the team serving each stage."""
    groups = {
        "children_in_need": scenario.pathway.children_in_need_stages,
        "child_protection": scenario.pathway.child_protection_stages,
    }
    return stage_groups(log, scenario, groups, waiting=False)


def starters(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, 2) int: workers starting, permanent and agency (agency includes
    above establishment), from START events in the forecast."""
    kind, t = column(log, "kind"), column(log, "t")
    rows = np.flatnonzero((kind == Kind.START) & (t >= scenario.warmup_days))
    forecast = n_days(scenario) - scenario.warmup_days
    day = np.floor(t[rows]).astype(int) - scenario.warmup_days
    team = column(log, "team")[rows].astype(int)
    agency = (column(log, "value")[rows] > 0).astype(int)
    keep = day < forecast
    cell = (team[keep] * forecast + day[keep]) * 2 + agency[keep]
    counts = np.bincount(cell, minlength=len(scenario.teams) * forecast * 2)
    return counts.reshape(len(scenario.teams), forecast, 2)


def cost_series(
    staff_permanent: np.ndarray,
    staff_agency: np.ndarray,
    permanent_starters: np.ndarray,
    agency_starters: np.ndarray,
    children_in_care: np.ndarray,
    factors: np.ndarray,
    costs: Costs,
) -> np.ndarray:
    """Children in care and the cost of each component, with their total, in pounds of each
    day's financial year (``factors``: :func:`demandsim.costs.inflation_factors`), stacked on a
    new last axis in :data:`COST_SERIES` order. The inputs are arrays of one shape (a day and
    team each), broadcast with ``factors``."""
    parts = [
        staff_permanent * costs.permanent_per_day_gbp,
        staff_agency * costs.agency_per_day_gbp,
        staff_permanent * (costs.retention_per_permanent_per_year_gbp / 365.25),
        permanent_starters * costs.recruitment_per_permanent_hire_gbp,
        agency_starters * costs.agency_finder_fee_gbp,
        children_in_care * costs.placement_per_day_gbp,
    ]
    parts = [np.asarray(p, dtype=float) * factors for p in parts]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    care = np.broadcast_to(np.asarray(children_in_care, dtype=float), total.shape)
    return np.stack([care, *parts, total], axis=-1)
