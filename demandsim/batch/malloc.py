"""The batch parent's memory: large blocks handed back to the system as soon as they are freed.

glibc's ``malloc`` gives a block of over 128 KiB its own mapping, unmapped when freed, but raises
that threshold to the size of each such block freed (up to 32 MiB). After the first arrays of a
batch's summaries are freed, its arrays of a few MiB come from the heap instead, whose freed space
glibc keeps: the parent's resident memory then grows with every stage and never falls back. With
the threshold fixed at 1 MiB, a comparison of 2,000 x 2 replications peaked at 301 MiB in the
parent instead of 371 MiB (docs/performance.md). Elsewhere than glibc this does nothing.

It is set once a batch's replications are in, so they do not pay for it: with the threshold fixed,
a replication runs about 4% slower (its large arrays are mapped afresh each time). A process that
goes on to run replications itself, or forks workers that do, pays that: the outlook's back-test
after its first issue date, the explorer on one core.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
THRESHOLD_BYTES = 2**20


def return_large_blocks() -> None:
    """From now on, blocks of 1 MiB or more are mapped on their own and unmapped when freed."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: nothing to set
        return
    mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)
