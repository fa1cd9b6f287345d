"""Named random streams: one independent generator per random element of the model.

Every stream is spawned from the replication's seed, so replication *i* uses seed *i* in every
scenario (common random numbers). New streams are only ever appended to :class:`Stream`, never
inserted, so existing streams keep their numbers when the model grows.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    ARRIVALS = 0
    SOURCES = 1
    ROUTES = 2
    DURATIONS = 3
    INITIAL_CASES = 4
    DEMAND_PATH = 5
    LEAVERS = 6
    RECRUITMENT = 7
    AGENCY_FILL = 8
    NEWLY_QUALIFIED = 9


def spawn_streams(seed: int) -> dict[Stream, np.random.Generator]:
    """One generator per :class:`Stream`, all derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(Stream))
    return {stream: np.random.default_rng(children[stream]) for stream in Stream}


class UniformSource:
    """Uniform draws one at a time from the substream ``(stream, *key)`` of a seed.

    Workforce draws use one substream per post (key = team, post), so the *n*-th agency request
    or leaver of a given post draws the same uniform in every scenario however the rest of the
    run unfolds: common random numbers that stay in step. The generator is made on first use.
    """

    __slots__ = ("_block", "_buffer", "_i", "_rng", "_seq")

    def __init__(self, seed: int, stream: Stream, *key: int, block: int = 16) -> None:
        self._seq = np.random.SeedSequence(seed, spawn_key=(int(stream), *key))
        self._rng: np.random.Generator | None = None
        self._block = block
        self._buffer: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        if self._i >= len(self._buffer):
            if self._rng is None:
                self._rng = np.random.default_rng(self._seq)
            self._buffer = self._rng.random(self._block).tolist()
            self._i = 0
        self._i += 1
        return self._buffer[self._i - 1]
