"""What if we act today: the least agency request now that keeps the warning below a level.

Covers: for each team whose chance of passing its threshold reaches the level in some judged
week, the least number of agency workers above establishment to ask for on day one
(``teams.<team>.agency_requested_on_day_one``: they start after the council's own agency fill
time, from its vacancy log, if the market fills them) that brings the chance below the level in
every judged week; then every team's request together, checked on the same seeds; and what each
costs (the paired difference in the service's total cost over the weeks ahead).

Scenario: every candidate runs on the same seeds (common random numbers), so two requests see the
same children and the same leavers and differ only by the request. The search starts from a
first guess (the worst judged week's backlog over the threshold, at the level's chance, in
full caseloads), steps from it up or down in steps that double (1, 2, 4, ...) to the other
side of the level, then bisects, so the answer is the least request that meets the level
among those between the last that failed and the first that met: with the chance
non-increasing in the request (which the tests check on a grid) that is the least of all. A
good guess saves most of the requests tried: a large council's team may need dozens of workers.

Assumptions: weeks before :func:`~demandsim.outlook.settings.first_week_judged` are not judged:
no worker asked for today can be working by then. A team's request is searched with every other
team as it is; teams affect each other (a full team blocks transfers in), which is why the
requests together are checked again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from demandsim.batch.replicate import close_pool, pool_map, worker_pool
from demandsim.measures import DAILY_NAMES, SERVICE, TOTAL_COST
from demandsim.outlook.weekly import WEEK_DAYS, percent
from demandsim.parameter_draws import simulate_drawn
from demandsim.scenario import Scenario
from demandsim.scenario_files import apply_overrides

TOGETHER = "every team's request together"
#: the columns of the table of candidates (then :data:`EXTRA_COLUMNS`, the same in every row)
COLUMNS = [
    "search", "team", "agency_requested", "worst_chance", "today_worst_chance",
    "meets_level", "chosen", "extra_cost_gbp", "extra_cost_low_gbp", "extra_cost_high_gbp",
]  # fmt: skip
EXTRA_COLUMNS = ["level", "first_week_judged", "first_seed", "replications"]


@dataclass(frozen=True)
class Judged:
    """One replication, reduced to what the search needs: small enough to pass between processes."""

    seed: int
    weekly_max: np.ndarray  # (weeks, teams in scenario order): the week's largest unallocated count
    weekly_mean: np.ndarray  # (weeks, teams): the week's mean daily unallocated count
    cost_gbp: float  # the service's total cost over the forecast


def judge(scenario: Scenario, seed: int, weeks: int) -> Judged:
    """Replication ``seed`` as a batch runs it: with its own draw of the parameters when the
    scenario's ``[uncertainty]`` is on (a published-tables calibration), so each request is
    judged on the replications the weekly table shows."""
    rep = simulate_drawn(scenario, seed)
    return judged(seed, rep.daily, rep.kpis, len(scenario.teams), weeks)


def judged(seed: int, daily: np.ndarray, kpis: pd.DataFrame, teams: int, weeks: int) -> Judged:
    """A replication's daily cube (days x teams x measures) and KPI rows, reduced to what the
    search needs: from a run here (:func:`judge`) or from a batch's stored replication."""
    unallocated = daily[: weeks * WEEK_DAYS, :teams, DAILY_NAMES.index("unallocated_cases")]
    weekly = unallocated.reshape(weeks, WEEK_DAYS, teams)
    cost = kpis.loc[(kpis["team"] == SERVICE) & (kpis["measure"] == TOTAL_COST), "value"].sum()
    return Judged(seed, weekly.max(axis=1), weekly.astype(float).mean(axis=1), float(cost))


class Runner:
    """Runs a scenario on a fixed tuple of seeds, in this process or on ``jobs`` processes."""

    def __init__(self, seeds: Iterable[int], weeks: int, jobs: int = 1) -> None:
        self.seeds, self.weeks = tuple(seeds), weeks
        self.pool = worker_pool(jobs)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        close_pool(self.pool, interrupted=kind is not None)

    def run(self, scenario: Scenario) -> list[Judged]:
        return pool_map(self.pool, judge, [(scenario, s, self.weeks) for s in self.seeds])


