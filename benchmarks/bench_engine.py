"""Benchmark one replication of a scenario against a bare SimPy model of the same cases.

The bare model is idiomatic SimPy: one process per case, yielding a timeout for each stage of the
same pre-drawn plans (same arrivals, same routes, same durations), with no workforce, queues or
logging. The ratio of the two wall times says what the workforce and the event log cost. Each
model runs once untimed, then ``--repeat`` times interleaved with the other; the medians are
printed, with CPU times, which move less than wall times on a shared machine.

    python benchmarks/bench_engine.py                # default scenario, 5 years, seed 0
    python benchmarks/bench_engine.py --years 5 --repeat 3 scenarios/autumn-2014-surge.toml
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from heapq import heappop, heappush

import numpy as np
import simpy

from demandsim.demand import draw_plans
from demandsim.model import Model
from demandsim.scenario_files import load_scenario
from demandsim.streams import spawn_streams


def bare_model(scenario, seed: int) -> int:
    """Same cases through the same stages as plain SimPy processes; returns events processed."""
    plans = draw_plans(scenario, spawn_streams(seed))
    env = simpy.Environment()
    lengths = (plans.stages >= 0).sum(axis=1).tolist()
    durations = plans.durations.tolist()
    arrival = plans.arrival_t.tolist()

    def case(i):
        for step in range(lengths[i]):
            yield env.timeout(durations[i][step])

    def arrivals():
        for i, t in enumerate(arrival):
            if t == t and t > env.now:  # NaN (open at the start) starts at once
                yield env.timeout(t - env.now)
            env.process(case(i))

    env.process(arrivals())
    events = 0
    until = scenario.horizon_days
    while env.peek() < until:
        env.step()
        events += 1
    return events


def heap_floor(scenario, seed: int) -> int:
    """The same cases through the same stages with the least a Python event loop can do: one
    heap of tuples, one push and pop per stage end; no SimPy, workforce, queues or log. A lower
    bound for a pure-Python engine that schedules an event for each stage end; returns events
    processed."""
    plans = draw_plans(scenario, spawn_streams(seed))
    lengths = (plans.stages >= 0).sum(axis=1).tolist()
    durations = plans.durations.tolist()
    arrival = np.nan_to_num(plans.arrival_t, nan=0.0).tolist()  # NaN (open at the start): 0
    queue = sorted((t, i, i, 0) for i, t in enumerate(arrival))
    horizon, events, number = scenario.horizon_days, 0, len(arrival)
    while queue:
        t, _, i, step = heappop(queue)
        if t >= horizon:
            break
        events += 1
        if step < lengths[i]:
            number += 1
            heappush(queue, (t + durations[i][step], number, i, step + 1))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=None)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each model, after one warm-up"
    )
    args = parser.parse_args()
    scenario = load_scenario(args.scenario, [f"years={args.years}"])

    Model(scenario, args.seed).run()  # warm-up, untimed: imports, caches, the allocator's pools
    bare_model(scenario, args.seed)
    full, bare, full_cpu, bare_cpu = [], [], [], []
    for _ in range(args.repeat):  # interleaved, so a busy spell on a shared machine hits both
        t0, c0 = time.perf_counter(), time.process_time()
        model = Model(scenario, args.seed)
        log = model.run()
        full.append(time.perf_counter() - t0)
        full_cpu.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        bare_events = bare_model(scenario, args.seed)
        bare.append(time.perf_counter() - t0)
        bare_cpu.append(time.process_time() - c0)
    floor_cpu = []
    heap_floor(scenario, args.seed)
    for _ in range(args.repeat):
        c0 = time.process_time()
        floor_events = heap_floor(scenario, args.seed)
        floor_cpu.append(time.process_time() - c0)
    med_full, med_bare = statistics.median(full), statistics.median(bare)
    ratios = [f / b for f, b in zip(full, bare, strict=True)]

    tracemalloc.start()
    Model(scenario, args.seed).run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # SimPy numbers every event it schedules; the model's arrivals take a number too (they are
    # merged with SimPy's queue, not put on it), so this counts both
    events = next(model.env._eid)
    print(
        f"scenario            {scenario.name} ({args.years:g} years + {scenario.warmup_days} warm-up days)"
    )
    print(f"cases               {model.plans.n:,}")
    print(f"event-log rows      {len(log.rows):,}")
    print(f"events + arrivals   {events:,} (bare model: {bare_events:,} SimPy events)")
    print(
        f"wall time           {med_full:.3f} s median of {args.repeat} (best {min(full):.3f}),"
        f" includes drawing plans; CPU {statistics.median(full_cpu):.3f} s"
    )
    print(f"events per second   {events / med_full:,.0f}")
    print(f"peak memory         {peak / 2**20:.1f} MiB (tracemalloc, one replication)")
    print(
        f"bare SimPy model    {med_bare:.3f} s median (best {min(bare):.3f}); "
        f"CPU {statistics.median(bare_cpu):.3f} s"
    )
    print(
        f"ratio full / bare   {med_full / med_bare:.2f} (ratio of medians; per-run ratios "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; CPU "
        f"{statistics.median(full_cpu) / statistics.median(bare_cpu):.2f})"
    )

    print(
        f"heap-loop floor     CPU {statistics.median(floor_cpu):.3f} s ({floor_events:,} events): "
        f"{statistics.median(floor_cpu) / statistics.median(bare_cpu):.2f} of the bare model's "
        "CPU (the least a Python engine with an event per stage end costs)"
    )


if __name__ == "__main__":
    main()
