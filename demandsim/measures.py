"""Every measure demandsim reports, declared once: its name, its label for people, its unit, its
kind, and how it forms the whole service from the teams.

Two families:

- **daily measures** (:data:`DAILY`): one value per forecast day and team in every replication,
  stored as a ``float32`` cube (day x team x measure) in this order; percentile bands, monthly
  views, staffing charts and costs by month and financial year are all read from it;
- **KPIs** (:data:`KPIS`): one value per replication, team and period (``forecast`` for the
  whole forecast, or a financial year such as ``2026-27`` for money).

Tables, bands, printed summaries, the HTML report and the workbook take names, labels and units
from here. To add a KPI: declare it in :data:`KPIS` and compute it in
:mod:`demandsim.replication`; nothing else changes.

The whole service (:data:`SERVICE`) is one more team. For levels it is the sum over the teams
with a social work workforce (not services such as Early Help); money is summed over every team;
ratios (caseload per worker, agency share) are the ratio of the service's sums, never a sum or
mean of the teams' ratios. :func:`service_total` is the one place this is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from demandsim.scenario import Scenario

SERVICE = "all social work teams"
#: whole-forecast KPIs carry this period; money KPIs carry their financial year instead
FORECAST = "forecast"
#: below this many staff in post a ratio per worker is undefined
MIN_STAFF = 0.5
#: the horizon of "will the backlog pass the threshold at some point in the next 12 months"
FIRST_YEAR_DAYS = 365


def first_year_words(forecast_days: int) -> str:
    """The window of the 12-month chance, in words: the first 12 months, or the whole forecast
    where it is shorter (the chance is then over those days)."""
    if forecast_days >= FIRST_YEAR_DAYS:
        return "the first 12 months"
    return f"the {forecast_days}-day forecast"


Kind = Literal["level", "flow", "share", "money", "chance", "days"]
#: how the service total is formed: summed over staffed teams, over all teams, or a ratio of two
#: other measures' service totals
ServiceRule = Literal["staffed", "all"] | tuple[str, str]


@dataclass(frozen=True)
class Measure:
    name: str
    label: str  # for people: table headings, chart titles, workbook columns
    unit: str  # cases, staff, posts, cases per worker, %, days, £, people
    kind: Kind
    service: ServiceRule = "staffed"
    short: str = ""  # for wide tables; defaults to the label

    @property
    def is_share(self) -> bool:
        """Stored as a fraction 0-1, shown as a percentage."""
        return self.kind in ("share", "chance")

    @property
    def is_money(self) -> bool:
        return self.kind == "money"

    @property
    def heading(self) -> str:
        return self.short or self.label


def _table(*measures: Measure) -> dict[str, Measure]:
    return {m.name: m for m in measures}


#: cost components, in the order tables show them; ``total_gbp`` is their sum
COST_COMPONENTS = (
    "staff_permanent_gbp",
    "staff_agency_gbp",
    "retention_gbp",
    "recruitment_gbp",
    "agency_fees_gbp",
    "placements_gbp",
)
TOTAL_COST = "total_gbp"
_COST_LABELS = {
    "staff_permanent_gbp": "permanent staff",
    "staff_agency_gbp": "agency staff",
    "retention_gbp": "retention payments",
    "recruitment_gbp": "recruitment",
    "agency_fees_gbp": "agency finder fees",
    "placements_gbp": "placements",
    TOTAL_COST: "total cost",
}

DAILY = _table(
    Measure("open_cases", "open cases", "cases", "level"),
    Measure("allocated_cases", "allocated cases", "cases", "level"),
    Measure("unallocated_cases", "unallocated cases", "cases", "level"),
    Measure("awaiting_transfer_in", "cases waiting to transfer in", "cases", "level"),
    Measure("staff_permanent", "permanent staff in post", "staff", "level"),
    Measure("staff_agency", "agency staff in post", "staff", "level"),
    Measure("capacity_cases", "caseload capacity", "cases", "level"),
    Measure("vacant_posts", "vacant posts", "posts", "level"),
    Measure("staff_in_post", "staff in post", "staff", "level"),
    Measure(
        "caseload_per_worker",
        "caseload per worker",
        "cases per worker",
        "level",
        ("allocated_cases", "staff_in_post"),
    ),
    Measure("agency_share", "agency share", "%", "share", ("staff_agency", "staff_in_post")),
    Measure("children_in_care", "children in care", "children", "level", "all"),
    Measure("children_in_need", "children in need", "children", "level", "all"),
    Measure("child_protection", "children on a child protection plan", "children", "level", "all"),
    *(
        Measure(name, _COST_LABELS[name], "£", "money", "all")
        for name in (*COST_COMPONENTS, TOTAL_COST)
    ),
)
DAILY_NAMES = tuple(DAILY)

KPIS = _table(
    Measure("staff_in_post_mean", "staff in post, mean", "staff", "level", short="in post"),
    Measure("agency_share_mean", "agency share, mean", "%", "share", short="agency"),
    Measure("vacant_posts_mean", "vacant posts, mean", "posts", "level", short="vacant"),
    Measure("open_cases_mean", "open cases, mean", "cases", "level", short="open cases"),
    Measure(
        "caseload_per_worker_mean",
        "caseload per worker, mean",
        "cases per worker",
        "level",
        short="caseload",
    ),
    Measure(
        "caseload_per_worker_peak",
        "caseload per worker, peak",
        "cases per worker",
        "level",
        short="caseload peak",
    ),
    Measure("unallocated_mean", "unallocated cases, mean", "cases", "level", short="unalloc mean"),
    Measure("unallocated_peak", "unallocated cases, peak", "cases", "level", short="unalloc peak"),
    Measure(
        "days_unallocated_above_threshold",
        "days with unallocated cases above the threshold",
        "days",
        "days",
        short="days > threshold",
    ),
    Measure(
        "backlog_passes_threshold_in_12_months",
        "chance unallocated cases pass the threshold in the first 12 months",
        "%",
        "chance",
        short="P(> threshold in 12m)",
    ),
    Measure(
        "unallocated_winter_mean",
        "unallocated cases, winter mean (December to February)",
        "cases",
        "level",
        short="winter unalloc",
    ),
    Measure(
        "awaiting_transfer_in_mean",
        "cases waiting to transfer in, mean",
        "cases",
        "level",
        short="awaiting transfer",
    ),
    Measure("leavers_permanent", "permanent leavers", "people", "flow", short="perm leavers"),
    Measure("leavers_agency", "agency leavers", "people", "flow", short="agency leavers"),
    Measure("leavers", "leavers", "people", "flow"),
    Measure("referrals", "referrals", "referrals", "flow", "all"),
    Measure(
        "mean_days_referral_to_allocation",
        "days from referral to allocation, mean",
        "days",
        "days",
        "all",
        short="days to alloc",
    ),
    Measure(
        "assessed_within_45_working_days_share",
        "assessments within 45 working days",
        "%",
        "share",
        "all",
        short="in 45 wd",
    ),
    *(
        Measure(name, _COST_LABELS[name], "£", "money", "all")
        for name in (*COST_COMPONENTS, TOTAL_COST)
    ),
)

#: the KPIs a planner reads first, in this order (printed tables, report headline)
HEADLINE = (
    "unallocated_mean",
    "unallocated_peak",
    "days_unallocated_above_threshold",
    "backlog_passes_threshold_in_12_months",
    "caseload_per_worker_mean",
    "caseload_per_worker_peak",
    "staff_in_post_mean",
    "agency_share_mean",
    "vacant_posts_mean",
    "leavers",
    "mean_days_referral_to_allocation",
    "assessed_within_45_working_days_share",
)


#: how teams are named for people; other team names are shown with spaces for underscores
TEAM_LABELS = {
    "front_door": "Front door",
    "mash": "MASH",
    "assessment": "Assessment",
    "cin": "Child in need",
    "cp": "Child protection",
    "cic": "Children in care",
    "after_care": "Leaving care",
    "early_help": "Early Help",
    SERVICE: "All social work teams",
}


def team_label(name: str) -> str:
    return TEAM_LABELS.get(name) or name.replace("_", " ").capitalize()


def label(name: str, scenario: Scenario | None = None) -> str:
    """A measure's label for people; with ``scenario``, its backlog threshold filled in, and the
    12-month chance's window given as the forecast's days where the forecast is shorter."""
    measure = KPIS.get(name) or DAILY.get(name)
    text = measure.label if measure else name.replace("_", " ")
    if scenario is not None:
        text = text.replace("the threshold", str(scenario.backlog_threshold_cases))
        text = text.replace("the first 12 months", first_year_words(scenario.forecast_days))
    return text


def short_label(name: str, scenario: Scenario | None = None) -> str:
    """A measure's short label for wide tables; ``scenario`` as for :func:`label`."""
    measure = KPIS.get(name) or DAILY.get(name)
    text = measure.heading if measure else name.replace("_", " ")
    if scenario is not None:
        text = text.replace("threshold", str(scenario.backlog_threshold_cases))
        if scenario.forecast_days < FIRST_YEAR_DAYS:
            text = text.replace("in 12m", f"in {scenario.forecast_days}d")
    return text


