"""The discrete-event model of the child's journey and the workforce that serves it.

Covers:
- cases moving through the pathway's stages on plans drawn when they arrive (:mod:`demandsim.demand`);
- each stage served by a team whose workers carry cases up to a caseload capacity; a case that
  finds no worker with room waits **unallocated** in the team's queue (first come, or by stage
  priority then first come);
- transfers into a ``blocking`` stage wait, still held by the sending worker, while the receiving
  team is full;
- posts filled by permanent or agency workers, or vacant: leavers at a constant hazard by contract,
  permanent recruitment (vacancy to offer, then notice; campaigns can fail and re-run), agency
  requests (fill lead time; the market may fail to fill and the request is re-made), agency cover
  released when the permanent starter arrives, optional agency above establishment while a
  backlog lasts;
- starters ramping up to full capacity, newly qualified workers on a lower cap for their first
  year, sickness absence as a fixed share of capacity.

Scenario: everything comes from one :class:`~demandsim.scenario.Scenario`; run state lives here.

Assumptions: a case whose worker leaves goes back to the front of the queue (ordered by when it
entered the stage) and keeps the work already done; the time of an ``entry``-clock episode runs
whether or not a worker is allocated; effective capacity is round(cap x (1 - sickness_share)).
Time is in days from the origin (start of warm-up); SimPy's event queue drives everything, with
callbacks rather than one generator per case, which keeps a five-year run fast.
"""

from __future__ import annotations

import math
from array import array
from heapq import heappop, heappush
from operator import attrgetter

import numpy as np
import simpy
from simpy.core import NORMAL

from demandsim.demand import Plans, draw_plans
from demandsim.distributions import quantile
from demandsim.eventlog import EventLog, Kind
from demandsim.scenario import Scenario
from demandsim.streams import Stream, UniformSource, spawn_streams

PERMANENT, AGENCY, AGENCY_EXTRA = 0, 1, 2
EXTRA_POST = 2**20  # substream key of a team's draws for agency above establishment
ROOM = attrgetter("room")

ENTER, ALLOC, DEALLOC, EXIT = int(Kind.ENTER), int(Kind.ALLOC), int(Kind.DEALLOC), int(Kind.EXIT)
BLOCK, UNBLOCK, START, LEAVE, CAPACITY = (
    Kind.BLOCK,
    Kind.UNBLOCK,
    Kind.START,
    Kind.LEAVE,
    Kind.CAPACITY,
)


class Worker:
    __slots__ = (
        "alive",
        "cap",
        "cases",
        "contract",
        "id",
        "load",
        "post",
        "room",
        "target",
        "team",
    )

    def __init__(self, wid: int, team: TeamState, contract: int, post: Post | None) -> None:
        self.id, self.team, self.contract, self.post = wid, team, contract, post
        self.cap = self.load = self.room = self.target = 0
        self.cases: dict[Case, None] = {}  # insertion-ordered, so leaving is deterministic
        self.alive = True


class Post:
    """A post of the establishment, or (``extra``) the team's slot for agency above it."""

    __slots__ = (
        "agency_token", "holder", "perm_pending", "team", "u_agency", "u_leave", "u_nq",
        "u_recruit", "vacant",
    )  # fmt: skip

    def __init__(self, team: TeamState, seed: int, number: int) -> None:
        self.team = team
        key = (team.idx, number)
        self.u_leave = UniformSource(seed, Stream.LEAVERS, *key)
        self.u_recruit = UniformSource(seed, Stream.RECRUITMENT, *key)
        self.u_agency = UniformSource(seed, Stream.AGENCY_FILL, *key)
        self.u_nq = UniformSource(seed, Stream.NEWLY_QUALIFIED, *key)
        self.holder: Worker | None = None
        self.perm_pending = False
        self.agency_token = 0  # > 0 while an agency request is outstanding
        self.vacant = False


