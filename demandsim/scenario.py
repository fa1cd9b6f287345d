"""The scenario: every parameter the model reads, validated once and frozen.

A scenario is built from TOML files (see :mod:`demandsim.scenario_files`); this module only says
what a valid scenario is. Defaults live here and nowhere else. Units are in the key names:
``*_days`` are calendar days, ``*_per_year`` are annual rates, ``*_share`` are fractions in [0, 1],
``*_gbp`` are pounds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Count = Annotated[int, Field(ge=0)]

#: coefficient of variation of a gamma or lognormal duration that does not give one
DEFAULT_CV = 0.5
#: how close a set of probabilities must sum to 1
PROBABILITY_TOLERANCE = 1e-6
#: days in an average year, for turning annual amounts into daily ones
DAYS_PER_YEAR = 365.25


class Frozen(BaseModel):
    """Base for every scenario part: unknown keys are errors and nothing changes after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    mean_days: NonNegative
    cv: NonNegative | None = Field(
        None, description=f"gamma and lognormal only; {DEFAULT_CV} when not given"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand_and_default_cv(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = {"mean_days": value}
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

    description: str = ""
    team: str
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
    priority: int = Field(0, description="Lower is served first when queue_order = 'priority'.")
    blocking: bool = Field(
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


def _parse_month(text: str) -> tuple[int, int]:
    try:
        parsed = dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"month keys are 'YYYY-MM', got {text!r}") from None
    return parsed.year, parsed.month


class Pathway(Frozen):
    """The journey as a graph: stages, their routes, and the exits where cases close."""

    entry: str = "front_door"
    referral_stage: str = Field("mash", description="Entering this stage counts as a referral.")
    assessment_stage: str = Field("assessment", description="Its completion is the assessment.")
    exits: tuple[str, ...]
    stages: dict[str, Stage]

    @model_validator(mode="after")
    def _graph(self) -> Pathway:
        names = set(self.stages)
        clash = names & set(self.exits)
        if clash:
            raise ValueError(f"names used both as stage and exit: {sorted(clash)}")
        for field in ("entry", "referral_stage", "assessment_stage"):
            if getattr(self, field) not in names:
                raise ValueError(
                    f"{field} {getattr(self, field)!r} is not a stage: {sorted(names)}"
                )
        targets = names | set(self.exits)
        for name, stage in self.stages.items():
            tables = {"routes": stage.routes}
            tables |= {f"routes_by_month.{m}": r for m, r in stage.routes_by_month.items()}
            for label, routes in tables.items():
                unknown = set(routes) - targets
                if unknown:
                    raise ValueError(
                        f"stages.{name}.{label} names {sorted(unknown)}, which is neither a stage "
                        f"nor an exit; expected one of {sorted(targets)}"
                    )
        return self


class Team(Frozen):
    """A team's establishment and how much each worker can carry.

    A team with ``capacity_cases`` set is a service with a fixed number of places (Early Help's
    contract of 400 families) and no modelled workforce.
    """

    description: str = ""
    posts: Count = 0
    initial_permanent: Count = 0
    initial_agency: Count = 0
    caseload_cap: Annotated[int, Field(ge=1)] = 18
    nq_caseload_cap: Annotated[int, Field(ge=1)] = 12
    sickness_share: Share = 0.05
    hire_success_share: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        None, description="Overrides workforce.permanent.hire_success_share for this team."
    )
    permanent_turnover_per_year: NonNegative | None = Field(
        None, description="Overrides workforce.permanent.turnover_per_year for this team."
    )
    capacity_cases: Annotated[int, Field(ge=1)] | None = None

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
    hire_success_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    retry_days: NonNegative = 14
    ramp_up_days: NonNegative = 42
    nq_share: Share = 0.2
    nq_days: NonNegative = 365


class AgencyStaff(Frozen):
    turnover_per_year: NonNegative = 0.6
    fill_days: Duration = Duration(dist="gamma", mean_days=26, cv=0.5)
    fill_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9
    retry_days: NonNegative = 7
    ramp_up_days: NonNegative = 7
    release_on_permanent_start: bool = True


class AgencyPolicy(Frozen):
    """When to ask for agency cover: on every vacancy, or only once a backlog builds."""

    request_on: Literal["vacancy", "backlog", "never"] = "vacancy"
    backlog_threshold_cases: Count = 10
    max_extra_per_team: Count = 0
    extra_engagement_days: Positive = 84
    review_every_days: Positive = 7


class Workforce(Frozen):
    permanent: PermanentStaff = PermanentStaff()
    agency: AgencyStaff = AgencyStaff()
    agency_policy: AgencyPolicy = AgencyPolicy()


class Demand(Frozen):
    """Contacts arrive as a non-homogeneous Poisson process with this daily intensity."""

    contacts_per_year: NonNegative
    growth_per_year: Annotated[float, Field(gt=-1.0)] = 0.0
    monthly_factors: tuple[NonNegative, ...] = Field(
        (1.0,) * 12, description="Relative daily rate of contacts in each month, Jan..Dec."
    )
    weekday_factors: tuple[NonNegative, ...] = (1.2, 1.2, 1.2, 1.2, 1.2, 0.0, 0.0)
    school_holiday_factor: NonNegative = 0.8
    end_of_term_factor: NonNegative = 1.5
    end_of_term_days: Count = 2
    sources: dict[str, Share] = Field(default_factory=lambda: {"all": 1.0})
    monthly_contacts: dict[str, NonNegative] = Field(
        default_factory=dict, description="Exact expected contacts for named months ('YYYY-MM')."
    )
    intensity_file: str | None = Field(
        None,
        description="CSV of daily expected contacts (date, then one column per predictive "
        "sample) written by calibration; replaces the profile above where it has dates.",
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
    agency_billed_days_per_year: Annotated[float, Field(gt=0.0, le=366.0)] = 225
    agency_premium_share: NonNegative = 0.6
    recruitment_per_permanent_hire_gbp: NonNegative = 5_000
    agency_finder_fee_gbp: NonNegative = 0
    care_stages: tuple[str, ...] = Field(
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
    inflation_per_year: Annotated[float, Field(gt=-1.0)] = 0.0
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


class Scenario(Frozen):
    """Everything a run needs. Build it with :func:`demandsim.scenario_files.load_scenario`."""

    name: str
    description: str = ""
    start_date: dt.date
    years: Positive = 3.0
    warmup_days: Count = 182
    queue_order: Literal["fifo", "priority"] = "fifo"
    backlog_threshold_cases: Count = Field(50, description="For 'days above threshold' KPIs.")
    demand: Demand
    pathway: Pathway
    teams: dict[str, Team]
    workforce: Workforce = Workforce()
    costs: Costs = Costs()
    source_dir: str = Field(".", description="Folder of the scenario file; set by the loader.")

    @model_validator(mode="after")
    def _teams_exist(self) -> Scenario:
        for name, stage in self.pathway.stages.items():
            if stage.team not in self.teams:
                raise ValueError(
                    f"pathway.stages.{name}.team {stage.team!r} is not a team; "
                    f"expected one of {sorted(self.teams)}"
                )
        for name in self.costs.care_stages:
            if name not in self.pathway.stages:
                raise ValueError(
                    f"costs.care_stages names {name!r}, which is not a stage; "
                    f"expected some of {sorted(self.pathway.stages)}"
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
    def horizon_days(self) -> int:
        """Days simulated: the warm-up then the forecast."""
        return (self.end_date - self.origin_date).days

    @property
    def origin_date(self) -> dt.date:
        """Calendar date of simulation time 0 (the start of the warm-up)."""
        return self.start_date - dt.timedelta(days=self.warmup_days)
