"""Cases moving through the pathway, and their allocation to workers.

Covers: a case entering a stage and being allocated at once if its team has room, else waiting
**unallocated** in the team's queue (first come, or by stage priority then first come); the end of
its work (``allocation`` clock, from when a worker takes it) or of its episode (``entry`` clock,
from when it entered) moving it on; transfers into a ``blocking`` stage waiting, still held by the
sending worker, while the receiving team is full; a leaving worker's cases going back to the queue.

Assumptions: a case whose worker leaves goes back to the front of the queue (ordered by when it
entered the stage) and keeps the work already done; the time of an ``entry``-clock episode runs
whether or not a worker is allocated. This is the model's hot path: ``_finish``, ``enter``,
``allocate`` and ``dispatch`` run for nearly every event, so they are written for speed.
"""

from __future__ import annotations

from heapq import heappop, heappush, heapreplace

import simpy
from simpy.core import NORMAL

from demandsim.clock import Due
from demandsim.eventlog import ROW, Kind
from demandsim.scenario import Stage
from demandsim.teams import TeamState, Worker, compact, roomiest, took

ENTER, ALLOC, DEALLOC, EXIT = int(Kind.ENTER), int(Kind.ALLOC), int(Kind.DEALLOC), int(Kind.EXIT)
BLOCK, UNBLOCK = int(Kind.BLOCK), int(Kind.UNBLOCK)
PACK = ROW.pack
NEW = object.__new__


class StageState:
    __slots__ = ("blocking", "entry_clock", "idx", "priority", "team")

    def __init__(self, idx: int, team: TeamState, spec: Stage, priority_order: bool) -> None:
        self.idx, self.team = idx, team
        self.entry_clock = spec.clock == "entry"
        self.blocking = spec.blocking
        self.priority = spec.priority if priority_order else 0


class Case:
    __slots__ = (
        "blocked", "durations", "enter_t", "id", "remaining_days", "stage", "stages", "step",
        "token", "wait_seq", "work_start_t", "worker",
    )  # fmt: skip

    stage: StageState  # these three are set when the case enters its first stage
    enter_t: float
    remaining_days: float
    work_start_t: float  # set when a worker takes it, in an allocation-clock stage

    def __init__(self, cid: int, stages: list[int], durations: list[float]) -> None:
        self.id, self.stages, self.durations = cid, stages, durations
        self.step = 0
        self.worker: Worker | None = None
        self.token = 0  # numbers the pending completion; a stale one is ignored
        self.wait_seq = -1  # the case's entry in a team queue, -1 if it has none
        self.blocked = False


