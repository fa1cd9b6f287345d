"""Batch runs: reproducible tables (same seeds, parallel, resumed, on Dask), paired differences,
sweeps, percentile bands, and clear errors for bad --vary and --set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from scipy import stats

from demandsim.batch import aggregate, commands, replicate
from demandsim.batch.aggregate import describe, quantiles, wilson_interval
from demandsim.batch.commands import BatchOptions
from demandsim.batch.compare import newcombe_paired, paired_differences
from demandsim.batch.store import INCOMPLETE, MANIFEST, BatchStore, ParquetSink
from demandsim.batch.sweep import parse_vary
from demandsim.cli import main
from demandsim.measures import DAILY_NAMES, SERVICE
from demandsim.replication import forecast_dates, team_labels
from demandsim.scenario_files import ScenarioError, apply_overrides

SHORT = ["years=0.25", "warmup_days=30"]
SHORT_ARGS = ["--set", SHORT[0], "--set", SHORT[1]]
TABLES = ("kpis_by_replication", "kpi_summary", "daily_bands")


@pytest.fixture(scope="module")
def short(baseline):
    return apply_overrides(baseline, SHORT)


@pytest.fixture(scope="module")
def serial_run(short, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial") / "run"
    commands.replicate(short, folder, BatchOptions(replications=4, jobs=1, report=False))
    return folder


def read_tables(folder: Path, names=TABLES) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}


def assert_same_tables(a: Path, b: Path, names=TABLES) -> None:
    left, right = read_tables(a, names), read_tables(b, names)
    for name in names:
        assert_frame_equal(left[name], right[name], check_exact=True, obj=name)


def test_same_seeds_give_the_same_tables(short, serial_run, tmp_path):
    commands.replicate(short, tmp_path / "again", BatchOptions(4, jobs=1, report=False))
    assert_same_tables(serial_run, tmp_path / "again")
    assert (serial_run / "summary.txt").read_text() == (tmp_path / "again/summary.txt").read_text()


def test_different_first_seed_gives_different_tables(short, serial_run, tmp_path):
    commands.replicate(
        short, tmp_path / "other", BatchOptions(4, first_seed=4, jobs=1, report=False)
    )
    left = read_tables(serial_run)["kpi_summary"]["mean"]
    right = read_tables(tmp_path / "other")["kpi_summary"]["mean"]
    assert not np.allclose(left, right, equal_nan=True)


def test_parallel_equals_serial(short, serial_run, tmp_path, monkeypatch):
    submitted = []

    class CountingPool(replicate.ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submitted.append(args)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(replicate, "ProcessPoolExecutor", CountingPool)
    commands.replicate(short, tmp_path / "parallel", BatchOptions(4, jobs=2, report=False))
    assert sorted(seed for _, seed in submitted) == [0, 1, 2, 3]  # the pool really ran them
    assert_same_tables(serial_run, tmp_path / "parallel")


def test_resumed_run_equals_an_uninterrupted_one(short, serial_run, tmp_path, monkeypatch):
    folder = tmp_path / "interrupted"
    real_save = BatchStore.save
    saved = []

    def save_then_die(self, key, rep):
        if len(saved) == 2:
            raise KeyboardInterrupt  # Ctrl-C after two replications are on disk
        real_save(self, key, rep)
        saved.append(rep.seed)

    monkeypatch.setattr(BatchStore, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        commands.replicate(short, folder, BatchOptions(4, jobs=1, report=False))
    assert (folder / INCOMPLETE).exists()
    assert not (folder / MANIFEST).exists()
    assert not (folder / "kpi_summary.parquet").exists()
    assert len(list(folder.glob("replications/*/*.kpis.parquet"))) == 2

    monkeypatch.setattr(BatchStore, "save", real_save)
    commands.replicate(short, folder, BatchOptions(4, jobs=2, report=False), resume=True)
    assert_same_tables(serial_run, folder)
    provenance = json.loads((folder / MANIFEST).read_text())
    assert provenance["replications_this_session"] == 2
    assert provenance["seeds"] == [0, 1, 2, 3]
    assert not (folder / INCOMPLETE).exists()
    assert not (folder / "replications").exists()


def test_resume_refuses_a_different_plan(short, tmp_path, monkeypatch):
    folder = tmp_path / "interrupted"
    monkeypatch.setattr(BatchStore, "save", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        commands.replicate(short, folder, BatchOptions(replications=3, jobs=1))
    monkeypatch.undo()
    with pytest.raises(ValueError, match="different seeds"):
        commands.replicate(short, folder, BatchOptions(replications=5, jobs=1), resume=True)
    other = apply_overrides(short, ["workforce.agency.fill_days=3"])
    with pytest.raises(ValueError, match="different scenarios"):
        commands.replicate(other, folder, BatchOptions(replications=3, jobs=1), resume=True)


@pytest.mark.slow
def test_identical_scenarios_differ_by_exactly_zero(short, tmp_path):
    outcome = commands.compare(
        [short, short], tmp_path / "cmp", BatchOptions(2, jobs=1, report=False)
    )
    diffs = outcome.tables["paired_differences"]
    assert set(diffs["scenario"]) == {"baseline-2"}
    measured = diffs[diffs["n"] > 0]
    assert len(measured) > 50
    for column in ("mean", "sd", "p5", "p95"):
        assert (measured[column] == 0).all(), column
    # every interval is exactly zero but a chance's: two replications that agree cannot show
    # that two chances are equal (Newcombe's interval, symmetric about 0 here)
    chance = measured["measure"] == "backlog_passes_threshold_in_12_months"
    assert chance.any() and (measured.loc[~chance, ["ci_low", "ci_high"]] == 0).all().all()
    low, high = measured.loc[chance, "ci_low"], measured.loc[chance, "ci_high"]
    assert (low < 0).all() and (high > 0).all() and np.allclose(low, -high)
    assert "0.0 (0.0 to 0.0)" in outcome.text
    # the headline says so in words, and claims no difference anywhere
    assert "in unallocated cases on an average day" in outcome.text  # which days it judged
    assert "No clear difference" in outcome.text and " fewer (95% CI" not in outcome.text


def test_paired_difference_is_a_t_interval_on_the_seed_by_seed_differences():
    a = [10.0, 12.0, 9.0, 14.0, 11.0]
    b = [8.0, 11.0, 9.5, 10.0, 9.0]
    kpis = pd.DataFrame(
        {
            "scenario": ["a"] * 5 + ["b"] * 5,
            "replication": list(range(5)) * 2,
            "team": "t",
            "measure": "unallocated_mean",
            "period": "forecast",
            "value": a + b,
        }
    )
    row = paired_differences(kpis, "a").iloc[0]
    d = np.subtract(b, a)
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    assert row["mean"] == pytest.approx(d.mean())
    assert row["ci_low"] == pytest.approx(d.mean() - half)
    assert row["ci_high"] == pytest.approx(d.mean() + half)


def paired_cells(probs: tuple[float, float, float, float], n: int, sets: int, seed: int):
    """``sets`` samples of ``n`` pairs of 0/1 outcomes (x, y) with chances ``probs`` of (both,
    x only, y only, neither)."""
    cells = np.random.default_rng(seed).choice(4, size=(sets, n), p=probs)
    return np.isin(cells, (0, 1)).astype(float), np.isin(cells, (0, 2)).astype(float)


@pytest.mark.parametrize(
    "probs, n",
    [((0.3, 0.1, 0.3, 0.3), 20), ((0.05, 0.05, 0.15, 0.75), 20),
     ((0.5, 0.02, 0.1, 0.38), 10), ((0.85, 0.05, 0.02, 0.08), 40)],
)  # fmt: skip
def test_chance_differences_hold_the_true_difference_as_often_as_they_claim(probs, n):
    """Newcombe's interval for paired chances covers the true difference in at least 93% of
    2,000 samples (95% claimed), and stays within -1 to 1, where a t-interval on the 0/1
    differences covers as little as 72% when few pairs disagree."""
    x, y = paired_cells(probs, n, 2000, seed=7)
    low, high = newcombe_paired(x, y)
    truth = probs[1] - probs[2]
    assert ((low <= truth) & (truth <= high)).mean() >= 0.93
    assert (low >= -1).all() and (high <= 1).all()
    assert ((low <= (x - y).mean(axis=1)) & ((x - y).mean(axis=1) <= high)).all()


def test_intervals_stay_within_the_values_a_measure_can_take():
    """Two replications' t-interval of a count reaches below 0 and of a share above 100%: both
    are cut there (the mean itself never moves); an undeclared measure is left as it is."""
    values = {"unallocated_mean": [0.0, 10.0], "agency_share_mean": [0.9, 1.0],
              "backlog_passes_threshold_in_12_months": [0.0, 0.0], "not_a_kpi": [0.0, 10.0]}  # fmt: skip
    kpis = pd.DataFrame(
        [
            dict(scenario="s", replication=r, team="t", measure=m, period="forecast", value=v)
            for m, vs in values.items()
            for r, v in enumerate(vs)
        ]
    )
    table = aggregate.kpi_summary(kpis).set_index("measure")
    t = describe(np.array(list(values.values()))).set_index(pd.Index(list(values)))
    assert t.loc["unallocated_mean", "ci_low"] < 0 and t.loc["agency_share_mean", "ci_high"] > 1
    assert table.loc["unallocated_mean", "ci_low"] == 0.0
    assert table.loc["unallocated_mean", "ci_high"] == t.loc["unallocated_mean", "ci_high"]
    assert table.loc["agency_share_mean", "ci_high"] == 1.0
    assert table.loc["agency_share_mean", "ci_low"] == t.loc["agency_share_mean", "ci_low"]
    assert table.loc["backlog_passes_threshold_in_12_months", "ci_low"] == 0.0  # Wilson: 0 of 2
    assert table.loc["not_a_kpi", "ci_low"] == t.loc["not_a_kpi", "ci_low"] < 0
    assert (table["mean"] == t["mean"]).all()


def test_wide_by_replication_places_each_value_and_refuses_repeated_rows():
    kpis = pd.DataFrame(
        {
            "scenario": ["b", "b", "a", "a", "b"],
            "replication": [7, 3, 3, 7, 9],
            "team": ["t", "u", "t", "t", "t"],
            "measure": "m",
            "period": "forecast",
            "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    wide = aggregate.wide_by_replication(kpis.astype({"scenario": "category"}))
    assert list(wide.columns) == [3, 7, 9]
    assert list(wide.index.get_level_values("scenario")) == ["b", "b", "a"]  # as first seen
    assert list(wide.index.get_level_values("team")) == ["t", "u", "t"]
    np.testing.assert_array_equal(
        wide.to_numpy(), [[np.nan, 1.0, 5.0], [2.0, np.nan, np.nan], [3.0, 4.0, np.nan]]
    )
    repeated = pd.concat([kpis, kpis.iloc[[4]]], ignore_index=True)
    with pytest.raises(ValueError, match="repeat"):
        aggregate.wide_by_replication(repeated)


@pytest.mark.slow
def test_sweep_over_an_ignored_parameter_gives_flat_curves(short, tmp_path):
    # with agency cover on vacancy only and no posts above establishment, the engagement length
    # of extra agency workers is never used
    assert short.workforce.agency_policy.max_extra_per_team == 0
    vary = parse_vary("workforce.agency_policy.extra_engagement_days=30,84,200")
    outcome = commands.sweep(
        short, [vary], tmp_path / "flat", BatchOptions(3, jobs=1, report=False)
    )
    table = outcome.tables["sweep"]
    assert table["scenario"].nunique() == 3
    spread = table.groupby(["team", "measure", "period"])["mean"].agg(lambda s: s.max() - s.min())
    assert spread.notna().sum() > 50
    assert (spread.dropna() == 0).all()
    plots = list((tmp_path / "flat/plots").glob("*.png"))
    assert any(
        p.name == "unallocated_peak--workforce.agency_policy.extra_engagement_days.png"
        for p in plots
    )


@pytest.mark.slow
def test_sweep_over_a_parameter_that_matters_is_not_flat(short, tmp_path):
    vary = parse_vary("workforce.agency.fill_days=1,60")
    outcome = commands.sweep(
        short, [vary], tmp_path / "fill", BatchOptions(3, jobs=1, report=False)
    )
    table = outcome.tables["sweep"]
    peak = table[(table["team"] == SERVICE) & (table["measure"] == "unallocated_mean")]
    assert peak.set_index("workforce.agency.fill_days")["mean"].diff().iloc[-1] > 0


def test_sweep_design_is_factorial(short):
    from demandsim.batch.sweep import design

    varies = [
        parse_vary("workforce.agency.fill_days=1,3,7"),
        parse_vary("queue_order=fifo,priority"),
    ]
    scenarios, table = design(short, varies)
    assert len(scenarios) == 6
    last = scenarios["fill_days=7,queue_order=priority"]  # points are named by their values
    assert last.workforce.agency.fill_days.mean_days == 7
    assert last.queue_order == "priority"
    assert next(iter(scenarios)) == "fill_days=1,queue_order=fifo"
    assert table["workforce.agency.fill_days"].tolist() == [1, 1, 3, 3, 7, 7]


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("workforce.agency.fill_days", "expected KEY.PATH=VALUE1,VALUE2"),
        ("=1,2", "expected KEY.PATH=VALUE1,VALUE2"),
        ("workforce.agency.fill_days=1,,3", "no empty value"),
        ("workforce.agency.fill_days=3,3", "a value is repeated"),
        ("workforce.agency.fill_dayz=1,3", "'fill_dayz' is not a key of workforce.agency"),
        ("teams.nosuchteam.posts=1,3", "'nosuchteam' is not a key of teams"),
        ("workforce.agency.fill_share=0.5,2", "workforce.agency.fill_share"),
    ],
)
def test_bad_vary_gives_a_clear_error(vary, message, tmp_path):
    out = tmp_path / "never"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            "--vary",
            vary,
            "-n",
            "2",
            "--out",
            str(out),
            *SHORT_ARGS,
        ],
    )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_repeated_vary_key_is_an_error(short):
    from demandsim.batch.sweep import design

    with pytest.raises(ScenarioError, match="each key may be varied once"):
        design(short, [parse_vary("years=1,2"), parse_vary("years=3,4")])


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["run", "-n", "2", "--set", "workforce.agency.fill_dayz=3"],
            "workforce.agency.fill_dayz: unknown key",
        ),
        (["run", "-n", "2", "--set", "workforce"], "expected KEY.PATH=VALUE"),
        (
            ["compare", "scenarios/baseline.toml", "scenarios/baseline.toml", "--set", "years=-1"],
            "years",
        ),
        (["sweep", "--vary", "years=1,2", "--set", "teams.cin.posts=many"], "teams.cin.posts"),
    ],
)
def test_bad_set_gives_a_clear_error(command, message, tmp_path):
    result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "never")])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "never").exists()


def test_run_command_with_replications_prints_a_table_and_writes_a_folder(tmp_path):
    out = tmp_path / "cli"
    args = [
        "run",
        "-n",
        "2",
        "--jobs",
        "1",
        "--no-report",
        "--out",
        str(out),
        *SHORT_ARGS,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 replications (seeds 0-1)" in result.output
    assert "95% CI of mean" in result.output
    for name in ("manifest.json", "kpi_summary.csv", "kpi_summary.parquet", "daily_bands.parquet",
                 "kpis_by_replication.parquet", "summary.txt", "scenarios/baseline.toml"):  # fmt: skip
        assert (out / name).exists(), name
    provenance = json.loads((out / MANIFEST).read_text())
    assert provenance["kind"] == "run" and provenance["seeds"] == [0, 1]
    assert "baseline" in provenance["scenarios"]
    # a complete folder is not resumed or overwritten by accident
    again = CliRunner().invoke(main, args)
    assert again.exit_code != 0 and "--overwrite" in again.output
    resumed = CliRunner().invoke(main, ["run", "-n", "2", "--resume", str(out)])
    assert resumed.exit_code != 0 and "already complete" in resumed.output


@pytest.mark.slow
def test_monthly_differences_are_each_replications_monthly_difference(short, tmp_path, monkeypatch):
    quick = apply_overrides(short, ["workforce.agency.fill_days.mean_days=3"])
    opts = BatchOptions(replications=3, jobs=1, keep_replications=True, report=False)
    commands.compare([short, quick], tmp_path / "kept", opts)
    store = BatchStore(tmp_path / "kept", plan={})
    base, other = sorted(p.name for p in (tmp_path / "kept" / "replications").iterdir())
    whole = aggregate.monthly_differences(store, base, other, quick, [0, 1, 2])
    monkeypatch.setattr(aggregate, "BLOCK_BYTES", 1)  # a month and a replication at a time
    assert_frame_equal(
        whole,
        aggregate.monthly_differences(store, base, other, quick, [2, 0, 1]),
        check_exact=True,
    )
    # recomputed: each replication's monthly mean (money: total) of the day-by-day series
    dates = forecast_dates(quick)
    inside = np.flatnonzero(dates.to_period("M") == dates[40].to_period("M"))
    days = slice(inside[0], inside[-1] + 1)
    measure, team = "unallocated_cases", 0
    k = DAILY_NAMES.index(measure)
    ours = store.daily_block(other, [0, 1, 2], 0, len(dates))[:, days, team, k].astype(float)
    theirs = store.daily_block(base, [0, 1, 2], 0, len(dates))[:, days, team, k].astype(float)
    diff = np.nanmean(ours, axis=1) - np.nanmean(theirs, axis=1)
    row = whole[
        (whole["month"] == dates[40].to_period("M").to_timestamp())
        & (whole["team"] == team_labels(quick)[team])
        & (whole["measure"] == measure)
    ]
    assert len(row) == 1
    assert row["mean"].iloc[0] == pytest.approx(diff.mean())
    assert row["p50"].iloc[0] == pytest.approx(np.median(diff))
    assert np.ptp(diff) > 0  # the replications differ, so their order would show


def test_daily_bands_are_ordered_and_cover_every_series(short, serial_run):
    bands = read_tables(serial_run)["daily_bands"]
    n_days = bands["date"].nunique()
    assert len(bands) == n_days * len(team_labels(short)) * len(DAILY_NAMES)
    values = bands[list(aggregate.BAND_COLUMNS)].dropna().to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    service = bands[(bands["team"] == SERVICE) & (bands["measure"] == "unallocated_cases")]
    assert service["p95"].max() > 0


@pytest.mark.slow
def test_daily_bands_do_not_depend_on_the_block_size(short, tmp_path, monkeypatch):
    opts = BatchOptions(replications=3, jobs=1, keep_replications=True, report=False)
    commands.replicate(short, tmp_path / "kept", opts)
    store = BatchStore(tmp_path / "kept", plan={})
    whole, whole_monthly = aggregate.series_bands(store, "baseline", short, [0, 1, 2])
    monkeypatch.setattr(aggregate, "BLOCK_BYTES", 1)  # one month at a time
    by_month, by_month_monthly = aggregate.series_bands(store, "baseline", short, [0, 1, 2])
    assert_frame_equal(whole, by_month, check_exact=True)
    assert_frame_equal(whole_monthly, by_month_monthly, check_exact=True)
    stack = store.daily_block("baseline", [0, 1, 2], 0, 5)
    expected = np.quantile(stack[:, :, 0, 0].astype(float), 0.5, axis=0)
    got = whole[(whole["team"] == next(iter(short.teams))) & (whole["measure"] == DAILY_NAMES[0])]
    np.testing.assert_allclose(got["p50"].to_numpy()[:5], expected)

    # a batch streams the daily bands to its file a block at a time: read back, the same table
    sink = ParquetSink(tmp_path / ".partial.parquet")
    streamed, streamed_monthly = aggregate.series_bands(
        store, "baseline", short, [0, 1, 2], daily_to=sink.write
    )
    assert streamed is None
    sink.move_to(tmp_path / "daily.parquet")
    assert not (tmp_path / ".partial.parquet").exists()
    assert pq.ParquetFile(tmp_path / "daily.parquet").num_row_groups > 1
    whole.to_parquet(tmp_path / "whole.parquet", index=False)  # as a batch wrote them before
    assert_frame_equal(
        pd.read_parquet(tmp_path / "daily.parquet"),
        pd.read_parquet(tmp_path / "whole.parquet"),
        check_exact=True,
    )
    assert_frame_equal(streamed_monthly, whole_monthly, check_exact=True)


def test_quantiles_match_numpy_and_skip_missing_values():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(31, 4, 3))
    values[:10, 0, 0] = np.nan
    values[:, 1, 1] = np.nan
    got = quantiles(values)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(values, aggregate.QUANTILES, axis=0)
    np.testing.assert_allclose(got, expected, equal_nan=True)
    one = values[:1].astype(np.float32)  # one replication, as a single run's daily cube
    assert quantiles(one).dtype == float
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(one.astype(float), aggregate.QUANTILES, axis=0)
    np.testing.assert_array_equal(quantiles(one), expected)


def test_describe_and_wilson_interval():
    table = describe(np.array([[1.0, 2.0, 3.0, np.nan], [5.0, 5.0, 5.0, 5.0]]))
    assert table["n"].tolist() == [3, 4]
    assert table.loc[0, "mean"] == 2.0
    assert table.loc[1, "ci_low"] == table.loc[1, "ci_high"] == 5.0
    low, high = wilson_interval(np.array([0.0, 0.5]), np.array([20, 100]))
    assert low[0] == pytest.approx(0.0, abs=1e-12)
    assert high[0] == pytest.approx(0.1611, abs=1e-3)  # Wilson 95% for 0 of 20
    assert low[1] == pytest.approx(0.4038, abs=1e-3) and high[1] == pytest.approx(0.5962, abs=1e-3)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_tables(short, serial_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        options = BatchOptions(
            replications=4, executor="dask", scheduler=cluster.scheduler_address, report=False
        )
        commands.replicate(short, tmp_path / "dask", options)
    assert_same_tables(serial_run, tmp_path / "dask")


@pytest.mark.slow
def test_compare_and_sweep_commands_print_tables_and_write_folders(tmp_path):
    first = ["compare", "scenarios/agency-fill-26d.toml", "scenarios/agency-fill-3d.toml"]
    quick = ["-n", "2", "--jobs", "1", "--no-report"]  # the reports are tested in test_report
    result = CliRunner().invoke(
        main, [*first, *quick, "--years", "0.1", "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    assert "agency-fill-3d - agency-fill-26d (95% CI)" in result.output
    assert "Chance (%) that the unallocated backlog passes 50" in result.output
    assert (tmp_path / "c/paired_differences.csv").exists()
    sweep = ["sweep", "--vary", "queue_order=fifo,priority", *quick, *SHORT_ARGS]
    result = CliRunner().invoke(main, [*sweep, "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "fifo" in result.output and "priority" in result.output
    assert (tmp_path / "s/plots/unallocated_mean--queue_order.png").exists()
    assert len(pd.read_csv(tmp_path / "s/design.csv")) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--executor", "dask"], "--executor dask needs --scheduler tcp://HOST:8786"),
        (["--scheduler", "tcp://localhost:8786"], "--scheduler is for --executor dask"),
    ],
)
def test_executor_options_are_checked_before_anything_runs(options, message, tmp_path):
    result = CliRunner().invoke(main, ["run", "-n", "2", *options, "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_cached_replications_give_the_tables_a_fresh_run_gives(short, tmp_path):
    """A comparison whose base comes from the cache simulates only the other scenario, and
    writes the same tables as one that simulates both."""
    from demandsim.batch.cache import ReplicationCache, scenario_hash

    cache = ReplicationCache(tmp_path / "cache", only=[short])  # as the explorer: bases only
    quick = apply_overrides(short, ["workforce.agency.fill_days.mean_days=3"])
    slow = apply_overrides(short, ["workforce.agency.fill_days.mean_days=60"])
    cached = BatchOptions(replications=2, jobs=1, report=False, cache=cache)
    commands.compare([short, quick], tmp_path / "first", cached)
    commands.compare([short, slow], tmp_path / "second", cached)
    fresh = BatchOptions(replications=2, jobs=1, report=False)
    commands.compare([short, slow], tmp_path / "fresh", fresh)
    ran = {
        name: json.loads((tmp_path / name / MANIFEST).read_text())["replications_this_session"]
        for name in ("first", "second", "fresh")
    }
    assert ran == {"first": 4, "second": 2, "fresh": 4}
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [scenario_hash(short)]
    names = (*TABLES, "monthly_bands", "paired_differences", "monthly_differences")
    assert_same_tables(tmp_path / "second", tmp_path / "fresh", names)
    summary = (tmp_path / "second" / "summary.txt").read_text()
    assert summary == (tmp_path / "fresh" / "summary.txt").read_text()


def test_the_cache_key_is_what_a_replication_depends_on(short, monkeypatch):
    from demandsim.batch import cache

    key = cache.scenario_hash(short)
    renamed = short.model_copy(update={"name": "other", "description": "words"})
    assert cache.scenario_hash(renamed) == key  # the engine never reads them
    assert cache.scenario_hash(apply_overrides(short, ["teams.cin.posts=93"])) != key
    assert cache.scenario_hash(short.model_copy(update={"source_dir": "/elsewhere"})) != key
    monkeypatch.setattr(cache, "engine_fingerprint", lambda: "other code")
    assert cache.scenario_hash(short) != key


def test_a_stopped_batch_ends_its_workers_and_is_left_as_interrupted(short, tmp_path):
    import multiprocessing
    import threading

    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 1:
            stop.set()

    options = BatchOptions(replications=4, jobs=2, on_progress=progress, stop=stop)
    with pytest.raises(replicate.Cancelled):
        commands.replicate(short, tmp_path / "stopped", options)
    assert multiprocessing.active_children() == []
    assert (tmp_path / "stopped" / INCOMPLETE).exists()
    assert not (tmp_path / "stopped" / MANIFEST).exists()
    kept = list((tmp_path / "stopped").glob("replications/*/seed-*.kpis.parquet"))
    assert 1 <= len(kept) < 4


def test_a_batch_whose_replications_are_all_cached_runs_none(short, tmp_path):
    from demandsim.batch.cache import ReplicationCache

    options = BatchOptions(replications=1, jobs=1, report=False, cache=ReplicationCache(tmp_path))
    commands.replicate(short, tmp_path / "first", options)
    commands.replicate(short, tmp_path / "again", options)
    manifest = json.loads((tmp_path / "again" / MANIFEST).read_text())
    assert manifest["replications_this_session"] == 0
    assert_same_tables(tmp_path / "first", tmp_path / "again")


def test_replication_kpis_are_every_file_concatenated_with_labels_as_categories(tmp_path):
    """Read through codes of a growing vocabulary (names new in later files included), the
    KPI rows are the files concatenated in key then seed order, labels made categories."""
    import numpy as np

    from demandsim.batch.store import BatchStore
    from demandsim.replication import Replication

    store = BatchStore.create(tmp_path / "b", {})
    rng = np.random.default_rng(1)
    frames = []
    for key in ("base", "edited"):
        for seed in (4, 2, 7):
            n = 3 + seed
            kpis = pd.DataFrame({
                "team": rng.choice(["cin", "assessment", f"team{seed}"], n),
                "measure": rng.choice(["leavers", "total_gbp"], n),
                "period": rng.choice(["forecast", "2026-27"], n), "value": rng.random(n),
            })  # fmt: skip
            store.save(key, Replication(seed, kpis, np.zeros((1, 1, 1), dtype=np.float32)))
            frames.append((key, seed, kpis))
    expected = pd.concat(
        [k.assign(replication=seed).pipe(lambda f, key=key: f.assign(scenario=key))
         for key, seed, k in sorted(frames, key=lambda t: (t[0] != "base", t[1]))],
        ignore_index=True,
    )[["scenario", "replication", "team", "measure", "period", "value"]]  # fmt: skip
    expected = expected.astype({c: "category" for c in ("scenario", "team", "measure", "period")})
    got = store.replication_kpis(["base", "edited"], [7, 2, 4])
    pd.testing.assert_frame_equal(got, expected)


def test_ending_the_workers_never_leaves_the_pool_waiting_for_half_a_result():
    """Ctrl-C can end a worker while it writes a result to the pool's pipe. With half a message
    there (here, a header announcing 1,000 bytes that never come), ending the workers must
    still let the pool shut down, not leave its manager thread, and the command, waiting."""
    import os
    import struct
    import threading
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1)
    assert pool.submit(abs, -1).result(timeout=60) == 1  # the worker and manager are running
    os.write(pool._result_queue._writer.fileno(), struct.pack("!i", 1000))
    replicate._terminate(pool)
    closing = threading.Thread(target=pool.shutdown, kwargs={"wait": True}, daemon=True)
    closing.start()
    closing.join(timeout=20)
    assert not closing.is_alive(), "the pool is still waiting for the rest of the result"


def test_ctrl_c_while_workers_fork_is_raised_after_the_fork_not_lost():
    """A SIGINT that lands in a fork's own hooks is printed as ignored and lost (the command
    ran on to the end); inside forking() it is held and raised when the block ends."""
    import signal
    import threading
    import time

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # a worker may ignore it
    reached = False
    try:
        with pytest.raises(KeyboardInterrupt), replicate.forking():
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # as Ctrl-C, to it
            time.sleep(0.05)
            reached = True  # not interrupted inside
    finally:
        signal.signal(signal.SIGINT, before)
    assert reached