class TeamState:
    __slots__ = (
        "extra", "extra_pending", "free", "full_cap", "idx", "name", "nq_cap", "posts", "queue",
        "spec", "waiting", "workers",
    )  # fmt: skip

    def __init__(self, idx: int, name: str, spec) -> None:
        self.idx, self.name, self.spec = idx, name, spec
        self.workers: list[Worker] = []
        self.posts: list[Post] = []
        self.queue: list = []
        self.free = 0  # sum of workers' room
        self.waiting = 0  # unallocated cases in the queue
        self.extra_pending = 0
        keep = 1.0 - spec.sickness_share
        self.full_cap = max(1, round(spec.caseload_cap * keep))
        self.nq_cap = max(1, round(spec.nq_caseload_cap * keep))


class StageState:
    __slots__ = ("blocking", "entry_clock", "idx", "priority", "team")

    def __init__(self, idx: int, team: TeamState, spec, priority_order: bool) -> None:
        self.idx, self.team = idx, team
        self.entry_clock = spec.clock == "entry"
        self.blocking = spec.blocking
        self.priority = spec.priority if priority_order else 0


class Case:
    __slots__ = (
        "blocked", "durs", "enter_t", "id", "remaining", "stage", "stages", "step", "token",
        "wait_seq", "work_start", "worker",
    )  # fmt: skip

    def __init__(self, cid: int, stages: list[int], durs: list[float]) -> None:
        self.id, self.stages, self.durs = cid, stages, durs
        self.step = 0
        self.stage: StageState | None = None
        self.worker: Worker | None = None
        self.token = 0
        self.wait_seq = -1
        self.blocked = False
        self.enter_t = self.remaining = self.work_start = 0.0


