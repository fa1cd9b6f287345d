"""The search: every candidate plan on the same seeds, Optuna choosing the next plan.

Covers: judging one replication against the target (:func:`judge`), evaluating a plan on the
search seeds with early pruning of plans that clearly miss (:class:`Evaluator`), the Optuna
study (a grid when the space is small, TPE otherwise), the cost-risk frontier and the Wilson
interval of a chance.

Assumptions: common random numbers, so replication *i* of every plan sees the same children
(:mod:`demandsim.streams`) and plans are compared on the same dice. A plan "clearly misses"
when, after ``prune_after`` replications, the Wilson 95% upper bound of its chance of meeting
the target is below the required chance; pruned plans are not on the frontier. Cost is the
service's total cost over the forecast (from the KPI rows, every financial year) plus the
premium agency contract; the annual cost divides it by the forecast's years.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from demandsim.batch.replicate import close_pool, pool_map, worker_pool
from demandsim.measures import DAILY_NAMES, SERVICE, TOTAL_COST
from demandsim.optimise.target import OptimiseFile, lever_space, plan_overrides
from demandsim.replication import Replication, forecast_dates, simulate, staffed_teams, team_labels
from demandsim.scenario import Scenario
from demandsim.scenario_files import apply_overrides

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Outcome:
    """One replication of one plan, judged: small enough to pass between processes."""

    seed: int
    cost_gbp: float  # model cost over the forecast, every financial year, whole service
    meets: bool  # every each-replication condition met
    means: tuple[float, ...]  # the value of each mean-judged KPI condition


def judge(rep: Replication, scenario: Scenario, spec: OptimiseFile) -> Outcome:
    """Whether one replication meets the target's each-replication conditions, and its cost."""
    kpis = rep.kpis
    cost = float(
        kpis.loc[(kpis["team"] == SERVICE) & (kpis["measure"] == TOTAL_COST), "value"].sum()
    )
    teams = team_labels(scenario)
    meets = True
    for cond in spec.target.daily:
        series = rep.daily[: cond.first_days, :, DAILY_NAMES.index(cond.measure)]
        for team in cond.teams or staffed_teams(scenario):
            ok_days = (series[:, teams.index(team)] <= cond.at_most + 1e-9).mean()
            meets &= bool(ok_days >= cond.on_share_of_days - 1e-12)
    means = []
    for cond in spec.target.kpi:
        rows = kpis[
            (kpis["team"] == cond.team)
            & (kpis["measure"] == cond.measure)
            & (kpis["period"] == cond.period)
        ]["value"]
        value = float(rows.iloc[0]) if len(rows) else math.nan
        if cond.judged_on == "mean":
            means.append(value)
        else:
            meets &= bool(value <= cond.at_most)
    return Outcome(rep.seed, cost, meets, tuple(means))


def _run_one(scenario: Scenario, seed: int, spec: OptimiseFile) -> Outcome:
    return judge(simulate(scenario, seed), scenario, spec)


@dataclass
class PlanResult:
    """A plan and what its replications said."""

    levers: dict[str, Any]
    scenario: Scenario
    premium_gbp: float
    outcomes: list[Outcome] = field(default_factory=list)
    pruned: bool = False

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def meets(self) -> int:
        return sum(o.meets for o in self.outcomes)

    @property
    def chance(self) -> float:
        return self.meets / self.n if self.n else math.nan

    @property
    def miss_chance(self) -> float:
        return 1 - self.chance

    @property
    def cost_gbp(self) -> float:
        return float(np.mean([o.cost_gbp for o in self.outcomes])) + self.premium_gbp

    def annual_cost_gbp(self) -> float:
        return self.cost_gbp / self.scenario.forecast_years

    def means(self) -> list[float]:
        return [float(np.nanmean(v)) for v in zip(*(o.means for o in self.outcomes), strict=True)]

    def means_ok(self, spec: OptimiseFile) -> bool:
        """Whether every mean-judged KPI condition holds on average over the replications."""
        mean_conds = [c for c in spec.target.kpi if c.judged_on == "mean"]
        return all(m <= c.at_most for m, c in zip(self.means(), mean_conds, strict=True))

    def feasible(self, spec: OptimiseFile) -> bool:
        """Whether the plan meets the whole target: the chance of meeting every
        each-replication condition, and every mean-judged one."""
        return (
            not self.pruned and self.chance >= spec.target.chance_at_least and self.means_ok(spec)
        )


def premium_cost(spec: OptimiseFile, scenario: Scenario, levers: dict[str, Any]) -> float:
    premium = spec.levers.premium_agency
    if premium is None or not levers.get("premium_agency"):
        return 0.0
    return premium.cost_per_day_gbp * len(forecast_dates(scenario))


