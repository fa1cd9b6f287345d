"""One replication's parameters, drawn from the scenario's ``[uncertainty]``.

Covers: :func:`draw_scenario` (the calibrated parameters redrawn from their standard deviations,
see :class:`demandsim.scenario.Uncertainty`) and :func:`simulate_drawn`, the step a batch applies
before ``simulate(scenario, seed)``: replication *i* draws with seed *i*, from its own stream
(apart from the simulation's), so the same seed gives the same result and replication *i* of every
scenario in a comparison or sweep draws the same standard normals (common random numbers).

Assumptions: a team's posts and staff (Early Help's places) follow the drawn demand level: the
calibration sized them to the published load, and a council whose demand is truly higher staffs to
it (without this, a draw 10% above the calibrated demand starts a backlog that runs away).
"""

from __future__ import annotations

import numpy as np

from demandsim.replication import Replication, simulate
from demandsim.scenario import Scenario, Uncertainty

#: the SeedSequence entropy word that keeps parameter draws apart from the simulation's streams
PARAMETER_STREAM = 0x9A2A


def simulate_drawn(scenario: Scenario, seed: int) -> Replication:
    """``simulate`` of replication ``seed``'s draw of the scenario (the scenario itself when its
    ``[uncertainty]`` is off)."""
    return simulate(draw_scenario(scenario, scenario.uncertainty, seed), seed)


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


def draw_scenario(scenario: Scenario, uncertainty: Uncertainty, seed: int) -> Scenario:
    """One replication's scenario: the calibrated parameters redrawn from their uncertainty.

    Pure: no global state; the draws come from SeedSequence([seed // 2, PARAMETER_STREAM]), so
    replication i of every scenario draws the same standard normals (common random numbers);
    seeds 2k and 2k+1 draw mirror images (antithetic pairs), so a handful of replications is not
    shifted as a whole to one side; an all-zero uncertainty (or ``draw = false``) gives the scenario back unchanged."""
    u = uncertainty
    if not u.active():
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
