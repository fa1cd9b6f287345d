"""``demandsim optimise``: checked where the answer is known (Erlang C), on its inputs, on its
seeds and frontier, and end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from demandsim.cli import main
from demandsim.measures import SERVICE, TOTAL_COST
from demandsim.optimise.command import optimise, seed_sets
from demandsim.optimise.search import Outcome, PlanResult, frontier, search, wilson
from demandsim.optimise.target import OptimiseFile, load_target
from demandsim.report.text import pounds
from tests.factories import queue_scenario
from tests.stats import erlang_c

ROOT = Path(__file__).resolve().parents[1]
SURGE = ROOT / "scenarios" / "autumn-2014-surge.toml"


def queue_target(max_mean_wait_days: float, low: int, high: int, **search) -> OptimiseFile:
    return OptimiseFile.model_validate(
        {
            "name": "least workers",
            "scenario": "(built in the test)",
            "target": {
                "kpi": [
                    {
                        "measure": "mean_days_referral_to_allocation",
                        "at_most": max_mean_wait_days,
                        "judged_on": "mean",
                    }
                ]
            },
            "levers": {"posts": {"team": {"min": low, "max": high, "new_posts": "permanent"}}},
            "search": {"replications": 6, "prune_after": 2, **search},
        }
    )


@pytest.mark.parametrize("sampler", ["grid", "tpe"])
def test_least_workers_meeting_a_mean_wait_is_erlang_cs_answer(sampler):
    """M/M/c with 4 arrivals a day and 1-day work: Erlang C's mean wait is 0.55 days with 5
    workers, 0.14 with 6 and 0.05 with 7, so the least c with a mean wait of at most 0.3 days is
    6, and its neighbours are far from the bound (about 10 standard errors with 6 replications)."""
    arrivals, service_rate, bound = 4.0, 1.0, 0.3
    analytic = next(c for c in range(5, 20) if erlang_c(c, arrivals, service_rate)[1] <= bound)
    assert analytic == 6
    base = queue_scenario(arrivals, 1 / service_rate, 5, days=300, warmup_days=30)
    found = search(queue_target(bound, 5, 9, sampler=sampler), base, seeds=range(6))
    assert found.chosen is not None
    assert found.chosen.levers == {"posts.team": analytic}
    by_c = {p.levers["posts.team"]: p.means()[0] for p in found.plans}
    for c in (5, 6, 7):  # the simulated mean waits are Erlang C's, roughly
        assert by_c[c] == pytest.approx(erlang_c(c, arrivals, service_rate)[1], rel=0.35, abs=0.02)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(f'name = "t"\nscenario = "{SURGE.as_posix()}"\n{text}')
    return path


GOOD_TARGET = """
[target]
chance_at_least = 0.5
[[target.daily]]
teams = ["assessment"]
at_most = 1000
[levers.posts]
assessment = [32, 33]
"""


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD_TARGET.replace("at_most = 1000", "at_most = -1"), "target.daily.0.at_most"),
        (GOOD_TARGET.replace("at_most = 1000", "at_mots = 1000"), "target.daily.0.at_mots"),
        (GOOD_TARGET.replace('teams = ["assessment"]', 'teams = ["asessment"]'), "target.daily.0.teams"),
        (GOOD_TARGET.replace("chance_at_least = 0.5", "chance_at_least = 1.5"), "target.chance_at_least"),
        (GOOD_TARGET.replace("[32, 33]", "[33, 32]"), "levers.posts.assessment"),
        (GOOD_TARGET.replace("[32, 33]", "[20, 33]"), "levers.posts.assessment"),  # < staff in post
        (GOOD_TARGET.replace("assessment = [32, 33]", "early_help = [1, 2]"), "levers.posts.early_help"),
        (GOOD_TARGET + '[[target.kpi]]\nmeasure = "backlog"\nat_most = 1\n', "target.kpi.0.measure"),
        (GOOD_TARGET.replace("[target]", "[target]\nchance_at_least = 0.5"), "target.chance_at_least"),
        # a period no KPI row has matched nothing, and every plan 'missed' the target
        (GOOD_TARGET + '[[target.kpi]]\nmeasure = "mean_days_referral_to_allocation"\n'
         'period = "forcast"\nat_most = 50\n', "target.kpi.0.period"),
        (GOOD_TARGET + '[[target.kpi]]\nmeasure = "total_gbp"\nperiod = "2030-31"\n'
         "at_most = 1e9\n", "target.kpi.0.period"),
    ],
    ids=["negative", "unknown-key", "unknown-team", "chance", "reversed", "below-staff",
         "service-team", "unknown-kpi", "duplicate-key", "period-typo", "period-outside"],
)  # fmt: skip
def test_a_bad_target_file_exits_2_naming_the_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    result = CliRunner().invoke(main, ["optimise", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    if key != "target.chance_at_least" or "1.5" in text:  # TOML's own error names the key too
        assert key in result.output
    assert not (tmp_path / "out").exists()


def test_a_missing_scenario_is_named():
    result = CliRunner().invoke(main, ["optimise", str(ROOT / "nowhere.toml")])
    assert result.exit_code == 2 and "nowhere.toml" in result.output


def test_wilson_interval():
    low, high = wilson(18, 20)  # textbook value: 0.699 to 0.972
    assert (round(low, 3), round(high, 3)) == (0.699, 0.972)
    assert wilson(0, 3)[1] < 0.9  # three misses in three: clearly short of 90%


def test_the_confirmation_uses_seeds_the_search_never_saw():
    spec = queue_target(0.3, 5, 6, replications=7, confirm_replications=11, first_seed=40)
    seeds = seed_sets(spec)
    assert len(seeds.search) == 7 and len(seeds.confirm) == 11
    assert not set(seeds.search) & set(seeds.confirm)
    base = queue_scenario(4.0, 1.0, 5, days=60, warmup_days=10)
    outcome = optimise(spec, base, out=None, replications=3, confirm=4)
    searched = {o.seed for p in outcome.found.plans for o in p.outcomes}
    confirmed = {o.seed for o in outcome.confirmation.outcomes}
    assert searched == set(outcome.seeds.search) and len(confirmed) == 4
    assert not searched & confirmed


def _plan(
    cost: float, meets: int, n: int = 10, pruned: bool = False, means: tuple[float, ...] = ()
) -> PlanResult:
    base = queue_scenario(1.0, 1.0, 1, days=10)
    outcomes = [Outcome(i, cost, i < meets, means) for i in range(n)]
    return PlanResult({"posts.team": cost}, base, 0.0, outcomes, pruned)


EACH = queue_target(0.3, 1, 2).model_copy(
    update={"target": queue_target(0.3, 1, 2).target.model_copy(update={"kpi": ()})}
)


def test_the_frontier_is_non_dominated_and_complete():
    points = [(100, 2), (120, 5), (110, 5), (130, 9), (140, 9), (90, 0), (125, 4), (150, 10)]
    plans = [_plan(c, m) for c, m in points] + [_plan(80, 3, n=3, pruned=True)]
    front = frontier(plans, EACH)
    assert [(p.cost_gbp, p.meets) for p in front] == [
        (90, 0),
        (100, 2),
        (110, 5),
        (130, 9),
        (150, 10),
    ]
    full = [p for p in plans if not p.pruned]
    for p in front:  # nothing beats a frontier plan on both counts
        assert not any(
            q.cost_gbp <= p.cost_gbp and q.miss_chance <= p.miss_chance and q is not p
            and (q.cost_gbp, q.miss_chance) != (p.cost_gbp, p.miss_chance) for q in full
        )  # fmt: skip
    for p in full:  # and everything off it is beaten by something on it
        if p not in front:
            assert any(q.cost_gbp <= p.cost_gbp and q.miss_chance <= p.miss_chance for q in front)


def test_a_plan_that_misses_a_mean_judged_condition_meets_nothing_and_is_off_the_frontier():
    """A target of a mean wait of at most 0.3 days, judged on the mean: a cheap plan whose mean
    is 2.6 met 'every each-replication condition' in all its replications (there are none), and
    was reported as meeting the target, with today, and was the frontier."""
    from demandsim.optimise.command import Seeds, summary_text
    from demandsim.optimise.search import SearchResult

    spec = queue_target(0.3, 1, 3)
    cheap, dear = _plan(100, 10, means=(2.6,)), _plan(200, 10, means=(0.25,))
    assert cheap.chance == 1.0 and not cheap.feasible(spec) and dear.feasible(spec)
    assert frontier([cheap, dear], spec) == [dear]
    found = SearchResult([cheap, dear], dear, tuple(range(10)), "grid", 1.0)
    fresh = _plan(200, 10, means=(0.5,))  # the chosen plan on fresh seeds: above 0.3
    text = summary_text(spec, fresh.scenario, found, fresh, cheap, Seeds(tuple(range(10)), (10,)))
    assert "WARNING: on fresh seeds the plan falls short of the target" in text
    assert "today 2.6, plan 0.5 (target: at most 0.3)" in text


@pytest.mark.slow
def test_the_command_writes_the_folder_with_report_plans_and_frontier(tmp_path):
    """A short run of the surge end to end; the folder's figures are rebuilt from its own
    per-replication results."""
    target = write(
        tmp_path,
        GOOD_TARGET
        + "[levers.premium_agency]\nfill_days = 3\ncost_per_day_gbp = 100\n"
        + "[search]\nreplications = 2\nprune_after = 1\nconfirm_replications = 2\nfirst_seed = 5\n",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["optimise", str(target), "--years", "0.05", "--max-plans", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("report.html", "costs_and_staffing.xlsx", "summary.txt", "optimise_plans.csv",
                 "optimise_frontier.csv", "charts/optimise_frontier.png", "manifest.json", "optimise.json"):  # fmt: skip
        assert (out / name).is_file(), name
    assert "Optimise: t" in (out / "summary.txt").read_text()
    record = json.loads((out / "optimise.json").read_text())
    assert record["search_seeds"] == [5, 6] and record["confirmation_seeds"] == [7, 8]
    assert "lever" in result.output and "Wilson interval" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == [7, 8]  # fresh: the search had 5 and 6
    plans = pd.read_csv(out / "optimise_plans.csv")
    assert plans["chosen"].sum() == 1
    chosen = plans[plans["chosen"]].iloc[0]
    assert bool(chosen["meets_target"]) and bool(chosen["on_frontier"])
    front = pd.read_csv(out / "optimise_frontier.csv")
    assert front["chosen"].sum() == 1
    full = plans[~plans["pruned"]]
    for row in front.itertuples():  # nothing tried beats a frontier plan on both counts
        better = full[(full["total_cost_gbp"] <= row.total_cost_gbp)
                      & (full["miss_chance"] <= row.miss_chance)
                      & ((full["total_cost_gbp"] < row.total_cost_gbp)
                         | (full["miss_chance"] < row.miss_chance))]  # fmt: skip
        assert better.empty
    # the confirmation's cost, rebuilt from the folder's own per-replication KPIs
    confirmed = pd.read_csv(out / "optimise_confirmation.csv").set_index("plan")
    kpis = pd.read_parquet(out / "kpis_by_replication.parquet")
    totals = kpis[(kpis["team"] == SERVICE) & (kpis["measure"] == TOTAL_COST)]
    per_rep = totals.groupby(["scenario", "replication"])["value"].sum()
    assert sorted(set(totals["replication"])) == [7, 8]
    spec, base = load_target(target, years=0.05)
    for label, key in (("today", "autumn-2014-surge"), ("plan", "autumn-2014-surge-optimised")):
        row = confirmed.loc[label]
        expected = per_rep[key].mean() + row["premium_contract_gbp"]
        assert row["total_cost_gbp"] == pytest.approx(expected, rel=1e-9)
        # a year of the forecast's days (18 days from --years 0.05, not 0.05 x 365.25)
        assert row["annual_cost_gbp"] == pytest.approx(
            expected * 365.25 / base.forecast_days, rel=1e-9
        )
    premium_days = (base.end_date - base.start_date).days
    assert confirmed.loc["plan", "premium_contract_gbp"] == (
        100 * premium_days if chosen["premium_agency"] else 0
    )
    assert spec.name == "t"
    # the report's plan section shows the confirmation as stored, and the frontier chart
    page = (out / "report.html").read_text()
    section = page[page.index('<section id="plan">') :].split("</section>")[0]
    assert section.count("data:image/png;base64,") == 1  # the frontier, drawn from the folder
    for label in ("today", "plan"):
        row = confirmed.loc[label]
        shown = f"{int(row['met_target'])} of {int(row['replications'])}"
        assert f"<td>{label}</td>" in section and shown in section
        assert f"{100 * row['chance_high']:.0f}%" in section
        assert pounds(row["annual_cost_gbp"]) in section
    assert f"{len(plans)} plans" in section
    frontier_table = section[section.index("Plans on the frontier") :]
    for row in front.itertuples():  # every frontier plan, with its cost and chance of missing
        assert pounds(row.annual_cost_gbp) in frontier_table
        assert f"{100 * row.miss_chance:.0f}%" in frontier_table
    assert frontier_table.count("</tr>") == len(front) + 1  # a header and one row per plan


def test_no_plan_meeting_the_target_is_said_and_writes_nothing(tmp_path):
    impossible = GOOD_TARGET.replace("at_most = 1000", "at_most = 0").replace(
        "chance_at_least = 0.5", "chance_at_least = 1.0"
    )
    target = write(tmp_path, impossible + "[search]\nreplications = 2\nprune_after = 1\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["optimise", str(target), "--years", "0.05", "--max-plans", "1", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "No plan among the 1 tried meets the target" in result.output
    assert "no plan met the target" in result.output
    assert not out.exists()


def test_help_and_a_bad_target_do_not_load_the_heavy_libraries(tmp_path):
    """Like every command: `optimise --help` and a target-file error answer at once."""
    from tests.imports import heavy_modules_loaded

    bad = write(tmp_path, GOOD_TARGET.replace("at_most = 1000", "at_most = -1"))
    calls = [(["optimise", "--help"], 0), (["optimise", str(bad)], 2)]
    heavy = ("pandas", "scipy", "matplotlib", "prophet", "optuna")
    assert heavy_modules_loaded(calls, heavy) == []


def test_a_search_on_two_processes_equals_the_serial_search():
    """Parallel = serial: the same plans, the same outcomes seed by seed, the same choice."""
    spec = queue_target(0.3, 5, 7, replications=4)
    base = queue_scenario(4.0, 1.0, 5, days=80, warmup_days=10)
    serial = search(spec, base, seeds=range(4), jobs=1)
    parallel = search(spec, base, seeds=range(4), jobs=2)
    assert [(p.levers, p.outcomes) for p in serial.plans] == [
        (p.levers, p.outcomes) for p in parallel.plans
    ]
    assert serial.chosen.levers == parallel.chosen.levers


def test_the_report_warns_when_the_plan_falls_short_and_names_the_premium_contract():
    """The printed summary warned that the plan fell short on fresh seeds; the report did not.
    And the comparison's costs (budget, tables, workbook) leave out the premium contract, which
    the report now says, with its amount."""
    from types import SimpleNamespace

    from demandsim.report.plan import plan_section

    confirmation = pd.DataFrame(
        {"plan": ["today", "plan"], "first_seed": 4, "replications": 4,
         "annual_cost_gbp": [4.0e7, 4.1e7], "total_cost_gbp": [2.3e7, 2.4e7],
         "premium_contract_gbp": [0.0, 84800.0], "met_target": [0, 3],
         "chance_meets_target": [0.0, 0.75], "chance_low": [0.0, 0.3],
         "chance_high": [0.49, 0.95], "meets_whole_target": [False, False]}
    )  # fmt: skip
    plans = pd.DataFrame(
        {"posts.cin": [92, 95], "annual_cost_gbp": [4.0e7, 4.1e7], "miss_chance": [1.0, 0.0],
         "on_frontier": [True, True], "chosen": [False, True]}
    )  # fmt: skip
    inputs = SimpleNamespace(
        optimise={"target": {"target": {"chance_at_least": 0.9}}, "search_seeds": [0, 3],
                  "confirmation_seeds": [4, 7]},
        optimise_plans=plans, optimise_confirmation=confirmation,
    )  # fmt: skip
    page = plan_section(inputs, "")
    assert "on the fresh seeds the plan falls short of the target" in page
    assert "£84,800 over the forecast" in page
    meets = confirmation.assign(meets_whole_target=[False, True], premium_contract_gbp=0.0)
    page = plan_section(SimpleNamespace(**{**vars(inputs), "optimise_confirmation": meets}), "")
    assert "falls short" not in page and "premium agency contract is in" not in page
