"""What the outlook is asked: the weeks ahead, each team's threshold, the traffic lights and the
level "act today" must keep the chance below, checked before anything runs.

Covers: the optional settings file (TOML, keys below), the command-line options that override
it, the default threshold of a team, and the checks against the council's scenario (a threshold
must name a staffed team). Every error names its source (the file, or the option) and the key.

Assumptions: a team's default threshold is 5% of its caseload capacity at full establishment
(posts x caseload cap), at least 5 cases: about one worker's caseload in a team of twenty.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, read_toml

MIN_WEEKS, MAX_WEEKS = 4, 26
DEFAULT_SHARE_OF_CAPACITY = 0.05
MIN_DEFAULT_THRESHOLD = 5

Chance = Annotated[float, Field(ge=0.0, le=1.0)]


class OutlookError(ValueError):
    """A bad outlook setting: the message names the file or option and the key."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Lights(Frozen):
    """Traffic lights by the chance a team's unallocated cases pass its threshold in a week."""

    amber_from: Chance = 0.1
    red_from: Chance = 0.3

    @model_validator(mode="after")
    def _ordered(self) -> Lights:
        if self.amber_from > self.red_from:
            raise ValueError(f"amber_from ({self.amber_from}) is above red_from ({self.red_from})")
        return self


class ActToday(Frozen):
    """The least agency request that keeps the chance below ``keep_below`` in every week from
    the first a worker asked for today can be working (see :func:`first_week_judged`)."""

    keep_below: Chance | None = Field(None, description="Default: lights.red_from.")
    most_per_team: Annotated[int, Strict(), Field(ge=1, le=500)] = 30


class OutlookSettings(Frozen):
    weeks: Annotated[int, Strict(), Field(ge=MIN_WEEKS, le=MAX_WEEKS)] = 26
    thresholds: dict[str, Annotated[int, Strict(), Field(ge=0)]] = Field(default_factory=dict)
    lights: Lights = Lights()
    act_today: ActToday = ActToday()

    @property
    def level(self) -> float:
        """The chance "act today" keeps every judged week below."""
        keep = self.act_today.keep_below
        return self.lights.red_from if keep is None else keep

    def light(self, chance: float) -> str:
        if chance >= self.lights.red_from:
            return "red"
        return "amber" if chance >= self.lights.amber_from else "green"


def _messages(exc: ValidationError, where: str) -> list[str]:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: {key}: unknown key (see docs/outlook.md)")
        else:
            lines.append(f"{where}: {key}: {msg}; got {err.get('input')!r}")
    return lines


def load_settings(
    path: str | Path | None = None,
    *,
    weeks: int | None = None,
    level: float | None = None,
    thresholds: dict[str, int] | None = None,
) -> OutlookSettings:
    """The settings file (if any) with the command-line options laid over it."""
    data: dict = {}
    where = "outlook settings"
    if path is not None:
        where = str(path)
        try:
            data = read_toml(Path(path), where)
        except ScenarioError as exc:
            raise OutlookError(str(exc)) from None
    try:
        settings = OutlookSettings.model_validate(data)
    except ValidationError as exc:
        lines = "\n  ".join(_messages(exc, where))
        raise OutlookError(f"invalid outlook settings\n  {lines}") from None
    update: dict = {}
    if weeks is not None:
        if not MIN_WEEKS <= weeks <= MAX_WEEKS:
            raise OutlookError(
                f"--weeks: expected a whole number of weeks from {MIN_WEEKS} to {MAX_WEEKS}; "
                f"got {weeks}"
            )
        update["weeks"] = weeks
    if level is not None:
        if not (math.isfinite(level) and 0.0 <= level <= 1.0):
            raise OutlookError(f"--level: expected a chance from 0 to 1; got {level}")
        update["act_today"] = settings.act_today.model_copy(update={"keep_below": level})
    if thresholds:
        update["thresholds"] = {**settings.thresholds, **thresholds}
    return settings.model_copy(update=update)


def parse_threshold(text: str) -> tuple[str, int]:
    """``--threshold TEAM=CASES``."""
    team, sep, value = text.partition("=")
    try:
        cases = int(value)
    except ValueError:
        cases = -1
    if not sep or not team.strip() or cases < 0:
        raise OutlookError(
            f"--threshold: expected TEAM=CASES with a whole number of cases, 0 or more; got {text!r}"
        )
    return team.strip(), cases


def default_threshold(scenario: Scenario, team: str) -> int:
    spec = scenario.teams[team]
    return max(
        MIN_DEFAULT_THRESHOLD, math.ceil(DEFAULT_SHARE_OF_CAPACITY * spec.posts * spec.caseload_cap)
    )


def thresholds_for(settings: OutlookSettings, scenario: Scenario, source: str) -> dict[str, int]:
    """Each staffed team's threshold: the settings' own, else the default. ``source`` names
    where the settings came from, for the error about a team the council does not have."""
    staffed = [name for name, team in scenario.teams.items() if not team.is_service]
    for team in settings.thresholds:
        if team not in staffed:
            raise OutlookError(
                f"{source}: thresholds.{team}: not a staffed team of the council's scenario; "
                f"expected one of {staffed}"
            )
    return {t: settings.thresholds.get(t, default_threshold(scenario, t)) for t in staffed}


def first_week_judged(scenario: Scenario) -> int:
    """The first week "act today" can change: the week in which an agency worker asked for on
    day one is, on average, fully working (the mean fill time plus the ramp-up)."""
    agency = scenario.workforce.agency
    return int((agency.fill_days.mean_days + agency.ramp_up_days) // 7) + 1
