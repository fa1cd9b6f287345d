"""Printed tables of money: the budget needed by financial year, and cost differences."""

from __future__ import annotations

import pandas as pd

from demandsim.measures import (
    SERVICE,
    TOTAL_COST,
)


def pounds(value: float) -> str:
    """Whole pounds, the sign before the pound sign (-£230,088); "-" where unknown."""
    if pd.isna(value):
        return "-"
    return f"-£{-value:,.0f}" if value < 0 else f"£{value:,.0f}"


def format_budget(budget: pd.DataFrame, differences: pd.DataFrame | None = None) -> str:
    """Budget needed per financial year (P50, P90) by scenario, the chance of overspend, and
    (for a comparison) the paired difference in total cost from the reference scenario."""
    shown = pd.DataFrame(
        {
            "scenario": budget["scenario"],
            "financial year": budget["financial_year"]
            + budget["partial"].map({True: " (part)", False: ""}),
            "P50": budget["p50_gbp"].map(pounds),
            "P90": budget["p90_gbp"].map(pounds),
            "budget": budget["budget_gbp"].map(pounds),
            "chance of overspend": budget["overspend_chance"].map(
                lambda v: "-" if pd.isna(v) else f"{100 * v:.0f}%"
            ),
        }
    )
    if budget["scenario"].nunique() == 1:
        shown = shown.drop(columns="scenario")
    n = int(budget["replications"].max())
    lines = [
        f"Budget needed by financial year (staff and placements; {n} replication"
        f"{'s' if n != 1 else ''}):",
        shown.to_string(index=False),
    ]
    if differences is not None:
        totals = differences[
            (differences["measure"] == TOTAL_COST) & (differences["team"] == SERVICE)
        ]
        if len(totals):
            lines += ["", "Total cost, paired difference from the reference (95% CI):"]
            part = set(budget.loc[budget["partial"].astype(bool), "financial_year"])
            for row in totals.itertuples():
                year = f"{row.period}{' (part)' if row.period in part else ''}"
                lines.append(
                    f"  {row.scenario} - {row.reference}, {year}: {pounds(row.mean)} "
                    f"({pounds(row.ci_low)} to {pounds(row.ci_high)})"
                )
    return "\n".join(lines)
