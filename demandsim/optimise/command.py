"""``demandsim optimise TARGET.toml``: search, confirm on fresh seeds, write the results folder.

Covers: the library call :func:`optimise` (search on the search seeds, confirm the chosen plan
on seeds the search never saw, then ``compare`` today against the plan on those fresh seeds so
the folder has the usual report and workbook) and the text and tables it writes (the click command
is :mod:`.cli`). The folder gains ``optimise_plans.csv`` (every plan tried),
``optimise_frontier.csv``, ``optimise_confirmation.csv``, ``optimise.json``, a section of
``summary.txt`` and, with the report, ``charts/optimise_frontier.png``; they are written with the
comparison's own files, before its manifest, and the report opens with the plan
(:mod:`demandsim.report.plan`).

Assumptions: the chance a plan meets the target is re-estimated on fresh seeds because the
search's estimate of the plan it picked is flattered by the picking (the winner's curse).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from demandsim.optimise.search import (
    PlanResult,
    SearchResult,
    frontier,
    plan_table,
    search,
    wilson,
)
from demandsim.optimise.target import OptimiseFile, today
from demandsim.scenario import Scenario


@dataclass(frozen=True)
class Seeds:
    search: tuple[int, ...]
    confirm: tuple[int, ...]


def seed_sets(
    spec: OptimiseFile, replications: int | None = None, confirm: int | None = None
) -> Seeds:
    """Search seeds first, then the confirmation's: consecutive and never overlapping."""
    n = replications or spec.search.replications
    m = confirm or spec.search.confirm_replications
    first = spec.search.first_seed
    return Seeds(tuple(range(first, first + n)), tuple(range(first + n, first + n + m)))


@dataclass
class OptimiseOutcome:
    found: SearchResult
    seeds: Seeds
    confirmation: PlanResult | None
    table: pd.DataFrame
    text: str
    folder: Path | None


def optimise(
    spec: OptimiseFile,
    base: Scenario,
    out: str | Path | None,
    *,
    jobs: int = 1,
    replications: int | None = None,
    confirm: int | None = None,
    max_plans: int | None = None,
    report: bool = True,
    overwrite: bool = False,
    say=lambda _: None,
) -> OptimiseOutcome:
    """Find the cheapest plan meeting ``spec``'s target; confirm it and write ``out``."""
    from demandsim.batch.commands import BatchOptions, compare
    from demandsim.optimise.search import Evaluator
    from demandsim.replication import forecast_dates

    seeds = seed_sets(spec, replications, confirm)
    days = len(forecast_dates(base))
    for cond in spec.target.daily:
        if cond.first_days > days:
            say(f"target: first_days = {cond.first_days} is beyond the {days}-day forecast; "
                f"judged on its {days} days")  # fmt: skip
    say(f"searching on seeds {seeds.search[0]}..{seeds.search[-1]}")
    found = search(spec, base, seeds.search, jobs=jobs, max_plans=max_plans, say=say)
    table = plan_table(found.plans, spec, found.chosen)
    if found.chosen is None:
        text = _no_plan_text(spec, found, table)
        return OptimiseOutcome(found, seeds, None, table, text, None)
    say(f"confirming the chosen plan on fresh seeds {seeds.confirm[0]}..{seeds.confirm[-1]}")
    with Evaluator(spec, base, seeds.confirm, jobs) as evaluator:
        confirmation = evaluator.evaluate(found.chosen.levers, prune=False)
        now = evaluator.evaluate(today(spec, base), prune=False)
    text = summary_text(spec, base, found, confirmation, now, seeds)
    folder = None
    if out is not None:
        plan = found.chosen.scenario.model_copy(update={"name": f"{base.name}-optimised"})
        options = BatchOptions(
            replications=len(seeds.confirm), first_seed=seeds.confirm[0], jobs=jobs,
            report=report, progress=False,
        )  # fmt: skip
        files = optimise_files(
            spec, found, seeds, table, confirmation_table(spec, now, confirmation, seeds)
        )
        outcome = compare(
            [base, plan], out, options, overwrite=overwrite, extra_files=files, extra_text=text
        )  # the plan's tables go in with the folder, before its manifest and report
        folder, text = outcome.folder, outcome.text
    return OptimiseOutcome(found, seeds, confirmation, table, text, folder)


def confirmation_table(
    spec: OptimiseFile, now: PlanResult, plan: PlanResult, seeds: Seeds
) -> pd.DataFrame:
    """Today and the chosen plan on the fresh seeds: cost, chance and its Wilson interval, and
    whether each meets the whole target (the chance and every mean-judged condition)."""
    rows = []
    for label, result in (("today", now), ("plan", plan)):
        low, high = wilson(result.meets, result.n)
        rows.append(
            {
                "plan": label,
                "first_seed": seeds.confirm[0],
                "replications": result.n,
                "annual_cost_gbp": result.annual_cost_gbp(),
                "total_cost_gbp": result.cost_gbp,
                "premium_contract_gbp": result.premium_gbp,
                "met_target": result.meets,
                "chance_meets_target": result.chance,
                "chance_low": low,
                "chance_high": high,
                "meets_whole_target": result.feasible(spec),
            }
        )
    return pd.DataFrame(rows)


