"""The scenario: every parameter the model reads, validated once and frozen.

A scenario is built from TOML files (see :mod:`demandsim.scenario_files`); this module only says
what a valid scenario is. Defaults live here and nowhere else. Units are in the key names:
``*_days`` are calendar days, ``*_per_year`` are annual rates, ``*_share`` are fractions in [0, 1],
``*_gbp`` are pounds.

Everything a run could trip over later is refused here, before any work starts: numbers are
finite and of the right kind (``true`` is not a count, ``"92"`` is not a number), dates lie in
1990..2100, sizes stay under the ceilings of :class:`Limits` (which a scenario may raise in its
``[limits]`` table), and the pathway is an absorbing Markov chain: every stage can reach an exit,
so every loop has a way out, and cases pass through a bounded number of stages on average.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

# Strict scalars: an int or a float is a number, a bool or a string is not; every float is finite
# (``allow_inf_nan=False`` on :class:`Frozen`).
Number = Annotated[float, Strict()]
Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Strict(), Field(ge=0.0)]
Positive = Annotated[float, Strict(), Field(gt=0.0)]
Count = Annotated[int, Strict(), Field(ge=0)]
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]
#: a growth or inflation rate a year: above -100%, at most +100%
Rate = Annotated[float, Strict(), Field(gt=-1.0, le=1.0)]
#: the longest mean duration of a stage or a staffing delay (about 2,700 years: "never" in tests)
MAX_DURATION_DAYS = 1_000_000
#: the largest coefficient of variation a duration may have
MAX_CV = 10.0
#: the earliest and latest start dates
FIRST_START_DATE = dt.date(1990, 1, 1)
LAST_START_DATE = dt.date(2100, 12, 31)

#: coefficient of variation of a gamma or lognormal duration that does not give one
DEFAULT_CV = 0.5
#: how close a set of probabilities must sum to 1
PROBABILITY_TOLERANCE = 1e-6
#: days in an average year, for turning annual amounts into daily ones
DAYS_PER_YEAR = 365.25
#: the shortest forecast: a day
MIN_YEARS = 1 / DAYS_PER_YEAR


class Frozen(BaseModel):
    """Base for every scenario part: unknown keys are errors and nothing changes after load."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class KeyedError(ValueError):
    """A check across several keys that knows which one is wrong: ``key`` is the path below the
    model that raised it, ``found`` the offending value (shown in the message)."""

    def __init__(self, message: str, key: tuple[str, ...] = (), found: Any = None) -> None:
        super().__init__(message)
        self.key = key
        self.found = found


class Limits(Frozen):
    """Ceilings that catch a slipped digit before a run takes hours or gigabytes.

    The defaults hold several times the largest English council (about 75,000 contacts and
    2,000 social workers a year). A scenario that really needs more raises one in its
    ``[limits]`` table, or on the command line with ``--set limits.max_years=60``.
    """

    max_years: Positive = Field(30, description="Longest forecast, in years.")
    max_warmup_days: Count = Field(3653, description="Longest warm-up, in days (10 years).")
    max_contacts_per_year: Positive = Field(
        500_000,
        description="Most contacts a year (demand.contacts_per_year, each month of "
        "demand.monthly_contacts times 12).",
    )
    max_cases_per_stage: Count = Field(
        100_000,
        description="Most open cases at the start of a stage (initial_cases) and most "
        "places in a service (capacity_cases).",
    )
    max_posts: Count = Field(10_000, description="Most posts in a team.")
    max_simulated_cases: Positive = Field(
        1_000_000,
        description="Most cases in one replication: expected contacts over the warm-up and "
        "forecast plus the cases open at the start. Memory grows with it, about 1.5 KB a case: "
        "1.7 GB a replication at the limit (measured: 265,000 cases 550 MB, 528,000 950 MB).",
    )
    max_stages_per_case: Positive = Field(
        100, description="Most stages a case passes through on average (loops in the pathway)."
    )


def _check_probabilities(probs: dict[str, float], what: str) -> dict[str, float]:
    total = sum(probs.values())
    if probs and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")
    return probs


