"""Runs queued from the browser, done one at a time by a worker thread.

Covers: a queue of comparisons (the edited scenario against its base, on the same seeds), each
run by :func:`demandsim.batch.commands.compare` on every core into a normal results folder, with
its progress (replications done of all) kept for the page to poll; cancelling a queued or
running comparison; and the report and workbook, built by a second thread once the page has
read the tables (so the headline and charts are not slowed by them).

Assumptions: one comparison at a time uses every core, so queued runs wait their turn rather
than share the cores; the web server's own threads only read a run's state, which the worker
replaces field by field under a lock. Replications are kept between runs in the runs' folder
(:mod:`demandsim.batch.cache`; the bases only, so the folder grows with the starting points and
horizons used, not with every edit), so the base of a comparison is simulated once for a horizon
and seeds, and only the edited scenario runs after that. A cancelled run's folder is left as an
interrupted batch leaves it (``INCOMPLETE``, with the replications it finished).
"""

from __future__ import annotations

import datetime as dt
import itertools
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from demandsim.results_store import safe_name
from demandsim.scenario import Scenario

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
#: the report and workbook of a done run: being built, ready, or failed (``report_error``)
BUILDING, READY = "building", "ready"
#: how long the report waits for the page to read a finished run's results, in seconds
SHOW_SECONDS = 5.0
#: where replications are kept between runs, in the runs' folder
CACHE = ".replications"


@dataclass(frozen=True)
class Run:
    """A comparison asked for from the page, and how far it has got."""

    id: int
    base: Scenario
    edited: Scenario
    changes: tuple[str, ...]  # the --set overrides that make ``edited`` from ``base``
    replications: int
    first_seed: int
    folder: Path
    state: str = QUEUED
    done: int = 0
    total: int = 0
    error: str = ""
    text: str = ""  # the printed headline and tables (BatchOutcome.text)
    submitted: float = field(default_factory=time.monotonic)
    simulated: float | None = None  # when the last replication was stored
    finished: float | None = None
    report: str = ""  # BUILDING, READY or FAILED once the run is done
    report_error: str = ""
    reported: float | None = None  # when the report and workbook were written
    stop: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)
    #: set once the page has read the results (the report waits for it, up to SHOW_SECONDS)
    shown: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.submitted

    @property
    def edited_toml(self) -> Path:
        """The edited scenario as the results folder stores it (written by write_scenario_toml)."""
        return self.folder / "scenarios" / f"{safe_name(self.edited.name)}.toml"


class RunQueue:
    """Comparisons run in order by one background thread; ``jobs`` worker processes each."""

    def __init__(self, out_root: Path, jobs: int | None = None) -> None:
        self.out_root = Path(out_root)
        self.jobs = jobs
        self._runs: dict[int, Run] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._todo: queue.Queue[int | None] = queue.Queue()
        self._reports: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="demandsim-runs", daemon=True)
        self._reporter = threading.Thread(target=self._report, name="demandsim-reports",
                                          daemon=True)  # fmt: skip
        self._thread.start()
        self._reporter.start()

    def submit(
        self,
        base: Scenario,
        edited: Scenario,
        changes: list[str],
        replications: int = 20,
        first_seed: int = 0,
    ) -> Run:
        run_id = next(self._ids)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = self.out_root / safe_name(f"serve-{edited.name}-{stamp}-{run_id}")
        run = Run(run_id, base, edited, tuple(changes), replications, first_seed, folder,
                  total=2 * replications)  # fmt: skip
        with self._lock:
            self._runs[run_id] = run
        self._todo.put(run_id)
        return run

    def runs(self) -> list[Run]:
        with self._lock:
            return list(self._runs.values())

    def get(self, run_id: int) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def wait(self, run_id: int, timeout: float, report: bool = False) -> Run:
        """Block until a run has finished (and, with ``report``, its report is built or has
        failed), for tests and the benchmark."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            run = self.get(run_id)
            over = run is not None and run.state in (DONE, FAILED, CANCELLED)
            if over and (not report or run.state != DONE or run.report in (READY, FAILED)):
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} did not finish in {timeout} s")

    def cancel(self, run_id: int) -> bool:
        """Cancel a queued run (it will not start) or a running one (its workers are ended and
        its folder left incomplete); False if it had finished its replications (the tables
        take seconds and are then complete)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.state not in (QUEUED, RUNNING) or run.simulated is not None:
                return False
            run.stop.set()
            if run.state == QUEUED:
                self._runs[run_id] = replace(run, state=CANCELLED, finished=time.monotonic())
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel the run in hand and the queued ones, let a report being built finish, and
        end both threads."""
        for run in self.runs():
            self.cancel(run.id)
        self._todo.put(None)
        self._reports.put(None)
        self._thread.join(timeout)
        self._reporter.join(timeout)

    def _update(self, run_id: int, **changes) -> None:
        with self._lock:
            self._runs[run_id] = replace(self._runs[run_id], **changes)

    def _work(self) -> None:
        from demandsim.batch.cache import ReplicationCache
        from demandsim.batch.commands import BatchOptions, compare
        from demandsim.batch.replicate import Cancelled

        while (run_id := self._todo.get()) is not None:
            with self._lock:
                run = self._runs[run_id]
                if run.state != QUEUED:  # cancelled while it waited
                    continue
                run = self._runs[run_id] = replace(run, state=RUNNING)

            def progress(done: int, total: int, run_id: int = run_id) -> None:
                at = time.monotonic() if done == total else None
                self._update(run_id, done=done, total=total, simulated=at)

            options = BatchOptions(
                replications=run.replications,
                first_seed=run.first_seed,
                jobs=self.jobs,
                progress=False,
                report=False,  # built after, by the reporter: the tables are all the page needs
                on_progress=progress,
                cache=ReplicationCache(self.out_root / CACHE, only=[run.base]),
                stop=run.stop,
            )
            try:
                outcome = compare([run.base, run.edited], run.folder, options)
            except Cancelled:
                self._update(run_id, state=CANCELLED, finished=time.monotonic())
                continue
            except Exception as exc:  # shown on the page; the queue carries on
                self._update(run_id, state=FAILED, error=f"{type(exc).__name__}: {exc}",
                             finished=time.monotonic())  # fmt: skip
                continue
            self._update(run_id, state=DONE, text=outcome.text, finished=time.monotonic(),
                         report=BUILDING)  # fmt: skip
            self._reports.put(run_id)

    def _report(self) -> None:
        from demandsim.report import write_report

        while (run_id := self._reports.get()) is not None:
            run = self.get(run_id)
            run.shown.wait(SHOW_SECONDS)  # the page's headline and charts first, then this
            try:
                write_report(run.folder)
            except Exception as exc:  # the page says so; the tables and headline stand
                self._update(run_id, report=FAILED, report_error=f"{type(exc).__name__}: {exc}")
                continue
            self._update(run_id, report=READY, reported=time.monotonic())
