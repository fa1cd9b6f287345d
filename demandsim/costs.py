"""What a scenario costs: daily, monthly and by UK local-government financial year.

Covers:
- staff: each worker costs their contract's daily rate for every day in post (the time-weighted
  staff in post from the event log, so a part day costs part of a day); permanent staff cost
  salary plus on-costs and any retention payment; agency staff the agency charge;
- one-off costs on the day a worker starts: recruitment per permanent hire, a finder fee per
  agency start (starters in the warm-up are not costed; the staff who are in post at the origin
  were hired before it);
- placements: each child in care costs the mix-weighted weekly placement cost / 7 per day, with
  an uplift for the share placed out of area; a child counts as in care from the day the decision
  to move their case into a care stage is made (cases waiting for the CiC team to take them);
- inflation: unit costs are in prices of the financial year in which the forecast starts; each
  later financial year (1 April to 31 March) is uplifted by ``inflation_per_year``, as pay awards
  and fee uplifts take effect in April.

Across replications, costs by financial year are summarised as percentiles (P10, P50, P90) and,
against a budget the scenario states, the chance of overspend (the share of replications whose
total exceeds it). A financial year the forecast covers only in part is marked ``partial``; no
overspend chance is given for it, as its budget is for the whole year.

Each team carries the cost of its own staff, and of the placements of the children in the care
stages it serves, so costs by team add up to the service's. A batch keeps each replication's
daily costs in its daily cube and its costs by financial year as KPIs (``period`` = the year), so
paired differences between scenarios come with the other KPIs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from demandsim.calendar import financial_year
from demandsim.daily import COST_SERIES, cost_series
from demandsim.measures import COST_COMPONENTS as COMPONENTS
from demandsim.measures import TOTAL_COST as TOTAL
from demandsim.scenario import Costs, Scenario

PERCENTILES = (10, 50, 90)


def inflation_factors(dates: pd.Series | pd.DatetimeIndex, costs: Costs, base: str) -> np.ndarray:
    """Price factor per date: (1 + inflation) ** (financial years after the base year)."""
    years = financial_year(np.asarray(dates, dtype="datetime64[D]"))
    offset = np.array([int(y[:4]) for y in years]) - int(base[:4])
    return (1.0 + costs.inflation_per_year) ** offset


def daily_costs(
    daily: pd.DataFrame,
    starters: pd.DataFrame,
    in_care: pd.DataFrame,
    costs: Costs,
    base_year: str,
) -> pd.DataFrame:
    """Cost per day, team and component, in pounds of each day's financial year.

    ``daily`` has date, team, staff_permanent, staff_agency (time-weighted, per day);
    ``starters`` has date, team, permanent_starters, agency_starters; ``in_care`` has date, team,
    children_in_care (children in care per day, on the team that serves their care stage);
    ``base_year`` is the financial year ('2026-27') whose prices the unit costs are in.
    """
    keys = ["date", "team"]
    frame = daily[[*keys, "staff_permanent", "staff_agency"]].merge(starters, on=keys, how="left")
    frame = frame.merge(in_care, on=keys, how="left")
    frame = frame.fillna({"permanent_starters": 0, "agency_starters": 0, "children_in_care": 0.0})
    values = cost_series(
        *(frame[c].to_numpy(dtype=float) for c in _COST_INPUTS),
        inflation_factors(frame["date"], costs, base_year),
        costs,
    )
    out = pd.DataFrame(values, columns=list(COST_SERIES))
    out.insert(0, "team", frame["team"].to_numpy())
    out.insert(0, "date", frame["date"].to_numpy())
    return out


_COST_INPUTS = (
    "staff_permanent",
    "staff_agency",
    "permanent_starters",
    "agency_starters",
    "children_in_care",
)


def monthly_costs(daily: pd.DataFrame) -> pd.DataFrame:
    """Costs by calendar month (summed over teams), with the financial year each month is in."""
    month = daily["date"].dt.to_period("M").dt.to_timestamp()
    values = daily.drop(columns=["date", "team", "children_in_care"], errors="ignore")
    out = values.groupby(month.rename("month")).sum().reset_index()
    out.insert(1, "financial_year", financial_year(out["month"].to_numpy()))
    return out


def financial_year_costs(daily: pd.DataFrame) -> pd.DataFrame:
    """Costs by financial year (1 April to 31 March, summed over teams), with the days covered
    and whether the forecast covers the whole year."""
    year = pd.Series(financial_year(daily["date"].to_numpy()), index=daily.index)
    values = daily.drop(columns=["date", "team", "children_in_care"], errors="ignore")
    out = values.groupby(year.rename("financial_year")).sum()
    out.insert(0, "days", daily.groupby(year.rename("financial_year"))["date"].nunique())
    full = [_days_in_year(label) for label in out.index]
    out.insert(1, "partial", out["days"].to_numpy() < np.array(full))
    return out.reset_index()


def part_years(scenario: Scenario) -> set[str]:
    """The financial years (``2014-15``) the scenario's forecast covers only in part, as
    :func:`financial_year_costs` marks them."""
    dates = pd.date_range(scenario.start_date, periods=scenario.forecast_days, freq="D")
    days = pd.Series(financial_year(dates.to_numpy())).value_counts()
    return {str(year) for year, n in days.items() if n < _days_in_year(str(year))}


def _days_in_year(label: str) -> int:
    start = int(label[:4])
    return (pd.Timestamp(start + 1, 4, 1) - pd.Timestamp(start, 4, 1)).days


def stack_replications(frames: Iterable[pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    """Per-replication frames (a sequence or a stream) as one frame with a ``replication``
    column; a frame that already has one is returned as it is."""
    if isinstance(frames, pd.DataFrame):
        return frames if "replication" in frames else frames.assign(replication=0)
    stacked = [f.assign(replication=i) for i, f in enumerate(frames)]
    if not stacked:
        raise ValueError("no replications to summarise")
    return pd.concat(stacked, ignore_index=True)


def cost_percentiles(fy_costs: Iterable[pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    """P10, P50, P90 and mean across replications of each component's cost by financial year:
    a long table (financial_year, partial, component, p10_gbp, p50_gbp, p90_gbp, mean_gbp,
    replications)."""
    stacked = stack_replications(fy_costs)
    long = stacked.melt(
        id_vars=["replication", "financial_year", "partial"],
        value_vars=_present(stacked),
        var_name="component",
        value_name="gbp",
    )
    grouped = long.groupby(["financial_year", "partial", "component"], sort=False)["gbp"]
    out = grouped.agg(
        **{f"p{q}_gbp": (lambda s, q=q: float(np.percentile(s, q))) for q in PERCENTILES},
        mean_gbp="mean",
        replications="size",
    )
    out = out.reset_index()
    order = {name: i for i, name in enumerate([*COMPONENTS, TOTAL])}
    out = out.sort_values(["financial_year", "component"], key=_by(order), kind="stable")
    return out.reset_index(drop=True)


def _present(frame: pd.DataFrame) -> list[str]:
    return [c for c in (*COMPONENTS, TOTAL) if c in frame]


def _by(order: Mapping[str, int]):
    return lambda col: col.map(order) if col.name == "component" else col


def budget_by_year(
    fy_costs: Iterable[pd.DataFrame] | pd.DataFrame, budgets: Mapping[str, float]
) -> pd.DataFrame:
    """The budget needed per financial year (total cost at P10, P50, P90 across replications)
    and, where the scenario states a budget, the chance of overspend (share of replications
    whose total exceeds it; not given for a year the forecast covers only in part)."""
    stacked = stack_replications(fy_costs)
    rows = []
    for (year, partial), frame in stacked.groupby(["financial_year", "partial"]):
        totals = frame[TOTAL].to_numpy()
        budget = budgets.get(year, np.nan)
        chance = np.nan if partial or np.isnan(budget) else float(np.mean(totals > budget))
        rows.append(
            {
                "financial_year": year,
                "partial": bool(partial),
                "days": int(frame["days"].iloc[0]),
                **{f"p{q}_gbp": float(np.percentile(totals, q)) for q in PERCENTILES},
                "mean_gbp": float(totals.mean()),
                "budget_gbp": budget,
                "overspend_chance": chance,
                "replications": len(totals),
            }
        )
    return pd.DataFrame(rows)
