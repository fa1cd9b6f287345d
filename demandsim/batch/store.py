"""A batch's results folder: written whole or not at all, resumable after an interruption.

While a batch runs, its folder holds ``INCOMPLETE`` (how to resume), ``plan.json`` (the resolved
scenarios and seeds) and ``replications/KEY/seed-NNNNNN.{npy,kpis.parquet}``: one pair of files
per finished replication, each file written to a temporary name and renamed, so a file that is
there is whole. ``--resume DIR`` checks that the command resolves to the same plan and runs only
the seeds that have no files yet. When every replication is in, the tables are written to a
staging folder, moved in, and ``manifest.json`` is written last: a folder with a manifest is
complete; one without is not. The per-replication files are then removed (the tables keep all
a planner reads; ``keep_replications`` keeps them).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from demandsim.replication import Replication
from demandsim.results_store import OutputExistsError, write_json

MANIFEST = "manifest.json"
PLAN = "plan.json"
INCOMPLETE = "INCOMPLETE"
REPLICATIONS = "replications"
STAGING = ".finishing"


def _npy_header(fh, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an ``.npy`` header, leaving ``fh`` at the first data byte. Only
    C-ordered arrays are read this way (their days are contiguous); anything else is an error,
    never a silent reinterpretation of the bytes."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(fh)
    if fortran_order and len(shape) > 1:
        raise ValueError(f"{path}: daily series stored in Fortran order; expected C order")
    return shape, dtype


def _sorted_categories(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """Codes into ``names`` as a categorical with its categories sorted, as ``astype("category")``
    makes them; the codes are renumbered in place."""
    rank = np.empty(len(names), dtype=codes.dtype)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    np.take(rank, codes, out=codes)
    return pd.Categorical.from_codes(codes, sorted(names))


class ParquetSink:
    """A parquet file written a frame at a time (one row group each), so a table too big to
    hold whole is written as it is made; read back, it is the frames concatenated. Frames must
    have the same columns and dtypes. Written to ``path`` (a hidden name in the batch folder)
    and moved into place by :meth:`move_to`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def move_to(self, path: Path) -> None:
        """Move the finished file to ``path`` (it must have had a frame)."""
        self.close()
        os.replace(self.path, path)