@dataclass(frozen=True)
class Candidate:
    """A request (agency workers by team) and its replications on the search seeds."""

    requests: dict[str, int]
    judged: tuple[Judged, ...]

    def chances(self, team_index: int, threshold: int) -> np.ndarray:
        """By week: the share of replications whose week's largest count is above ``threshold``."""
        over = np.stack([j.weekly_max[:, team_index] > threshold for j in self.judged])
        return over.mean(axis=0)

    def cost_gbp(self) -> np.ndarray:
        return np.array([j.cost_gbp for j in self.judged])


@dataclass
class Search:
    """Every candidate evaluated, by its requests; the seeds and the rule they were judged by."""

    base: Scenario
    thresholds: dict[str, int]
    first_week: int
    level: float
    most: int
    runner: Runner
    say: Callable[[str], None] = lambda _: None

    def __post_init__(self) -> None:
        self.tried: dict[tuple, Candidate] = {}
        self.teams = list(self.base.teams)

    def evaluate(self, requests: dict[str, int]) -> Candidate:
        key = tuple(sorted((t, k) for t, k in requests.items() if k))
        if key not in self.tried:
            asked = ", ".join(f"{k} for {t}" for t, k in key) or "none (as things stand)"
            self.say(f"act today: agency workers asked for: {asked}; "
                     f"{len(self.runner.seeds)} replications")  # fmt: skip
            sets = [f"teams.{t}.agency_requested_on_day_one={k}" for t, k in key]
            scenario = apply_overrides(self.base, sets)
            self.tried[key] = Candidate(dict(key), tuple(self.runner.run(scenario)))
        return self.tried[key]

    def worst(self, candidate: Candidate, team: str) -> float:
        """The largest chance over the judged weeks."""
        chances = candidate.chances(self.teams.index(team), self.thresholds[team])
        return float(chances[self.first_week - 1 :].max())

    def meets(self, candidate: Candidate, team: str) -> bool:
        return self.worst(candidate, team) < self.level

    def first_guess(self, team: str) -> int:
        """The request that would hold the worst judged week's backlog at the threshold at the
        level's chance, if each worker took a full caseload off it: where the search starts."""
        i = self.teams.index(team)
        weekly = np.stack(
            [j.weekly_max[self.first_week - 1 :, i] for j in self.evaluate({}).judged]
        )
        excess = np.quantile(weekly, 1 - self.level, axis=0).max() - self.thresholds[team]
        spec = self.base.teams[team]
        per_worker = max(1.0, spec.caseload_cap * (1 - spec.sickness_share))
        return int(min(self.most, max(1, math.ceil(excess / per_worker))))

    def least(self, team: str) -> int | None:
        """The least request for ``team`` meeting the level (None: not within ``most``)."""
        ok = lambda k: self.meets(self.evaluate({team: k}), team)  # noqa: E731
        if ok(0):
            return 0
        guess = self.first_guess(team)
        if ok(guess):  # step down from the guess, 1, 2, 4 ... at a time, to one that fails
            low, high, step = max(0, guess - 1), guess, 1
            while low > 0 and ok(low):
                high, step = low, 2 * step
                low = max(0, high - step)
        elif guess >= self.most:
            return None
        else:  # step up, 1, 2, 4 ... at a time, to one that meets the level
            low, high, step = guess, guess + 1, 1
            while not ok(high):
                if high >= self.most:
                    return None
                low, step = high, 2 * step
                high = min(high + step, self.most)
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if ok(mid) else (mid, high)
        self.say(f"act today: {team} needs {high} agency worker{'s' if high != 1 else ''}")
        return high


def act_today(
    search: Search, today: Iterable[Judged] | None = None
) -> tuple[dict[str, int | None], pd.DataFrame]:
    """Each team's least request (None where none within ``most`` meets the level), and the
    table of every candidate tried, with the requests together last. ``today``: the search's
    seeds already run as things stand (the outlook's own batch), so they are not run again.
    Nothing is tried when no week is judged (a worker asked for today would start after the
    outlook's last week)."""
    if search.first_week > search.runner.weeks:
        return {}, pd.DataFrame(columns=[*COLUMNS, *EXTRA_COLUMNS])
    if today is not None:
        today = tuple(today)
        if tuple(j.seed for j in today) != search.runner.seeds:
            raise ValueError("today's replications are not on the search's seeds")
        search.tried[()] = Candidate({}, today)
    base = search.evaluate({})
    chosen: dict[str, int | None] = {}
    for team in search.thresholds:
        if not search.meets(base, team):
            chosen[team] = search.least(team)
    together = {t: k for t, k in chosen.items() if k}
    if len(together) > 1:
        search.evaluate(together)
    return chosen, candidates_table(search, chosen)


