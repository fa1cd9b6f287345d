"""The optimisation file: the base scenario, the service target, the levers and the search.

Covers: a small TOML file validated like a scenario (strict, frozen, unknown keys refused) whose
errors name the file and the key. A target is one or more conditions a replication meets or
misses, and the chance of meeting all of them it must reach; a condition can also be judged on
the mean over replications (a mean wait, as queueing theory states it).

Scenario: "each team's unallocated cases stay at or below 20 on at least 90% of days of the
first 12 months, with probability 0.9" is one ``[[target.daily]]`` condition with
``at_most = 20``, ``on_share_of_days = 0.9`` and ``chance_at_least = 0.9``; "the chance the
assessment team passes 50 in 12 months is below 10%" is ``teams = ["assessment"]``,
``at_most = 50``, ``on_share_of_days = 1.0``, ``chance_at_least = 0.9``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationError, field_validator, model_validator

from demandsim.measures import DAILY, FORECAST, KPIS, SERVICE
from demandsim.scenario import Count, Frozen, NonNegative, Number, Positive, Scenario, Text
from demandsim.scenario_files import ScenarioError, apply_overrides, load_scenario, read_toml

#: daily measures a condition may bound: levels, not money or ratios of other measures
LEVELS = tuple(name for name, m in DAILY.items() if m.kind == "level")
Chance = Annotated[float, Strict(), Field(gt=0.0, le=1.0)]
Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


class TargetError(ValueError):
    """An optimisation file is invalid; the message names the file and the key."""


class DailyCondition(Frozen):
    """A daily level stays at or below ``at_most`` on at least ``on_share_of_days`` of the first
    ``first_days`` forecast days, in each of ``teams`` (every staffed team when empty)."""

    measure: Literal[LEVELS] = "unallocated_cases"  # type: ignore[valid-type]
    teams: tuple[Text, ...] = ()
    at_most: NonNegative
    on_share_of_days: Share = 1.0
    first_days: Annotated[int, Strict(), Field(ge=1, le=36_525)] = 365


class KpiCondition(Frozen):
    """A KPI (``demandsim.measures.KPIS``) of ``team`` in ``period`` is at most ``at_most``:
    in each replication, or (``judged_on = "mean"``) on average over the replications."""

    measure: Text
    team: Text = SERVICE
    period: Text = FORECAST
    at_most: Number
    judged_on: Literal["each_replication", "mean"] = "each_replication"

    @field_validator("measure")
    @classmethod
    def _known(cls, measure: str) -> str:
        if measure not in KPIS:
            raise ValueError(f"not a KPI; expected one of {sorted(KPIS)}")
        return measure


class Target(Frozen):
    chance_at_least: Chance = Field(
        0.9, description="Chance a replication meets every each-replication condition."
    )
    daily: tuple[DailyCondition, ...] = ()
    kpi: tuple[KpiCondition, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> Target:
        if not self.daily and not self.kpi:
            raise ValueError("a target needs at least one [[target.daily]] or [[target.kpi]]")
        return self


class Range(Frozen):
    """Whole numbers from ``min`` to ``max``; ``[min, max]`` is shorthand."""

    min: Count
    max: Count

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"min": value[0], "max": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def values(self) -> list[int]:
        return list(range(self.min, self.max + 1))


class PostsRange(Range):
    """Posts in a team. New posts start ``vacant`` (recruited to, or covered by agency as the
    policy says) or ``permanent`` (filled from the first day; posts cut are permanent ones)."""

    new_posts: Literal["vacant", "permanent"] = "vacant"


class AgencyLevers(Frozen):
    request_on: tuple[Literal["vacancy", "backlog", "never"], ...] = ()
    max_extra_per_team: Range | None = None


class PremiumAgency(Frozen):
    """A premium agency contract: a faster fill at a standing cost while it is in force."""

    fill_days: Positive
    fill_share: Chance | None = None
    cost_per_day_gbp: NonNegative


class Levers(Frozen):
    posts: dict[str, PostsRange] = Field(default_factory=dict)
    caseload_cap: dict[str, Range] = Field(default_factory=dict)
    agency_policy: AgencyLevers = AgencyLevers()
    premium_agency: PremiumAgency | None = None


class Search(Frozen):
    replications: Annotated[int, Strict(), Field(ge=2, le=1000)] = 10
    prune_after: Annotated[int, Strict(), Field(ge=1, le=1000)] = 3
    max_plans: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 40
    confirm_replications: Annotated[int, Strict(), Field(ge=2, le=10_000)] = 30
    first_seed: Count = 0
    sampler: Literal["auto", "tpe", "grid"] = "auto"
    sampler_seed: Count = 0

    @model_validator(mode="after")
    def _prune_inside(self) -> Search:
        if self.prune_after > self.replications:
            raise ValueError(
                f"prune_after ({self.prune_after}) is more than replications ({self.replications})"
            )
        return self


class OptimiseFile(Frozen):
    name: Text = Field(min_length=1, max_length=200)
    description: Text = ""
    scenario: Text = Field(description="The base scenario, relative to this file.")
    years: Positive | None = None
    target: Target
    levers: Levers
    search: Search = Search()


def load_target(path: str | Path, years: float | None = None) -> tuple[OptimiseFile, Scenario]:
    """Read and check an optimisation file and its base scenario; errors name file and key."""
    path = Path(path)
    where = str(path)
    try:
        data = read_toml(path, where)
    except ScenarioError as exc:
        raise TargetError(str(exc)) from None
    try:
        spec = OptimiseFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                lines.append(f"{where}: {key}: unknown key (see docs/optimise.md)")
            elif err["type"] == "missing":
                lines.append(f"{where}: {key}: required key is missing")
            else:
                got = repr(err.get("input"))
                got = got if len(got) <= 120 else got[:117] + "..."
                lines.append(f"{where}: {key}: {msg}; got {got}")
        raise TargetError("invalid optimisation file\n  " + "\n  ".join(lines)) from None
    if years is None:
        years = spec.years
    try:
        scenario = load_scenario(path.parent / spec.scenario, years=years)
    except ScenarioError as exc:
        raise TargetError(f"{where}: scenario: {exc}") from None
    _check_against(spec, scenario, where)
    return spec, scenario


def _check_against(spec: OptimiseFile, scenario: Scenario, where: str) -> None:
    """Team names exist, and each lever at its bounds makes a valid scenario."""
    staffed = [n for n, t in scenario.teams.items() if not t.is_service]

    def team_ok(name: str, key: str) -> None:
        if name not in staffed:
            raise TargetError(
                f"{where}: {key}: {name!r} is not a staffed team; expected one of {staffed}"
            )

    for i, cond in enumerate(spec.target.daily):
        for team in cond.teams:
            team_ok(team, f"target.daily.{i}.teams")
    years = None
    for i, cond in enumerate(spec.target.kpi):
        if cond.team != SERVICE:
            team_ok(cond.team, f"target.kpi.{i}.team")
        if cond.period == FORECAST:
            continue
        if not KPIS[cond.measure].is_money:  # a typo ("forcast") matched no row: every plan missed
            raise TargetError(
                f"{where}: target.kpi.{i}.period: expected {FORECAST!r} ({cond.measure} is over "
                f"the whole forecast; only money is by financial year); got {cond.period!r}"
            )
        if years is None:
            from demandsim.calendar import financial_year
            from demandsim.replication import forecast_dates

            years = sorted(set(financial_year(forecast_dates(scenario).to_numpy())))
        if cond.period not in years:
            raise TargetError(
                f"{where}: target.kpi.{i}.period: expected {FORECAST!r} or a financial year of "
                f"the forecast, one of {years}; got {cond.period!r}"
            )
    for group in ("posts", "caseload_cap"):
        for team, bounds in getattr(spec.levers, group).items():
            team_ok(team, f"levers.{group}.{team}")
            for end in (bounds.min, bounds.max):
                lever = {f"{group}.{team}": end}
                try:
                    apply_overrides(scenario, plan_overrides(spec, scenario, lever))
                except ScenarioError as exc:
                    detail = str(exc).split("\n", 1)[-1].strip()
                    raise TargetError(
                        f"{where}: levers.{group}.{team}: {end} does not make a valid scenario: "
                        f"{detail}"
                    ) from None


def lever_space(spec: OptimiseFile) -> dict[str, list[Any]]:
    """Each lever's name and the values it may take (the first is not special)."""
    space: dict[str, list[Any]] = {}
    for team, bounds in spec.levers.posts.items():
        space[f"posts.{team}"] = bounds.values()
    for team, bounds in spec.levers.caseload_cap.items():
        space[f"caseload_cap.{team}"] = bounds.values()
    agency = spec.levers.agency_policy
    if agency.request_on:
        space["agency_policy.request_on"] = list(agency.request_on)
    if agency.max_extra_per_team is not None:
        space["agency_policy.max_extra_per_team"] = agency.max_extra_per_team.values()
    if spec.levers.premium_agency is not None:
        space["premium_agency"] = [False, True]
    return space


