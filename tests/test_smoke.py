from demandsim.run import run_replication


def test_baseline_runs_one_short_replication(baseline):
    from demandsim.scenario_files import apply_overrides

    short = apply_overrides(baseline, ["years=0.25", "warmup_days=30"])
    result = run_replication(short, seed=1)
    assert set(result.daily["team"]) == set(short.teams)
    assert result.timeliness["referrals"] > 0
