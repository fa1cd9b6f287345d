"""Writing a calibration: parameter file, intensity paths, a ready-to-run scenario, aggregate
tables (counts under 5 suppressed) and the report, all at once or not at all.

Disclosure control: counts from 1 to 4 are suppressed (primary suppression), then further cells
until no suppressed count can be worked out from the figures shown (complementary suppression).
The tables are linked by exact sums: a team's permanent + agency + vacancies = posts; a stage's
routes add up to its total, which the shares reveal, and to its closed episodes in the stage
durations; the routes by year add up to the routes; the permanent churn by team adds up to the
permanent row of the churn by contract; open snapshot cases equal the censored episodes. Each
such relation is used only if it holds exactly in the data. A suppressed count is recoverable
when it is fixed by the shown figures through these relations (a linear-algebra test, as an
attacker would use); while one is, the smallest shown count in one of its relations is
suppressed too.

The folder is assembled in a temporary sibling (:func:`demandsim.results_store.atomic_dir`) and
the scenario it holds is loaded and validated there; only then is it renamed into place.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from demandsim import __version__
from demandsim.calibration import report
from demandsim.calibration.council import Calibration
from demandsim.results_store import atomic_dir, write_json
from demandsim.scenario_files import load_scenario

SUPPRESSED = "c"  # the DfE's mark for a suppressed figure
SMALL = 5
#: count columns to suppress in written tables, and shares computed from them
COUNT_COLUMNS = (
    "contacts", "referrals", "episodes", "n", "censored", "spells", "leavers", "open_cases",
    "unallocated_cases", "permanent", "agency", "vacancies", "posts", "children",
)  # fmt: skip
#: columns computed from a count, suppressed with it (a rate times its exposure gives the count)
DERIVED = {
    "episodes": ("share",),
    "leavers": ("hazard_per_year", "lower_95", "upper_95"),
}


def suppress(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts from 1 to 4 shown as 'c' (zero is shown), with figures computed from them."""
    out = frame.copy()
    for column in COUNT_COLUMNS:
        if column not in out:
            continue
        values = pd.to_numeric(out[column], errors="coerce")
        small = (values > 0) & (values < SMALL)
        out[column] = out[column].astype(object).where(~small, SUPPRESSED)
        for derived in DERIVED.get(column, ()):
            if derived in out:
                out[derived] = out[derived].astype(object).where(~small, SUPPRESSED)
    return out


Cell = tuple[str, int, str]  # table, row position, column


def _counts(tables: dict[str, pd.DataFrame]) -> dict[Cell, float]:
    """Every count cell of the tables that holds a number."""
    return {
        (name, i, column): float(v)
        for name, frame in tables.items()
        for column in COUNT_COLUMNS
        if column in frame
        for i, v in enumerate(pd.to_numeric(frame[column], errors="coerce"))
        if np.isfinite(v)
    }


