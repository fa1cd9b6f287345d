"""Drawing a report's charts as PNG, on every core when that is safe.

Matplotlib draws one figure at a time in a process, and a report has 9 to 20 charts of about
0.05-0.25 s each: a single run's report took longer to draw than the run took to simulate.
:class:`ChartPainter` forks worker processes that inherit the chart makers (nothing is pickled
but the PNG bytes coming back) and draw a share each, while the caller writes the workbook. It
draws in this process instead where forking is not safe or not worth it: where ``fork`` is not
available, from any thread but the main one or with other threads running (the explorer's server
builds reports from a background thread), on one core, or for a handful of charts. The PNGs are
the same either way: each chart is drawn by the same pure plotting call.
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from matplotlib.figure import Figure

DPI = 110
#: below this many charts, one process draws them all (a worker costs about 0.1 s to start)
MIN_CHARTS_TO_SHARE = 4

_MAKERS: dict[str, Callable[[], Figure]] = {}  # the charts of the painter at work, for its forks


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at the report's resolution, compressed at level 3 (as fast as
    level 1, barely larger than the default 6, which costs about a tenth of the drawing time)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


@functools.cache
def _warm_up() -> None:
    """Load the fonts and fill matplotlib's text caches, once per process (0.1 s)."""
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().set_title("Warm up 0123456789 £%")
    png(fig)


def _draw(stems: list[str]) -> dict[str, bytes]:
    return {stem: png(_MAKERS[stem]()) for stem in stems}


def _init_worker(parent: int) -> None:
    from demandsim.batch.replicate import end_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    end_with_parent(parent)


def can_fork() -> bool:
    """Whether drawing may fork here: ``fork`` exists and this is the process's only thread."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


class ChartPainter:
    """``with ChartPainter(makers) as painter: ...; images = painter.pngs()``: the charts are
    drawn from ``__enter__`` on, in worker processes if :func:`can_fork`, and ``pngs()`` returns
    them by stem, in the makers' order."""

    def __init__(self, makers: dict[str, Callable[[], Figure]], jobs: int | None = None) -> None:
        self.makers = makers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        self.jobs = min(jobs or cores, len(makers))
        self._pool: ProcessPoolExecutor | None = None
        self._parts: list[Future] = []

    def __enter__(self) -> ChartPainter:
        if self.jobs > 1 and len(self.makers) >= MIN_CHARTS_TO_SHARE and can_fork():
            global _MAKERS
            _MAKERS = self.makers  # set before the workers fork, so they inherit it
            _warm_up()  # fonts and text layout caches, loaded here rather than in each fork
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
            from demandsim.batch.replicate import forking

            stems = list(self.makers)
            try:
                with forking():  # Ctrl-C while the workers fork is raised after, not lost
                    self._parts = [
                        self._pool.submit(_draw, stems[i :: self.jobs]) for i in range(self.jobs)
                    ]
            except BaseException as exc:
                self.__exit__(type(exc))
                raise
        return self

    def pngs(self) -> dict[str, bytes]:
        if self._pool is None:
            return {stem: png(make()) for stem, make in self.makers.items()}
        drawn: dict[str, bytes] = {}
        for part in self._parts:
            drawn.update(part.result())
        return {stem: drawn[stem] for stem in self.makers}

    def __exit__(self, kind: type[BaseException] | None = None, *_: object) -> None:
        global _MAKERS
        if self._pool is not None:
            from demandsim.batch.replicate import close_pool

            close_pool(self._pool, interrupted=kind is not None)  # interrupted: end them now
            self._pool = None
        _MAKERS = {}
