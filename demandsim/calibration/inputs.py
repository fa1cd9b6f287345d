"""Reading and validating a council's data folder, all of it before anything is fitted.

Every file is optional, but a folder must hold at least one. Each file is checked for missing
columns, unparseable dates, ends before starts, duplicate ids, negative counts and labels that
name no stage, team or contract. Problems from every file are gathered and raised together as one
:class:`InputError`, each naming the file, the row (1-based, the header is row 1) and the column,
so the analyst fixes the extract in one pass and nothing is written until all inputs pass.

Dates may be ISO (2025-03-31) or DD/MM/YYYY (31/03/2025); demand dates may also be months (2025-03).
The formats are documented, with example files, in the README section "Calibration".

Beyond each cell: a file must be UTF-8 text (a hint says how to save it so), hold at least one
row, and have no date after the extract (the snapshot date when there is a snapshot, else
today); ``demand.csv`` must cover :data:`MIN_DEMAND_MONTHS` months with some contacts, since a
seasonal fit needs two years. See docs/bad-input.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from demandsim.calibration import names

#: at most this many problems are listed per file
MAX_PROBLEMS_PER_FILE = 20
#: the shortest demand history a seasonal fit accepts, in months
MIN_DEMAND_MONTHS = 24
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As > CSV UTF-8)"
BLANKS = ("", "nan", "NaN", "NaT", "None", "NULL", "null", "NA")
YES = ("1", "y", "yes", "true", "t")
NO = ("0", "n", "no", "false", "f", "")


class InputError(ValueError):
    """One or more input files are invalid; ``problems`` lists each as file, row, column, what."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid calibration inputs:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Spec:
    """What one input file must hold."""

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: Mapping[str, bool] = field(default_factory=dict)  # column -> may be blank
    counts: tuple[str, ...] = ()  # non-negative numbers
    labels: Mapping[str, tuple[Mapping[str, str], bool]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # yes/no columns
    unique: tuple[str, ...] = ()
    order: tuple[str, str] | None = None  # (start, end): end must not precede start
    month_dates: bool = False  # accept YYYY-MM in date columns


NEXT = {**names.STAGE_ALIASES, **names.EXIT_ALIASES}

DEMAND = Spec(
    "demand.csv",
    required=("date", "contacts", "referrals"),
    optional=("source",),
    dates={"date": False},
    counts=("contacts", "referrals"),
    unique=("date", "source"),
    month_dates=True,
)
STAFF = Spec(
    "staff_spells.csv",
    required=("worker_id", "team", "contract", "start_date", "end_date", "fte"),
    optional=("newly_qualified", "sickness_days"),
    dates={"start_date": False, "end_date": True},
    counts=("fte", "sickness_days"),
    labels={"team": (names.TEAM_ALIASES, False), "contract": (names.CONTRACT_ALIASES, False)},
    flags=("newly_qualified",),
    unique=("worker_id", "start_date"),
    order=("start_date", "end_date"),
)
VACANCIES = Spec(
    "vacancies.csv",
    required=("vacancy_id", "team", "opened_date", "filled_date", "filled_by"),
    dates={"opened_date": False, "filled_date": True},
    labels={"team": (names.TEAM_ALIASES, False), "filled_by": (names.CONTRACT_ALIASES, True)},
    unique=("vacancy_id",),
    order=("opened_date", "filled_date"),
)
EPISODES = Spec(
    "case_episodes.csv",
    required=("case_id", "stage", "start_date", "end_date", "next_stage"),
    dates={"start_date": False, "end_date": True},
    labels={"stage": (names.STAGE_ALIASES, False), "next_stage": (NEXT, True)},
    unique=("case_id", "stage", "start_date"),
    order=("start_date", "end_date"),
)
SNAPSHOT_CASES = Spec(
    "snapshot_cases.csv",
    required=("snapshot_date", "case_id", "stage", "start_date", "allocated"),
    dates={"snapshot_date": False, "start_date": False},
    labels={"stage": (names.STAGE_ALIASES, False)},
    flags=("allocated",),
    unique=("case_id",),
    order=("start_date", "snapshot_date"),
)
SNAPSHOT_STAFF = Spec(
    "snapshot_staff.csv",
    required=("snapshot_date", "worker_id", "team", "contract"),
    optional=("fte",),
    dates={"snapshot_date": False},
    counts=("fte",),
    labels={"team": (names.TEAM_ALIASES, False), "contract": (names.CONTRACT_ALIASES, False)},
    unique=("worker_id",),
)
SSDA903_EPISODES = Spec(
    "ssda903/episodes.csv",
    required=("CHILD", "DECOM", "PLACE", "DEC", "REC"),
    optional=("LA", "YEAR", "RNE", "LS"),
    dates={"DECOM": False, "DEC": True},
    unique=("LA", "CHILD", "DECOM"),
    order=("DECOM", "DEC"),
)
SSDA903_HEADER = Spec(
    "ssda903/header.csv",
    required=("CHILD", "DOB"),
    optional=("LA", "YEAR"),
    dates={"DOB": False},
    unique=("LA", "CHILD"),
)
SPECS = {
    "demand": DEMAND,
    "staff": STAFF,
    "vacancies": VACANCIES,
    "episodes": EPISODES,
    "snapshot_cases": SNAPSHOT_CASES,
    "snapshot_staff": SNAPSHOT_STAFF,
    "ssda903": SSDA903_EPISODES,
    "ssda903_header": SSDA903_HEADER,
}


@dataclass(frozen=True)
class CouncilData:
    """Validated inputs: one frame per file found (None when the folder lacks it)."""

    folder: Path
    demand: pd.DataFrame | None = None
    staff: pd.DataFrame | None = None
    vacancies: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None
    snapshot_cases: pd.DataFrame | None = None
    snapshot_staff: pd.DataFrame | None = None
    ssda903: pd.DataFrame | None = None
    ssda903_header: pd.DataFrame | None = None

    @property
    def snapshot_date(self) -> dt.date | None:
        for frame in (self.snapshot_cases, self.snapshot_staff):
            if frame is not None and len(frame):
                return frame["snapshot_date"].iloc[0].date()
        return None

    @property
    def extract_date(self) -> dt.date:
        """The censoring date: the snapshot date, else the latest date in any file."""
        if self.snapshot_date is not None:
            return self.snapshot_date
        latest = []
        for key, spec in SPECS.items():
            frame = getattr(self, key)
            if frame is not None:
                latest += [frame[c].max() for c in spec.dates if frame[c].notna().any()]
        return max(latest).date()


def read_folder(folder: str | Path) -> CouncilData:
    """Read and validate every known file in ``folder``; raise :class:`InputError` on any problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([f"{folder}: not a folder"])
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for key, spec in SPECS.items():
        path = folder / spec.file
        if path.exists():
            frame, found = read_table(path, spec)
            frames[key] = frame
            problems += found
    if not frames:
        expected = ", ".join(s.file for s in SPECS.values())
        problems.append(f"{folder}: holds none of the calibration inputs ({expected})")
    problems += _cross_checks(folder, frames)
    if not problems:
        problems += _future_dates(folder, frames) + _demand_history(folder, frames.get("demand"))
    if problems:
        raise InputError(problems)
    return CouncilData(folder=folder, **frames)


def read_table(path: Path, spec: Spec) -> tuple[pd.DataFrame, list[str]]:
    """One file, parsed and checked against ``spec``: (frame, problems)."""
    if not path.is_file():
        return pd.DataFrame(), [f"{path}: expected a CSV file; got a folder or a device"]
    with path.open("rb") as fh:
        head = fh.read(8192)
    if b"\0" in head:
        return pd.DataFrame(), [f"{path}: expected a CSV text file; got binary data"]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return pd.DataFrame(), [
            f"{path}: expected UTF-8 text; got byte 0x{exc.object[exc.start]:02x} at byte "
            f"{exc.start} (another encoding, such as Windows' latin-1): {SAVE_AS_UTF8}"
        ]
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), [
            f"{path}: expected a header row {list(spec.required)} and data rows; got an empty file"
        ]
    except (ValueError, pd.errors.ParserError) as exc:
        return pd.DataFrame(), [f"{path}: could not be read as CSV: {exc}"]
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in spec.required if c not in raw.columns]
    if missing:
        return raw, [
            f"{path}: column {c!r} is missing; expected columns {list(spec.required)}"
            for c in missing
        ]
    if raw.empty:
        return raw, [
            f"{path}: expected at least one data row; got only the header (remove the file if "
            "there is nothing to put in it)"
        ]
    problems: list[str] = []
    frame = raw.apply(lambda s: s.str.strip())

    def report(mask: np.ndarray | pd.Series, column: str, what: str) -> None:
        for i in np.flatnonzero(np.asarray(mask))[:MAX_PROBLEMS_PER_FILE]:
            got = raw[column].iloc[i] if column in raw.columns else ""
            problems.append(f"{path}: row {i + 2}, column {column!r}: {what}; got {got!r}")

    out = frame.copy()
    for column, may_be_blank in spec.dates.items():
        if column not in frame.columns:
            continue
        parsed, blank = parse_dates(frame[column], spec.month_dates)
        report(blank & (not may_be_blank), column, "a date is required")
        formats = "YYYY-MM-DD, DD/MM/YYYY" + (" or YYYY-MM" if spec.month_dates else "")
        report(parsed.isna() & ~blank, column, f"unparseable date (expected {formats})")
        out[column] = parsed
    for column in spec.counts:
        if column not in frame.columns:
            continue
        blank = frame[column].isin(BLANKS)
        values = pd.to_numeric(frame[column].where(~blank), errors="coerce")
        report(values.isna() & ~blank, column, "expected a number")
        report(values < 0, column, "expected a non-negative number")
        out[column] = values
    for column, (aliases, may_be_blank) in spec.labels.items():
        if column not in frame.columns:
            continue
        blank = frame[column].isin(BLANKS)
        mapped = frame[column].map(lambda v, a=aliases: names.lookup(v, a))
        report(blank & (not may_be_blank), column, "a value is required")
        report(
            mapped.isna() & ~blank,
            column,
            f"unknown name; expected one of {names.accepted(aliases)}",
        )
        out[column] = mapped
    for column in spec.flags:
        if column not in frame.columns:
            continue
        lower = frame[column].str.lower()
        report(~lower.isin(YES + NO), column, "expected yes or no")
        out[column] = lower.isin(YES)
    if spec.order and all(c in out.columns for c in spec.order):
        start, end = spec.order
        report(out[end] < out[start], end, f"{end} is before {start}")
    keys = [c for c in spec.unique if c in out.columns]
    if keys and "YEAR" in out.columns:  # stacked annual SSDA903 returns: the latest return wins
        order = pd.to_numeric(out["YEAR"], errors="coerce").fillna(-1)
        out = out.assign(_year=order).sort_values("_year", kind="stable")
        out = out.loc[~out.duplicated(keys, keep="last")].drop(columns="_year").sort_index()
    elif keys:
        report(out.duplicated(keys, keep="first"), keys[0], f"duplicate id ({', '.join(keys)})")
    if len(problems) > MAX_PROBLEMS_PER_FILE:
        problems = [*problems[:MAX_PROBLEMS_PER_FILE], f"{path}: ... and more problems"]
    return out, problems


def parse_dates(text: pd.Series, months: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates from ISO or DD/MM/YYYY text (or YYYY-MM when ``months``): (parsed, blank)."""
    blank = text.isin(BLANKS)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    formats = ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"] + (["%Y-%m"] if months else [])
    for fmt in formats:
        todo = parsed.isna() & ~blank
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return parsed, blank


def _future_dates(folder: Path, frames: dict[str, pd.DataFrame]) -> list[str]:
    """Dates after the extract: the snapshot date if there is a snapshot, else today."""
    snapshot = None
    for key in ("snapshot_cases", "snapshot_staff"):
        frame = frames.get(key)
        if frame is not None and len(frame) and frame["snapshot_date"].notna().any():
            snapshot = frame["snapshot_date"].max()
    today = pd.Timestamp(dt.date.today())
    limit, what = (snapshot, "the snapshot date") if snapshot is not None else (today, "today")
    problems = []
    for key, frame in frames.items():
        spec = SPECS[key]
        for column in spec.dates:
            if column not in frame:
                continue
            late = frame[column] > limit  # a month (YYYY-MM) is read as its first day
            rows = np.flatnonzero(late.to_numpy())
            if rows.size:
                shown = ", ".join(str(i + 2) for i in rows[:10]) + (
                    " ..." if rows.size > 10 else ""
                )
                problems.append(
                    f"{folder / spec.file}: rows {shown}, column {column!r}: expected a date on or "
                    f"before {what} ({limit.date()}), when the data were extracted; got "
                    f"{frame[column].iloc[rows[0]].date()} and {rows.size - 1} more"
                )
    return problems


def _demand_history(folder: Path, demand: pd.DataFrame | None) -> list[str]:
    """A seasonal fit needs two years of contacts, not all zero."""
    if demand is None or not len(demand):
        return []
    path = folder / DEMAND.file
    first, last = demand["date"].min(), demand["date"].max()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months < MIN_DEMAND_MONTHS:
        return [
            f"{path}: column 'date': expected at least {MIN_DEMAND_MONTHS} months of history (a "
            f"seasonal fit needs two years); got {months} month{'s' * (months != 1)} "
            f"({first.date()} to {last.date()})"
        ]
    if demand["date"].nunique() < MIN_DEMAND_MONTHS:
        return [
            f"{path}: column 'date': expected at least {MIN_DEMAND_MONTHS} dates (one a month or "
            f"more often); got {demand['date'].nunique()}"
        ]
    if not demand["contacts"].sum() > 0:
        return [f"{path}: column 'contacts': expected some contacts; got 0 in every row"]
    return []


def _cross_checks(folder: Path, frames: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    dates = set()
    for key in ("snapshot_cases", "snapshot_staff"):
        frame = frames.get(key)
        if frame is not None and "snapshot_date" in frame and frame["snapshot_date"].notna().any():
            dates |= set(frame["snapshot_date"].dropna())
    if len(dates) > 1:
        shown = sorted(d.date().isoformat() for d in dates)
        problems.append(
            f"{folder}: snapshot files disagree on snapshot_date (one date expected): {shown}"
        )
    episodes = frames.get("episodes")
    if episodes is not None and {"end_date", "next_stage"} <= set(episodes.columns):
        closed_without_next = episodes["end_date"].notna() & episodes["next_stage"].isna()
        for i in np.flatnonzero(closed_without_next.to_numpy())[:MAX_PROBLEMS_PER_FILE]:
            problems.append(
                f"{folder / EPISODES.file}: row {i + 2}, column 'next_stage': a closed episode "
                "(end_date given) needs its next stage or exit; got ''"
            )
    demand = frames.get("demand")
    if demand is not None and {"contacts", "referrals"} <= set(demand.columns):
        over = demand["referrals"] > demand["contacts"]
        for i in np.flatnonzero(over.to_numpy())[:MAX_PROBLEMS_PER_FILE]:
            problems.append(
                f"{folder / DEMAND.file}: row {i + 2}, column 'referrals': more referrals than "
                f"contacts; got {demand['referrals'].iloc[i]:g} > {demand['contacts'].iloc[i]:g}"
            )
    return problems
