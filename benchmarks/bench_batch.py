"""Benchmark a batch comparison: 200 replications x 2 scenarios x 5 years of the default scenario.

Reports wall time, replications per second, the speedup of 2 worker processes over 1 (measured
on a smaller batch, ``--speedup-replications``), peak memory of the parent and of the largest
worker, and where one replication's time goes (engine, reduction to tables, batch summaries,
bytes sent back to the parent). The two scenarios are the baseline and the baseline with a
3-day agency fill, on common random numbers. Not a test: run it by hand.

    python benchmarks/bench_batch.py                          # the full benchmark
    python benchmarks/bench_batch.py -n 20 --speedup-replications 6 --years 1   # a quick look
    python benchmarks/bench_batch.py --bands-memory 2000   # memory of percentile bands alone
    python benchmarks/bench_batch.py --finish-memory 2000  # the parent's summaries and report

``--bands-memory N`` skips the simulation: it writes N synthetic replications (random daily
cubes of the right shape for the scenario and years) to a temporary folder and reports the peak
memory of computing their percentile bands, to show that it does not grow with N.

``--finish-memory N`` skips the replications too: it simulates one replication of each scenario,
then runs ``demandsim compare`` of N x 2 (in a new process, with the CLI's settings) whose
replications are those two, hard-linked N times, so the parent's peak after the replications
(KPIs, bands, differences, costs, tables, report) is measured in about a minute rather than the
36 minutes of the full batch. Every replication being the same, sorting for the percentiles costs
less than with real ones; the arrays are the same size.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from demandsim import replication as summaries
from demandsim.batch.replicate import Plan, available_cores, run_plan
from demandsim.batch.store import BatchStore, ParquetSink
from demandsim.model import Model
from demandsim.scenario_files import apply_overrides, load_scenario


def profile_one(scenario, seeds: range) -> dict[str, float]:
    """Mean seconds per replication in each stage of ``simulate``, in this process: the engine
    (``Model.run``), the event log to tables (the rest of ``run_arrays``: drawing the plans,
    then the log to daily arrays) and the batch summaries (the rest of ``simulate``: KPIs and
    the cube), timed within the same calls."""
    spent = {"engine": 0.0, "run_arrays": 0.0}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[name] += time.perf_counter() - t0
            return out

        return wrapper

    real_run, real_arrays = Model.run, summaries.run_arrays
    Model.run = timed("engine", real_run)
    summaries.run_arrays = timed("run_arrays", real_arrays)
    try:
        t0 = time.perf_counter()
        reps = [summaries.simulate(scenario, seed) for seed in seeds]
        total = time.perf_counter() - t0
    finally:
        Model.run, summaries.run_arrays = real_run, real_arrays
    n = len(seeds)
    return {
        "engine": spent["engine"] / n,
        "tables": (spent["run_arrays"] - spent["engine"]) / n,
        "batch": (total - spent["run_arrays"]) / n,
        "bytes": len(pickle.dumps(reps[-1])),
    }


def timed_plan(plan: Plan, jobs: int) -> float:
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        store = BatchStore.create(folder / "b", plan.record())
        t0 = time.perf_counter()
        run_plan(plan, store, jobs=jobs, progress=False)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(folder)


def bands_memory(scenario, n: int) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from demandsim.batch.aggregate import series_bands
    from demandsim.measures import DAILY_NAMES
    from demandsim.replication import Replication, forecast_dates, team_labels

    shape = (len(forecast_dates(scenario)), len(team_labels(scenario)), len(DAILY_NAMES))
    folder = Path(tempfile.mkdtemp(prefix="bench-bands-"))
    try:
        store = BatchStore.create(folder / "b", {})
        rng = np.random.default_rng(0)
        kpis = pd.DataFrame(
            {"team": ["t"], "measure": ["k"], "period": ["forecast"], "value": [0.0]}
        )
        for seed in range(n):
            cube = rng.gamma(2.0, 10.0, size=shape).astype(np.float32)
            store.save("s", Replication(seed, kpis, cube))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        sink = ParquetSink(folder / "daily_bands.parquet")  # as a batch writes them
        series_bands(store, "s", scenario, list(range(n)), sink.write)
        sink.close()
        took = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = n * np.prod(shape) * 4 / 2**20
        rows = pq.ParquetFile(folder / "daily_bands.parquet").metadata.num_rows
        print(f"bands of {n} replications x {shape} (float32 on disk: {size:,.0f} MiB)")
        print(
            f"  {rows:,} daily rows written in {took:.1f} s; peak RSS {before:.0f} MiB before, "
            f"{after:.0f} MiB after"
        )
    finally:
        shutil.rmtree(folder)


FINISH_ONLY = """
import os, sys
from pathlib import Path
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # as the demandsim command does
from demandsim.batch import commands
template = Path(sys.argv[1])

def linked(plan, store, *args, **kwargs):  # every replication: a link to the scenario's one
    for key, seed in plan.tasks():
        for made, kept in zip(store.replication_files(key, seed), store.replication_files(key, 0)):
            made.parent.mkdir(parents=True, exist_ok=True)
            os.link(template / kept.relative_to(store.root), made)
    return len(plan.tasks())

