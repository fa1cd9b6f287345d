"""Replications kept between batches, found again by what they simulated.

A replication is a function of the resolved scenario, the seed and the engine's code, so the
cache files it under a hash of all three: ``ROOT/HASH/seed-NNNNNN.{npy,kpis.parquet}``, the same
pair of files a :class:`~demandsim.batch.store.BatchStore` keeps. A batch given a cache first
links the replications the cache holds into its own folder (so they are not run again), and
links each one it runs into the cache as it is stored. The web explorer compares every edit with
the scenario it started from on the same seeds: with the cache, the base is simulated once.

Assumptions: the scenario's name and description do not change what it simulates (the engine
never reads them), but the folder its data files are read from may (``source_dir`` is hashed);
the engine's code is every ``.py`` file of the package, so any change to the code misses the
cache rather than returning a replication the code would no longer give. Files are hard-linked
(copied where links are not possible) under a temporary name and renamed, so a cached file that
is there is whole; the KPI file, written last, marks a replication as held.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from demandsim.batch.store import BatchStore
from demandsim.scenario import Scenario

PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def engine_fingerprint() -> str:
    """A hash of the package's code (every ``.py`` file, by path and content)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def scenario_hash(scenario: Scenario) -> str:
    """What a replication of ``scenario`` depends on, as a short hash: every resolved value but
    the name and description, the folder its files are read from, and the engine's code."""
    data = scenario.model_dump(mode="json", exclude={"name", "description"})
    text = json.dumps(data, sort_keys=True, default=str) + engine_fingerprint()
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _link(source: Path, target: Path) -> None:
    """``target`` becomes ``source``'s content: linked (or copied), then renamed into place."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


class ReplicationCache:
    """A folder of replications shared by batches, by scenario hash and seed.

    ``only``: keep replications of these scenarios alone (the web explorer keeps its bases,
    which every edit is compared with, not each edit); default every scenario."""

    def __init__(self, root: str | Path, only: Iterable[Scenario] | None = None) -> None:
        self.root = Path(root)
        self.only = None if only is None else {scenario_hash(s) for s in only}

    def _files(self, scenario: Scenario, seed: int) -> tuple[Path, Path]:
        folder = self.root / scenario_hash(scenario)
        return folder / f"seed-{seed:06d}.npy", folder / f"seed-{seed:06d}.kpis.parquet"

    def has(self, scenario: Scenario, seed: int) -> bool:
        return self._files(scenario, seed)[1].exists()

    def fill(self, store: BatchStore, key: str, scenario: Scenario, seed: int) -> bool:
        """Put the cached replication of (``scenario``, ``seed``) in ``store`` under ``key``;
        False when the cache does not hold it."""
        if not self.has(scenario, seed):
            return False
        targets = store.replication_files(key, seed)
        targets[0].parent.mkdir(parents=True, exist_ok=True)
        for source, target in zip(self._files(scenario, seed), targets, strict=True):
            _link(source, target)  # the daily series, then the KPI file that marks it done
        return True

    def keep(self, store: BatchStore, key: str, scenario: Scenario, seed: int) -> None:
        """Add the replication ``store`` holds under ``key`` and ``seed`` to the cache."""
        if self.only is not None and scenario_hash(scenario) not in self.only:
            return
        targets = self._files(scenario, seed)
        targets[0].parent.mkdir(parents=True, exist_ok=True)
        for source, target in zip(store.replication_files(key, seed), targets, strict=True):
            _link(source, target)
