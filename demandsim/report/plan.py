"""The report's section for an optimised plan (``demandsim optimise``): today and the plan on
fresh seeds, the cost-risk frontier, and the plans on it, read from the folder's optimise tables."""

from __future__ import annotations

import html

from demandsim.report.html import _table
from demandsim.report.inputs import ReportInputs
from demandsim.report.text import pounds


def plan_section(inputs: ReportInputs, chart: str) -> str:
    """HTML: what the target asks, today against the plan (cost, and the chance of meeting the
    target with its Wilson interval, on fresh seeds), the frontier chart and table."""
    from demandsim.optimise.command import _fmt, lever_label

    spec = inputs.optimise or {}
    target = spec.get("target", {})
    plans, confirmation = inputs.optimise_plans, inputs.optimise_confirmation
    assert plans is not None
    wanted = float(target.get("target", {}).get("chance_at_least", float("nan")))
    intro = (
        f"<p class='note'>{html.escape(str(target.get('name', '')))}: "
        f"{html.escape(str(target.get('description', '')))} The target must be met with a chance "
        f"of at least {wanted:.0%}. The search tried {len(plans)} plans on seeds "
        f"{_span(spec.get('search_seeds', []))}; the chosen plan (the cheapest that met the "
        "target there) and today's staffing were then run again on fresh seeds "
        f"{_span(spec.get('confirmation_seeds', []))}, so the chance below is not flattered by "
        "the search's choice. The comparison in the sections below is the same fresh run.</p>"
    )
    parts = [intro]
    if confirmation is not None:
        plan_row = confirmation.set_index("plan").loc["plan"]
        if "meets_whole_target" in plan_row and not bool(plan_row["meets_whole_target"]):
            parts.append(
                "<p class='warning'><strong>Warning:</strong> on the fresh seeds the plan falls "
                "short of the target. Run more search replications, or take the next plan on the "
                "frontier.</p>"
            )
        premium = float(plan_row["premium_contract_gbp"])
        if premium:
            parts.append(
                "<p class='note'>The premium agency contract is in the costs of this section "
                f"({pounds(premium)} over the forecast), not in the budget, cost tables and "
                "workbook below, which cost the plan's staff and placements: add it to the "
                "plan's figures there.</p>"
            )
        shown = confirmation.assign(
            met=confirmation["met_target"].astype(int).astype(str)
            + " of "
            + confirmation["replications"].astype(str)
        )[["plan", "annual_cost_gbp", "premium_contract_gbp", "met", "chance_meets_target",
           "chance_low", "chance_high"]].rename(columns={
               "annual_cost_gbp": "annual cost", "premium_contract_gbp": "premium contract",
               "met": "met the target", "chance_meets_target": "chance of meeting it",
               "chance_low": "95% Wilson low", "chance_high": "95% Wilson high"})  # fmt: skip
        parts.append(
            _table(
                shown,
                money=["annual cost", "premium contract"],
                shares=["chance of meeting it", "95% Wilson low", "95% Wilson high"],
            )
        )
    parts.append(chart)
    levers = [c for c in plans.columns if c[:1].isalpha() and c not in _RESULT_COLUMNS]
    front = plans[plans["on_frontier"].astype(bool)].sort_values("annual_cost_gbp")
    table = front[[*levers, "annual_cost_gbp", "miss_chance", "chosen"]].rename(
        columns={lever: lever_label(lever) for lever in levers}
        | {"annual_cost_gbp": "annual cost", "miss_chance": "chance of missing"}
    )
    table["chosen"] = table["chosen"].astype(bool).map({True: "chosen", False: ""})
    for lever in levers:  # yes / no, as the printed plan table says it
        if plans[lever].dtype == bool:
            table[lever_label(lever)] = table[lever_label(lever)].map(_fmt)
    parts.append(
        "<h3>Plans on the frontier (search seeds)</h3><p class='note'>No plan tried is both "
        "cheaper and likelier to meet the target than these. Every plan tried is in "
        "optimise_plans.csv.</p>"
        + _table(table, money=["annual cost"], shares=["chance of missing"])
    )
    return "".join(parts)


_RESULT_COLUMNS = {
    "annual_cost_gbp", "total_cost_gbp", "premium_contract_gbp", "miss_chance", "miss_chance_low",
    "miss_chance_high", "replications", "pruned", "meets_target", "on_frontier", "chosen",
}  # fmt: skip


def _span(seeds: list[int]) -> str:
    return f"{seeds[0]} to {seeds[-1]}" if seeds else "-"