commands.run_plan = linked
sys.argv = ["demandsim", *sys.argv[2:]]
from demandsim.entry import main
main()
"""


def finish_memory(base, fast, n: int, years: float) -> None:
    from demandsim.batch.commands import _key
    from demandsim.replication import simulate

    work = Path(tempfile.mkdtemp(prefix="bench-finish-"))
    try:
        template = BatchStore.create(work / "template", {})
        for scenario in (base, fast):
            template.save(_key(scenario.name), simulate(scenario, 0))
        (work / "finish.py").write_text(FINISH_ONLY)
        finish = [sys.executable, str(work / "finish.py"), str(template.root)]
        wall, peaks, pid = run_compare(finish, work, n, years, ["--out", str(work / "b")])
        print(f"summaries and report of {n} x 2 replications of {years:g} years (linked copies)")
        print(f"  {wall:.1f} s; parent peak {peaks[pid][1]:.0f} MiB (VmHWM)")
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", "--replications", type=int, default=200, help="0: skip the full batch"
    )
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=None, help="default: every core")
    parser.add_argument("--speedup-replications", type=int, default=20)
    parser.add_argument("--out", default=None, help="keep the results folder here")
    parser.add_argument("--bands-memory", type=int, default=None, metavar="N")
    parser.add_argument("--finish-memory", type=int, default=None, metavar="N")
    args = parser.parse_args()

    base = load_scenario(None, [f"years={args.years}"])
    if args.bands_memory:
        bands_memory(base, args.bands_memory)
        return
    fast = apply_overrides(base, ["name=agency-fill-3d", "workforce.agency.fill_days=3"])
    if args.finish_memory:
        finish_memory(base, fast, args.finish_memory, args.years)
        return
    jobs = args.jobs or available_cores()
    print(f"machine             {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(
        f"batch               {args.replications} replications x 2 scenarios x {args.years:g} years"
    )

    parts = profile_one(base, range(3))
    per_rep = parts["engine"] + parts["tables"] + parts["batch"]
    print(
        f"one replication     {per_rep:.2f} s: engine {parts['engine']:.2f} s, event log to tables "
        f"{parts['tables']:.2f} s, batch summaries {parts['batch']:.2f} s; "
        f"{parts['bytes'] / 1024:.0f} KiB sent back"
    )

    small = Plan("compare", {"a": base, "b": fast}, tuple(range(args.speedup_replications)))
    one = timed_plan(small, jobs=1)
    two = timed_plan(small, jobs=2)
    print(
        f"speedup, 2 vs 1     {one / two:.2f}x ({2 * args.speedup_replications} replications: "
        f"1 worker {one:.1f} s, 2 workers {two:.1f} s)"
    )

    if args.replications == 0:  # only the profile and the speedup
        return
    full_batch(args.replications, args.years, jobs, args.out)


def full_batch(replications: int, years: float, jobs: int, out: str | None) -> None:
    """``demandsim compare`` of the baseline against a 3-day fill, as a user runs it (a new
    process, report and workbook included), with every process's peak memory sampled."""
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    folder = Path(out) if out else work / "b"
    demandsim = [sys.executable, "-m", "demandsim"]
    options = ["--jobs", str(jobs), "--out", str(folder), "--overwrite"]
    wall, peaks, pid = run_compare(demandsim, work, replications, years, options)
    n = 2 * replications
    report = [t for t, line in peaks.pop("lines", []) if "building the report" in line]
    print(f"wall time           {wall:.1f} s with {jobs} workers (demandsim compare, new process)")
    if report:
        print(f"  to the report     {report[-1]:.1f} s (replications, tables and bands)")
        print(f"  report, workbook  {wall - report[-1]:.1f} s")
    print(f"replications/s      {n / wall:.2f}")
    parent = peaks.pop(pid)
    children = sorted(peaks.values())  # (first seen, peak MiB): the pool's workers come first
    workers, later = children[:jobs], children[jobs:]
    print(f"peak memory         parent {parent[1]:.0f} MiB (VmHWM)")
    print(f"  batch workers     {', '.join(f'{m:.0f}' for _, m in workers)} MiB")
    if later:
        print(
            f"  chart painters    {', '.join(f'{m:.0f}' for _, m in later)} MiB (forks of the "
            "parent at the end, sharing its pages)"
        )
    if not out:
        shutil.rmtree(work)


def run_compare(
    program: list[str], work: Path, replications: int, years: float, options: list[str]
) -> tuple[float, dict, int]:
    """``program compare`` of the baseline against a 3-day fill, written to ``work``, in a new
    process: its wall time, :func:`sample_peaks` and its pid."""
    (work / "base.toml").write_text('extends = "builtin:baseline"\n')
    (work / "fast.toml").write_text(
        'extends = "builtin:baseline"\nname = "agency-fill-3d"\n[workforce.agency]\nfill_days = 3\n'
    )
    command = [
        *program, "compare", str(work / "base.toml"), str(work / "fast.toml"),
        "-n", str(replications), "--years", f"{years:g}", *options,
    ]  # fmt: skip
    t0 = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peaks = sample_peaks(process)
    wall = time.perf_counter() - t0
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read()}")
    return wall, peaks, process.pid


def sample_peaks(process: subprocess.Popen, every: float = 0.1) -> dict:
    """Until ``process`` ends: each process of its tree as pid -> (first seen in s, peak RSS in
    MiB, from /proc/PID/status VmHWM); also "lines": stderr progress lines with their times."""
    t0 = time.perf_counter()
    peaks: dict = {}
    lines: list = []

    def read_stderr() -> None:
        for line in process.stderr:
            lines.append((time.perf_counter() - t0, line))

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    while process.poll() is None:
        for pid in _tree(process.pid):
            hwm = _vm_hwm(pid)
            if hwm is not None:
                first = peaks.get(pid, (time.perf_counter() - t0, 0.0))[0]
                peaks[pid] = (first, max(hwm, peaks.get(pid, (0, 0.0))[1]))
        time.sleep(every)
    reader.join()
    process.stderr = io.StringIO("".join(line for _, line in lines))
    peaks["lines"] = lines
    return peaks


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _vm_hwm(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


if __name__ == "__main__":
    main()
