"""Running a batch's replications on all local cores or on a Dask cluster.

A :class:`Plan` names the scenarios (by a short key) and the seeds; replication *i* uses seed
*i* in every scenario (common random numbers). Tasks go out seed by seed (every scenario of seed
0, then of seed 1 ...), so an interrupted comparison has finished the same seeds in each
scenario. A scenario with an ``[uncertainty]`` first draws replication *i*'s parameters with seed
*i* (:func:`~demandsim.parameter_draws.simulate_drawn`). Only the scenario and a seed cross to a
worker; only the reduced
:class:`~demandsim.replication.Replication` (KPI rows and a float32 daily cube) comes back.
The parent writes each one to the :class:`~demandsim.batch.store.BatchStore` as it arrives,
whichever order they finish in: the tables are computed afterwards in seed order.

Local workers never outlive the batch: each asks Linux to end it when its parent dies
(``prctl(PR_SET_PDEATHSIG)``) and also watches its parent from a thread (any platform, and a
``kill -9`` of the parent between start-up and the ``prctl`` call); workers ignore Ctrl-C, which
the parent handles by ending them at once rather than waiting for their replications.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from tqdm import tqdm

from demandsim.batch.cache import ReplicationCache
from demandsim.batch.store import BatchStore
from demandsim.parameter_draws import simulate_drawn
from demandsim.replication import Replication
from demandsim.results_store import scenario_record
from demandsim.scenario import Scenario

Executor = Literal["local", "dask"]
Task = tuple[str, int]  # scenario key, seed


@dataclass(frozen=True)
class Plan:
    """What a batch runs: scenarios by key, the seeds, and (for sweeps) the design."""

    kind: Literal["run", "compare", "sweep"]
    scenarios: dict[str, Scenario]
    seeds: tuple[int, ...]
    design: pd.DataFrame | None = field(default=None, compare=False)  # sweep: key + varied values

    def tasks(self) -> list[Task]:
        return [(key, seed) for seed in self.seeds for key in self.scenarios]

    def record(self) -> dict[str, Any]:
        """The plan as JSON-ready data (stored to check a resume, and in the manifest)."""
        return {
            "kind": self.kind,
            "seeds": list(self.seeds),
            "scenarios": {key: scenario_record(s) for key, s in self.scenarios.items()},
            "design": None if self.design is None else self.design.to_dict(orient="records"),
        }


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_plan(
    plan: Plan,
    store: BatchStore,
    jobs: int | None = None,
    executor: Executor = "local",
    scheduler: str | None = None,
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    cache: ReplicationCache | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run every replication of ``plan`` that ``store`` does not hold yet; returns how many ran.

    ``jobs``: local worker processes (default: every core; 1 runs in this process).
    ``scheduler``: a Dask scheduler address (``tcp://HOST:8786``) for ``executor="dask"``.
    ``progress``: show a progress bar (default: only when stderr is a terminal).
    ``on_progress``: called with (replications done, replications in all) at the start and as
    each one is stored (the web explorer's progress bar).
    ``cache``: replications it holds are taken from it, and each one run is added to it.
    ``stop``: when set, the workers are ended and :class:`Cancelled` is raised (the folder keeps
    the replications stored so far, as after an interruption).
    """
    tasks = plan.tasks()
    todo = [task for task in tasks if not store.has(*task)]
    if cache is not None:
        todo = [(k, seed) for k, seed in todo if not cache.fill(store, k, plan.scenarios[k], seed)]
    bar = _Bar(
        total=len(tasks),
        initial=len(tasks) - len(todo),
        unit="rep",
        desc="replications",
        disable=None if progress is None else not progress,
        smoothing=0.1,
    )
    done = len(tasks) - len(todo)
    if on_progress is not None:
        on_progress(done, len(tasks))
    results = _results(plan.scenarios, todo, jobs, executor, scheduler, stop)
    with bar, contextlib.closing(results):
        for key, rep in results:
            store.save(key, rep)
            if cache is not None:
                cache.keep(store, key, plan.scenarios[key], rep.seed)
            if stop is not None and stop.is_set():
                raise Cancelled("stopped")
            bar.update()
            done += 1
            if on_progress is not None:
                on_progress(done, len(tasks))
    return len(todo)


