"""Benchmark a single ``demandsim run`` (one replication, with report and workbook) against the
engine alone, and ``demandsim --help``.

Prints, as medians of ``--repeat`` interleaved runs (wall and CPU seconds): the engine
(``Model.run`` of the scenario), the whole command in this process (simulate, reduce, tables,
bands, report, workbook; CPU includes the chart painters it forks), the ratio command / engine
(the aim is at most 2), and the same with ``--no-report`` (tables only). Then the wall time of ``demandsim --help`` in a fresh process (the aim is under
0.5 s). Not a test: run it by hand.

    python benchmarks/bench_run.py                       # default scenario, 5 years
    python benchmarks/bench_run.py --years 5 --repeat 5
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from demandsim.cli import main
from demandsim.model import Model
from demandsim.scenario_files import load_scenario


def timed(call) -> tuple[float, float]:
    """Wall and CPU seconds of ``call()``; CPU includes the processes it started and waited for
    (the report's chart painters)."""
    wall, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    call()
    return time.perf_counter() - wall, time.process_time() + _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(None, [f"years={args.years}"])
    folder = Path(tempfile.mkdtemp(prefix="bench-run-"))
    engine, command, bare = [], [], []
    try:
        for i in range(args.repeat + 1):  # the first of each is an untimed warm-up
            e = timed(lambda: Model(scenario, 0).run())
            out = folder / f"r{i}"
            c = timed(
                lambda out=out: CliRunner().invoke(
                    main, ["run", "--years", str(args.years), "--out", str(out)],
                    catch_exceptions=False,
                )
            )  # fmt: skip
            b = timed(
                lambda out=out: CliRunner().invoke(
                    main, ["run", "--years", str(args.years), "--no-report", "--out", f"{out}-t"],
                    catch_exceptions=False,
                )
            )  # fmt: skip
            if i:
                engine.append(e)
                command.append(c)
                bare.append(b)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    e_wall = statistics.median(w for w, _ in engine)
    e_cpu = statistics.median(c for _, c in engine)
    c_wall = statistics.median(w for w, _ in command)
    c_cpu = statistics.median(c for _, c in command)
    print(f"{args.years:g}-year run of the built-in county, medians of {args.repeat}:")
    print(f"  engine (Model.run)            {e_wall:6.2f} s wall  {e_cpu:6.2f} s CPU")
    print(f"  demandsim run (with report)   {c_wall:6.2f} s wall  {c_cpu:6.2f} s CPU")
    print(f"  ratio run / engine            {c_wall / e_wall:6.2f} wall  {c_cpu / e_cpu:6.2f} CPU")
    b_wall = statistics.median(w for w, _ in bare)
    b_cpu = statistics.median(c for _, c in bare)
    print(f"  demandsim run --no-report     {b_wall:6.2f} s wall  {b_cpu:6.2f} s CPU")
    print(f"  ratio --no-report / engine    {b_wall / e_wall:6.2f} wall  {b_cpu / e_cpu:6.2f} CPU")
    helps = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "demandsim", "--help"], capture_output=True, check=True
        )
        helps.append(time.perf_counter() - start)
    print(f"  demandsim --help (new process) {statistics.median(helps):5.2f} s wall")


if __name__ == "__main__":
    main_()