class Evaluator:
    """Runs plans on a fixed tuple of seeds (serially, or on a process pool of ``jobs``)."""

    def __init__(self, spec: OptimiseFile, base: Scenario, seeds: Iterable[int], jobs: int = 1):
        self.spec, self.base, self.seeds = spec, base, tuple(seeds)
        self.pool = worker_pool(jobs)

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        close_pool(self.pool, interrupted=kind is not None)

    def _outcomes(self, scenario: Scenario, seeds: Iterable[int]) -> list[Outcome]:
        return pool_map(self.pool, _run_one, [(scenario, s, self.spec) for s in seeds])

    def plan(self, levers: dict[str, Any]) -> PlanResult:
        scenario = apply_overrides(self.base, plan_overrides(self.spec, self.base, levers))
        return PlanResult(dict(levers), scenario, premium_cost(self.spec, scenario, levers))

    def evaluate(self, levers: dict[str, Any], prune: bool = True) -> PlanResult:
        result = self.plan(levers)
        first = self.spec.search.prune_after if prune else len(self.seeds)
        result.outcomes = self._outcomes(result.scenario, self.seeds[:first])
        _, upper = wilson(result.meets, result.n)
        if prune and first < len(self.seeds) and upper < self.spec.target.chance_at_least:
            result.pruned = True
            return result
        result.outcomes += self._outcomes(result.scenario, self.seeds[first:])
        return result


@dataclass
class SearchResult:
    plans: list[PlanResult]
    chosen: PlanResult | None
    seeds: tuple[int, ...]
    sampler: str
    seconds: float


def search(
    spec: OptimiseFile,
    base: Scenario,
    seeds: Iterable[int],
    jobs: int = 1,
    max_plans: int | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SearchResult:
    """Search the lever space for the cheapest plan meeting the target, every plan on ``seeds``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = lever_space(spec)
    size = math.prod(len(v) for v in space.values())
    budget = min(max_plans or spec.search.max_plans, size)
    kind = spec.search.sampler
    if kind == "auto":
        kind = "grid" if size <= budget else "tpe"
    sampler = (
        optuna.samplers.GridSampler(space, seed=spec.search.sampler_seed)
        if kind == "grid"
        else optuna.samplers.TPESampler(
            seed=spec.search.sampler_seed, n_startup_trials=min(10, budget)
        )
    )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    evaluator = Evaluator(spec, base, seeds, jobs)
    seen: dict[tuple, PlanResult] = {}
    started = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        levers = {name: trial.suggest_categorical(name, values) for name, values in space.items()}
        key = tuple(levers.values())
        if key not in seen:
            seen[key] = evaluator.evaluate(levers)
            r = seen[key]
            state = "pruned" if r.pruned else f"£{r.annual_cost_gbp():,.0f}/yr"
            say(f"plan {len(seen)}/{budget}: {_brief(levers)}: meets {r.meets}/{r.n}, {state}")
        result = seen[key]
        trial.set_user_attr("chance", result.chance)
        if result.pruned:
            raise optuna.TrialPruned()
        shortfall = max(0.0, spec.target.chance_at_least - result.chance)
        penalty = 0.0 if result.feasible(spec) else (1 + shortfall) * result.cost_gbp
        return result.cost_gbp + penalty

    with evaluator:
        trials = 0
        while len(seen) < budget and trials < 4 * budget:  # repeats of a plan are free
            study.optimize(objective, n_trials=1)
            trials += 1
            if kind == "grid" and len(study.trials) >= size:
                break
    plans = list(seen.values())
    feasible = [p for p in plans if p.feasible(spec)]
    chosen = min(feasible, key=lambda p: p.cost_gbp) if feasible else None
    return SearchResult(plans, chosen, evaluator.seeds, kind, time.perf_counter() - started)


def _brief(levers: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in levers.items())


def frontier(plans: Iterable[PlanResult], spec: OptimiseFile) -> list[PlanResult]:
    """Plans no other fully evaluated plan beats on both annual cost and chance of missing,
    cheapest first; a plan that misses a mean-judged condition is not on it (the frontier of a
    target judged on means alone is the cheapest plan that meets them)."""
    full = [p for p in plans if not p.pruned and p.means_ok(spec)]
    out = []
    for p in full:
        dominated = any(
            q.cost_gbp <= p.cost_gbp
            and q.miss_chance <= p.miss_chance
            and (q.cost_gbp < p.cost_gbp or q.miss_chance < p.miss_chance)
            for q in full
        )
        if not dominated and not any(_same(p, q) for q in out):
            out.append(p)
    return sorted(out, key=lambda p: p.cost_gbp)


def _same(p: PlanResult, q: PlanResult) -> bool:
    return p.cost_gbp == q.cost_gbp and p.miss_chance == q.miss_chance


def plan_table(
    plans: Iterable[PlanResult], spec: OptimiseFile, chosen: PlanResult | None
) -> pd.DataFrame:
    """One row per plan evaluated: its levers, costs, chance of missing and where it stands."""
    on_front = {id(p) for p in frontier(plans, spec)}
    rows = []
    for p in sorted(plans, key=lambda p: (p.pruned, p.cost_gbp)):
        low, high = wilson(p.meets, p.n)
        rows.append(
            {
                **p.levers,
                "annual_cost_gbp": p.annual_cost_gbp(),
                "total_cost_gbp": p.cost_gbp,
                "premium_contract_gbp": p.premium_gbp,
                "miss_chance": p.miss_chance,
                "miss_chance_low": 1 - high,
                "miss_chance_high": 1 - low,
                "replications": p.n,
                "pruned": p.pruned,
                "meets_target": p.feasible(spec),
                "on_frontier": id(p) in on_front,
                "chosen": p is chosen,
            }
        )
    return pd.DataFrame(rows)
