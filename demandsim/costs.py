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

A batch carries each replication's costs as KPI rows (:func:`cost_kpis`: ``cost_fy_2026-27_
total_gbp``, ``cost_month_2026-04_placements_gbp`` ...) and reads them back into frames with
:func:`cost_frames`, so paired differences between scenarios come with the other KPIs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from demandsim.calendar import financial_year
from demandsim.scenario import Costs

COMPONENTS = (
    "staff_permanent_gbp",
    "staff_agency_gbp",
    "retention_gbp",
    "recruitment_gbp",
    "agency_fees_gbp",
    "placements_gbp",
)
TOTAL = "total_gbp"
PERCENTILES = (10, 50, 90)


def inflation_factors(dates: pd.Series | pd.DatetimeIndex, costs: Costs, base: str) -> np.ndarray:
    """Price factor per date: (1 + inflation) ** (financial years after the base year)."""
    years = financial_year(np.asarray(dates, dtype="datetime64[D]"))
    offset = np.array([int(y[:4]) for y in years]) - int(base[:4])
    return (1.0 + costs.inflation_per_year) ** offset


def daily_costs(
    daily: pd.DataFrame,
    starters: pd.DataFrame,
    in_care: pd.Series,
    costs: Costs,
    base_year: str,
) -> pd.DataFrame:
    """Cost per day by component, in pounds of each day's financial year.

    ``daily`` has date, team, staff_permanent, staff_agency (time-weighted, per day);
    ``starters`` has date, team, permanent_starters, agency_starters; ``in_care`` is children in
    care per day indexed by date; ``base_year`` is the financial year ('2026-27') whose prices
    the unit costs are in.
    """
    staff = daily.groupby("date")[["staff_permanent", "staff_agency"]].sum()
    dates = staff.index
    hires = (
        starters.groupby("date")[["permanent_starters", "agency_starters"]]
        .sum()
        .reindex(dates, fill_value=0)
    )
    care = in_care.reindex(dates, fill_value=0.0).to_numpy()
    out = pd.DataFrame(
        {
            "staff_permanent_gbp": staff["staff_permanent"] * costs.permanent_per_day_gbp,
            "staff_agency_gbp": staff["staff_agency"] * costs.agency_per_day_gbp,
            "retention_gbp": staff["staff_permanent"]
            * (costs.retention_per_permanent_per_year_gbp / 365.25),
            "recruitment_gbp": hires["permanent_starters"]
            * costs.recruitment_per_permanent_hire_gbp,
            "agency_fees_gbp": hires["agency_starters"] * costs.agency_finder_fee_gbp,
            "placements_gbp": care * costs.placement_per_day_gbp,
        },
        index=dates,
    ).astype(float)
    out = out.mul(inflation_factors(dates, costs, base_year), axis=0)
    out[TOTAL] = out[list(COMPONENTS)].sum(axis=1)
    out.index.name = "date"
    return out.reset_index()


def monthly_costs(daily: pd.DataFrame) -> pd.DataFrame:
    """Costs by calendar month, with the financial year each month falls in."""
    month = daily["date"].dt.to_period("M").dt.to_timestamp()
    out = daily.drop(columns="date").groupby(month.rename("month")).sum().reset_index()
    out.insert(1, "financial_year", financial_year(out["month"].to_numpy()))
    return out


def financial_year_costs(daily: pd.DataFrame) -> pd.DataFrame:
    """Costs by financial year (1 April to 31 March), with the days covered and whether the
    forecast covers the whole year."""
    year = pd.Series(financial_year(daily["date"].to_numpy()), index=daily.index)
    grouped = daily.drop(columns="date").groupby(year.rename("financial_year"))
    out = grouped.sum()
    out.insert(0, "days", grouped.size())
    full = [_days_in_year(label) for label in out.index]
    out.insert(1, "partial", out["days"].to_numpy() < np.array(full))
    return out.reset_index()


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


FY_PREFIX, MONTH_PREFIX = "cost_fy_", "cost_month_"
_KPI = re.compile(r"cost_(fy|month)_(\d{4}-\d{2})_(\w+)")


def cost_kpis(daily: pd.DataFrame) -> pd.DataFrame:
    """One replication's costs as KPI rows (kpi, value): by financial year (with the days it
    covers and the total) and by month (by component)."""
    years = financial_year_costs(daily)
    months = monthly_costs(daily)
    rows = [
        (f"{FY_PREFIX}{row['financial_year']}_{col}", float(row[col]))
        for _, row in years.iterrows()
        for col in ("days", *_present(years))
    ]
    rows += [
        (f"{MONTH_PREFIX}{row['month']:%Y-%m}_{col}", float(row[col]))
        for _, row in months.iterrows()
        for col in COMPONENTS
    ]
    return pd.DataFrame(rows, columns=["kpi", "value"])


def is_cost_kpi(kpi: str) -> bool:
    return kpi.startswith((FY_PREFIX, MONTH_PREFIX))


def cost_frames(kpis: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From KPI rows (seed, kpi, value, and scenario if several) back to stacked frames: costs by
    financial year and by month, one row per scenario, replication (= seed) and period."""
    parts = kpis["kpi"].str.extract(_KPI)
    rows = kpis[parts[0].notna()].assign(period_kind=parts[0], period=parts[1], component=parts[2])
    keys = [c for c in ("scenario", "seed") if c in rows]
    wide = rows.pivot_table(
        index=[*keys, "period_kind", "period"], columns="component", values="value", sort=False
    )
    wide.columns.name = None
    wide = wide.reset_index().rename(columns={"seed": "replication"})
    years = wide[wide["period_kind"] == "fy"].rename(columns={"period": "financial_year"})
    years = years.drop(columns="period_kind").dropna(axis=1, how="all")
    years["days"] = years["days"].astype(int)
    full = np.array([_days_in_year(y) for y in years["financial_year"]])
    years.insert(years.columns.get_loc("days") + 1, "partial", years["days"].to_numpy() < full)
    months = wide[wide["period_kind"] == "month"].drop(
        columns=["period_kind", "days"], errors="ignore"
    )
    months = months.rename(columns={"period": "month"}).dropna(axis=1, how="all")
    months["month"] = pd.to_datetime(months["month"])
    months.insert(months.columns.get_loc("month") + 1, "financial_year",
                  financial_year(months["month"].to_numpy()))  # fmt: skip
    months[TOTAL] = months[[c for c in COMPONENTS if c in months]].sum(axis=1)
    return years.reset_index(drop=True), months.reset_index(drop=True)