def candidates_table(search: Search, chosen: dict[str, int | None]) -> pd.DataFrame:
    """One row per candidate and team asked for: the request, the worst judged week's chance,
    whether it meets the level, whether it is the answer, and the paired extra cost with its
    95% interval. The requests together are one row per team, under :data:`TOGETHER`."""
    base = search.evaluate({})
    together = {t: k for t, k in chosen.items() if k}
    rows = []
    for key, cand in search.tried.items():
        if not key:
            continue
        several = len(key) > 1
        extra = cand.cost_gbp() - base.cost_gbp()
        mean, low, high = _interval(extra)
        for team, k in cand.requests.items():
            rows.append(
                {
                    "search": TOGETHER if several else team,
                    "team": team,
                    "agency_requested": k,
                    "worst_chance": search.worst(cand, team),
                    "today_worst_chance": search.worst(base, team),
                    "meets_level": search.meets(cand, team),
                    "chosen": (cand.requests == together) if several else (chosen.get(team) == k),
                    "extra_cost_gbp": mean,
                    "extra_cost_low_gbp": low,
                    "extra_cost_high_gbp": high,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    seeds = search.runner.seeds
    table = table.assign(
        level=search.level,
        first_week_judged=search.first_week,
        first_seed=seeds[0],
        replications=len(seeds),
    )
    last = table["search"] == TOGETHER
    return pd.concat(
        [table[~last].sort_values(["team", "agency_requested"]), table[last]], ignore_index=True
    )


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval."""
    n = len(values)
    mean = float(values.mean())
    if n < 2 or float(values.std()) == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def act_text(
    table: pd.DataFrame,
    chosen: dict[str, int | None],
    level: float,
    first_week: int,
    fill_days: float,
    weeks: int | None = None,
) -> str:
    """What to ask for today, per team, and what it costs (or, when ``first_week`` is after
    the ``weeks`` ahead, that no week can be judged)."""
    from demandsim.headline import money
    from demandsim.outlook.weekly import _short

    head = (
        f"Act today: the least agency request now that keeps the chance below {level:.0%} in "
        f"every week from week {first_week} (mean agency fill time {fill_days:.0f} days)"
    )
    if weeks is not None and first_week > weeks:
        return (
            f"Act today: not judged. An agency worker asked for today is working, on average, "
            f"from week {first_week} (mean agency fill time {fill_days:.0f} days, then ramp-up), "
            f"after the {weeks} weeks of this outlook; run it for {first_week} weeks or more."
        )
    if not chosen:
        return f"{head}\n  no team reaches {level:.0%} in those weeks: no request is needed"
    lines = [head]
    for team, k in chosen.items():
        rows = table[(table["search"] == team) & (table["team"] == team)]
        today = rows["today_worst_chance"].iloc[0] if len(rows) else float("nan")
        if k is None:
            lines.append(f"  {_short(team)}: {percent(today)}% today; no request of up to "
                         f"{int(rows['agency_requested'].max())} meets it")  # fmt: skip
            continue
        row = rows[rows["agency_requested"] == k].iloc[0]
        lines.append(
            f"  {_short(team)}: ask for {k} agency worker{'s' if k != 1 else ''}: worst week "
            f"{percent(today)}% -> {percent(row['worst_chance'])}%; extra cost "
            f"{money(row['extra_cost_gbp'])} "
            f"(95% CI {money(row['extra_cost_low_gbp'])} to {money(row['extra_cost_high_gbp'])})"
        )
    together = table[table["search"] == TOGETHER]
    if len(together):
        ok = bool(together["meets_level"].all())
        lines.append(
            f"  together: {'meets' if ok else 'does NOT meet'} the level in every team "
            f"(worst {percent(together['worst_chance'].max())}%); extra cost "
            f"{money(together['extra_cost_gbp'].iloc[0])}"
        )
    return "\n".join(lines)
