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


def _flag(mask: np.ndarray) -> np.ndarray:
    """A boolean array as 0/1 ``int8`` (a view: no copy)."""
    return mask.view(np.int8)


def _steps(kind: np.ndarray, up: Kind, down: Kind) -> np.ndarray:
    """Per row, ``int8``: +1 for an ``up`` event, -1 for a ``down`` event, else 0."""
    return _flag(kind == up) - _flag(kind == down)


def _deltas(log: Columns) -> dict[str, np.ndarray]:
    """For each level, the change each log row makes to it (in the row's team)."""
    kind = column(log, "kind")
    value = column(log, "value")
    cases = _steps(kind, Kind.ENTER, Kind.EXIT)
    staff = _steps(kind, Kind.START, Kind.LEAVE)
    return {
        "open_cases": cases,
        # ENTER and EXIT rows with a worker are allocations and deallocations too
        "allocated_cases": cases * _flag(column(log, "worker") >= 0)
        + _steps(kind, Kind.ALLOC, Kind.DEALLOC),
        "awaiting_transfer_in": _steps(kind, Kind.BLOCK, Kind.UNBLOCK),
        "staff_permanent": staff * _flag(value == 0),
        "staff_agency": staff * _flag(value > 0),
        "capacity_cases": value * (kind == Kind.CAPACITY),
        "vacant_posts": _steps(kind, Kind.VACANCY_OPEN, Kind.VACANCY_FILLED),
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


def _sorted_by(log: Columns, key: str, n_groups: int, names: tuple[str, ...]):
    """The ``names`` columns of ``log`` with rows sorted by ``key`` (stably, so each group's rows
    stay in log order), and where each group 0..n_groups-1 starts and ends (rows with other
    values of ``key`` fall outside every group)."""
    groups = column(log, key)
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    return {name: column(log, name)[order] for name in names}, bounds


def _group_means(times: np.ndarray, deltas: np.ndarray, bounds: np.ndarray, days: int):
    """(groups, days): :func:`daily_means` of each group's rows, rows sorted by group with
    group g in ``bounds[g]:bounds[g + 1]``; only the rows that change the level are used."""
    out = np.empty((len(bounds) - 1, days))
    for g in range(len(bounds) - 1):
        times_g, deltas_g = times[bounds[g] : bounds[g + 1]], deltas[bounds[g] : bounds[g + 1]]
        changes = np.flatnonzero(deltas_g != 0)
        out[g] = daily_means(times_g[changes], deltas_g[changes], days)
    return out


def n_days(scenario: Scenario) -> int:
    """Days from the origin to the end of the horizon (warm-up included)."""
    return int(np.ceil(scenario.horizon_days))


def team_levels(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, :data:`TEAM_SERIES`): time-weighted daily levels of each team,
    with staff in post, caseload per worker and agency share (NaN under half a worker)."""
    days, teams = n_days(scenario), len(scenario.teams)
    by_team, bounds = _sorted_by(log, "team", teams, ("t", "kind", "worker", "value"))
    series = {
        level: _group_means(by_team["t"], delta, bounds, days)
        for level, delta in _deltas(by_team).items()
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


def stage_levels(log: Columns, scenario: Scenario) -> np.ndarray:
    """(2, stages, days from the origin): the time-weighted open cases of each stage; then the
    same counting as open those waiting to transfer in (decided, but held by the sending team
    while the receiver is full)."""
    stages = len(scenario.pathway.stages)
    by_stage, bounds = _sorted_by(log, "stage", stages, ("t", "kind"))
    kind = by_stage["kind"]
    cases = _steps(kind, Kind.ENTER, Kind.EXIT)
    waiting = cases + _steps(kind, Kind.BLOCK, Kind.UNBLOCK)
    return np.stack(
        [
            _group_means(by_stage["t"], cases, bounds, n_days(scenario)),
            _group_means(by_stage["t"], waiting, bounds, n_days(scenario)),
        ]
    )


def stage_groups(
    levels: np.ndarray, scenario: Scenario, groups: Mapping[str, tuple[str, ...]], waiting: bool
) -> np.ndarray:
    """(teams, forecast days, groups): the open cases of each group's stages (with ``waiting``,
    also those waiting to transfer in) from :func:`stage_levels`, each on the team that serves
    the stage, so the teams add up to the whole group."""
    names, teams = list(scenario.pathway.stages), list(scenario.teams)
    per_stage = levels[int(waiting)]
    values = np.zeros((len(teams), per_stage.shape[1], len(groups)))
    for g, members in enumerate(groups.values()):
        for name in members:
            team = teams.index(scenario.pathway.stages[name].team)
            values[team, :, g] += per_stage[names.index(name)]
    return values[:, scenario.warmup_days :]


def in_care(levels: np.ndarray, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days): children in care, the open cases of each of
    ``costs.care_stages`` and those waiting to move into them, on the team serving the stage
    (``levels`` from :func:`stage_levels`)."""
    groups = {"children_in_care": scenario.costs.care_stages}
    return stage_groups(levels, scenario, groups, waiting=True)[:, :, 0]


def stocks(levels: np.ndarray, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, 2): children in need and children on a child protection plan,
    the open cases of ``pathway.children_in_need_stages`` and
    ``pathway.child_protection_stages``, on the team serving each stage (``levels`` from
    :func:`stage_levels`)."""
    groups = {
        "children_in_need": scenario.pathway.children_in_need_stages,
        "child_protection": scenario.pathway.child_protection_stages,
    }
    return stage_groups(levels, scenario, groups, waiting=False)


def starters(log: Columns, scenario: Scenario) -> np.ndarray:
    """(teams, forecast days, 2) int: workers starting, permanent and agency (agency includes
    above establishment), from START events in the forecast. The staff in post at the origin
    were hired before it and are not starters: their START rows are those the model writes as
    it staffs the teams, before the first case enters (with no warm-up they are on day 0)."""
    kind, t = column(log, "kind"), column(log, "t")
    enters = np.flatnonzero(kind == Kind.ENTER)
    staffed = enters[0] if len(enters) else np.searchsorted(t, 0.0, side="right")
    at_origin = (np.arange(len(t)) < staffed) & (t == 0)
    rows = np.flatnonzero((kind == Kind.START) & (t >= scenario.warmup_days) & ~at_origin)
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
