"""The workforce: who is in post, and how posts are lost and filled.

Covers: posts filled by permanent or agency workers, or vacant; leavers at a constant hazard by
contract; permanent recruitment (vacancy to offer, then notice; campaigns can fail and re-run);
agency requests (fill lead time; the market may fail to fill and the request is re-made or not, as
the staffing policy says); agency cover released when the permanent starter arrives, or kept on
above establishment; starters ramping up to full capacity; newly qualified workers on a lower cap
for their first year; a team's ``vacancy_fill_factor`` stretching the days to fill its posts (not
agency above establishment). *When* agency cover is asked for is the staffing policy's business
(:mod:`demandsim.policies`).

Assumptions: each post draws from its own random substreams (the n-th leaver draw of a post is
the same in every scenario); ramp-up adds capacity in equal steps, one unit per
``ramp_up_days / cap`` days, but never more often than every :data:`RAMP_STEP_DAYS` (so a huge
caseload cap ramps in a bounded number of steps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappush

from demandsim.caseflow import CaseFlow
from demandsim.clock import Clock
from demandsim.distributions import quantile
from demandsim.eventlog import ROW, Contract, Kind
from demandsim.policies import StaffingPolicy, staffing_policy
from demandsim.scenario import Workforce
from demandsim.streams import Stream, UniformSource
from demandsim.teams import TeamState, Worker, compact

EXTRA_POST = 2**20  # substream key of a team's draws for agency above establishment
RAMP_STEP_DAYS = 0.25  # capacity rises at most this often during ramp-up
START, LEAVE, CAPACITY = int(Kind.START), int(Kind.LEAVE), int(Kind.CAPACITY)
PACK = ROW.pack


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


class Staffing:
    """Staffs ``teams`` and changes their staff over the run; cases are handed to ``flow``."""

    def __init__(
        self,
        spec: Workforce,
        teams: list[TeamState],
        seed: int,
        clock: Clock,
        flow: CaseFlow,
        log: bytearray,
    ) -> None:
        self.teams, self.seed, self.clock, self.flow = teams, seed, clock, flow
        self.perm, self.agency = spec.permanent, spec.agency
        self.policy: StaffingPolicy = staffing_policy(spec.agency_policy, self)
        self.after: Callable[..., None] = clock.after
        self._write = log.extend
        self._next_worker = 0
        self._requests = 0
        agency_rate = spec.agency.turnover_per_year / 365.25
        self._leave_rate = {}
        for team in teams:
            permanent = team.spec.permanent_turnover_per_year
            if permanent is None:
                permanent = spec.permanent.turnover_per_year
            self._leave_rate[team.idx] = {
                Contract.PERMANENT: permanent / 365.25,
                Contract.AGENCY: agency_rate,
                Contract.AGENCY_EXTRA: agency_rate,
            }

    def _log(self, kind: Kind, team: TeamState, worker: int, value: int) -> None:
        self._write(PACK(self.clock.env._now, kind, team.idx, -1, -1, worker, value))

    # -- starting and leaving ----------------------------------------------------------------
    def staff(self) -> None:
        """Fill each team's posts as the scenario says, at time 0."""
        for team in self.teams:
            spec = team.spec
            team.extra = Post(team, self.seed, EXTRA_POST)
            if spec.is_service:
                worker = self._new_worker(team, Contract.PERMANENT, None)
                self._set_target(worker, spec.capacity_cases, ramp_days=0)
                continue
            for k in range(spec.posts):
                post = Post(team, self.seed, k)
                team.posts.append(post)
                if k < spec.initial_permanent:
                    u_is_nq, u_left = post.u_nq(), post.u_nq()
                    nq_left = self.perm.nq_days * u_left if u_is_nq < self.perm.nq_share else 0
                    self._start(team, Contract.PERMANENT, post, nq_days=nq_left, ramp_days=0)
                elif k < spec.initial_permanent + spec.initial_agency:
                    self._start(team, Contract.AGENCY, post, nq_days=0, ramp_days=0)
                    self._recruit_permanent(post)
                else:
                    self._post_vacated(post)
            for _ in range(spec.agency_requested_on_day_one):
                self.request_extra(team)
            self.policy.begin(team)

    def _new_worker(self, team: TeamState, contract: Contract, post: Post | None) -> Worker:
        worker = Worker(self._next_worker, team, contract, post)
        self._next_worker += 1
        team.workers.append(worker)
        return worker

    def _start(
        self,
        team: TeamState,
        contract: Contract,
        post: Post | None,
        nq_days: float,
        ramp_days: float,
    ) -> None:
        worker = self._new_worker(team, contract, post)
        self._log(START, team, worker.id, contract)
        if post is not None:
            if post.holder is None and post.vacant:
                post.vacant = False
                self._log(Kind.VACANCY_FILLED, team, worker.id, 0)
            post.holder = worker
        rate = self._leave_rate[team.idx][contract]
        draws = post if post is not None else team.extra
        u_leave = draws.u_leave()  # drawn whatever the rate, so later draws stay in step
        if rate > 0:
            self.after(-math.log1p(-u_leave) / rate, self.leaves, worker)
        if contract == Contract.AGENCY_EXTRA:
            self.policy.engaged(worker)
        self._set_target(worker, team.nq_cap if nq_days > 0 else team.full_cap, ramp_days)
        if nq_days > 0:
            self.after(nq_days, self._qualified, worker)

    def leaves(self, worker: Worker) -> None:
        """The worker leaves: their cases go back to the queue and their post falls vacant."""
        if not worker.alive:
            return
        worker.alive = False
        team = worker.team
        team.workers.remove(worker)
        self._log(LEAVE, team, worker.id, worker.contract)
        self._capacity(worker, -worker.cap)
        self.flow.hand_back(worker)
        post = worker.post
        if post is not None and post.holder is worker:
            self._post_vacated(post)
        if team.free and team.queue:
            self.flow.dispatch(team)

    # -- permanent recruitment ---------------------------------------------------------------
    def _post_vacated(self, post: Post) -> None:
        post.holder = None
        post.vacant = True
        self._log(Kind.VACANCY_OPEN, post.team, -1, 0)
        if not post.perm_pending:
            self._recruit_permanent(post)
        self.policy.vacated(post)

    def _recruit_permanent(self, post: Post) -> None:
        post.perm_pending = True
        perm = self.perm
        success = post.team.spec.hire_success_share
        if success is None:
            success = perm.hire_success_share
        u_time, u_ok, u_notice = post.u_recruit(), post.u_recruit(), post.u_recruit()
        delay = quantile(perm.recruit_days, u_time) * post.team.spec.vacancy_fill_factor
        if u_ok < success:
            self.after(delay + quantile(perm.notice_days, u_notice), self._permanent_arrives, post)
        else:
            self.after(delay, self._hire_failed, post)

    def _hire_failed(self, post: Post) -> None:
        self._log(Kind.HIRE_FAILED, post.team, -1, 0)
        self.after(self.perm.retry_days, self._recruit_permanent, post)

    def _permanent_arrives(self, post: Post) -> None:
        post.perm_pending = False
        post.agency_token = 0  # any outstanding agency request for this post is cancelled
        cover = post.holder
        if cover is not None:  # agency cover: released, or kept on above establishment
            if self.agency.release_on_permanent_start:
                post.holder = None
                self.leaves(cover)
            else:
                cover.contract = Contract.AGENCY_EXTRA
                cover.post = None
                post.holder = None
        nq = post.u_nq() < self.perm.nq_share
        self._start(
            post.team,
            Contract.PERMANENT,
            post,
            self.perm.nq_days if nq else 0,
            self.perm.ramp_up_days,
        )

    # -- agency --------------------------------------------------------------------------------
    def request_agency(self, post: Post) -> None:
        """Ask the market for agency cover for a vacant post (once: a request outstanding stands)."""
        if post.agency_token:
            return
        self._requests += 1
        post.agency_token = self._requests
        self._ask(post, post.team, post, post.agency_token)

    def request_extra(self, team: TeamState) -> None:
        """Ask the market for an agency worker above the team's establishment."""
        team.extra_pending += 1
        self._ask(None, team, team.extra, 0)

    def _ask(self, post: Post | None, team: TeamState, draws: Post, token: int) -> None:
        self._log(Kind.AGENCY_REQUEST, team, -1, post is None)
        u_time, u_ok = draws.u_agency(), draws.u_agency()
        if u_ok < self.agency.fill_share:
            delay = quantile(self.agency.fill_days, u_time)
            if post is not None:  # cover for a post, not agency above establishment
                delay *= team.spec.vacancy_fill_factor
            self.after(delay, self._agency_arrives, post, team, token)
        else:
            self.after(self.agency.retry_days, self._agency_unfilled, post, team)

    def _agency_unfilled(self, post: Post | None, team: TeamState) -> None:
        self._log(Kind.AGENCY_UNFILLED, team, -1, post is None)
        if post is None:
            team.extra_pending -= 1
            return  # the next backlog review asks again if it is still needed
        post.agency_token = 0
        if post.holder is None:
            self.policy.unfilled(post)

    def _agency_arrives(self, post: Post | None, team: TeamState, token: int) -> None:
        if post is None:
            team.extra_pending -= 1
            self._start(team, Contract.AGENCY_EXTRA, None, 0, self.agency.ramp_up_days)
            return
        if post.agency_token != token or post.holder is not None:
            return  # cancelled: the permanent starter came first
        post.agency_token = 0
        self._start(team, Contract.AGENCY, post, 0, self.agency.ramp_up_days)

    # -- capacity ------------------------------------------------------------------------------
    def _set_target(self, worker: Worker, target: int, ramp_days: float) -> None:
        worker.target = target
        if ramp_days <= 0 or worker.cap >= target:
            self._capacity(worker, target - worker.cap)
            return
        steps = min(target, max(1, int(ramp_days / RAMP_STEP_DAYS)))
        step_days = ramp_days / steps  # ramp_days / target, one unit a step, unless that is rare
        self.after(step_days, self._ramp, worker, step_days, -(-target // steps))

    def _ramp(self, worker: Worker, step_days: float, units: int) -> None:
        if not worker.alive or worker.cap >= worker.target:
            return
        self._capacity(worker, min(units, worker.target - worker.cap))
        if worker.cap < worker.target:
            self.after(step_days, self._ramp, worker, step_days, units)

    def _qualified(self, worker: Worker) -> None:
        if worker.alive:
            worker.target = worker.team.full_cap
            if worker.cap >= worker.team.nq_cap:  # ramp-up over: the new cap applies at once
                self._capacity(worker, worker.target - worker.cap)

    def _capacity(self, worker: Worker, delta: int) -> None:
        if delta == 0:
            return
        team = worker.team
        worker.cap += delta
        room = worker.room = worker.room + delta
        team.free += delta
        if room > 0:
            heappush(team.slots, (-room, worker.id, worker))
            if len(team.slots) > team.slot_limit:
                compact(team)
        self._log(CAPACITY, team, worker.id, delta)
        if delta > 0 and team.queue:
            self.flow.dispatch(team)