def is_share(name: str) -> bool:
    measure = KPIS.get(name) or DAILY.get(name)
    return bool(measure and measure.is_share)


def lowest(name: str) -> float:
    """The least value a KPI or daily measure can take: 0 for every declared one (counts,
    shares, days, money), unbounded for a name not declared here."""
    return 0.0 if (KPIS.get(name) or DAILY.get(name)) else -np.inf


def highest(name: str) -> float:
    """The greatest value a KPI or daily measure can take: 1 for shares and chances."""
    return 1.0 if is_share(name) else np.inf


def is_chance(name: str) -> bool:
    """A KPI that is 0 or 1 in each replication (its mean is a chance)."""
    measure = KPIS.get(name)
    return bool(measure and measure.kind == "chance")


def is_money(name: str) -> bool:
    measure = KPIS.get(name) or DAILY.get(name)
    return bool(measure and measure.is_money)


def service_total(cube: np.ndarray, staffed: list[int]) -> np.ndarray:
    """The whole service's daily measures from the teams' cube (day x team x :data:`DAILY`):
    levels summed over the ``staffed`` team indices, money over every team, and ratios as the
    ratio of the service's totals (NaN below :data:`MIN_STAFF` staff)."""
    out = np.full((cube.shape[0], len(DAILY)), np.nan)
    staffed_sum = cube[:, staffed, :].sum(axis=1)
    all_sum = cube.sum(axis=1)
    for i, measure in enumerate(DAILY.values()):
        if measure.service == "staffed":
            out[:, i] = staffed_sum[:, i]
        elif measure.service == "all":
            out[:, i] = all_sum[:, i]
    for i, measure in enumerate(DAILY.values()):
        if isinstance(measure.service, tuple):
            num, den = (out[:, DAILY_NAMES.index(n)] for n in measure.service)
            np.divide(num, den, out=out[:, i], where=den > MIN_STAFF)
    return out