class _Bar(tqdm):
    """tqdm without its monitor thread, which would outlive the bar (and a process with more
    than one thread does not fork workers to draw the report's charts)."""

    monitor_interval = 0


def _results(
    scenarios: dict[str, Scenario],
    todo: list[Task],
    jobs: int | None,
    executor: Executor,
    scheduler: str | None,
    stop: threading.Event | None = None,
) -> Iterator[tuple[str, Replication]]:
    check_executor(executor, scheduler, jobs)
    if not todo:
        return (task for task in ())  # a generator, so it can be closed like the others
    if executor == "dask":
        return _dask(scenarios, todo, scheduler)
    jobs = min(available_cores() if jobs is None else jobs, len(todo))
    if jobs == 1:  # one worker (or one replication): no pool to start
        return ((key, simulate_drawn(scenarios[key], seed)) for key, seed in todo)
    return _processes(scenarios, todo, jobs, stop)


def check_executor(executor: str, scheduler: str | None, jobs: int | None) -> None:
    """Raise ValueError, saying what is expected, for options that cannot run."""
    if executor not in ("local", "dask"):
        raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if executor == "local":
        if scheduler is not None:
            raise ValueError("--scheduler is for --executor dask")
        return
    if scheduler is None:
        raise ValueError("--executor dask needs --scheduler tcp://HOST:8786")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ValueError(
            "--executor dask needs the dask extra: pip install 'demandsim[dask]'"
        ) from None


class Cancelled(Exception):
    """The batch was stopped before all its replications were in."""


#: how often a local batch that can be stopped looks whether it has been, in seconds
STOP_POLL_SECONDS = 0.2
_WORKER_SCENARIOS: dict[str, Scenario] = {}
#: how often a worker checks that the batch's process is still alive, in seconds
WATCH_PARENT_SECONDS = 0.5
PR_SET_PDEATHSIG = 1


