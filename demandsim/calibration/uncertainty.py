"""Parameter uncertainty: how far a calibrated council's parameters could be off, and one draw.

Covers: the spread, across the years of a council's published history up to the calibration
year, of the figures its parameters come from — referrals per child (demand level) and their
year-on-year growth, the referral-to-assessment and assessment-outcome shares (routes), the
exit rates of child in need and child protection plans (durations), care starts per child
(entry into care) and the looked-after exit rate (care durations). Where a council has fewer
than three years of a figure, the median spread over all councils in the same years stands in;
before any council has three years of looked-after flows (they start in 2021), care entry takes
the routes' spread and care exit the plans' durations' spread.

A team's posts and staff (Early Help's places) follow the drawn demand level: the calibration
sized them to the published load, and a council whose demand is truly higher staffs to it
(without this, a draw 10% above the calibrated demand starts a backlog that runs away). A
council's spreads are at most twice all councils' median (recording breaks are not forecast
uncertainty). Each spread is divided by sqrt(POOL_YEARS): the calibrated rates are medians over POOL_YEARS years,
and what is uncertain is that pooled figure, not one year's (the slope of demand growth is
already a standard error, and is damped as the growth is). A replication then draws its own parameters (:func:`draw_scenario`) on top of the simulation's
own noise, so bands widen with the horizon as the demand level, growth and exit rates wander:
``draw_scenario(scenario, uncertainty, seed) -> Scenario`` is pure (the same three arguments give
the same scenario) and draws from its own stream, apart from the replication's simulation streams.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from demandsim.calibration import flows as fl
from demandsim.calibration.history import panel
from demandsim.calibration.published import GROWTH_DAMPING, POOL_YEARS
from demandsim.scenario import Scenario

#: the SeedSequence entropy word that keeps parameter draws apart from the simulation's streams
PARAMETER_STREAM = 0x9A2A
FLOOR = 0.01


@dataclass(frozen=True)
class ParameterUncertainty:
    """Standard deviations of one replication's parameter draw (0 = no uncertainty)."""

    demand_level_sd: float = 0.0  # log of demand.contacts_per_year
    demand_growth_sd: float = 0.0  # added to demand.growth_per_year
    conversion_sd: float = 0.0  # logit of the front door's share to MASH
    routes_sd: float = 0.0  # log of each share in the MASH, assessment and s47 routes
    duration_sd: float = 0.0  # log of assessment, s47, CiN and CP mean durations
    care_entry_sd: float = 0.0  # log of the CiN and CP routes into care
    care_exit_sd: float = 0.0  # log of the CiC mean duration (1 / exit rate)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _sd(values: pd.Series) -> float:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    return float(v.std(ddof=1)) if len(v) >= 3 else np.nan


def _spreads(history: pd.DataFrame, years: int) -> dict[str, float]:
    h = history.tail(years)
    per_child = np.log(h["referrals"] / h["population"])
    growth = per_child.diff().dropna()
    cin_exit = np.log(fl.rates(history, "cin")["exit_rate"].tail(years))
    cpp_exit = np.log(fl.rates(history, "cpp")["exit_rate"].tail(years))
    cla = fl.rates(history, "cla").tail(years)
    ok = per_child.replace([np.inf, -np.inf], np.nan).dropna()
    level_sd = np.nan
    if len(ok) >= 3:
        x = ok.index.to_numpy(dtype=float)
        level_sd = _sd(ok - np.polyval(np.polyfit(x - x.mean(), ok.to_numpy(), 1), x - x.mean()))
    return {
        "demand_level_sd": level_sd,
        "demand_growth_sd": float(growth.std(ddof=1) / np.sqrt(len(growth)))
        if len(growth) >= 3
        else np.nan,
        "routes_sd": _sd(np.log(h["cin_started"] / h["referrals"])),
        "duration_sd": np.nanmean([_sd(cin_exit), _sd(cpp_exit)]),
        "care_entry_sd": _sd(np.log(cla["inflow_rate"])),
        "care_exit_sd": _sd(np.log(cla["exit_rate"])),
    }


MAX_TIMES_TYPICAL = 2.0


@lru_cache(maxsize=32)
def _typical_spreads(year: int, years: int) -> dict[str, float]:
    data = panel()
    data = data.loc[data.index.get_level_values("year") <= year]
    every = pd.DataFrame(
        [_spreads(g.droplevel("code"), years) for _, g in data.groupby(level="code")]
    )
    return {k: float(every[k].median()) for k in every}