class CaseFlow:
    """Moves cases through ``stages`` on ``env``, writing ENTER .. UNBLOCK rows to ``log``."""

    def __init__(
        self,
        env: simpy.Environment,
        horizon: float,
        stages: list[StageState],
        exits: list[int],
        log: bytearray,
    ) -> None:
        self.env = env
        self.stages = stages
        self._exit = exits  # per case: n_stages + its exit index
        self._horizon = horizon
        # SimPy's Environment.schedule, inlined in the hot path: an event is the entry
        # (time, priority, event number, event) on the environment's queue
        self._queue, self._eids = env._queue, env._eid
        self._write = log.extend
        self._on_due = [self._finish]  # the callbacks of every completion event
        self._seq = 0

    def _finish_after(self, case: Case, delay: float) -> None:
        """Schedule the end of the case's current work or episode (inlined in ``enter`` and
        ``allocate``, which run for nearly every event)."""
        token = case.token = case.token + 1
        if self.env._now + delay < self._horizon:
            event = NEW(Due)
            event.callbacks, event.case, event.token = self._on_due, case, token
            heappush(self._queue, (self.env._now + delay, NORMAL, next(self._eids), event))

    def enter(
        self, case: Case, stage: StageState, worker: Worker | None = None, source: int = -1
    ) -> None:
        now = self.env._now
        case.stage = stage
        case.enter_t = now
        remaining = case.remaining_days = case.durations[case.step]
        team = stage.team
        if stage.entry_clock:  # the episode runs from now: _finish_after, inlined
            token = case.token = case.token + 1
            if now + remaining < self._horizon:
                event = NEW(Due)
                event.callbacks, event.case, event.token = self._on_due, case, token
                heappush(self._queue, (now + remaining, NORMAL, next(self._eids), event))
        if worker is None and case.wait_seq < 0 and team.free and not team.queue:
            neg_room, _, worker = team.slots[0]  # room at once: allocated on entry
            if worker.room != -neg_room:
                worker = roomiest(team)
        if worker is None:
            self._write(PACK(now, ENTER, team.idx, stage.idx, case.id, -1, source))
            if case.wait_seq < 0:  # not already queued (a blocked transfer whose holder left is)
                self.queue(case, team, stage.priority, now)
                if team.free:
                    self.dispatch(team)
            return
        self._write(PACK(now, ENTER, team.idx, stage.idx, case.id, worker.id, source))
        # allocate, inlined (no ALLOC row: the worker is on the ENTER row)
        room = worker.room = worker.room - 1
        team.free -= 1
        slots = team.slots
        if slots[0][2] is worker:  # took, inlined
            if room > 0:
                heapreplace(slots, (-room, worker.id, worker))
            else:
                heappop(slots)
        elif room > 0:
            heappush(slots, (-room, worker.id, worker))
        worker.cases[case] = None
        case.worker = worker
        if not stage.entry_clock:  # the work starts now: _finish_after, inlined
            case.work_start_t = now
            token = case.token = case.token + 1
            if now + remaining < self._horizon:
                event = NEW(Due)
                event.callbacks, event.case, event.token = self._on_due, case, token
                heappush(self._queue, (now + remaining, NORMAL, next(self._eids), event))

    def queue(self, case: Case, team: TeamState, priority: int, t: float) -> None:
        self._seq += 1
        case.wait_seq = self._seq
        heappush(team.queue, (priority, t, self._seq, case))
        if not case.blocked:  # a blocked transfer is held by its sender, not unallocated
            team.waiting += 1

    def dispatch(self, team: TeamState) -> None:
        """Allocate queued cases while the team has room."""
        queue = team.queue
        while team.free and queue:
            _, _, seq, case = heappop(queue)
            if case.wait_seq != seq:
                continue  # stale: the case left the queue another way
            case.wait_seq = -1
            worker = roomiest(team)
            if case.blocked:
                self._transfer(case, worker)
            else:
                team.waiting -= 1
                self.allocate(case, worker)

    def allocate(self, case: Case, worker: Worker) -> None:
        """The worker takes a case waiting in its stage."""
        room = worker.room = worker.room - 1
        team = worker.team
        team.free -= 1
        took(team, worker, room)
        worker.cases[case] = None
        case.worker = worker
        stage = case.stage
        self._write(PACK(self.env._now, ALLOC, team.idx, stage.idx, case.id, worker.id, 0))
        if not stage.entry_clock:
            case.work_start_t = self.env._now
            self._finish_after(case, case.remaining_days)

    def _unhold(self, case: Case, worker: Worker) -> TeamState:
        """The worker stops holding the case; returns the worker's team."""
        room = worker.room = worker.room + 1
        team = worker.team
        team.free += 1
        if room > 0:
            heappush(team.slots, (-room, worker.id, worker))
            if len(team.slots) > team.slot_limit:
                compact(team)
        del worker.cases[case]
        case.worker = None
        return team

    def _finish(self, event: Due) -> None:
        """The case's work (or episode) in its stage is done: move it on."""
        case = event.case
        if case.token != event.token:
            return  # cancelled: its worker left
        step = case.step + 1
        if step < len(case.stages):
            nxt = self.stages[case.stages[step]]
            worker = case.worker
            if nxt.blocking and worker is not None and nxt.team.free == 0:
                now = self.env._now
                case.blocked = True
                self._write(PACK(now, BLOCK, nxt.team.idx, nxt.idx, case.id, worker.id, 0))
                self.queue(case, nxt.team, nxt.priority, now)
                return
            target = nxt.idx
        else:
            nxt = None
            target = self._exit[case.id]
        worker = case.worker
        if worker is None:
            self._leave_stage(case, target)
        else:  # _leave_stage, inlined for an allocated case
            team = worker.team
            self._write(
                PACK(self.env._now, EXIT, team.idx, case.stage.idx, case.id, worker.id, target)
            )
            room = worker.room = worker.room + 1
            team.free += 1
            if room > 0:
                slots = team.slots
                heappush(slots, (-room, worker.id, worker))
                if len(slots) > team.slot_limit:
                    compact(team)
            del worker.cases[case]
            case.worker = None
        if nxt is not None:
            case.step = step
            self.enter(case, nxt)
        if worker is not None and team.queue:
            self.dispatch(team)

    def _leave_stage(self, case: Case, target: int) -> TeamState | None:
        """Log the case leaving its stage for ``target`` and free its worker; returns the team
        freed, if any."""
        stage = case.stage
        worker = case.worker
        if worker is None:
            team = stage.team
            self._write(PACK(self.env._now, EXIT, team.idx, stage.idx, case.id, -1, target))
            if case.wait_seq >= 0:  # an entry-clock episode ended while still unallocated
                case.wait_seq = -1
                team.waiting -= 1
            return None
        team = worker.team
        self._write(PACK(self.env._now, EXIT, team.idx, stage.idx, case.id, worker.id, target))
        # _unhold, inlined
        room = worker.room = worker.room + 1
        team.free += 1
        if room > 0:
            slots = team.slots
            heappush(slots, (-room, worker.id, worker))
            if len(slots) > team.slot_limit:
                compact(team)
        del worker.cases[case]
        case.worker = None
        return team

    def _transfer(self, case: Case, worker: Worker) -> None:
        """The receiving team takes a blocked case: it leaves the sender for ``worker``."""
        nxt = self.stages[case.stages[case.step + 1]]
        case.blocked = False
        self._write(PACK(self.env._now, UNBLOCK, nxt.team.idx, nxt.idx, case.id, case.worker.id, 0))
        freed = self._leave_stage(case, nxt.idx)
        case.step += 1
        self.enter(case, nxt, worker)
        if freed.queue:
            self.dispatch(freed)

    def hand_back(self, worker: Worker) -> None:
        """The worker is leaving: each case goes back to its team's queue, or (a transfer it held)
        moves on, unallocated, to the receiving team. The team is not dispatched here."""
        now = self.env._now
        team = worker.team
        for case in list(worker.cases):
            self._unhold(case, worker)
            self._write(PACK(now, DEALLOC, team.idx, case.stage.idx, case.id, worker.id, 0))
            if case.blocked:
                nxt = self.stages[case.stages[case.step + 1]]
                case.blocked = False
                nxt.team.waiting += 1
                self._write(PACK(now, UNBLOCK, nxt.team.idx, nxt.idx, case.id, worker.id, 0))
                self._leave_stage(case, nxt.idx)
                case.step += 1
                self.enter(case, nxt)
                continue
            stage = case.stage
            if not stage.entry_clock:
                case.remaining_days -= now - case.work_start_t
                case.token += 1  # cancels the pending completion
            self.queue(case, team, stage.priority, case.enter_t)