def optimise_files(
    spec: OptimiseFile,
    found: SearchResult,
    seeds: Seeds,
    table: pd.DataFrame,
    confirmation: pd.DataFrame,
) -> dict[str, Callable[[Path], None]]:
    """The folder's optimise tables, as writers: every plan tried, the frontier, the
    confirmation on fresh seeds, and ``optimise.json`` (the resolved target file and how the
    search ran, beside the comparison's own ``manifest.json``, which records the fresh seeds)."""
    import json
    from importlib.metadata import version

    from demandsim.results_store import spreadsheet_safe

    record = {
        "target": spec.model_dump(mode="json"),
        "search_seeds": list(seeds.search),
        "confirmation_seeds": list(seeds.confirm),
        "sampler": found.sampler,
        "plans_evaluated": len(found.plans),
        "plans_pruned": sum(p.pruned for p in found.plans),
        "search_seconds": round(found.seconds, 1),
        "optuna_version": version("optuna"),
    }

    def csv(frame: pd.DataFrame) -> Callable[[Path], None]:
        return lambda p: spreadsheet_safe(frame).to_csv(p, index=False)  # costs to the penny

    return {
        "optimise_plans.csv": csv(table),
        "optimise_frontier.csv": csv(table[table["on_frontier"]]),
        "optimise_confirmation.csv": lambda p: confirmation.to_csv(p, index=False),
        "optimise.json": lambda p: p.write_text(json.dumps(record, indent=2) + "\n"),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def lever_label(name: str) -> str:
    group, _, rest = name.partition(".")
    return {
        "posts": f"posts, {rest}",
        "caseload_cap": f"caseload cap, {rest}",
        "agency_policy": f"agency {rest.replace('_', ' ')}",
        "premium_agency": "premium agency contract",
    }[group]


def summary_text(
    spec: OptimiseFile,
    base: Scenario,
    found: SearchResult,
    confirmation: PlanResult,
    now_result: PlanResult,
    seeds: Seeds,
) -> str:
    """The plan table for a meeting: each lever today and in the plan, then cost and the chance
    of meeting the target on the fresh seeds, then the frontier."""
    chosen = found.chosen
    assert chosen is not None
    now = today(spec, base)
    width = max(len(lever_label(k)) for k in now) + 2
    lines = [
        f"Optimise: {spec.name}",
        f"  target: chance of meeting it at least {spec.target.chance_at_least:.0%}",
        f"  search: {len(found.plans)} plans ({found.sampler}) on seeds "
        f"{seeds.search[0]}..{seeds.search[-1]}",  # its time is in optimise.json: output
        # that changes from run to run would hide a real change in the printed answer
        "",
        f"  {'lever':<{width}}{'today':>10}{'plan':>10}",
    ]
    for name, value in chosen.levers.items():
        lines.append(f"  {lever_label(name):<{width}}{_fmt(now[name]):>10}{_fmt(value):>10}")
    low, high = wilson(confirmation.meets, confirmation.n)
    lines += [
        f"  {'annual cost (£m)':<{width}}{now_result.annual_cost_gbp() / 1e6:>10.2f}"
        f"{confirmation.annual_cost_gbp() / 1e6:>10.2f}",
        f"  {'chance of meeting the target':<{width}}{now_result.chance:>10.0%}"
        f"{confirmation.chance:>10.0%}",
        "",
        f"  cost and chances on fresh seeds {seeds.confirm[0]}..{seeds.confirm[-1]}, not used in "
        "the search; the plan's cost includes the premium agency contract"
        + (f" (£{confirmation.premium_gbp / base.forecast_years:,.0f} a year;"
           f" the comparison below costs staff and placements only: add "
           f"£{confirmation.premium_gbp:,.0f} to the plan there)"
           if confirmation.premium_gbp else ""),
        f"  the plan meets the target in {confirmation.meets} of {confirmation.n} fresh "
        f"replications: 95% Wilson interval {low:.0%} to {high:.0%} (search seeds: "
        f"{chosen.meets} of {chosen.n})",
    ]  # fmt: skip
    judged = [c for c in spec.target.kpi if c.judged_on == "mean"]
    for cond, plan, today_ in zip(judged, confirmation.means(), now_result.means(), strict=True):
        lines.append(
            f"  {cond.measure} ({cond.team}, {cond.period}), mean on fresh seeds: today "
            f"{today_:.3g}, plan {plan:.3g} (target: at most {cond.at_most:g})"
        )
    if not confirmation.feasible(spec):
        lines.append("  WARNING: on fresh seeds the plan falls short of the target; run more "
                     "search replications or take the next plan on the frontier")  # fmt: skip
    lines += ["", "  Cost-risk frontier (search seeds; the chosen plan marked *):"]
    front = frontier(found.plans, spec)
    names = list(chosen.levers)
    heads = [_short(n) for n in names]
    cells = [[_fmt(p.levers[n]) for n in names] for p in front]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    lines.append("    " + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))
                 + "   £m/yr   miss")  # fmt: skip
    for p, row in zip(front, cells, strict=True):
        mark = " *" if p is chosen else ""
        lines.append(
            "    " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
            + f"  {p.annual_cost_gbp() / 1e6:>6.2f}  {p.miss_chance:>5.0%}{mark}"
        )  # fmt: skip
    return "\n".join(lines)


def _short(name: str) -> str:
    group, _, rest = name.partition(".")
    return {"posts": rest, "caseload_cap": f"cap {rest}", "premium_agency": "premium"}.get(
        group, rest.replace("max_extra_per_team", "extra").replace("request_on", "agency on")
    )


def _no_plan_text(spec: OptimiseFile, found: SearchResult, table: pd.DataFrame) -> str:
    best = table.sort_values("miss_chance").head(3)
    rows = "\n".join(
        f"  miss {r.miss_chance:.0%} at £{r.annual_cost_gbp:,.0f}/yr" for r in best.itertuples()
    )
    return (
        f"No plan among the {len(found.plans)} tried meets the target (chance at least "
        f"{spec.target.chance_at_least:.0%}); widen the levers. The closest:\n{rows}"
    )
