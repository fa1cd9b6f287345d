"""The event log: the single source of truth of a run. Every output is a pure function of it.

One row per event, with integer codes so a five-year run stays small. ``case`` and ``worker`` are
the simulation's own running numbers (no real child or worker identifier ever enters the model),
and they never leave a run's memory: written outputs are aggregates.
"""

from __future__ import annotations

import struct
from enum import IntEnum

import numpy as np
import pandas as pd


class Kind(IntEnum):
    """Event codes. To keep the log compact, a case allocated the moment it enters a stage has
    its worker on the ENTER row (no ALLOC row), and the worker holding a case when it leaves a
    stage is on the EXIT row (no DEALLOC row): ``worker >= 0`` on those rows means allocated.
    """

    ENTER = 1  # case enters stage: open +1; worker if allocated at once; value = contact source
    #            for a new contact, -1 for a case moving on or open at the start
    ALLOC = 2  # a worker of the team takes a queued case (allocated +1)
    DEALLOC = 3  # the worker stops holding a case that stays in its stage (the worker left)
    EXIT = 4  # case leaves stage: open -1; worker who held it (-1 if none); value = next target
    #           (a stage index, or n_stages + exit index when the case closes)
    BLOCK = 5  # case finished its stage but the receiving team is full: team = receiving team
    UNBLOCK = 6  # the receiving team took it (or the holding worker left)
    START = 7  # worker starts: value = its Contract
    LEAVE = 8  # worker leaves: value = its Contract
    CAPACITY = 9  # worker's caseload capacity changes by value (ramp-up, newly qualified, leaving)
    VACANCY_OPEN = 10  # a post has no worker
    VACANCY_FILLED = 11
    AGENCY_REQUEST = 12  # value = 1 if for a post above establishment
    AGENCY_UNFILLED = 13  # the market could not fill a request
    HIRE_FAILED = 14  # a permanent campaign ended without a hire


class Contract(IntEnum):
    """How a worker is employed: the ``value`` of START and LEAVE rows."""

    PERMANENT = 0
    AGENCY = 1  # agency cover for a post of the establishment
    AGENCY_EXTRA = 2  # agency above establishment, while a backlog lasts


COLUMNS = ("t", "kind", "team", "stage", "case", "worker", "value")

ROW = struct.Struct("<7d")
"""One row as the engine writes it: seven float64s packed into one bytearray, so a run appends
bytes (no Python objects kept per row) and the bytes are the log's array without a copy."""


class EventLog:
    """The rows of a run, as an ``(n, 7)`` float array in :data:`COLUMNS` order."""

    __slots__ = ("rows",)

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows.reshape(-1, len(COLUMNS))

    @classmethod
    def from_packed(cls, buf: bytearray) -> EventLog:
        """The log from rows packed with :data:`ROW`, in the order they were written."""
        return cls(np.frombuffer(buf, dtype="<f8"))

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self) -> dict[str, np.ndarray]:
        """The log's fields as typed arrays, by name (the columns of :meth:`frame`)."""
        return {
            c: self.rows[:, i].astype(d)
            for i, (c, d) in enumerate(zip(COLUMNS, _DTYPES, strict=True))
        }

    def frame(self) -> pd.DataFrame:
        """The log as a typed DataFrame, one column per field."""
        return pd.DataFrame(self.columns())


_DTYPES = ("float64", "int8", "int8", "int8", "int32", "int32", "int32")