def estimate_uncertainty(code: str, year: int, years: int = 5) -> ParameterUncertainty:
    """The council's spreads over its last ``years`` years up to ``year`` (only those), with all
    councils' median spread where it has too few; conversion shares the routes' spread."""
    data = panel()
    data = data.loc[data.index.get_level_values("year") <= year]
    own = _spreads(data.xs(code, level="code"), years)
    typical = _typical_spreads(year, years)
    for key, value in own.items():
        # all councils' median where the council has too few years; at most MAX_TIMES_TYPICAL
        # times it, so a recording break (a council whose referrals double one year and halve
        # the next) does not read as uncertainty about its future
        own[key] = (
            typical[key] if not np.isfinite(value) else min(value, MAX_TIMES_TYPICAL * typical[key])
        )
    # before any council has three years of looked-after flows (2021-2022), the spreads of the
    # nearest figures with a history stand in: care entry like the routes, care exit like plans
    stand_in = {"care_entry_sd": "routes_sd", "care_exit_sd": "duration_sd"}
    for key, other in stand_in.items():
        if not np.isfinite(own[key]):
            own[key] = own[other]
    # a parameter is a pooled figure (the median of POOL_YEARS years), not one year's: its
    # uncertainty is the year-to-year spread over sqrt(POOL_YEARS); growth is already a slope's
    for key in own:
        if key != "demand_growth_sd":
            own[key] = own[key] / np.sqrt(POOL_YEARS)
    own["demand_growth_sd"] *= GROWTH_DAMPING  # the growth itself is damped so
    own = {k: max(float(np.nan_to_num(v)), FLOOR) for k, v in own.items()}
    return ParameterUncertainty(conversion_sd=own["routes_sd"], **own)


def _shift_share(routes: dict[str, float], target: str, factor: float) -> dict[str, float]:
    """``target``'s share times ``factor`` (kept in [0, 0.98]), the others rescaled to fit."""
    p = float(np.clip(routes[target] * factor, 0.0, 0.98))
    rest = {k: v for k, v in routes.items() if k != target}
    total = sum(rest.values())
    out = {k: (v / total * (1 - p) if total > 0 else (1 - p) / len(rest)) for k, v in rest.items()}
    return _exact({**out, target: p})


def _exact(routes: dict[str, float]) -> dict[str, float]:
    out = {k: round(v, 6) for k, v in routes.items()}
    largest = max(out, key=out.get)
    out[largest] = round(out[largest] + 1.0 - sum(out.values()), 6)
    return out


def draw_scenario(scenario: Scenario, uncertainty: ParameterUncertainty, seed: int) -> Scenario:
    """One replication's scenario: the calibrated parameters redrawn from their uncertainty.

    Pure: no global state; the draws come from SeedSequence([seed // 2, PARAMETER_STREAM]), so
    replication i of every scenario draws the same standard normals (common random numbers);
    seeds 2k and 2k+1 draw mirror images (antithetic pairs), so a handful of replications is not
    shifted as a whole to one side; an all-zero uncertainty gives the scenario back unchanged."""
    u = uncertainty
    if not any(u.to_dict().values()):
        return scenario
    sign = 1.0 if seed % 2 == 0 else -1.0  # antithetic pairs: seeds 2k and 2k+1 mirror each other
    rng = np.random.default_rng(np.random.SeedSequence([seed // 2, PARAMETER_STREAM]))
    z = sign * rng.standard_normal(16)
    data = scenario.model_dump()
    demand = data["demand"]
    level = float(np.exp(u.demand_level_sd * z[0]))
    demand["contacts_per_year"] *= level
    for team in data["teams"].values():  # the council staffs to its demand level
        if team["capacity_cases"] is not None:
            team["capacity_cases"] = max(1, round(team["capacity_cases"] * level))
        elif team["posts"]:
            posts = max(1, round(team["posts"] * level))
            perm = min(round(team["initial_permanent"] * level), posts)
            agency = min(round(team["initial_agency"] * level), posts - perm)
            team.update(posts=posts, initial_permanent=perm, initial_agency=agency)
    demand["growth_per_year"] = max(demand["growth_per_year"] + u.demand_growth_sd * z[1], -0.5)
    stages = data["pathway"]["stages"]
    if "front_door" in stages and "mash" in stages["front_door"]["routes"]:
        routes = stages["front_door"]["routes"]
        p = float(np.clip(routes["mash"], 1e-4, 1 - 1e-4))
        logit = np.log(p / (1 - p)) + u.conversion_sd * z[2]
        stages["front_door"]["routes"] = _shift_share(
            routes, "mash", (1 / (1 + np.exp(-logit))) / p
        )
    for name in ("mash", "assessment", "s47"):
        if name in stages:
            routes = stages[name]["routes"]
            noise = np.exp(sign * u.routes_sd * rng.standard_normal(len(routes)))
            drawn = {t: v * f for (t, v), f in zip(routes.items(), noise, strict=True)}
            stages[name]["routes"] = _exact(_normalise(drawn))
    for k, name in enumerate(("assessment", "s47", "cin", "cp")):
        if name in stages:
            stages[name]["duration"]["mean_days"] *= float(np.exp(u.duration_sd * z[3 + k]))
    care = float(np.exp(u.care_entry_sd * z[7]))
    for name in ("cin", "cp"):
        if name in stages and "cic" in stages[name]["routes"]:
            stages[name]["routes"] = _shift_share(stages[name]["routes"], "cic", care)
    if "cic" in stages:
        stages["cic"]["duration"]["mean_days"] *= float(np.exp(u.care_exit_sd * z[8]))
    return Scenario.model_validate(data)


def _normalise(routes: dict[str, float]) -> dict[str, float]:
    total = sum(routes.values())
    return {k: v / total for k, v in routes.items()}