class Model:
    """One replication: ``Model(scenario, seed).run()`` returns the event log."""

    def __init__(self, scenario: Scenario, seed: int, plans: Plans | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        self._buf = array("d")
        self.plans: Plans = draw_plans(scenario, spawn_streams(seed)) if plans is None else plans
        self.teams = [TeamState(i, n, t) for i, (n, t) in enumerate(scenario.teams.items())]
        by_name = {t.name: t for t in self.teams}
        priority = scenario.queue_order == "priority"
        self.stages = [
            StageState(i, by_name[s.team], s, priority)
            for i, s in enumerate(scenario.pathway.stages.values())
        ]
        self.n_stages = len(self.stages)
        self._horizon = scenario.horizon_days
        self._schedule = self.env.schedule
        self._log = self._buf.extend
        self._finish_call = self._finish  # bound once: the model's most frequent callback
        self._arrive_call = self._arrive
        self._seq = 0
        self._next_worker = 0
        wf = scenario.workforce
        self.perm, self.agency, self.policy = wf.permanent, wf.agency, wf.agency_policy
        agency_rate = wf.agency.turnover_per_year / 365.25
        self._leave_rate = {
            team.idx: {
                PERMANENT: _or(
                    team.spec.permanent_turnover_per_year, wf.permanent.turnover_per_year
                )
                / 365.25,
                AGENCY: agency_rate,
                AGENCY_EXTRA: agency_rate,
            }
            for team in self.teams
        }

    # -- running ---------------------------------------------------------------------------
    def run(self) -> EventLog:
        self._staff_teams()
        self._open_initial_cases()
        self._arrivals = self._first_new_case()
        if self._arrivals < self.plans.n:
            self._at(self._arrival_t[self._arrivals], self._arrive)
        self.env.run(until=self.scenario.horizon_days)
        return EventLog(np.frombuffer(self._buf, dtype=float))

    def _at(self, t: float, fn, *args) -> None:
        if t < self._horizon:
            self._schedule(_Call(self.env, fn, args), NORMAL, t - self.env.now)

    def _after(self, delay: float, fn, *args) -> None:
        """Call ``fn(*args)`` after ``delay`` days; what would fall after the horizon never runs,
        so it is not scheduled at all."""
        if self.env.now + delay < self._horizon:
            self._schedule(_Call(self.env, fn, args), NORMAL, delay)

    def _finish_after(self, case: Case, delay: float) -> None:
        """Schedule the end of the case's current work or episode (the hot path of the model)."""
        case.token += 1
        if self.env.now + delay < self._horizon:
            self._schedule(_Call(self.env, self._finish_call, (case, case.token)), NORMAL, delay)

    def _rec(self, kind: int, team: int, stage: int, case: int, worker: int, value: float) -> None:
        self._buf.extend((self.env.now, kind, team, stage, case, worker, value))

    # -- cases -----------------------------------------------------------------------------
    def _case(self, i: int) -> Case:
        a, b = self._offsets[i], self._offsets[i + 1]
        return Case(i, self._flat_stages[a:b], self._flat_durs[a:b])

    def _first_new_case(self) -> int:
        return int(np.sum(np.isnan(self.plans.arrival_t)))

    def _prepare_rows(self) -> None:
        used = self.plans.stages >= 0
        self._offsets = np.concatenate([[0], np.cumsum(used.sum(axis=1))]).tolist()
        self._flat_stages = self.plans.stages[used].tolist()
        self._flat_durs = self.plans.durations[used].tolist()
        self._exit = (self.plans.exits + self.n_stages).tolist()
        self._source = self.plans.source.tolist()
        self._arrival_t = self.plans.arrival_t.tolist()

    def _open_initial_cases(self) -> None:
        self._prepare_rows()
        for i in range(self._first_new_case()):
            case = self._case(i)
            self._enter(case, self.stages[case.stages[0]])

    def _arrive(self) -> None:
        i = self._arrivals
        case = self._case(i)
        self._enter(case, self.stages[case.stages[0]], source=self._source[i])
        self._arrivals = i + 1
        if i + 1 < self.plans.n:
            self._at(self._arrival_t[i + 1], self._arrive_call)

    def _enter(
        self, case: Case, stage: StageState, worker: Worker | None = None, source: int = -1
    ) -> None:
        now = self.env.now
        case.stage = stage
        case.enter_t = now
        case.remaining = case.durs[case.step]
        team = stage.team
        if stage.entry_clock:
            self._finish_after(case, case.remaining)
        if worker is None and case.wait_seq < 0 and team.free and not team.queue:
            worker = _roomiest(team.workers)  # room at once: allocated on entry
        if worker is not None:
            self._log((now, ENTER, team.idx, stage.idx, case.id, worker.id, source))
            self._allocate(case, worker, logged=True)
            return
        self._log((now, ENTER, team.idx, stage.idx, case.id, -1, source))
        if case.wait_seq < 0:  # not already queued (a blocked transfer whose holder left is)
            self._queue(case, team, stage.priority, now)
            if team.free:
                self._dispatch(team)

    def _queue(self, case: Case, team: TeamState, priority: int, t: float) -> None:
        self._seq += 1
        case.wait_seq = self._seq
        heappush(team.queue, (priority, t, self._seq, case))
        if not case.blocked:  # a blocked transfer is held by its sender, not unallocated
            team.waiting += 1

    def _dispatch(self, team: TeamState) -> None:
        queue = team.queue
        while team.free and queue:
            _, _, seq, case = heappop(queue)
            if case.wait_seq != seq:
                continue  # stale: the case left the queue another way
            case.wait_seq = -1
            worker = _roomiest(team.workers)
            if case.blocked:
                self._transfer(case, worker)
            else:
                team.waiting -= 1
                self._allocate(case, worker)

    def _allocate(self, case: Case, worker: Worker, logged: bool = False) -> None:
        worker.load += 1
        worker.room -= 1
        worker.team.free -= 1
        worker.cases[case] = None
        case.worker = worker
        stage = case.stage
        if not logged:
            self._rec(ALLOC, worker.team.idx, stage.idx, case.id, worker.id, 0)
        if not stage.entry_clock:
            case.work_start = self.env.now
            self._finish_after(case, case.remaining)

    def _release(self, case: Case) -> TeamState:
        """A worker stops holding a case that stays in its stage (the worker is leaving)."""
        worker = case.worker
        team = worker.team
        worker.load -= 1
        worker.room += 1
        team.free += 1
        del worker.cases[case]
        case.worker = None
        self._rec(DEALLOC, team.idx, case.stage.idx, case.id, worker.id, 0)
        return team

    def _finish(self, case: Case, token: int) -> None:
        """The case's work (or episode) in its stage is done: move it on."""
        if case.token != token:
            return
        step = case.step + 1
        if step < len(case.stages):
            nxt = self.stages[case.stages[step]]
            if nxt.blocking and case.worker is not None and nxt.team.free == 0:
                case.blocked = True
                self._rec(BLOCK, nxt.team.idx, nxt.idx, case.id, case.worker.id, 0)
                self._queue(case, nxt.team, nxt.priority, self.env.now)
                return
        freed = self._leave_stage(case, step)
        if step < len(case.stages):
            case.step = step
            self._enter(case, self.stages[case.stages[step]])
        if freed is not None and freed.queue:
            self._dispatch(freed)

    def _leave_stage(self, case: Case, step: int) -> TeamState | None:
        """Log the case leaving its stage and free its worker; returns the team freed, if any."""
        stage = case.stage
        team = stage.team
        worker = case.worker
        target = case.stages[step] if step < len(case.stages) else self._exit[case.id]
        if worker is None:
            self._log((self.env.now, EXIT, team.idx, stage.idx, case.id, -1, target))
            if case.wait_seq >= 0:  # an entry-clock episode ended while still unallocated
                case.wait_seq = -1
                team.waiting -= 1
            return None
        self._log((self.env.now, EXIT, team.idx, stage.idx, case.id, worker.id, target))
        worker.load -= 1
        worker.room += 1
        team.free += 1
        del worker.cases[case]
        case.worker = None
        return team

    def _transfer(self, case: Case, worker: Worker) -> None:
        """The receiving team takes a blocked case: it leaves the sender for ``worker``."""
        nxt = self.stages[case.stages[case.step + 1]]
        case.blocked = False
        self._rec(UNBLOCK, nxt.team.idx, nxt.idx, case.id, case.worker.id, 0)
        freed = self._leave_stage(case, case.step + 1)
        case.step += 1
        self._enter(case, nxt, worker)
        if freed.queue:
            self._dispatch(freed)

    # -- workforce -------------------------------------------------------------------------
    def _staff_teams(self) -> None:
        for team in self.teams:
            spec = team.spec
            team.extra = Post(team, self.seed, EXTRA_POST)  # draws for agency above establishment
            if spec.is_service:
                worker = self._new_worker(team, PERMANENT, None)
                self._set_target(worker, spec.capacity_cases, ramp_days=0)
                continue
            for k in range(spec.posts):
                post = Post(team, self.seed, k)
                team.posts.append(post)
                if k < spec.initial_permanent:
                    u_is_nq, u_left = post.u_nq(), post.u_nq()
                    nq_left = self.perm.nq_days * u_left if u_is_nq < self.perm.nq_share else 0
                    self._start(team, PERMANENT, post, nq_days=nq_left, ramp_days=0)
                elif k < spec.initial_permanent + spec.initial_agency:
                    self._start(team, AGENCY, post, nq_days=0, ramp_days=0)
                    self._recruit_permanent(post)
                else:
                    self._post_vacated(post)
            if self.policy.request_on == "backlog" or self.policy.max_extra_per_team:
                self._after(self.policy.review_every_days, self._review, team)

    def _new_worker(self, team: TeamState, contract: int, post: Post | None) -> Worker:
        worker = Worker(self._next_worker, team, contract, post)
        self._next_worker += 1
        team.workers.append(worker)
        return worker

    def _start(
        self, team: TeamState, contract: int, post: Post | None, nq_days: float, ramp_days: float
    ) -> None:
        worker = self._new_worker(team, contract, post)
        self._rec(START, team.idx, -1, -1, worker.id, contract)
        if post is not None:
            if post.holder is None and post.vacant:
                post.vacant = False
                self._rec(Kind.VACANCY_FILLED, team.idx, -1, -1, worker.id, 0)
            post.holder = worker
        rate = self._leave_rate[team.idx][contract]
        draws = post if post is not None else team.extra
        u_leave = draws.u_leave()  # drawn whatever the rate, so later draws stay in step
        if rate > 0:
            self._after(-math.log1p(-u_leave) / rate, self._leaves, worker)
        if contract == AGENCY_EXTRA:
            self._after(self.policy.extra_engagement_days, self._engagement_ends, worker)
        self._set_target(worker, team.nq_cap if nq_days > 0 else team.full_cap, ramp_days)
        if nq_days > 0:
            self._after(nq_days, self._qualified, worker)

    def _leaves(self, worker: Worker) -> None:
        """The worker leaves: their cases go back to the queue and their post falls vacant."""
        if not worker.alive:
            return
        worker.alive = False
        team = worker.team
        team.workers.remove(worker)
        self._rec(LEAVE, team.idx, -1, -1, worker.id, worker.contract)
        self._capacity(worker, -worker.cap)
        now = self.env.now
        for case in list(worker.cases):
            self._release(case)
            if case.blocked:  # held for a transfer: it moves on, unallocated, to the receiver
                nxt = self.stages[case.stages[case.step + 1]]
                case.blocked = False
                nxt.team.waiting += 1
                self._rec(UNBLOCK, nxt.team.idx, nxt.idx, case.id, worker.id, 0)
                self._leave_stage(case, case.step + 1)
                case.step += 1
                self._enter(case, nxt)
                continue
            stage = case.stage
            if not stage.entry_clock:
                case.remaining -= now - case.work_start
                case.token += 1  # cancels the pending completion
            self._queue(case, team, stage.priority, case.enter_t)
        post = worker.post
        if post is not None and post.holder is worker:
            self._post_vacated(post)
        if team.free and team.queue:
            self._dispatch(team)

    def _post_vacated(self, post: Post) -> None:
        post.holder = None
        post.vacant = True
        self._rec(Kind.VACANCY_OPEN, post.team.idx, -1, -1, -1, 0)
        if not post.perm_pending:
            self._recruit_permanent(post)
        if self.policy.request_on == "vacancy":
            self._request_agency(post)

    def _recruit_permanent(self, post: Post) -> None:
        post.perm_pending = True
        perm = self.perm
        success = _or(post.team.spec.hire_success_share, perm.hire_success_share)
        u_time, u_ok, u_notice = post.u_recruit(), post.u_recruit(), post.u_recruit()
        delay = quantile(perm.recruit_days, u_time)
        if u_ok < success:
            self._after(delay + quantile(perm.notice_days, u_notice), self._permanent_arrives, post)
        else:
            self._after(delay, self._hire_failed, post)

    def _hire_failed(self, post: Post) -> None:
        self._rec(Kind.HIRE_FAILED, post.team.idx, -1, -1, -1, 0)
        self._after(self.perm.retry_days, self._recruit_permanent, post)

    def _permanent_arrives(self, post: Post) -> None:
        post.perm_pending = False
        post.agency_token = 0  # any outstanding agency request for this post is cancelled
        cover = post.holder
        if cover is not None:  # agency cover: released, or kept on above establishment
            if self.agency.release_on_permanent_start:
                post.holder = None
                self._leaves(cover)
            else:
                cover.contract = AGENCY_EXTRA
                cover.post = None
                post.holder = None
        nq = post.u_nq() < self.perm.nq_share
        self._start(
            post.team, PERMANENT, post, self.perm.nq_days if nq else 0, self.perm.ramp_up_days
        )

    def _request_agency(self, post: Post | None, team: TeamState | None = None) -> None:
        """Ask the market for an agency worker, for a vacant post or (post None) above establishment."""
        if post is not None:
            if post.agency_token:
                return
            self._seq += 1
            post.agency_token = self._seq
            team = post.team
        else:
            team.extra_pending += 1
        self._rec(Kind.AGENCY_REQUEST, team.idx, -1, -1, -1, post is None)
        draws = post if post is not None else team.extra
        u_time, u_ok = draws.u_agency(), draws.u_agency()
        if u_ok < self.agency.fill_share:
            token = post.agency_token if post is not None else 0
            self._after(
                quantile(self.agency.fill_days, u_time), self._agency_arrives, post, team, token
            )
        else:
            self._after(self.agency.retry_days, self._agency_unfilled, post, team)

    def _agency_unfilled(self, post: Post | None, team: TeamState) -> None:
        self._rec(Kind.AGENCY_UNFILLED, team.idx, -1, -1, -1, post is None)
        if post is None:
            team.extra_pending -= 1
            return  # the next backlog review asks again if it is still needed
        post.agency_token = 0
        if post.holder is None and self._wants_cover(team):
            self._request_agency(post)

    def _agency_arrives(self, post: Post | None, team: TeamState, token: int) -> None:
        if post is None:
            team.extra_pending -= 1
            self._start(team, AGENCY_EXTRA, None, 0, self.agency.ramp_up_days)
            return
        if post.agency_token != token or post.holder is not None:
            return  # cancelled: the permanent starter came first
        post.agency_token = 0
        self._start(team, AGENCY, post, 0, self.agency.ramp_up_days)

    def _wants_cover(self, team: TeamState) -> bool:
        request_on = self.policy.request_on
        if request_on == "vacancy":
            return True
        return request_on == "backlog" and team.waiting > self.policy.backlog_threshold_cases

    def _review(self, team: TeamState) -> None:
        """Periodic backlog review: agency cover for vacant posts and above establishment."""
        if team.waiting > self.policy.backlog_threshold_cases:
            if self.policy.request_on == "backlog":
                for post in team.posts:
                    if post.holder is None:
                        self._request_agency(post)
            extras = sum(w.contract == AGENCY_EXTRA for w in team.workers) + team.extra_pending
            if extras < self.policy.max_extra_per_team:
                self._request_agency(None, team)
        self._after(self.policy.review_every_days, self._review, team)

    def _engagement_ends(self, worker: Worker) -> None:
        if not worker.alive:
            return
        if worker.team.waiting > self.policy.backlog_threshold_cases:
            self._after(self.policy.extra_engagement_days, self._engagement_ends, worker)
        else:
            self._leaves(worker)

    def _set_target(self, worker: Worker, target: int, ramp_days: float) -> None:
        worker.target = target
        if ramp_days <= 0 or worker.cap >= target:
            self._capacity(worker, target - worker.cap)
        else:
            self._after(ramp_days / target, self._ramp, worker, ramp_days / target)

    def _ramp(self, worker: Worker, step_days: float) -> None:
        if not worker.alive or worker.cap >= worker.target:
            return
        self._capacity(worker, 1)
        if worker.cap < worker.target:
            self._after(step_days, self._ramp, worker, step_days)

    def _qualified(self, worker: Worker) -> None:
        if worker.alive:
            worker.target = worker.team.full_cap
            if worker.cap >= worker.team.nq_cap:  # ramp-up over: the new cap applies at once
                self._capacity(worker, worker.target - worker.cap)

    def _capacity(self, worker: Worker, delta: int) -> None:
        if delta == 0:
            return
        worker.cap += delta
        worker.room += delta
        worker.team.free += delta
        self._rec(CAPACITY, worker.team.idx, -1, -1, worker.id, delta)
        if delta > 0 and worker.team.queue:
            self._dispatch(worker.team)


def _roomiest(workers: list[Worker]) -> Worker:
    """The worker with the most room (the earliest hired among equals)."""
    return workers[0] if len(workers) == 1 else max(workers, key=ROOM)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _call(event: _Call) -> None:
    event.fn(*event.args)


class _Call(simpy.events.Event):
    """A SimPy event that calls ``fn(*args)`` when processed: cheaper than a process per action.

    It is scheduled already triggered. What SimPy's event loop only reads (the callbacks, the
    outcome) is shared on the class, so each event costs three assignments; the loop replaces
    ``callbacks`` on the instance once the event is processed, leaving the class list as it was.
    """

    callbacks = [_call]  # noqa: RUF012 (read-only by design; see the docstring)
    _value = None
    _ok = True

    def __init__(self, env: simpy.Environment, fn, args: tuple) -> None:
        self.env = env
        self.fn = fn
        self.args = args