class ResumeError(ValueError):
    """``--resume`` named a folder that cannot be resumed with this command."""


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp)`` then rename, so the file is whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class BatchStore:
    """The folder of one batch (run, comparison or sweep)."""

    def __init__(self, root: str | Path, plan: dict[str, Any]) -> None:
        self.root = Path(root)
        self.plan = plan  # as first stored: a resumed batch keeps its original start time

    # ----------------------------------------------------------------- starting and resuming
    @classmethod
    def create(cls, root: str | Path, plan: dict[str, Any], overwrite: bool = False) -> BatchStore:
        """A new folder for ``plan`` (an existing non-empty folder needs ``overwrite``)."""
        store = cls(root, plan)
        if store.root.exists() and any(store.root.iterdir()):
            if not overwrite:
                raise OutputExistsError(
                    f"{store.root}: output folder exists and is not empty; choose another --out, "
                    "pass --overwrite, or --resume it if it is an interrupted batch"
                )
            if not ((store.root / MANIFEST).is_file() or (store.root / PLAN).is_file()):
                raise OutputExistsError(
                    f"{store.root}: --overwrite replaces only a demandsim results folder (one "
                    f"with {MANIFEST} or {PLAN}); this folder has neither, so it is left alone"
                )
            shutil.rmtree(store.root)
        store.root.mkdir(parents=True, exist_ok=True)
        (store.root / INCOMPLETE).write_text(
            "This batch has not finished: its tables are not written yet.\n"
            f"Run the same command again with --resume {store.root} to complete it (a run "
            "started in the explorer, demandsim serve: start it again there).\n"
        )
        write_atomic(store.root / PLAN, lambda tmp: write_json(plan, tmp))
        return store

    @classmethod
    def resume(cls, root: str | Path, plan: dict[str, Any]) -> BatchStore:
        """Reopen an interrupted folder, after checking it was started for the same ``plan``."""
        store = cls(root, plan)
        if (store.root / MANIFEST).exists():
            raise ResumeError(f"{store.root}: this batch is already complete (it has a manifest)")
        if not (store.root / PLAN).exists():
            raise ResumeError(f"{store.root}: not an interrupted batch folder (no {PLAN})")
        stored = json.loads((store.root / PLAN).read_text())
        fresh = json.loads(json.dumps(plan, default=str))
        for part in ("kind", "seeds", "scenarios", "design"):
            if stored.get(part) != fresh.get(part):
                raise ResumeError(
                    f"{store.root}: was started with different {part}; resume it with the same "
                    "command, scenario files, --set, --vary, -n and --seed as the first run"
                )
        store.plan = stored
        return store

    # ----------------------------------------------------------------- replications
    def replication_files(self, key: str, seed: int) -> tuple[Path, Path]:
        """Where one replication is kept: its daily series and its KPI file."""
        folder = self.root / REPLICATIONS / key
        return folder / f"seed-{seed:06d}.npy", folder / f"seed-{seed:06d}.kpis.parquet"

    def has(self, key: str, seed: int) -> bool:
        return self.replication_files(key, seed)[1].exists()

    def save(self, key: str, rep: Replication) -> None:
        """Keep one replication: daily series first, then the KPI file that marks it done."""
        daily_path, kpi_path = self.replication_files(key, rep.seed)
        daily_path.parent.mkdir(parents=True, exist_ok=True)

        def save_daily(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.save(fh, np.ascontiguousarray(rep.daily))

        write_atomic(daily_path, save_daily)
        write_atomic(kpi_path, lambda tmp: rep.kpis.to_parquet(tmp, index=False))

    def replication_kpis(self, keys: Iterable[str], seeds: Iterable[int]) -> pd.DataFrame:
        """Every replication's KPI rows: scenario, replication (its seed), team, measure,
        period, value, in key then seed order; labels as categories to keep it small."""
        import pyarrow.parquet as pq

        labels = ["team", "measure", "period"]
        keys = list(keys)
        files = [(k, seed, self.replication_files(key, seed)[1])
                 for k, key in enumerate(keys) for seed in sorted(seeds)]  # fmt: skip
        # two passes: the row counts from the files' footers, then each file read into its
        # place, so the result is never held twice
        sizes = [pq.ParquetFile(path).metadata.num_rows for _, _, path in files]
        total = int(sum(sizes))
        scenario = np.empty(total, dtype=np.int16)
        replication = np.empty(total, dtype=np.int64)
        codes = {c: np.empty(total, dtype=np.int16) for c in labels}
        value = np.empty(total)
        vocab: dict[str, dict[str, int]] = {c: {} for c in labels}
        start = 0
        for (k, seed, path), n in zip(files, sizes, strict=True):
            table = pq.read_table(path)
            rows = slice(start, start + n)
            scenario[rows], replication[rows] = k, seed
            for c in labels:  # each label's code in a vocabulary of the few names
                encoded = table.column(c).combine_chunks().dictionary_encode()
                names = encoded.dictionary.to_pylist()
                known = vocab[c]
                lookup = np.array([known.setdefault(name, len(known)) for name in names])
                codes[c][rows] = lookup[encoded.indices.to_numpy()]
            value[rows] = table.column("value").to_numpy()
            start += n
        return pd.DataFrame(
            {
                "scenario": _sorted_categories(scenario, keys),
                "replication": replication,
                **{c: _sorted_categories(codes[c], list(vocab[c])) for c in labels},
                "value": value,
            },
            copy=False,  # the arrays are this frame's alone
        )

    def daily_block(self, key: str, seeds: Iterable[int], start: int, stop: int) -> np.ndarray:
        """Days ``start:stop`` of every seed's daily cube, stacked: (seeds, days, teams, measures).

        Only those bytes are read from each file, straight into the result, so the block is all
        that is ever in memory (memory-mapping would also count read-ahead pages of every file)."""
        seeds = sorted(seeds)
        out: np.ndarray | None = None
        for i, seed in enumerate(seeds):
            path = self.replication_files(key, seed)[0]
            with path.open("rb") as fh:
                shape, dtype = _npy_header(fh, path)
                if out is None:
                    out = np.empty(
                        (len(seeds), max(0, min(stop, shape[0]) - start), *shape[1:]), dtype
                    )
                if shape[1:] != out.shape[2:] or dtype != out.dtype:
                    raise ValueError(f"{path}: daily series of shape {shape} {dtype}, expected "
                                     f"(days, {out.shape[2:]}) {out.dtype}")  # fmt: skip
                row_bytes = out[i, :1].nbytes
                fh.seek(start * row_bytes, os.SEEK_CUR)
                if fh.readinto(out[i]) != out[i].nbytes:
                    raise ValueError(f"{path}: shorter than its header says")
        if out is None:
            raise ValueError(f"no replications of {key!r} to read")
        return out

    # ----------------------------------------------------------------- finishing
    def finish(
        self,
        files: dict[str, Callable[[Path], None]],
        manifest: dict[str, Any],
        keep_replications: bool = False,
    ) -> None:
        """Write each ``files[name](path)`` into the folder, then the manifest, then tidy up."""
        staging = self.root / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, write in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        for entry in sorted(staging.iterdir()):
            target = self.root / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
        staging.rmdir()
        write_atomic(self.root / MANIFEST, lambda tmp: write_json(manifest, tmp))
        (self.root / INCOMPLETE).unlink(missing_ok=True)
        (self.root / PLAN).unlink(missing_ok=True)
        if not keep_replications:
            shutil.rmtree(self.root / REPLICATIONS, ignore_errors=True)