class Duration(Frozen):
    """A duration distribution in calendar days.

    ``gamma`` and ``lognormal`` take a mean and a coefficient of variation (sd / mean);
    ``exponential`` has cv 1 by definition; ``fixed`` is always ``mean_days``.
    In a scenario file a bare number is shorthand for the mean (``fill_days = 3``): over a base
    that gives a full table it changes only ``mean_days``.
    """

    dist: Literal["fixed", "exponential", "gamma", "lognormal"] = "gamma"
    mean_days: Annotated[float, Strict(), Field(ge=0.0, le=MAX_DURATION_DAYS)]
    cv: Annotated[float, Strict(), Field(ge=0.0, le=MAX_CV)] | None = Field(
        None, description=f"gamma and lognormal only; {DEFAULT_CV} when not given"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand_and_default_cv(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = {"mean_days": value}
        elif not isinstance(value, dict | Duration):
            raise ValueError(
                "expected a number of days (fill_days = 3) or a table such as "
                '{dist = "gamma", mean_days = 3, cv = 0.5}'
            )
        gamma_or_lognormal = isinstance(value, dict) and value.get("dist", "gamma") in (
            "gamma",
            "lognormal",
        )
        if gamma_or_lognormal and value.get("cv") is None:
            value = {**value, "cv": DEFAULT_CV}
        return value

    @model_validator(mode="after")
    def _cv_matters(self) -> Duration:
        if self.cv is not None and self.dist in ("fixed", "exponential"):
            raise ValueError(f"cv is not used by the {self.dist} distribution; remove it")
        if self.dist in ("gamma", "lognormal") and self.cv == 0:
            raise ValueError("cv must be > 0 for gamma and lognormal (use dist = 'fixed')")
        return self


class Stage(Frozen):
    """One stage of the child's journey: who serves it, how long it lasts, where it leads."""

    description: Text = ""
    team: Text
    duration: Duration
    clock: Literal["allocation", "entry"] = Field(
        "allocation",
        description="'allocation': the work starts when a worker takes the case (assessments); "
        "'entry': the episode runs from entry whether or not a worker is allocated (plans, care).",
    )
    routes: dict[str, Share]
    routes_by_month: dict[str, dict[str, Share]] = Field(
        default_factory=dict,
        description="Routing by calendar month of the contact ('YYYY-MM'), overriding routes.",
    )
    priority: Annotated[int, Strict()] = Field(
        0, description="Lower is served first when queue_order = 'priority'."
    )
    blocking: Flag = Field(
        False,
        description="A case moving into this stage while its team is full stays with the "
        "sending worker until the team takes it.",
    )
    initial_cases: Count = Field(0, description="Open cases at the start of the warm-up.")

    @field_validator("routes")
    @classmethod
    def _routes_sum(cls, routes: dict[str, float]) -> dict[str, float]:
        if not routes:
            raise ValueError("a stage needs at least one route (a stage or an exit)")
        return _check_probabilities(routes, "routes")

    @field_validator("routes_by_month")
    @classmethod
    def _monthly_routes(cls, months: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for month, routes in months.items():
            _parse_month(month)
            _check_probabilities(routes, f"routes_by_month.{month}")
        return months


def _reachable(entry: str, table: dict[str, dict[str, float]]) -> set[str]:
    seen, todo = {entry}, [entry]
    while todo:
        for target, p in table.get(todo.pop(), {}).items():
            if p > 0 and target in table and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _parse_month(text: str) -> tuple[int, int]:
    try:
        parsed = dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"month keys are 'YYYY-MM', got {text!r}") from None
    return parsed.year, parsed.month


class Pathway(Frozen):
    """The journey as a graph: stages, their routes, and the exits where cases close."""

    entry: Text = "front_door"
    referral_stage: Text = Field("mash", description="Entering this stage counts as a referral.")
    assessment_stage: Text = Field("assessment", description="Its completion is the assessment.")
    exits: tuple[Text, ...]
    stages: dict[str, Stage]
    children_in_need_stages: tuple[Text, ...] = Field(
        (),
        description="Stages whose open cases are counted as children in need (as the DfE counts "
        "them: with child protection plans and children looked after), for reports.",
    )
    child_protection_stages: tuple[Text, ...] = Field(
        (), description="Stages whose open cases are children on a child protection plan."
    )

    @model_validator(mode="after")
    def _graph(self) -> Pathway:
        if not self.exits:
            raise KeyedError("at least one exit is needed, where cases close", ("exits",), [])
        names = set(self.stages)
        clash = names & set(self.exits)
        if clash:
            raise KeyedError(
                f"names used both as stage and exit: {sorted(clash)}", ("exits",), self.exits
            )
        for field in ("children_in_need_stages", "child_protection_stages"):
            unknown = [s for s in getattr(self, field) if s not in names]
            if unknown:
                raise KeyedError(
                    f"{field} names {unknown}, which are not stages: {sorted(names)}",
                    (field,),
                    getattr(self, field),
                )
        for field in ("entry", "referral_stage", "assessment_stage"):
            if getattr(self, field) not in names:
                raise KeyedError(
                    f"{field} {getattr(self, field)!r} is not a stage: {sorted(names)}",
                    (field,),
                    getattr(self, field),
                )
        targets = names | set(self.exits)
        for name, stage in self.stages.items():
            tables = {"routes": stage.routes}
            tables |= {f"routes_by_month.{m}": r for m, r in stage.routes_by_month.items()}
            for label, routes in tables.items():
                unknown = set(routes) - targets
                if unknown:
                    raise KeyedError(
                        f"stages.{name}.{label} names {sorted(unknown)}, which is neither a stage "
                        f"nor an exit; expected one of {sorted(targets)}",
                        ("stages", name, *label.split(".", 1)),
                        routes,
                    )
        self._absorbing()
        return self

    def routing_tables(self) -> dict[str, dict[str, dict[str, float]]]:
        """The routes each case can follow: the default tables, and for each month named in any
        ``routes_by_month`` the tables of a contact in that month."""
        default = {name: dict(stage.routes) for name, stage in self.stages.items()}
        months = sorted({m for stage in self.stages.values() for m in stage.routes_by_month})
        tables = {"routes": default}
        for month in months:
            tables[f"routes_by_month.{month}"] = {
                name: dict(stage.routes_by_month.get(month, stage.routes))
                for name, stage in self.stages.items()
            }
        return tables

    def _absorbing(self) -> None:
        """Every stage can reach an exit (so no loop is closed) and every stage is reached.

        The routing matrix of each table set is an absorbing Markov chain with the exits as
        absorbing states exactly when an exit can be reached from every stage along routes of
        positive probability; then every case leaves with probability 1.
        """
        names = list(self.stages)
        reached: set[str] = set()
        for label, table in self.routing_tables().items():
            can_exit = {
                n for n in names if any(p > 0 and t in self.exits for t, p in table[n].items())
            }
            grew = True
            while grew:
                grew = False
                for n in names:
                    if n not in can_exit and any(
                        p > 0 and t in can_exit for t, p in table[n].items()
                    ):
                        can_exit.add(n)
                        grew = True
            trapped = [n for n in names if n not in can_exit]
            if trapped:
                first = trapped[0]
                where = "routes" if label == "routes" else label
                raise KeyedError(
                    f"stages {trapped} form a loop with no way out: no route from them leads, "
                    f"however indirectly, to an exit {list(self.exits)}; give the loop an exit",
                    ("stages", first, *where.split(".", 1)),
                    table[first],
                )
            reached |= _reachable(self.entry, table)
        unreached = [n for n in names if n not in reached and not self.stages[n].initial_cases]
        if unreached:
            raise KeyedError(
                f"stage {unreached[0]!r} is never reached: no route from the entry "
                f"{self.entry!r} leads to it and it has no initial_cases; route to it or remove it",
                ("stages", self.entry, "routes"),
                dict(self.stages[self.entry].routes),
            )

    def expected_stages(self, start: str) -> float:
        """Mean number of stages a case starting in ``start`` passes through before it leaves,
        under the route tables that make it longest (fundamental matrix of the chain)."""
        return self._visits(start)[0]

    def _visits(self, start: str) -> tuple[float, str]:
        """(mean stages passed through from ``start``, the stage visited most often)."""
        import numpy as np  # here, so loading a scenario stays light

        names = list(self.stages)
        index = {n: i for i, n in enumerate(names)}
        most, busiest = 0.0, start
        for table in self.routing_tables().values():
            q = np.zeros((len(names), len(names)))
            for n, routes in table.items():
                for target, p in routes.items():
                    if target in index:
                        q[index[n], index[target]] += p
            try:
                visits = np.linalg.solve(np.eye(len(names)) - q.T, np.eye(len(names))[index[start]])
            except np.linalg.LinAlgError:
                return float("inf"), start
            if visits.sum() > most:
                most, busiest = float(visits.sum()), names[int(np.argmax(visits))]
        return most, busiest


class Team(Frozen):
    """A team's establishment and how much each worker can carry.

    A team with ``capacity_cases`` set is a service with a fixed number of places (Early Help's
    contract of 400 families) and no modelled workforce.
    """

    description: Text = ""
    posts: Count = 0
    initial_permanent: Count = 0
    initial_agency: Count = 0
    caseload_cap: Annotated[int, Strict(), Field(ge=1)] = 18
    nq_caseload_cap: Annotated[int, Strict(), Field(ge=1)] = 12
    sickness_share: Share = 0.05
    hire_success_share: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] | None = Field(
        None, description="Overrides workforce.permanent.hire_success_share for this team."
    )
    permanent_turnover_per_year: NonNegative | None = Field(
        None, description="Overrides workforce.permanent.turnover_per_year for this team."
    )
    capacity_cases: Annotated[int, Strict(), Field(ge=1)] | None = None
    vacancy_fill_factor: Positive = Field(
        1.0,
        description="Multiplies the days to fill this team's vacant posts, by a permanent "
        "recruit or by agency cover (a hiring freeze, or a shortage in this team's market); "
        "agency asked for above establishment is not affected. demandsim outlook sets it from "
        "the team's recent vacancy log.",
    )
    agency_requested_on_day_one: Count = Field(
        0,
        description="Agency workers above establishment asked for on the first day: each "
        "starts after workforce.agency.fill_days if the market fills it (workforce.agency."
        "fill_share) and stays as agency_policy.extra_engagement_days says (demandsim outlook).",
    )

    @model_validator(mode="after")
    def _filled_posts(self) -> Team:
        if self.initial_permanent + self.initial_agency > self.posts:
            raise ValueError(
                f"initial_permanent + initial_agency ({self.initial_permanent} + "
                f"{self.initial_agency}) exceeds posts ({self.posts})"
            )
        if self.capacity_cases is not None and self.posts:
            raise ValueError("a service with capacity_cases has no posts; set one or the other")
        return self

    @property
    def is_service(self) -> bool:
        return self.capacity_cases is not None


class PermanentStaff(Frozen):
    turnover_per_year: NonNegative = 0.16
    recruit_days: Duration = Duration(dist="gamma", mean_days=41, cv=0.4)
    notice_days: Duration = Duration(dist="gamma", mean_days=42, cv=0.3)
    hire_success_share: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.7
    retry_days: NonNegative = 14
    ramp_up_days: NonNegative = 42
    nq_share: Share = 0.2
    nq_days: NonNegative = 365


class AgencyStaff(Frozen):
    turnover_per_year: NonNegative = 0.6
    fill_days: Duration = Duration(dist="gamma", mean_days=26, cv=0.5)
    fill_share: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.9
    retry_days: NonNegative = 7
    ramp_up_days: NonNegative = 7
    release_on_permanent_start: Flag = True


class AgencyPolicy(Frozen):
    """When to ask for agency cover: on every vacancy, or only once a backlog builds."""

    request_on: Literal["vacancy", "backlog", "never"] = "vacancy"
    backlog_threshold_cases: Count = 10
    max_extra_per_team: Count = 0
    extra_engagement_days: Annotated[float, Strict(), Field(ge=1.0)] = 84
    review_every_days: Annotated[float, Strict(), Field(ge=1.0)] = 7


class Workforce(Frozen):
    permanent: PermanentStaff = PermanentStaff()
    agency: AgencyStaff = AgencyStaff()
    agency_policy: AgencyPolicy = AgencyPolicy()


class Surge(Frozen):
    """A surge (or, below 0, a lull) in contacts over a range of calendar months.

    Every day from the first day of ``first_month`` to the last day of ``last_month`` has its
    expected contacts multiplied by ``1 + percent / 100``, on top of everything else that shapes
    the daily intensity (growth, monthly factors, named months, an intensity file).
    """

    first_month: Text = Field(description="First month of the surge, 'YYYY-MM' (included).")
    last_month: Text = Field(description="Last month of the surge, 'YYYY-MM' (included).")
    percent: Annotated[float, Strict(), Field(gt=-100.0)] = Field(
        description="Change in expected contacts in those months, in percent (25 = a quarter "
        "more, -10 = a tenth fewer)."
    )

    @field_validator("first_month", "last_month")
    @classmethod
    def _a_month(cls, v: str) -> str:
        try:
            year, _ = _parse_month(v)
        except ValueError:
            raise ValueError("expected a month as 'YYYY-MM', such as '2026-10'") from None
        if not FIRST_START_DATE.year <= year <= LAST_START_DATE.year:
            raise ValueError(
                f"expected a month from {FIRST_START_DATE.year} to {LAST_START_DATE.year}"
            )
        return v

    @model_validator(mode="after")
    def _in_order(self) -> Surge:
        if _parse_month(self.last_month) < _parse_month(self.first_month):
            raise KeyedError(
                f"expected a month no earlier than demand.surge.first_month = {self.first_month!r}",
                ("last_month",),
                self.last_month,
            )
        return self

    def months(self) -> int:
        """How many calendar months the surge covers."""
        (y0, m0), (y1, m1) = _parse_month(self.first_month), _parse_month(self.last_month)
        return (y1 - y0) * 12 + m1 - m0 + 1


class Demand(Frozen):
    """Contacts arrive as a non-homogeneous Poisson process with this daily intensity."""

    contacts_per_year: NonNegative
    growth_per_year: Rate = 0.0
    monthly_factors: tuple[NonNegative, ...] = Field(
        (1.0,) * 12, description="Relative daily rate of contacts in each month, Jan..Dec."
    )
    weekday_factors: tuple[NonNegative, ...] = (1.2, 1.2, 1.2, 1.2, 1.2, 0.0, 0.0)
    school_holiday_factor: NonNegative = 0.8
    end_of_term_factor: NonNegative = 1.5
    end_of_term_days: Annotated[int, Strict(), Field(ge=0, le=30)] = 2
    sources: dict[str, Share] = Field(default_factory=lambda: {"all": 1.0})
    monthly_contacts: dict[str, NonNegative] = Field(
        default_factory=dict, description="Exact expected contacts for named months ('YYYY-MM')."
    )
    intensity_file: Text | None = Field(
        None,
        description="CSV of daily expected contacts (date, then one column per predictive "
        "sample) written by calibration; replaces the profile above where it has dates.",
    )
    surge: Surge | None = Field(
        None,
        description="A surge in contacts over a range of months: "
        "[demand.surge] first_month, last_month, percent.",
    )

    @field_validator("monthly_factors")
    @classmethod
    def _twelve(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12 or sum(v) <= 0:
            raise ValueError(f"needs 12 non-negative factors (Jan..Dec), not all 0; got {len(v)}")
        return v

    @field_validator("weekday_factors")
    @classmethod
    def _seven(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 7 or sum(v) <= 0:
            raise ValueError(f"needs 7 non-negative factors (Mon..Sun), not all 0; got {len(v)}")
        return v

    @field_validator("sources")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_probabilities(v, "sources")

    @field_validator("monthly_contacts")
    @classmethod
    def _months(cls, v: dict[str, float]) -> dict[str, float]:
        for month in v:
            _parse_month(month)
        return v


PLACEMENT_TYPES = ("in_house_fostering", "independent_fostering", "residential", "other")


class Costs(Frozen):
    """Unit costs, in prices of the financial year in which the forecast starts.

    Staff costs accrue per calendar day a worker is in post; placement costs per child per day in
    care (weekly cost / 7). Later financial years are uplifted by ``inflation_per_year`` from each
    1 April. An agency worker costs ``agency_day_rate_gbp`` per billed day
    (``agency_charge = "day_rate"``) or the permanent cost plus ``agency_premium_share``
    (``agency_charge = "premium"``).
    """

    permanent_salary_per_year_gbp: NonNegative = 40_000
    permanent_on_costs_share: NonNegative = Field(
        0.3, description="Employer's national insurance and pension, as a share of salary."
    )
    retention_per_permanent_per_year_gbp: NonNegative = 0
    agency_charge: Literal["day_rate", "premium"] = "day_rate"
    agency_day_rate_gbp: NonNegative = 350
    agency_billed_days_per_year: Annotated[float, Strict(), Field(gt=0.0, le=366.0)] = 225
    agency_premium_share: NonNegative = 0.6
    recruitment_per_permanent_hire_gbp: NonNegative = 5_000
    agency_finder_fee_gbp: NonNegative = 0
    care_stages: tuple[Text, ...] = Field(
        (), description="Stages whose open cases are children in care (placements)."
    )
    placement_per_week_gbp: dict[str, NonNegative] = Field(
        default_factory=lambda: {
            "in_house_fostering": 500,
            "independent_fostering": 950,
            "residential": 5_500,
            "other": 600,
        }
    )
    placement_mix: dict[str, Share] = Field(
        default_factory=lambda: {
            "in_house_fostering": 0.45,
            "independent_fostering": 0.25,
            "residential": 0.12,
            "other": 0.18,
        }
    )
    out_of_area_share: Share = 0.0
    out_of_area_uplift_share: NonNegative = Field(
        0.0, description="Extra cost of a placement out of area (travel, contact), as a share."
    )
    inflation_per_year: Rate = 0.0
    budget_by_financial_year_gbp: dict[str, NonNegative] = Field(
        default_factory=dict, description="Budget per financial year ('2026-27'), if stated."
    )

    @field_validator("placement_per_week_gbp", "placement_mix")
    @classmethod
    def _known_types(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(PLACEMENT_TYPES)
        if unknown:
            raise ValueError(
                f"unknown placement types {sorted(unknown)}; expected {list(PLACEMENT_TYPES)}"
            )
        return v

    @field_validator("placement_mix")
    @classmethod
    def _mix_sums(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_probabilities(v, "placement_mix")

    @field_validator("budget_by_financial_year_gbp")
    @classmethod
    def _years(cls, v: dict[str, float]) -> dict[str, float]:
        for label in v:
            start, _, end = label.partition("-")
            if not (start.isdigit() and len(start) == 4 and end == f"{(int(start) + 1) % 100:02d}"):
                raise ValueError(f"financial years are written '2026-27', got {label!r}")
        return v

    @model_validator(mode="after")
    def _priced(self) -> Costs:
        missing = set(self.placement_mix) - set(self.placement_per_week_gbp)
        if missing:
            raise ValueError(
                f"placement_mix names {sorted(missing)} with no placement_per_week_gbp"
            )
        return self

    @property
    def permanent_per_day_gbp(self) -> float:
        """Salary and on-costs per calendar day in post."""
        salary = self.permanent_salary_per_year_gbp * (1 + self.permanent_on_costs_share)
        return salary / DAYS_PER_YEAR

    @property
    def agency_per_day_gbp(self) -> float:
        """Agency charge per calendar day in post."""
        if self.agency_charge == "premium":
            return self.permanent_per_day_gbp * (1 + self.agency_premium_share)
        return self.agency_day_rate_gbp * self.agency_billed_days_per_year / DAYS_PER_YEAR

    @property
    def placement_per_day_gbp(self) -> float:
        """Average placement cost per child per day over the mix, with the out-of-area uplift."""
        weekly = sum(
            share * self.placement_per_week_gbp[k] for k, share in self.placement_mix.items()
        )
        return weekly / 7 * (1 + self.out_of_area_share * self.out_of_area_uplift_share)


class Uncertainty(Frozen):
    """How far the scenario's parameters could be off (written by ``demandsim calibrate --la``).

    With any standard deviation above 0, replication *i* of ``demandsim run``, ``compare`` and
    ``sweep`` first draws its own parameters with seed *i* (:mod:`demandsim.parameter_draws`), so
    the batch's bands hold parameter uncertainty as well as the simulation's own noise; replication
    *i* of every scenario in a comparison draws the same standard normals."""

    draw: Flag = Field(True, description="false: every replication keeps the scenario as written.")
    demand_level_sd: NonNegative = Field(
        0.0, description="Of log demand.contacts_per_year (teams' posts follow the drawn level)."
    )
    demand_growth_sd: NonNegative = Field(0.0, description="Added to demand.growth_per_year.")
    conversion_sd: NonNegative = Field(0.0, description="Of the logit of the share to MASH.")
    routes_sd: NonNegative = Field(
        0.0, description="Of the log of each share of the MASH, assessment and s47 routes."
    )
    duration_sd: NonNegative = Field(
        0.0, description="Of the log of the assessment, s47, CiN and CP mean durations."
    )
    care_entry_sd: NonNegative = Field(
        0.0, description="Of the log of the CiN and CP routes into care."
    )
    care_exit_sd: NonNegative = Field(0.0, description="Of the log of the CiC mean duration.")

    def active(self) -> bool:
        """Whether replications draw parameters: ``draw`` and some spread above 0."""
        return self.draw and any(v > 0 for k, v in self.model_dump().items() if k != "draw")


class Scenario(Frozen):
    """Everything a run needs. Build it with :func:`demandsim.scenario_files.load_scenario`."""

    name: Text = Field(min_length=1, max_length=200)
    description: Text = ""
    start_date: dt.date = Field(description="First day of the forecast, in 1990..2100.")
    years: Positive = 3.0
    warmup_days: Count = 182
    queue_order: Literal["fifo", "priority"] = "fifo"
    backlog_threshold_cases: Count = Field(50, description="For 'days above threshold' KPIs.")
    demand: Demand
    pathway: Pathway
    teams: dict[str, Team]
    workforce: Workforce = Workforce()
    costs: Costs = Costs()
    limits: Limits = Limits()
    uncertainty: Uncertainty = Uncertainty()
    source_dir: Text = Field(".", description="Folder of the scenario file; set by the loader.")

    @field_validator("start_date", mode="before")
    @classmethod
    def _a_date(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("expected a date (2026-04-01), not a date and time")
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError("expected a date written 2026-04-01") from None
        if not isinstance(value, dt.date):
            raise ValueError("expected a date written 2026-04-01")
        return value

    @field_validator("start_date")
    @classmethod
    def _in_range(cls, value: dt.date) -> dt.date:
        if not FIRST_START_DATE <= value <= LAST_START_DATE:
            raise ValueError(f"expected a date from {FIRST_START_DATE} to {LAST_START_DATE}")
        return value

    @model_validator(mode="after")
    def _within_limits(self) -> Scenario:
        lim = self.limits
        if self.years > lim.max_years:
            raise KeyedError(
                f"expected at most limits.max_years = {lim.max_years:g} years (raise the limit "
                "if you mean it)",
                ("years",),
                self.years,
            )

        if self.warmup_days > lim.max_warmup_days:
            raise KeyedError(
                f"expected at most limits.max_warmup_days = {lim.max_warmup_days} days",
                ("warmup_days",),
                self.warmup_days,
            )
        if self.forecast_days < 1:
            raise KeyedError(
                f"expected a forecast of at least a day (years >= {MIN_YEARS:.4f}, 1/365.25)",
                ("years",),
                self.years,
            )
        demand = self.demand
        if demand.contacts_per_year > lim.max_contacts_per_year:
            raise KeyedError(
                f"expected at most limits.max_contacts_per_year = {lim.max_contacts_per_year:,g} "
                "(the largest English council has about 75,000)",
                ("demand", "contacts_per_year"),
                demand.contacts_per_year,
            )
        for month, volume in demand.monthly_contacts.items():
            if volume * 12 > lim.max_contacts_per_year:
                raise KeyedError(
                    f"expected at most limits.max_contacts_per_year / 12 = "
                    f"{lim.max_contacts_per_year / 12:,.0f} contacts in a month",
                    ("demand", "monthly_contacts", month),
                    volume,
                )
        for name, team in self.teams.items():
            if team.posts > lim.max_posts:
                raise KeyedError(f"expected at most limits.max_posts = {lim.max_posts:,} posts",
                                 ("teams", name, "posts"), team.posts)  # fmt: skip
            if (team.capacity_cases or 0) > lim.max_cases_per_stage:
                raise KeyedError(
                    f"expected at most limits.max_cases_per_stage = {lim.max_cases_per_stage:,}",
                    ("teams", name, "capacity_cases"),
                    team.capacity_cases,
                )
        for name, stage in self.pathway.stages.items():
            if stage.initial_cases > lim.max_cases_per_stage:
                raise KeyedError(
                    f"expected at most limits.max_cases_per_stage = {lim.max_cases_per_stage:,}",
                    ("pathway", "stages", name, "initial_cases"),
                    stage.initial_cases,
                )
        policy = self.workforce.agency_policy
        if policy.max_extra_per_team > lim.max_posts:
            raise KeyedError(f"expected at most limits.max_posts = {lim.max_posts:,}",
                             ("workforce", "agency_policy", "max_extra_per_team"),
                             policy.max_extra_per_team)  # fmt: skip
        cases = self.expected_contacts() + sum(
            s.initial_cases for s in self.pathway.stages.values()
        )
        if cases > lim.max_simulated_cases:
            raise KeyedError(
                f"a replication would hold about {cases:,.0f} cases (contacts over the "
                f"{self.warmup_days}-day warm-up and {self.years:g}-year forecast, plus open "
                f"cases); expected at most limits.max_simulated_cases = "
                f"{lim.max_simulated_cases:,g}: shorten the run or raise the limit",
                ("demand", "contacts_per_year"),
                demand.contacts_per_year,
            )
        starts = {self.pathway.entry} | {
            n for n, s in self.pathway.stages.items() if s.initial_cases
        }
        for start in sorted(starts):
            stages, busiest = self.pathway._visits(start)
            if stages > lim.max_stages_per_case:
                raise KeyedError(
                    f"a case starting in {start!r} passes through {stages:,.0f} stages on "
                    f"average before it leaves; expected at most limits.max_stages_per_case = "
                    f"{lim.max_stages_per_case:g}: make the way out of its loops likelier",
                    ("pathway", "stages", busiest, "routes"),
                    dict(self.pathway.stages[busiest].routes),
                )
        return self

    def expected_contacts(self) -> float:
        """Expected contacts over the warm-up and the forecast (monthly_contacts counted on top:
        an upper bound used to refuse runs too large to hold)."""
        d = self.demand
        years_before, years_after = self.warmup_days / DAYS_PER_YEAR, self.years
        if d.growth_per_year == 0:
            profile = years_before + years_after
        else:
            log = math.log1p(d.growth_per_year)
            profile = (math.exp(log * years_after) - math.exp(-log * years_before)) / log
        total = d.contacts_per_year * profile + sum(d.monthly_contacts.values())
        if d.surge is not None and d.surge.percent > 0:
            total *= 1 + d.surge.percent / 100  # as if the surge lasted the whole run
        return float(total)

    @model_validator(mode="after")
    def _teams_exist(self) -> Scenario:
        for name, stage in self.pathway.stages.items():
            if stage.team not in self.teams:
                raise KeyedError(
                    f"pathway.stages.{name}.team {stage.team!r} is not a team; "
                    f"expected one of {sorted(self.teams)}",
                    ("pathway", "stages", name, "team"),
                    stage.team,
                )
        for name in self.costs.care_stages:
            if name not in self.pathway.stages:
                raise KeyedError(
                    f"costs.care_stages names {name!r}, which is not a stage; "
                    f"expected some of {sorted(self.pathway.stages)}",
                    ("costs", "care_stages"),
                    self.costs.care_stages,
                )
        return self

    @property
    def end_date(self) -> dt.date:
        """First day after the forecast: whole years are calendar years (3 years from 1 April
        end on 31 March), a fraction of a year adds that share of 365.25 days."""
        whole = int(self.years)
        rest = round((self.years - whole) * DAYS_PER_YEAR)
        return self.start_date + relativedelta(years=whole) + dt.timedelta(days=rest)

    @property
    def forecast_days(self) -> int:
        """Days forecast: from the start date to the end date, the warm-up excluded."""
        return (self.end_date - self.start_date).days

    @property
    def forecast_years(self) -> float:
        """The forecast's days in years of 365.25 days (what annual figures divide by)."""
        return self.forecast_days / DAYS_PER_YEAR

    @property
    def horizon_days(self) -> int:
        """Days simulated: the warm-up then the forecast."""
        return (self.end_date - self.origin_date).days

    @property
    def origin_date(self) -> dt.date:
        """Calendar date of simulation time 0 (the start of the warm-up)."""
        return self.start_date - dt.timedelta(days=self.warmup_days)
