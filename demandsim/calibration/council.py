"""Calibration from a council's own data: every fit, gathered into one partial scenario.

Each input that is present feeds its fit; anything absent leaves the baseline's values, and the
calibration's notes say so. SSDA903 periods of care replace ``cic`` episodes from the case
episodes file (the return is the statutory source for children looked after).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from demandsim.calibration import churn, leadtimes, routes, seasonality, snapshot, ssda903
from demandsim.calibration.inputs import CouncilData
from demandsim.scenario import Scenario

#: a calibrated council has no budget until it states one: the built-in county's illustrative
#: budget would otherwise be compared with the council's costs (Rutland's £3.5m against £40.5m)
NO_BUDGET = {"costs": {"budget_by_financial_year_gbp": {}}}
NO_BUDGET_NOTE = (
    "No budget: the built-in county's illustrative budget does not apply. State the council's "
    "own in costs.budget_by_financial_year_gbp to see each year's chance of overspend."
)


@dataclass
class Calibration:
    """What a calibration produced: a partial scenario and the aggregate tables behind it."""

    parameters: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    intensity: pd.DataFrame | None = None
    demand: seasonality.DemandFit | None = None
    notes: list[str] = field(default_factory=list)


def deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def calibrate_council(
    data: CouncilData, baseline: Scenario, seed: int = 0, samples: int = 200
) -> Calibration:
    """Fit everything the folder supports; ``baseline`` supplies the names and route tables."""
    cut = data.extract_date
    start = data.snapshot_date or cut
    cal = Calibration(parameters={"start_date": start, **NO_BUDGET})
    notes = cal.notes
    notes.append(f"Extract (censoring) date {cut}; simulation start date {start}.")
    notes.append(NO_BUDGET_NOTE)

    if data.demand is not None:
        fit = seasonality.fit_demand(data.demand, start, seed=seed, samples=samples)
        cal.demand, cal.intensity = fit, fit.intensity
        demand = {**fit.parameters, "intensity_file": "intensity.csv"}
        if "source" in data.demand and data.demand["source"].ne("").any():
            demand["sources"] = _source_mix(data.demand, baseline)
        cal.parameters = deep_merge(cal.parameters, {"demand": demand})
        cal.tables["demand_fit"] = fit.history.drop(columns=["rate"])
        cal.tables["conversion"] = fit.conversion
        cal.tables["changepoints"] = fit.changepoints
        notes.append(
            f"Demand: Prophet fit on {len(fit.history)} {'weekly' if fit.frequency == 'W' else 'monthly'} "
            f"periods; {fit.intensity.shape[1] - 1} predictive sample paths in intensity.csv."
        )
    else:
        notes.append("Demand: no demand.csv; the baseline's demand profile stays.")

    table = None
    if data.episodes is not None:
        table = routes.episode_table(data.episodes, cut)
    if data.ssda903 is not None:
        periods = ssda903.care_periods(data.ssda903, cut, data.ssda903_header)
        table = periods if table is None else pd.concat([table[table["stage"] != "cic"], periods])
        mix = ssda903.placement_mix(data.ssda903, cut)
        cal.tables["placement_mix"] = mix
        if mix["care_days"].sum() > 0:
            shares = mix.set_index("placement_group")["care_days"] / mix["care_days"].sum()
            placement_mix = {ssda903.COST_TYPE[g]: float(v) for g, v in shares.items() if v > 0}
            cal.parameters = deep_merge(cal.parameters, {"costs": {"placement_mix": placement_mix}})
            notes.append("Placement mix (costs.placement_mix): SSDA903 care days in the last year.")
        notes.append(f"Children looked after: {len(periods)} periods of care from SSDA903.")
    if table is not None:
        fitted = routes.fit_routes(table, baseline)
        cal.parameters = deep_merge(cal.parameters, fitted["parameters"])
        cal.tables["routes"] = fitted["routes"]
        cal.tables["stage_durations"] = fitted["durations"]
        cal.tables["routes_by_year"] = routes.routes_by_year(table)
        cal.tables["_episodes"] = table  # for the report's histograms; never written as rows
        done = sorted(fitted["parameters"]["pathway"]["stages"])
        rest = sorted(set(baseline.pathway.stages) - set(done))
        notes.append(f"Routes and durations fitted for {done}; baseline kept for {rest}.")
    if data.demand is not None and "front_door" not in cal.parameters.get("pathway", {}).get(
        "stages", {}
    ):
        front = _front_door_routes(data.demand, baseline)
        cal.parameters = deep_merge(
            cal.parameters, {"pathway": {"stages": {"front_door": {"routes": front}}}}
        )
        notes.append(
            f"Front door: contact-to-referral conversion {front['mash']:.3f} over the last 12 "
            "months of demand.csv; the rest split between NFA and Early Help as in the baseline."
        )

    if data.staff is not None:
        fitted = churn.fit_churn(data.staff, cut)
        cal.parameters = deep_merge(cal.parameters, fitted["parameters"])
        for key in ("by_contract", "by_team", "survival", "sickness"):
            cal.tables[f"churn_{key}"] = fitted[key]
    else:
        notes.append("Staff churn: no staff_spells.csv; baseline turnover and sickness stay.")
    if data.vacancies is not None:
        fitted = leadtimes.fit_lead_times(data.vacancies, cut)
        cal.parameters = deep_merge(cal.parameters, fitted["parameters"])
        cal.tables["lead_time_fits"] = fitted["fits"]
        cal.tables["_lead_times"] = fitted["lead_times"]
        filling = cal.tables["vacancy_filling"] = leadtimes.recent_fill_factors(data.vacancies, cut)
        if len(filling):
            shown = ", ".join(f"{r.team} {r.factor:.2f}" for r in filling.itertuples())
            notes.append(
                f"Vacancy filling in the last {leadtimes.COHORT_DAYS} days against the whole log "
                f"(2 = twice as slow as usual): {shown}. The lead times use the whole log; "
                "demandsim outlook stretches each team's days to fill by its factor."
            )

    in_post = snapshot.staff_in_post(data.snapshot_staff, data.staff, start)
    vacancies = snapshot.open_vacancies(data.vacancies, start)
    warm = snapshot.warm_start(start, data.snapshot_cases, in_post, vacancies)
    cal.parameters = deep_merge(cal.parameters, warm["parameters"])
    cal.tables["snapshot_cases"] = warm["cases"]
    cal.tables["snapshot_staff"] = warm["staff"]
    if data.snapshot_cases is None:
        notes.append("Warm start: no snapshot_cases.csv; the baseline's initial cases stay.")
    return cal


def _last_year(demand: pd.DataFrame) -> pd.DataFrame:
    return demand.loc[demand["date"] > demand["date"].max() - pd.DateOffset(years=1)]


def _front_door_routes(demand: pd.DataFrame, baseline: Scenario) -> dict[str, float]:
    recent = _last_year(demand)
    conversion = float(recent["referrals"].sum() / max(recent["contacts"].sum(), 1))
    base = dict(baseline.pathway.stages["front_door"].routes)
    others = {k: v for k, v in base.items() if k != "mash"}
    scale = (1.0 - conversion) / max(sum(others.values()), 1e-12)
    routes_ = {k: round(v * scale, 4) for k, v in others.items()}
    routes_["mash"] = round(1.0 - sum(routes_.values()), 6)
    return routes_


def _source_mix(demand: pd.DataFrame, baseline: Scenario) -> dict[str, float]:
    recent = _last_year(demand)
    by_source = recent.groupby(recent["source"].str.strip().str.lower())["contacts"].sum()
    mix = {k: 0.0 for k in baseline.demand.sources}
    mix.update({str(k): round(float(v / by_source.sum()), 4) for k, v in by_source.items()})
    largest = max(mix, key=mix.get)
    mix[largest] = round(mix[largest] + 1.0 - sum(mix.values()), 6)
    return mix
