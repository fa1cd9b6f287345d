"""The levers the explorer's form shows, and how a filled-in form becomes a scenario.

Covers: which scenario keys a planner or finance officer may change in the browser, with a plain
label and a unit for each; turning the form's text into ``--set``-style overrides; and checking
them exactly as the command line does (:func:`~demandsim.scenario_files.apply_overrides`), so a
refused value shows the same message ``demandsim run --set KEY=VALUE`` prints.

Assumptions: the form sends text, never typed values, so ``3`` and ``3.0`` and ``three`` reach
the validator as the command line would pass them; a lever left at its base value is not an
override (the saved scenario differs from its base only where a person changed something).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from demandsim.measures import team_label
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, apply_overrides

#: agency cover policies, as the scenario spells them, with plain words
REQUEST_ON = {
    "vacancy": "on every vacancy",
    "backlog": "only once a team's backlog passes its threshold",
    "never": "never (permanent staff only)",
}


#: placement types, in plain words
PLACEMENTS = {
    "in_house_fostering": "in-house fostering",
    "independent_fostering": "independent fostering agency",
    "residential": "residential (children's home)",
    "other": "other placements",
}

#: the surge's months are text: the form quotes them as the command line would need
SURGE_MONTHS = ("demand.surge.first_month", "demand.surge.last_month")
#: levers whose value is text, quoted in the override
QUOTED = ("workforce.agency_policy.request_on", *SURGE_MONTHS)


#: levers of the run, applied to the base as well as the edited scenario
BOTH = ("years", "warmup_days")


@dataclass(frozen=True)
class Lever:
    """One form field: the scenario key it sets, its label, unit and group on the page."""

    key: str
    label: str
    unit: str
    group: str
    choices: tuple[str, ...] = ()  # a drop-down instead of a text box

    @property
    def field_id(self) -> str:
        """An HTML-safe id for the form field."""
        return "lever-" + self.key.replace(".", "--")


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    if isinstance(data, Mapping) and "mean_days" in data:
        return data["mean_days"]  # a duration: the form shows (and sets) its mean
    return data


def levers(scenario: Scenario) -> list[Lever]:
    """The levers for ``scenario``: the service-wide ones, then posts and caseload caps for each
    staffed team, then the budget of each financial year the scenario has one for."""
    found = [
        Lever("years", "Forecast length", "years", "Run"),
        Lever("warmup_days", "Warm-up before the forecast starts", "days", "Run"),
        Lever("workforce.agency.fill_days", "Days to fill a post with an agency worker (mean)",
              "calendar days", "Agency and recruitment"),
        Lever("workforce.agency.fill_share", "Chance an agency request is filled",
              "share, 0 to 1", "Agency and recruitment"),
        Lever("workforce.permanent.recruit_days", "Recruitment lead time, vacancy to offer (mean)",
              "calendar days", "Agency and recruitment"),
        Lever("workforce.agency_policy.request_on", "Ask for agency cover", "policy",
              "Agency and recruitment", tuple(REQUEST_ON)),
        Lever("demand.growth_per_year", "Demand growth", "share a year (0.03 = 3%)", "Demand"),
        Lever("demand.surge.first_month", "Surge in contacts: first month", "YYYY-MM",
              "Demand"),
        Lever("demand.surge.last_month", "Surge in contacts: last month", "YYYY-MM", "Demand"),
        Lever("demand.surge.percent", "Surge in contacts: change in those months",
              "% (25 = a quarter more, -10 = a tenth fewer)", "Demand"),
        Lever("costs.permanent_salary_per_year_gbp", "Permanent social worker salary",
              "£ a year (before on-costs)", "Unit costs"),
        Lever("costs.agency_day_rate_gbp", "Agency social worker day rate", "£ a billed day",
              "Unit costs"),
        Lever("costs.recruitment_per_permanent_hire_gbp", "Recruitment cost per permanent hire",
              "£ a hire", "Unit costs"),
    ]  # fmt: skip
    for kind in scenario.costs.placement_per_week_gbp:
        found.append(Lever(f"costs.placement_per_week_gbp.{kind}",
                           f"Placement cost: {PLACEMENTS.get(kind, kind)}", "£ a child a week",
                           "Unit costs"))  # fmt: skip
    for name, team in scenario.teams.items():
        if team.is_service:
            continue
        who = team_label(name)
        found.append(Lever(f"teams.{name}.posts", f"{who}: posts", "posts", "Teams"))
        found.append(Lever(f"teams.{name}.caseload_cap", f"{who}: caseload cap",
                           "cases per worker", "Teams"))  # fmt: skip
    for year in scenario.costs.budget_by_financial_year_gbp or {}:
        found.append(
            Lever(f"costs.budget_by_financial_year_gbp.{year}", f"Budget {year}", "£", "Budget")
        )
    return found


def shown(value: Any) -> str:
    """A scenario value as the form shows it: 26.0 as 26, 0.9 as 0.9, text as itself, nothing
    (no surge) as an empty box."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def form_values(scenario: Scenario) -> dict[str, str]:
    """Each lever's key and its value in ``scenario``, as text."""
    data = scenario.model_dump(mode="json")
    return {lever.key: shown(_get(data, lever.key)) for lever in levers(scenario)}


def overrides(base: Scenario, form: Mapping[str, str | None]) -> list[str]:
    """``KEY=VALUE`` for every lever whose text differs from the base's (unknown keys are an
    error: the form may only set a lever)."""
    known = form_values(base)
    out = []
    for key, text in form.items():
        if key not in known:
            raise ScenarioError(f"{key}: not a lever of the explorer")
        text = "" if text is None else str(text).strip()
        if text != known[key]:
            value = json.dumps(text) if key in QUOTED else text
            out.append(f"{key}={value}")
    return out


def edited_scenario(
    base: Scenario, form: Mapping[str, str | None], name: str | None = None
) -> tuple[Scenario, Scenario, list[str]]:
    """The pair a run compares, validated as ``--set`` would be, and the overrides.

    The levers of the run itself (:data:`BOTH`: forecast length, warm-up) apply to the base as
    well, so the two are compared over the same days; every other change makes the edited
    scenario, which gets its own ``name`` (default: the base's with ``-edited``) so a
    comparison can tell the two apart. Raises :class:`ScenarioError` with the command line's
    message for a refused value."""
    changes = overrides(base, form)
    both = [c for c in changes if c.partition("=")[0] in BOTH]
    name = name or f"{base.name}-edited"
    own = [c for c in changes if c not in both]
    described = f"{base.name} with " + (", ".join(own) if own else "no changes")
    reference = apply_overrides(base, both) if both else base
    edited = apply_overrides(reference, own).model_dump(mode="json")
    edited = Scenario.model_validate({**edited, "name": name, "description": described})
    return reference, edited, changes
