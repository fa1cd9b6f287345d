"""Disclosure control that holds: no suppressed count in a calibration's output can be worked
out from the figures written beside it.

The attacker here reads only the written CSV files and peels: any relation (a row or group
total, a total revealed by shares, the routes by year summing to the routes, closed episodes in
the stage durations) with one unknown left gives that unknown by subtraction; solved cells feed
further relations. It is written independently of :mod:`demandsim.calibration.outputs`, and
it does recover cells when only small counts are suppressed (so it is not a straw man).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from demandsim.calibration.council import calibrate_council
from demandsim.calibration.inputs import read_folder
from demandsim.calibration.outputs import (
    COUNT_COLUMNS,
    SUPPRESSED,
    _primary,
    protect,
    recoverable,
    write_calibration,
)

DEMO = Path(__file__).resolve().parents[1] / "calibration" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, baseline):
    cal = calibrate_council(read_folder(DEMO), baseline, seed=0, samples=5)
    out = tmp_path_factory.mktemp("disclosure") / "demo"
    write_calibration(cal, out, "demo")
    written = {p.stem: pd.read_csv(p, dtype=str) for p in (out / "tables").glob("*.csv")}
    return cal, written


def _number(text) -> float | None:
    try:
        return None if text == SUPPRESSED or pd.isna(text) else float(text)
    except ValueError:  # a label
        return None


def attack(tables: dict[str, pd.DataFrame]) -> dict[tuple, float]:
    """Cells shown as 'c' that peeling recovers exactly: {(table, row, column): value}."""
    known: dict[tuple, float | None] = {}
    for name, frame in tables.items():
        for column in frame.columns:
            for i, v in enumerate(frame[column]):
                known[(name, i, column)] = _number(v)
    relations: list[list[tuple[tuple, int]]] = []  # sum(coef * cell) == 0
    staff = tables.get("snapshot_staff")
    if staff is not None:
        for i in range(len(staff)):
            relations.append([(("snapshot_staff", i, c), 1) for c in ("permanent", "agency",
                              "vacancies")] + [(("snapshot_staff", i, "posts"), -1)])  # fmt: skip
    for name, keys in (("routes", ["stage"]), ("routes_by_year", ["stage", "end_year"])):
        frame = tables.get(name)
        if frame is None:
            continue
        for key, group in frame.groupby(keys):
            total = None
            for i in group.index:  # a shown share reveals the group's total
                n, share = known[(name, i, "episodes")], known[(name, i, "share")]
                if n and share:
                    total = round(n / share)
            if total is not None:
                known[(name, -1, str(key))] = total
            relations.append([((name, i, "episodes"), 1) for i in group.index]
                             + [((name, -1, str(key)), -1)])  # fmt: skip
    routes, by_year = tables.get("routes"), tables.get("routes_by_year")
    if routes is not None and by_year is not None:
        for (stage, nxt), group in by_year.groupby(["stage", "next"]):
            match = routes.index[(routes["stage"] == stage) & (routes["next"] == nxt)]
            relations.append([(("routes_by_year", i, "episodes"), 1) for i in group.index]
                             + [(("routes", match[0], "episodes"), -1)])  # fmt: skip
    durations = tables.get("stage_durations")
    if durations is not None and routes is not None:
        for i, stage in enumerate(durations["stage"]):
            relations.append([(("routes", j, "episodes"), 1) for j in routes.index[routes["stage"]
                              == stage]] + [(("stage_durations", i, "censored"), 1),
                              (("stage_durations", i, "n"), -1)])  # fmt: skip
    teams, contracts = tables.get("churn_by_team"), tables.get("churn_by_contract")
    if teams is not None and contracts is not None:
        row = contracts.index[contracts["contract"] == "permanent"][0]
        for column in ("spells", "leavers"):
            relations.append([(("churn_by_team", i, column), 1) for i in range(len(teams))]
                             + [(("churn_by_contract", row, column), -1)])  # fmt: skip
    recovered = {}
    progress = True
    while progress:
        progress = False
        for terms in relations:
            unknown = [(c, k) for c, k in terms if known.get(c) is None]
            if len(unknown) == 1:
                (cell, k), rest = (
                    unknown[0],
                    sum(known[c] * kk for c, kk in terms if c != unknown[0][0]),
                )
                known[cell] = -rest / k
                if cell[1] >= 0:
                    recovered[cell] = known[cell]
                progress = True
    return recovered


@pytest.mark.slow
def test_the_attacker_recovers_cells_when_only_small_counts_are_suppressed(demo):
    cal, written = demo
    tables = {k: v for k, v in cal.tables.items() if not k.startswith("_") and v is not None}
    naive = {}
    for name, frame in tables.items():
        if name not in written:
            continue
        shown = frame.reset_index(drop=True).astype(object).copy()
        hidden = [c for c in _primary({name: frame}) if c[0] == name]
        for _, i, column in hidden:
            shown.loc[i, column] = SUPPRESSED
            if column == "episodes" and "share" in shown:
                shown.loc[i, "share"] = SUPPRESSED
        naive[name] = shown.astype(str)
    assert len(attack(naive)) >= 5  # cell-by-cell suppression leaks


@pytest.mark.slow
def test_no_suppressed_count_in_the_written_output_can_be_recovered(demo):
    _, written = demo
    suppressed = sum((frame[c] == SUPPRESSED).sum() for frame in written.values()
                     for c in COUNT_COLUMNS if c in frame)  # fmt: skip
    assert suppressed >= 12  # the primary cells and more
    assert attack(written) == {}


@pytest.mark.slow
def test_the_linear_algebra_check_agrees(demo):
    cal, _ = demo
    tables = {k: v for k, v in cal.tables.items() if not k.startswith("_") and v is not None}
    assert recoverable(tables, _primary(tables))  # primary suppression alone leaks
    shown = protect(tables)
    hidden = {(n, i, c) for n, f in shown.items() for c in COUNT_COLUMNS if c in f
              for i, v in enumerate(f[c]) if v == SUPPRESSED}  # fmt: skip
    assert recoverable(tables, hidden) == set()


def test_a_row_total_forces_a_second_suppression():
    staff = pd.DataFrame({"team": ["a", "b"], "permanent": [7, 30], "agency": [1, 10],
                          "vacancies": [0, 5], "posts": [8, 45]})  # fmt: skip
    shown = protect({"snapshot_staff": staff})["snapshot_staff"]
    assert shown.loc[0, "agency"] == SUPPRESSED
    assert (shown.loc[0, ["permanent", "vacancies"]] == SUPPRESSED).any()
    assert shown.loc[1].tolist() == ["b", 30, 10, 5, 45]
