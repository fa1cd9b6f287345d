"""Teams and their workers: who has room for one more case.

Covers: each team's workers in hiring order, each worker's caseload capacity and room (capacity
less the cases held), the team's total room, and the free-slot structure that finds the worker with
the most room without scanning the team.

Assumptions: a case goes to the worker with the most room, the earliest hired among equals;
effective capacity is round(cap x (1 - sickness_share)), at least 1.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush, heapreplace
from typing import TYPE_CHECKING

from demandsim.eventlog import Contract

if TYPE_CHECKING:
    from demandsim.caseflow import Case
    from demandsim.scenario import Team
    from demandsim.workforce import Post


class Worker:
    __slots__ = ("alive", "cap", "cases", "contract", "id", "post", "room", "target", "team")

    def __init__(self, wid: int, team: TeamState, contract: Contract, post: Post | None) -> None:
        self.id, self.team, self.contract, self.post = wid, team, contract, post
        self.cap = self.room = self.target = 0
        self.cases: dict[Case, None] = {}  # insertion-ordered, so leaving is deterministic
        self.alive = True


class TeamState:
    """A team during a run.

    ``slots`` is the free-slot structure: a heap of ``(-room, worker id, worker)``, so its top is
    the worker with the most room, the earliest hired among equals. An entry is pushed whenever a
    worker's room changes to a positive value; an entry whose room is no longer its worker's is
    stale and is dropped when it reaches the top (:func:`roomiest`), or when the heap is rebuilt
    because it has grown past ``slot_limit`` (:func:`compact`).
    """

    __slots__ = (
        "extra", "extra_pending", "free", "full_cap", "idx", "name", "nq_cap", "posts", "queue",
        "slot_limit", "slots", "spec", "waiting", "workers",
    )  # fmt: skip

    def __init__(self, idx: int, name: str, spec: Team) -> None:
        self.idx, self.name, self.spec = idx, name, spec
        self.workers: list[Worker] = []  # in hiring order
        self.slots: list[tuple[int, int, Worker]] = []
        self.slot_limit = 64
        self.posts: list[Post] = []
        self.extra: Post | None = None  # the draws for agency above establishment
        self.queue: list = []  # heap of (priority, time, seq, case)
        self.free = 0  # sum of workers' room
        self.waiting = 0  # unallocated cases in the queue
        self.extra_pending = 0
        keep = 1.0 - spec.sickness_share
        self.full_cap = max(1, round(spec.caseload_cap * keep))
        self.nq_cap = max(1, round(spec.nq_caseload_cap * keep))


def roomiest(team: TeamState) -> Worker:
    """The worker with the most room, the earliest hired among equals; the team has room."""
    slots = team.slots
    while True:
        neg_room, _, worker = slots[0]
        if worker.room == -neg_room:
            return worker
        heappop(slots)


def took(team: TeamState, worker: Worker, room: int) -> None:
    """The worker, just given by :func:`roomiest`, took a case and has ``room`` left."""
    slots = team.slots
    if slots[0][2] is worker:  # its entry on top is now stale: replace it
        if room > 0:
            heapreplace(slots, (-room, worker.id, worker))
        else:
            heappop(slots)
    elif room > 0:
        heappush(slots, (-room, worker.id, worker))


def compact(team: TeamState) -> None:
    """Rebuild the free-slot heap from the workers, dropping every stale entry."""
    slots = team.slots
    slots[:] = [(-w.room, w.id, w) for w in team.workers if w.room > 0]
    heapify(slots)
    team.slot_limit = 4 * len(team.workers) + 64