def protect(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table with primary and complementary suppression applied across all of them."""
    hidden = _primary(tables)
    values = _counts(tables)
    hidden = _complementary(tables, values, hidden)
    out = {}
    for name, frame in tables.items():
        shown = frame.copy()
        for column in COUNT_COLUMNS:
            if column not in shown:
                continue
            mask = np.array([(name, i, column) in hidden for i in range(len(shown))], dtype=bool)
            shown[column] = shown[column].astype(object).where(~mask, SUPPRESSED)
            for derived in DERIVED.get(column, ()):
                if derived in shown:
                    shown[derived] = shown[derived].astype(object).where(~mask, SUPPRESSED)
        out[name] = shown
    return out


def recoverable(tables: dict[str, pd.DataFrame], hidden: set[Cell]) -> set[Cell]:
    """The hidden cells whose values the shown cells fix through the tables' exact relations."""
    values = _counts(tables)
    return _determined(*_relations(tables, values, hidden), hidden)


def _primary(tables: dict[str, pd.DataFrame]) -> set[Cell]:
    hidden = set()
    for name, frame in tables.items():
        for column in COUNT_COLUMNS:
            if column not in frame:
                continue
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy()
            for i in np.flatnonzero((values > 0) & (values < SMALL)):
                hidden.add((name, int(i), column))
    return hidden


def _complementary(tables, values: dict[Cell, float], hidden: set[Cell]) -> set[Cell]:
    hidden = set(hidden)
    while True:
        relations, known = _relations(tables, values, hidden)
        exposed = sorted(_determined(relations, known, hidden))
        if not exposed:
            return hidden
        for cell in exposed:
            candidates = [
                c
                for terms in relations
                if any(t == cell for t, _ in terms)
                for c, _ in terms
                if c in values and c not in hidden and c[1] >= 0
            ]
            if candidates:
                hidden.add(min(candidates, key=lambda c: (values[c] == 0, values[c], c)))
                break
        else:  # nothing left to suppress beside them: hide the whole of each exposed column
            for name, _, column in exposed:
                hidden |= {c for c in values if c[0] == name and c[2] == column}
            return hidden


def _relations(tables, values: dict[Cell, float], hidden: set[Cell]) -> tuple[list[list], dict]:
    """Exact linear relations between cells (lists of (cell, coefficient) summing to 0) and the
    known values, which add each group total that shares reveal: a pseudo-cell
    ("name", -1, key), known while any positive count of its group is shown."""
    values = dict(values)
    relations: list[list] = []

    def rows(name: str) -> pd.DataFrame | None:
        frame = tables.get(name)
        return None if frame is None or frame.empty else frame.reset_index(drop=True)

    staff = rows("snapshot_staff")
    if staff is not None and {"permanent", "agency", "vacancies", "posts"} <= set(staff):
        for i in range(len(staff)):
            relations.append([((("snapshot_staff", i, c)), 1) for c in ("permanent", "agency", "vacancies")]
                             + [(("snapshot_staff", i, "posts"), -1)])  # fmt: skip
    for name, keys in (("routes", ["stage"]), ("routes_by_year", ["stage", "end_year"])):
        frame = rows(name)
        if frame is None or "episodes" not in frame:
            continue
        for key, group in frame.groupby(keys, sort=False):
            total = (name, -1, str(key))
            cells = [(name, int(i), "episodes") for i in group.index]
            if "share" in frame and any(values.get(c, 0) > 0 and c not in hidden for c in cells):
                values[total] = sum(values.get(c, 0) for c in cells)  # revealed by the shares
            relations.append([*[(c, 1) for c in cells], (total, -1)])
    routes, by_year = rows("routes"), rows("routes_by_year")
    if routes is not None and by_year is not None and "episodes" in routes:
        for (stage, nxt), group in by_year.groupby(["stage", "next"], sort=False):
            match = routes.index[(routes["stage"] == stage) & (routes["next"] == nxt)]
            if len(match) == 1:
                relations.append([*[(("routes_by_year", int(i), "episodes"), 1) for i in group.index],
                                  (("routes", int(match[0]), "episodes"), -1)])  # fmt: skip
    durations = rows("stage_durations")
    if durations is not None and routes is not None and {"n", "censored"} <= set(durations):
        for i, stage in enumerate(durations["stage"]):
            cells = [("routes", int(j), "episodes") for j in routes.index[routes["stage"] == stage]]
            relations.append([*[(c, 1) for c in cells], (("stage_durations", i, "censored"), 1),
                              (("stage_durations", i, "n"), -1)])  # fmt: skip
    cases = rows("snapshot_cases")
    if cases is not None and durations is not None and "open_cases" in cases:
        for i, stage in enumerate(cases["stage"]):
            match = durations.index[durations["stage"] == stage]
            if len(match) == 1:
                relations.append([(("snapshot_cases", i, "open_cases"), 1),
                                  (("stage_durations", int(match[0]), "censored"), -1)])  # fmt: skip
    teams, contracts = rows("churn_by_team"), rows("churn_by_contract")
    if teams is not None and contracts is not None:
        permanent = contracts.index[contracts["contract"] == "permanent"]
        for column in ("spells", "leavers"):
            if len(permanent) == 1 and column in teams and column in contracts:
                relations.append([*[(("churn_by_team", i, column), 1) for i in range(len(teams))],
                                  (("churn_by_contract", int(permanent[0]), column), -1)])  # fmt: skip
    exact = []
    for terms in relations:
        known = [c for c, _ in terms if c in values]
        if len(known) == len(terms) and abs(sum(values[c] * k for c, k in terms)) < 1e-6:
            exact.append(terms)
        elif any(c[1] == -1 for c, _ in terms) and all(c in values or c[1] == -1 for c, _ in terms):
            exact.append(terms)  # a group total not revealed: an unknown of the relation
    return exact, values


def _determined(relations: list[list], values: dict[Cell, float], hidden: set[Cell]) -> set[Cell]:
    """Hidden cells fixed by the relations once the shown cells are put in (null-space test)."""
    unknown = sorted({c for terms in relations for c, _ in terms if c in hidden or c not in values})
    if not unknown:
        return set()
    index = {c: j for j, c in enumerate(unknown)}
    rows = [terms for terms in relations if any(c in index for c, _ in terms)]
    if not rows:
        return set()
    a = np.zeros((len(rows), len(unknown)))
    for r, terms in enumerate(rows):
        for c, k in terms:
            if c in index:
                a[r, index[c]] += k
    _, singular, vt = np.linalg.svd(a)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:].T  # columns span the null space
    fixed = np.linalg.norm(null, axis=1) < 1e-9 if null.size else np.ones(len(unknown), bool)
    return {c for c, f in zip(unknown, fixed, strict=True) if f and c in hidden}