def today(spec: OptimiseFile, scenario: Scenario) -> dict[str, Any]:
    """The base scenario's value of every lever."""
    policy = scenario.workforce.agency_policy
    values: dict[str, Any] = {}
    for name in lever_space(spec):
        group, _, rest = name.partition(".")
        if group == "posts":
            values[name] = scenario.teams[rest].posts
        elif group == "caseload_cap":
            values[name] = scenario.teams[rest].caseload_cap
        elif group == "agency_policy":
            values[name] = getattr(policy, rest)
        else:
            values[name] = False
    return values


def plan_overrides(spec: OptimiseFile, scenario: Scenario, plan: dict[str, Any]) -> list[str]:
    """The ``--set`` assignments that make ``plan`` (lever name -> value) from the scenario."""
    out: list[str] = []
    for name, value in plan.items():
        group, _, rest = name.partition(".")
        if group == "posts":
            team = scenario.teams[rest]
            out.append(f"teams.{rest}.posts={value}")
            if spec.levers.posts[rest].new_posts == "permanent":
                permanent = max(0, team.initial_permanent + value - team.posts)
                out.append(f"teams.{rest}.initial_permanent={permanent}")
        elif group == "caseload_cap":
            out.append(f"teams.{rest}.caseload_cap={value}")
        elif group == "agency_policy":
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            out.append(f"workforce.agency_policy.{rest}={shown}")
        elif group == "premium_agency" and value:
            premium = spec.levers.premium_agency
            assert premium is not None
            out.append(f"workforce.agency.fill_days={premium.fill_days}")
            if premium.fill_share is not None:
                out.append(f"workforce.agency.fill_share={premium.fill_share}")
    return out
