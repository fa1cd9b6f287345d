"""The discrete-event model of the child's journey and the workforce that serves it.

Covers: one replication, put together from its parts: cases moving through the pathway's stages
on plans drawn when they arrive (:mod:`demandsim.demand`), allocated to workers with room
(:mod:`demandsim.caseflow`, :mod:`demandsim.teams`), by a workforce that leaves, is recruited and
ramps up (:mod:`demandsim.workforce`) under a staffing policy (:mod:`demandsim.policies`), all
written to the event log (:mod:`demandsim.eventlog`).

Scenario: everything comes from one :class:`~demandsim.scenario.Scenario`; run state lives here.

Assumptions: time is in days from the origin (start of warm-up). SimPy's event queue drives
everything, with callbacks rather than one generator per case (:mod:`demandsim.clock`). Arrivals
are drawn in advance and sorted, so they are not put on the queue: the run loop merges them with
SimPy's events, in the order SimPy would have processed an arrival event scheduled by the one
before it (by time, then by event number), so the result is the same as with arrival events. Python's cyclic garbage collector is paused
while the events run: a run makes millions of short-lived objects, freed by reference counting, and
the collector's passes over the model's long-lived objects cost 5-10% of the run; it is
re-enabled (if it was) when the run ends or fails.
"""

from __future__ import annotations

import gc

import numpy as np
import simpy
from simpy.core import NORMAL

from demandsim.caseflow import Case, CaseFlow, StageState
from demandsim.clock import Clock
from demandsim.demand import Plans, draw_plans
from demandsim.eventlog import EventLog
from demandsim.scenario import Scenario
from demandsim.streams import spawn_streams
from demandsim.teams import TeamState
from demandsim.workforce import Staffing

NEVER = float("inf")


class Model:
    """One replication: ``Model(scenario, seed).run()`` returns the event log."""

    def __init__(self, scenario: Scenario, seed: int, plans: Plans | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        self.plans: Plans = draw_plans(scenario, spawn_streams(seed)) if plans is None else plans
        self.teams = [TeamState(i, n, t) for i, (n, t) in enumerate(scenario.teams.items())]
        by_name = {t.name: t for t in self.teams}
        priority = scenario.queue_order == "priority"
        self.stages = [
            StageState(i, by_name[s.team], s, priority)
            for i, s in enumerate(scenario.pathway.stages.values())
        ]
        self._log = bytearray()
        horizon = scenario.horizon_days
        exits = (self.plans.exits + len(self.stages)).tolist()
        self.flow = CaseFlow(self.env, horizon, self.stages, exits, self._log)
        self.staffing = Staffing(
            scenario.workforce, self.teams, seed, Clock(self.env, horizon), self.flow, self._log
        )

    def run(self) -> EventLog:
        plans = self.plans
        used = plans.stages >= 0
        offsets = np.concatenate([[0], np.cumsum(used.sum(axis=1))]).tolist()
        flat_stages = plans.stages[used].tolist()
        flat_durations = plans.durations[used].tolist()
        first_new = int(np.sum(np.isnan(plans.arrival_t)))
        self.staffing.staff()
        stages, enter = self.stages, self.flow.enter
        for i in range(first_new):  # open at the start
            a, b = offsets[i], offsets[i + 1]
            case = Case(i, flat_stages[a:b], flat_durations[a:b])
            enter(case, stages[case.stages[0]])
        collecting = gc.isenabled()
        gc.disable()  # see the module docstring
        try:
            self._run_loop(first_new, offsets, flat_stages, flat_durations)
        finally:
            if collecting:
                gc.enable()
        return EventLog.from_packed(self._log)

    def _run_loop(
        self, i: int, offsets: list[int], flat_stages: list[int], flat_durations: list[float]
    ) -> None:
        """SimPy's events and the arrivals, in time order, up to the horizon."""
        env = self.env
        queue, step, eids = env._queue, env.step, env._eid
        stages, enter = self.stages, self.flow.enter
        arrival_t, source = self.plans.arrival_t.tolist(), self.plans.source.tolist()
        n, horizon = len(arrival_t), self.scenario.horizon_days
        # SimPy's events come first while (time, priority, event number) sorts before the next
        # arrival's, which takes its number when the previous arrival is processed
        bound = (NEVER, NORMAL, 0)
        if i < n and arrival_t[i] < horizon:
            bound = (arrival_t[i], NORMAL, next(eids))
        while True:
            while queue and queue[0] < bound:
                step()
            now = bound[0]
            if now == NEVER:
                return
            env._now = now
            a, b = offsets[i], offsets[i + 1]
            case = Case(i, flat_stages[a:b], flat_durations[a:b])
            enter(case, stages[case.stages[0]], source=source[i])
            i += 1
            bound = (NEVER, NORMAL, 0)
            if i < n and arrival_t[i] < horizon:
                bound = (now + (arrival_t[i] - now), NORMAL, next(eids))