def survival_grid(survival: pd.DataFrame, step_years: float = 0.25) -> pd.DataFrame:
    """Kaplan-Meier curves read on a quarterly grid (no individual leaving times)."""
    rows = []
    for contract, curve in survival.groupby("contract"):
        grid = np.arange(0, curve["time"].max() + step_years, step_years)
        idx = np.searchsorted(curve["time"].to_numpy(), grid, "right") - 1
        km = np.where(idx >= 0, curve["survival"].to_numpy()[np.maximum(idx, 0)], 1.0)
        rows.append(pd.DataFrame({"contract": contract, "years": grid, "km_survival": km}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def write_calibration(
    cal: Calibration,
    destination: str | Path,
    title: str,
    overwrite: bool = False,
    provenance: dict | None = None,
) -> Path:
    """Write ``cal`` to ``destination``; returns the path of its ready-to-run scenario."""
    destination = Path(destination)
    extends = "builtin:baseline"
    with atomic_dir(destination, overwrite=overwrite) as tmp:
        params = cal.parameters
        if cal.intensity is not None:
            cal.intensity.to_csv(tmp / "intensity.csv", index=False, float_format="%.2f")
        header = (
            f"# Fitted parameters: {title}\n"
            "# A partial scenario (schema of the built-in baseline scenario) written by demandsim "
            f"calibrate on {dt.date.today()}.\n# Keys absent here keep the base scenario's values.\n"
        )
        (tmp / "parameters.toml").write_text(header + tomli_w.dumps(_plain(params)))
        scenario = {
            "name": f"calibrated-{destination.name}",
            "description": f"Baseline calibrated to {title}.",
            "extends": extends,
            "calibration": "parameters.toml",
        }
        (tmp / "scenario.toml").write_text(tomli_w.dumps(scenario))
        load_scenario(tmp / "scenario.toml")  # the scenario must validate before it is kept
        tables = tmp / "tables"
        tables.mkdir()
        shown = _shown_tables(cal)
        for name, frame in shown.items():
            target = tmp / f"{name}.csv" if name == "placement_mix" else tables / f"{name}.csv"
            frame.to_csv(target, index=False)
        report.write_report(tmp / "report", title, cal.notes, _sections(cal, shown))
        write_json(
            {
                "title": title,
                "demandsim_version": __version__,  # the calibration method that wrote it
                "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **(provenance or {}),
            },
            tmp / "manifest.json",
        )
    return destination / "scenario.toml"


def _shown_tables(cal: Calibration) -> dict[str, pd.DataFrame]:
    """The tables as written: rounded, survival on a grid, and protected all together."""
    tables = {}
    for name, frame in cal.tables.items():
        if name.startswith("_") or frame is None:
            continue
        if name == "churn_survival":
            frame = survival_grid(frame)
        tables[name] = _significant(frame)
    return protect(tables)


def _significant(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Float columns to ``digits`` significant figures (before suppression mixes in text)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            out[column] = out[column].map(lambda v: float(f"{v:.{digits}g}"))
    return out


def _plain(value):
    """numpy and pandas scalars as plain Python for TOML."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _sections(cal: Calibration, shown: dict[str, pd.DataFrame]) -> list[tuple]:
    t = cal.tables

    out: list[tuple] = []
    if cal.demand is not None:
        h = t["demand_fit"]
        out.append(
            ("Demand fit", "Prophet fit to contacts per period.", report.demand_figure(h), None)
        )
        cps = t["changepoints"]
        cps = cps.loc[cps["slope_change_pct_per_year"].abs() >= 1].round(1)
        out.append(("Demand components", "Multiplicative effects (% of trend). Trend "
                    "changepoints whose slope change is at least 1% of the mean level a year:",
                    report.components_figure(h), cps))  # fmt: skip
        out.append(("Conversion", None, report.conversion_figure(t["conversion"]), None))
    if "routes" in t:
        out.append(("Routes", "Closed episodes by the stage or exit that followed.", None,
                    shown["routes"]))  # fmt: skip
        out.append(("Stage durations", "Censored maximum-likelihood fits; open episodes count.",
                    report.durations_figure(t["_episodes"], t["stage_durations"]),
                    shown["stage_durations"]))  # fmt: skip
        out.append(("Routes by year", "Conversion through the pathway over time: closed "
                    "episodes by year of ending.", None, shown["routes_by_year"]))  # fmt: skip
    if "placement_mix" in t:
        out.append(("Placement mix", "Care days in the last year by placement group.", None,
                    shown["placement_mix"]))  # fmt: skip
    if "churn_by_contract" in t:
        out.append(("Staff survival", "Leaving hazard = leavers / years in post (censored).",
                    report.survival_figure(t["churn_survival"]),
                    shown["churn_by_contract"]))  # fmt: skip
        out.append(("Churn by team (permanent)", None, None, shown["churn_by_team"]))
        out.append(("Sickness", None, None, t["churn_sickness"]))
    if "lead_time_fits" in t:
        out.append(("Lead times", None, report.lead_time_figure(t["_lead_times"], t["lead_time_fits"]),
                    shown["lead_time_fits"]))  # fmt: skip
    if "published_figures" in t:
        out.append(("Published figures", "The council's own figure, or its statistical "
                    "neighbours' median where its own is suppressed.", None,
                    t["published_figures"]))  # fmt: skip
    if "snapshot_cases" in t:
        out.append(("Snapshot: cases", None, None, shown["snapshot_cases"]))
        out.append(("Snapshot: staff", None, None, shown["snapshot_staff"]))
    return out
