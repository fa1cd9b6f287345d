"""Writing a calibration: parameter file, intensity paths, a ready-to-run scenario, aggregate
tables (counts under 5 suppressed) and the report, all at once or not at all.

The folder is assembled in a temporary sibling (:func:`demandsim.results_store.atomic_dir`) and
the scenario it holds is loaded and validated there; only then is it renamed into place.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

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
        for name, frame in cal.tables.items():
            if name.startswith("_") or frame is None:
                continue
            if name == "churn_survival":
                frame = survival_grid(frame)
            target = tmp / f"{name}.csv" if name == "placement_mix" else tables / f"{name}.csv"
            suppress(_significant(frame)).to_csv(target, index=False)
        report.write_report(tmp / "report", title, cal.notes, _sections(cal))
        write_json(
            {
                "title": title,
                "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **(provenance or {}),
            },
            tmp / "manifest.json",
        )
    return destination / "scenario.toml"


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


def _sections(cal: Calibration) -> list[tuple]:
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
                    suppress(t["routes"])))  # fmt: skip
        out.append(("Stage durations", "Censored maximum-likelihood fits; open episodes count.",
                    report.durations_figure(t["_episodes"], t["stage_durations"]),
                    suppress(t["stage_durations"])))  # fmt: skip
        out.append(("Routes by year", "Conversion through the pathway over time: closed "
                    "episodes by year of ending.", None, suppress(t["routes_by_year"])))  # fmt: skip
    if "placement_mix" in t:
        out.append(("Placement mix", "Care days in the last year by placement group.", None,
                    suppress(t["placement_mix"])))  # fmt: skip
    if "churn_by_contract" in t:
        out.append(("Staff survival", "Leaving hazard = leavers / years in post (censored).",
                    report.survival_figure(t["churn_survival"]),
                    suppress(t["churn_by_contract"])))  # fmt: skip
        out.append(("Churn by team (permanent)", None, None, suppress(t["churn_by_team"])))
        out.append(("Sickness", None, None, t["churn_sickness"]))
    if "lead_time_fits" in t:
        out.append(("Lead times", None, report.lead_time_figure(t["_lead_times"], t["lead_time_fits"]),
                    suppress(t["lead_time_fits"])))  # fmt: skip
    if "published_figures" in t:
        out.append(("Published figures", "The council's own figure, or its statistical "
                    "neighbours' median where its own is suppressed.", None,
                    t["published_figures"]))  # fmt: skip
    if "snapshot_cases" in t:
        out.append(("Snapshot: cases", None, None, suppress(t["snapshot_cases"])))
        out.append(("Snapshot: staff", None, None, suppress(t["snapshot_staff"])))
    return out