def _init_worker(scenarios: dict[str, Scenario], parent: int | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C for the batch
    if parent is not None:
        end_with_parent(parent)
    _WORKER_SCENARIOS.update(scenarios)
    gc.freeze()  # what the worker imported stays: later collections skip it (see _simulate_task)


def worker_pool(jobs: int) -> ProcessPoolExecutor | None:
    """``jobs`` worker processes that end with this one, or None for one job (run in-process)."""
    if jobs <= 1:
        return None
    return ProcessPoolExecutor(jobs, initializer=_pool_worker, initargs=(os.getpid(),))


def _pool_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    end_with_parent(parent)


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """Hold Ctrl-C while a pool forks its workers (around ``submit``): a SIGINT that lands in
    the fork's own hooks is lost (Python prints it as ignored and the command carries on to the
    end); held, it is raised here once the block ends. The workers inherit the held signal,
    which they ignore anyway. It is held in this thread only: a Ctrl-C the system hands to
    another thread of the process (a progress bar's) can still be lost, which is rarer. Nothing
    is held off the main thread (Python handles signals there; a server's background thread
    starts its workers through a fork server)."""
    held = hasattr(signal, "pthread_sigmask")  # not on Windows, which spawns, not forks
    if not held or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def pool_map(pool: ProcessPoolExecutor | None, fn: Callable[..., Any], calls: list[tuple]) -> list:
    """``fn(*args)`` for each ``args`` of ``calls``, in order, on a :func:`worker_pool` (here
    when it is None). Submitted under :func:`forking`, not ``Executor.map``: map cancels what is
    queued when interrupted, and the pool's manager thread then fails on those cancelled futures
    as :func:`close_pool` ends the workers."""
    if pool is None:
        return [fn(*args) for args in calls]
    with forking():
        futures = [pool.submit(fn, *args) for args in calls]
    return [f.result() for f in futures]


def close_pool(pool: ProcessPoolExecutor | None, interrupted: bool = False) -> None:
    """Shut a :func:`worker_pool` down; after Ctrl-C or an error, end its workers first, as a
    batch does (waiting for them could wait for ever, see :func:`_terminate`)."""
    if pool is None:
        return
    if interrupted:
        _terminate(pool)
    pool.shutdown(wait=True, cancel_futures=True)


def end_with_parent(parent: int) -> None:
    """End this process when process ``parent`` ends, however it ends (``kill -9`` included)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not _alive(parent):  # it died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="watch-parent", daemon=True).start()


def _watch(parent: int) -> None:
    first = os.getppid()
    while True:
        time.sleep(WATCH_PARENT_SECONDS)
        if os.getppid() != first or not _alive(parent):
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _simulate_task(key: str, seed: int) -> Replication:
    """One replication on a worker. The model's objects refer to each other (a team and its
    workers, a worker and its cases), so reference counting alone leaves a finished run in memory
    until the collector's next full pass; collecting after each replication keeps a worker's
    memory flat, and with the imports frozen (:func:`_init_worker`) it costs a few milliseconds."""
    try:
        return simulate_drawn(_WORKER_SCENARIOS[key], seed)
    finally:
        gc.collect()


def _processes(
    scenarios: dict[str, Scenario], todo: list[Task], jobs: int, stop: threading.Event | None
) -> Iterator[tuple[str, Replication]]:
    """A local process pool; each worker gets the scenarios once, then (key, seed) tasks.

    At most ``2 * jobs`` tasks are in flight, so finished results never pile up in memory.
    ``stop`` is looked at every :data:`STOP_POLL_SECONDS` while the workers are busy."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=_start_method(),
        initializer=_init_worker,
        initargs=(scenarios, os.getpid()),
    )
    pending: dict[Future, str] = {}
    queue = iter(todo)
    try:
        while True:
            for key, seed in queue:
                with forking():
                    pending[pool.submit(_simulate_task, key, seed)] = key
                if len(pending) >= 2 * jobs:
                    break
            if not pending:
                break
            done, _ = wait(pending, None if stop is None else STOP_POLL_SECONDS, FIRST_COMPLETED)
            if stop is not None and stop.is_set():
                raise Cancelled("stopped")
            for future in done:
                yield pending.pop(future), future.result()
    except BaseException:  # Ctrl-C or an error: end the workers now, not after their tasks
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_method() -> multiprocessing.context.BaseContext | None:
    """How workers start: forked (the default on Linux: nothing to import again) from a
    command's main thread; from a server's background thread (the explorer), through a fork
    server, because a fork copies the locks other threads hold at that moment and a worker can
    wait on one of them for ever (a run that Cancel could not stop)."""
    if threading.current_thread() is threading.main_thread():
        return None
    return multiprocessing.get_context("forkserver")


def _terminate(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now. A worker ended while it wrote a result leaves half a message
    in the result pipe, and the pool's manager thread would wait for the rest for ever (so would
    ``shutdown`` and the interpreter's exit: Ctrl-C hung about one batch in twenty on a loaded
    machine). With every worker gone, closing this process's own end of that pipe turns the
    wait into end-of-file, which the pool takes as broken, and it winds up."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    results = getattr(pool, "_result_queue", None)
    if results is not None:
        results._writer.close()


def _dask(
    scenarios: dict[str, Scenario], todo: list[Task], scheduler: str | None
) -> Iterator[tuple[str, Replication]]:
    """An existing Dask distributed cluster: the scenarios are sent to every worker once."""
    from distributed import Client, as_completed

    with Client(scheduler) as client:
        shared = {
            key: client.scatter(s, broadcast=True, hash=False) for key, s in scenarios.items()
        }
        futures = {
            client.submit(simulate_drawn, shared[key], seed, pure=False): key for key, seed in todo
        }
        try:
            for future in as_completed(list(futures)):
                yield futures.pop(future), future.result()
        finally:
            if futures:  # interrupted: stop what is still queued on the cluster
                client.cancel(list(futures))
