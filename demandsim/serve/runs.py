"""Runs queued from the browser, done one at a time by a worker thread.

Covers: a queue of comparisons (the edited scenario against its base, on the same seeds), each
run by :func:`demandsim.batch.commands.compare` on every core into a normal results folder, with
its progress (replications done of all) kept for the page to poll.

Assumptions: one comparison at a time uses every core, so queued runs wait their turn rather
than share the cores; the web server's own threads only read a run's state, which the worker
replaces field by field under a lock.
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

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


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
        self._thread = threading.Thread(target=self._work, name="demandsim-runs", daemon=True)
        self._thread.start()

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

    def wait(self, run_id: int, timeout: float) -> Run:
        """Block until a run has finished (for tests and the benchmark)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            run = self.get(run_id)
            if run is not None and run.state in (DONE, FAILED):
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} did not finish in {timeout} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the run in hand (queued ones are dropped) and end the worker thread."""
        self._todo.put(None)
        self._thread.join(timeout)

    def _update(self, run_id: int, **changes) -> None:
        with self._lock:
            self._runs[run_id] = replace(self._runs[run_id], **changes)

    def _work(self) -> None:
        from demandsim.batch.commands import BatchOptions, compare

        while (run_id := self._todo.get()) is not None:
            run = self.get(run_id)
            self._update(run_id, state=RUNNING)

            def progress(done: int, total: int, run_id: int = run_id) -> None:
                at = time.monotonic() if done == total else None
                self._update(run_id, done=done, total=total, simulated=at)

            options = BatchOptions(
                replications=run.replications,
                first_seed=run.first_seed,
                jobs=self.jobs,
                progress=False,
                on_progress=progress,
            )
            try:
                outcome = compare([run.base, run.edited], run.folder, options)
            except Exception as exc:  # shown on the page; the queue carries on
                self._update(run_id, state=FAILED, error=f"{type(exc).__name__}: {exc}",
                             finished=time.monotonic())  # fmt: skip
                continue
            self._update(run_id, state=DONE, text=outcome.text, finished=time.monotonic())
