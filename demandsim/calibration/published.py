"""A scenario for any English council from the Department for Education's published tables.

Covers: the council's referrals, no-further-action and assessed-not-in-need rates, children in
need, child protection plans, children looked after (starts, ceases, stock), and its social
workers (in post, turnover, agency and vacancy rates, absence), for the year ending 31 March of
``year`` (the workforce census of the September inside that year). Where the council's own figure
is suppressed or missing (``c``, ``x``, ``z``, ``low``, blank), the median of its statistical
neighbours (``sn_model_2025_wide.csv``) stands in: rates as they are, counts as rates per child
aged 0-17 times the council's own child population.

How figures become parameters (everything else stays the baseline's; the README's table lists
both):
- contacts are not published: ``contacts_per_year`` = referrals / the baseline's front-door
  conversion;
- MASH routes: NFA share = referrals with no further action / referrals;
- assessment routes: NFA = assessed not in need / assessments (referrals less NFA); s47 sized so
  that assessments x s47 share x the baseline's s47-to-CP share = CP plans started; CiN the rest;
- CP duration = plans at 31 March / plans started per year (Little's law in a steady state);
  CiN duration likewise from the CiN-plan stock (children in need less CP, looked after and
  assessments in progress) and its inflow; CiC duration = looked after at 31 March / ceased;
- routes into care from CiN and CP are scaled together so the expected entries match starts;
- open cases at the start: CP, CiC and CiN stocks at 31 March; assessments, s47, MASH and
  After Care (from children ceasing care) by Little's law;
- the front door sized for its busy days (:func:`busy_factor`);
- posts: case-holding social workers plus vacancies, shared out over teams in proportion to the
  open cases L each team serves, plus SAFETY x sqrt(L) (square-root staffing), over its caseload
  cap; filled permanent at 1 - vacancy rate, agency
  in the published ratio of agency to employed FTE;
- permanent turnover = the published FTE turnover rate (team overrides scaled by the same factor);
  sickness share = the published absence rate.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from demandsim.calibration.council import NO_BUDGET, NO_BUDGET_NOTE, Calibration
from demandsim.demand import daily_intensity
from demandsim.distributions import quantile
from demandsim.resources import DFE_DIR
from demandsim.scenario import Scenario

MISSING = ("c", "x", "z", "low", "", "u", "k", ":", "..")

#: (file, column, kind, filter on 'category'/'population_type' or None); kind: count or rate
FIGURES = {
    "referrals": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "referral_count", "count"),
    "nfa_referrals": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "no_further_action_count", "count"),
    "not_in_need": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "not_in_need_count", "count"),
    "cin_at31": ("b1_children_in_need_2013_to_2025.csv", "At31_episodes", "count"),
    "awaiting_assessment": ("b1_children_in_need_2013_to_2025.csv", "awaiting_assessment", "count"),
    "cpp_start": ("d3_cpps_subsequent_plan_2013_to_2025.csv", "CPP_start", "count"),
    "cpp_at31": ("d5_cpps_at31march_by_duration_2013_to_2025.csv", "CPP_At31", "count"),
    "cla_at31": ("cla_number_and_rate_per_10k_children.csv", "Children looked after on 31 March each year", "count"),
    "cla_started": ("cla_number_and_rate_per_10k_children.csv", "Children starting to be looked after each year", "count"),
    "cla_ceased": ("cla_number_and_rate_per_10k_children.csv", "Children ceasing to be looked after each year", "count"),
    "inpost_fte": ("csww_indicators_2017_to_2025.csv", "inpost_fte", "count"),
    "case_holders_fte": ("csww_indicators_2017_to_2025.csv", "case_holders_fte", "count"),
    "turnover_rate": ("csww_indicators_2017_to_2025.csv", "turnover_rate_fte", "rate"),
    "agency_rate": ("csww_indicators_2017_to_2025.csv", "agency_rate_fte", "rate"),
    "vacancy_rate": ("csww_indicators_2017_to_2025.csv", "vacancy_rate_fte", "rate"),
    "absence_rate": ("csww_indicators_2017_to_2025.csv", "absence_rate_fte", "rate"),
    "caseload": ("csww_indicators_2017_to_2025.csv", "caseload_fte", "rate"),
}  # fmt: skip
WORKFORCE_FILE = "csww_indicators_2017_to_2025.csv"
#: square-root staffing safety factor: a team serving an open-case load L gets room for
#: L + SAFETY * sqrt(L) cases, so short, bursty work (front door, MASH) is not sized to run full
SAFETY = 3.0
CLA_FILE = "cla_number_and_rate_per_10k_children.csv"
POPULATION_FILE = "ons_mid-year_population_estimates_2012_to_2024.csv"
NEIGHBOURS_FILE = "sn_model_2025_wide.csv"


class PublishedDataError(ValueError):
    """An unknown council, a year outside the tables, or a figure nobody publishes."""


@dataclass(frozen=True)
class Figure:
    value: float
    source: str  # "own", "neighbours (n)"


@lru_cache(maxsize=16)
def _table(name: str, folder: Path = DFE_DIR) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        raise PublishedDataError(f"{path}: published table not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "geographic_level" in frame:
        frame = frame.loc[frame["geographic_level"] == "Local authority"]
    return frame


def councils(year: int | None = None) -> pd.DataFrame:
    """Councils in the referrals table: old_la_code, new_la_code and la_name (of the latest
    year each reported), with the first and last year each reported."""
    table = _table(FIGURES["referrals"][0])
    if year is not None:
        table = table.loc[table["time_period"] == str(year)]
    spans = table.groupby("old_la_code")["time_period"].agg(["min", "max"]).astype(int)
    latest = table.sort_values("time_period").drop_duplicates("old_la_code", keep="last")
    out = latest[["old_la_code", "new_la_code", "la_name"]].set_index("old_la_code")
    out["first_year"] = spans["min"]
    out["last_year"] = spans["max"]
    return out.reset_index()


#: councils reorganised since 2013: old_la_code -> the old_la_codes of its successors
SUCCESSORS = {
    "835": ("838",),  # Dorset County -> Dorset Council, 1 April 2019
    "836": ("839",),  # Poole -> Bournemouth, Christchurch and Poole
    "837": ("839",),  # Bournemouth -> Bournemouth, Christchurch and Poole
    "928": ("940", "941"),  # Northamptonshire -> North and West Northamptonshire, 1 April 2021
    "909": ("942", "943"),  # Cumbria -> Cumberland, Westmorland and Furness, 1 April 2023
}


def _row(by_code: pd.DataFrame, code: str) -> pd.Series:
    return by_code.loc[code].rename(code).to_frame().T.reset_index(names="old_la_code").iloc[0]


def _describe(row: pd.Series) -> str:
    return f"{row['la_name']} (old_la_code {row['old_la_code']})"


def find_council(name: str, year: int | None = None) -> tuple[str, str]:
    """(old_la_code, la_name) for a council name, old or new (ONS) code, case-insensitive.

    A name two councils shared (Dorset) means the one that reports latest; an old one is reached
    by its code. With ``year``, a council that did not report that year (abolished before it,
    created after it) is an error naming its years and its predecessors or successors."""
    table = councils()
    key = name.strip().lower()
    hit = table.loc[
        (table["la_name"].str.lower() == key)
        | (table["old_la_code"] == key)
        | (table["new_la_code"].str.lower() == key)
    ].sort_values("last_year")
    if hit.empty:
        close = difflib.get_close_matches(name, table["la_name"].tolist(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise PublishedDataError(
            f"--la {name!r}: no English council of that name or code in the DfE tables{hint}"
        )
    row = hit.iloc[-1]
    if year is not None and not row["first_year"] <= year <= row["last_year"]:
        by_code = table.set_index("old_la_code")
        code = row["old_la_code"]
        after = [
            _describe(_row(by_code, c)) for c in SUCCESSORS.get(code, ()) if c in by_code.index
        ]
        before = [
            _describe(_row(by_code, c))
            for c, new in SUCCESSORS.items()
            if code in new and c in by_code.index
        ]
        if year > row["last_year"]:
            what = f"reported last for the year ending 31 March {row['last_year']} (abolished)"
            other = f"; its successors: {', '.join(after)}" if after else ""
        else:
            what = f"reported first for the year ending 31 March {row['first_year']} (created)"
            other = f"; its predecessors: {', '.join(before)}" if before else ""
        raise PublishedDataError(f"--la {name!r} --year {year}: {_describe(row)} {what}{other}")
    return str(row["old_la_code"]), str(row["la_name"])


def _number(text: str) -> float | None:
    text = str(text).strip().replace(",", "")
    if text.lower() in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def own_figure(key: str, code: str, year: int) -> float | None:
    """A council's own published figure, or None when suppressed or absent."""
    file, column, _ = FIGURES[key]
    table = _table(file)
    period = str(year - 1) if file == WORKFORCE_FILE else str(year)
    rows = table.loc[(table["old_la_code"] == code) & (table["time_period"] == period)]
    if file == CLA_FILE:
        rows = rows.loc[rows["population_type"] == column]
        column = "children_count"
    if rows.empty:
        return None
    return _number(rows[column].iloc[0])


def child_population(code: str, year: int) -> float | None:
    table = _table(POPULATION_FILE)
    rows = table.loc[table["old_la_code"] == code]
    rows = rows.assign(period=rows["time_period"].astype(int))
    rows = rows.loc[rows["period"] <= year].sort_values("period")
    values = [v for v in (_number(x) for x in rows["population_estimate"]) if v]
    return values[-1] if values else None


def neighbours(code: str) -> list[str]:
    table = _table(NEIGHBOURS_FILE)
    row = table.loc[table["old_la_code"] == code]
    if row.empty:
        return []
    return [str(row[f"SN_{i}"].iloc[0]) for i in range(1, 11) if row[f"SN_{i}"].iloc[0]]


def figure(key: str, code: str, year: int) -> Figure | None:
    """The council's figure, or its statistical neighbours' median where its own is missing."""
    own = own_figure(key, code, year)
    if own is not None:
        return Figure(own, "own")
    kind = FIGURES[key][2]
    values = []
    for other in neighbours(code):
        value = own_figure(key, other, year)
        if value is None:
            continue
        if kind == "count":
            pop = child_population(other, year)
            if not pop:
                continue
            value = value / pop
        values.append(value)
    if not values:
        return None
    median = float(np.median(values))
    if kind == "count":
        pop = child_population(code, year)
        if not pop:
            return None
        median *= pop
    return Figure(median, f"neighbours ({len(values)})")


def gather(code: str, year: int) -> dict[str, Figure]:
    found = {key: figure(key, code, year) for key in FIGURES}
    for key in FLOWS:
        pooled = pooled_figure(key, code, year)
        if pooled is not None:
            found[key] = pooled
    return {k: v for k, v in found.items() if v is not None}


#: flows during the year, pooled over POOL_YEARS years (stocks stay the year's own, the start)
FLOWS = ("referrals", "nfa_referrals", "not_in_need", "cpp_start", "cla_started", "cla_ceased")
POOL_YEARS = 3
#: a council with n own years leans n / (n + PRIOR_YEARS) on them, the rest on its neighbours
PRIOR_YEARS = 2.0


def pooled_figure(key: str, code: str, year: int) -> Figure | None:
    """A flow per child (ceasings: per child looked after at the start of the year): the median
    of the council's last POOL_YEARS years up to ``year`` (one odd year, such as 2020/21, does
    not carry forward), shrunk towards its neighbours' median in ``year`` while it has fewer than
    POOL_YEARS years of its own; times ``year``'s children (looked after at 31 March)."""
    scale = _per(key, code, year)
    if not scale:
        return None
    rates = []
    for y in range(year - POOL_YEARS + 1, year + 1):
        value, per = own_figure(key, code, y), _per(key, code, y, start=True)
        if value is not None and per:
            rates.append(value / per)
    if not rates:
        return None
    own = float(np.median(rates))
    if len(rates) < POOL_YEARS:
        near = [
            v / per
            for other in neighbours(code)
            if (v := own_figure(key, other, year)) is not None
            and (per := _per(key, other, year, start=True))
        ]
        if near:
            w = len(rates) / (len(rates) + PRIOR_YEARS)
            return Figure(
                (w * own + (1 - w) * float(np.median(near))) * scale,
                f"own ({len(rates)} years) and neighbours",
            )
    return Figure(own * scale, f"own, median of {len(rates)} years")


def _per(key: str, code: str, year: int, start: bool = False) -> float | None:
    """What a flow is counted per: children aged 0-17, or, for ceasings, children looked after
    (at the start of the year when ``start``: the stock a year before, or rebuilt from the
    year's own starts and ceasings where the table has no earlier year)."""
    if key != "cla_ceased":
        return child_population(code, year)
    if not start:
        return own_figure("cla_at31", code, year)
    before = own_figure("cla_at31", code, year - 1)
    if before is None:
        end = own_figure("cla_at31", code, year)
        started = own_figure("cla_started", code, year)
        ceased = own_figure("cla_ceased", code, year)
        if None in (end, started, ceased):
            return None
        before = end - started + ceased
    return before


def figure_from_neighbours(key: str, code: str, year: int) -> float | None:
    """The statistical neighbours' median, as a count for this council (see :func:`figure`)."""
    values = []
    for other in neighbours(code):
        value, pop = own_figure(key, other, year), child_population(other, year)
        if value is not None and pop:
            values.append(value / pop)
    pop = child_population(code, year)
    return float(np.median(values)) * pop if values and pop else None


#: the scenario's constant growth is the referral trend times the mean of 0.6^t over three years
#: ahead (the skill table's damping): a short run of rises is not carried forward undimmed
GROWTH_DAMPING = float(np.mean([0.6**t for t in (1, 2, 3)]))


def referral_growth(code: str, year: int, years: int = 5) -> float | None:
    """Demand growth per year: the slope of log referrals over the last ``years`` years up to
    ``year``, damped as the skill table's forecasts damp it (the mean of damping^t over three
    years ahead), so a short run of rises is not carried forward undimmed."""
    pts = [(y, own_figure("referrals", code, y)) for y in range(year - years + 1, year + 1)]
    pts = [(y, v) for y, v in pts if v]
    if len(pts) < 3:
        return None
    x = np.array([y for y, _ in pts], dtype=float)
    slope = float(np.polyfit(x - x.mean(), np.log([v for _, v in pts]), 1)[0])
    return float(np.expm1(slope * GROWTH_DAMPING))


def _years(file: str) -> tuple[int, int]:
    periods = _table(file)["time_period"].astype(int)
    return int(periods.min()), int(periods.max())


def latest_year() -> int:
    return int(_table(FIGURES["referrals"][0])["time_period"].astype(int).max())


def calibrate_published(name: str, year: int | None, baseline: Scenario) -> Calibration:
    """A partial scenario for the council called ``name`` from the year ending 31 March ``year``."""
    year = year or latest_year()
    first, last = 2013, latest_year()
    if not first <= year <= last:  # before the council, which would be "abolished" in 2030
        raise PublishedDataError(f"--year {year}: the tables cover {first} to {last}")
    code, la_name = find_council(name, year)
    figs = gather(code, year)
    needed = (
        "referrals",
        "cin_at31",
        "cla_at31",
        "cla_started",
        "cla_ceased",
        "cpp_start",
        "cpp_at31",
    )
    lacking = [k for k in needed if k not in figs]
    if lacking:
        spans = {k: _years(FIGURES[k][0]) for k in lacking}
        covered = "; ".join(f"{k} {a}-{b}" for k, (a, b) in spans.items())
        raise PublishedDataError(
            f"{la_name} {year}: no published or neighbour figure for {lacking} "
            f"(the tables cover {covered})"
        )
    cal = Calibration(parameters={"start_date": dt.date(year, 4, 1)})
    cal.notes.append(f"Council: {la_name} (old_la_code {code}), year ending 31 March {year}")
    cal.parameters, staffing = _parameters(figs, baseline)
    cal.parameters["start_date"] = dt.date(year, 4, 1)
    growth = referral_growth(code, year)
    if growth is not None:
        cal.parameters["demand"]["growth_per_year"] = round(growth, 4)
        cal.notes.append(
            f"Demand growth {growth:+.1%} a year: the damped trend of referrals over the five "
            f"years to {year}."
        )
    pooled = [k for k in FLOWS if k in figs and figs[k].source != "own"]
    cal.notes.append(
        f"Flows pooled over the {POOL_YEARS} years to {year} (median per child): "
        + ", ".join(f"{k} [{figs[k].source}]" for k in pooled)
        + "; stocks at 31 March are the year's own."
    )
    if not staffing.empty:
        cal.tables["staffing"] = staffing
        cal.notes.extend(_staffing_notes(staffing, figs))
    cal.parameters["warmup_days"] = 0  # start from the published stocks at 31 March
    cal.parameters.update(NO_BUDGET)
    cal.notes.append(NO_BUDGET_NOTE)
    from demandsim.calibration.uncertainty import estimate_uncertainty  # it reads POOL_YEARS here

    spread = estimate_uncertainty(code, year)
    cal.parameters["uncertainty"] = {
        k: round(v, 4) for k, v in spread.model_dump().items() if k != "draw"
    }
    cal.notes.append(
        "Parameter uncertainty ([uncertainty]): each replication of demandsim run, compare and "
        "sweep draws its own demand level and growth, routes, durations and care entry and exit "
        f"(standard deviations: demand level {spread.demand_level_sd:.3f} in logs, growth "
        f"{spread.demand_growth_sd:.3f} a year); --set uncertainty.draw=false runs the "
        "calibrated values only."
    )
    cal.tables["published_figures"] = pd.DataFrame(
        [{"figure": k, "value": round(f.value, 2), "source": f.source} for k, f in figs.items()]
    )
    borrowed = [k for k, f in figs.items() if "neighbours" in f.source]
    if borrowed:
        cal.notes.append(f"Statistical neighbours' median used for: {', '.join(borrowed)}.")
    absent = [k for k in FIGURES if k not in figs]
    if absent:
        cal.notes.append(f"Not available, baseline kept: {', '.join(absent)}.")
    return cal


def _parameters(figs: dict[str, Figure], base: Scenario) -> dict:
    v = {k: f.value for k, f in figs.items()}
    stages = base.pathway.stages
    front_conversion = stages["front_door"].routes["mash"]
    referrals = v["referrals"]
    nfa = min(v.get("nfa_referrals", stages["mash"].routes["nfa"] * referrals) / referrals, 0.95)
    assessments = referrals * (1 - nfa)
    not_in_need = v.get("not_in_need", stages["assessment"].routes["nfa"] * assessments)
    a_nfa = float(np.clip(not_in_need / assessments, 0.0, 0.9))
    s47_cp = stages["s47"].routes["cp"]
    a_s47 = float(np.clip(v["cpp_start"] / (assessments * s47_cp), 0.01, 0.98 - a_nfa))
    a_cin = 1.0 - a_nfa - a_s47

    days = {s: stages[s].duration.mean_days for s in stages}
    s47_flow = assessments * a_s47
    init_assessment = assessments / 365.25 * days["assessment"]
    init_s47 = s47_flow / 365.25 * days["s47"]
    init_mash = referrals / 365.25 * days["mash"]
    cp_days = v["cpp_at31"] / v["cpp_start"] * 365.25
    cp_routes = dict(stages["cp"].routes)
    cin_routes = dict(stages["cin"].routes)
    cin_in = (
        assessments * a_cin
        + s47_flow * stages["s47"].routes["cin"]
        + v["cpp_start"] * cp_routes["cin"]
    )
    cin_stock = max(
        v["cin_at31"] - v["cpp_at31"] - v["cla_at31"] - init_assessment - init_s47,
        0.05 * v["cin_at31"],
    )
    cin_days = cin_stock / cin_in * 365.25
    # scale the routes into care so that expected entries match published starts
    base_entries = cin_in * cin_routes["cic"] + v["cpp_start"] * cp_routes["cic"]
    k = v["cla_started"] / base_entries
    cin_cic = float(np.clip(cin_routes["cic"] * k, 0.0, 0.5))
    cp_cic = float(np.clip(cp_routes["cic"] * k, 0.0, 0.9))
    cp_other = {t: p for t, p in cp_routes.items() if t != "cic"}
    cp_scale = (1 - cp_cic) / sum(cp_other.values())
    cic_days = v["cla_at31"] / max(v["cla_ceased"], 1.0) * 365.25
    # care leavers in After Care, by Little's law: the council's children ceasing care x the
    # share going on to After Care x its stay (the tables do not count care leavers); scaling
    # the baseline's stock with the looked-after stock started a council whose children leave
    # care fast (Kent: 2,680 ceased against 1,896 looked after) at a third of its flow's level
    to_after_care = stages["cic"].routes.get("after_care", 0.0)
    after_care = v["cla_ceased"] * to_after_care * days["after_care"] / 365.25

    def shares(d: dict[str, float]) -> dict[str, float]:
        out = {t: round(p, 4) for t, p in d.items()}
        biggest = max(out, key=out.get)
        out[biggest] = round(out[biggest] + 1 - sum(out.values()), 6)
        return out

    pathway = {
        "mash": {"routes": shares({"assessment": 1 - nfa, "nfa": nfa}), "initial_cases": round(init_mash)},
        "assessment": {"routes": shares({"nfa": a_nfa, "cin": a_cin, "s47": a_s47}), "initial_cases": round(init_assessment)},
        "s47": {"initial_cases": round(init_s47)},
        "cin": {"routes": shares({"closed": 1 - cin_cic, "cic": cin_cic}), "duration": round(cin_days, 1), "initial_cases": round(cin_stock)},
        "cp": {"routes": shares({**{t: p * cp_scale for t, p in cp_other.items()}, "cic": cp_cic}), "duration": round(cp_days, 1), "initial_cases": round(v["cpp_at31"])},
        "cic": {"duration": round(cic_days, 1), "initial_cases": round(v["cla_at31"])},
        "after_care": {"initial_cases": round(after_care)},
    }  # fmt: skip
    params: dict = {
        "demand": {"contacts_per_year": round(referrals / front_conversion, 1)},
        "pathway": {"stages": pathway},
    }
    open_cases = {
        s: spec.get("initial_cases", stages[s].initial_cases) for s, spec in pathway.items()
    }
    open_cases["front_door"] = params["demand"]["contacts_per_year"] / 365.25 * days["front_door"]
    eh = _early_help(params["demand"]["contacts_per_year"], base)
    if eh:
        params["pathway"]["stages"]["early_help"] = {"initial_cases": eh["initial_cases"]}
    params["teams"], params["workforce"], staffing = _workforce(v, base, open_cases)
    if eh:
        params["teams"].setdefault("early_help", {})["capacity_cases"] = eh["capacity_cases"]
    return params, staffing


def _early_help(contacts: float, base: Scenario) -> dict | None:
    """Early Help places for the council's scale: its expected open cases (contacts x the front
    door's Early Help share x the mean stay) plus SAFETY x sqrt of them, never the baseline's
    fixed contract."""
    stages = base.pathway.stages
    if "early_help" not in stages or "early_help" not in stages["front_door"].routes:
        return None
    team = base.teams.get(stages["early_help"].team)
    if team is None or not team.is_service:
        return None
    load = (
        contacts
        * stages["front_door"].routes["early_help"]
        / 365.25
        * stages["early_help"].duration.mean_days
    )
    return {
        "initial_cases": round(load),
        "capacity_cases": int(np.ceil(load + SAFETY * np.sqrt(load))),
    }


#: a case-holding team's cap is at least CASELOAD_HEADROOM x the council's published caseload
CASELOAD_HEADROOM = 1.2
#: published vacancy and agency rates that leave fewer of the posts than this held by employees
#: (the Isles of Scilly: 100% and 100%) cannot size the posts from the employed FTE
MIN_EMPLOYED_SHARE = 0.1


def rates_leave_no_one_employed(vacancy: float, agency: float) -> bool:
    """Whether published vacancy and agency shares (0-1) leave too few employees to size from."""
    return 1 - vacancy < MIN_EMPLOYED_SHARE or 1 - agency < MIN_EMPLOYED_SHARE


#: posts needed beyond this multiple of the published posts are reported as a backlog
BACKLOG_MARGIN = 1.15


def _workforce(
    v: dict[str, float], base: Scenario, open_cases: dict[str, float]
) -> tuple[dict, dict, pd.DataFrame]:
    """Teams sized to what the council carries.

    Caseload caps: case-holding teams carry up to CASELOAD_HEADROOM x the council's published
    caseload per FTE (never less than the baseline's cap); the front door keeps the baseline's.
    Posts: the published case-holding FTE plus vacancies, shared out in proportion to each team's
    need (its open cases L plus SAFETY x sqrt(L), over its cap; for the front door, whose work
    takes a day or so, L on its busy days, :func:`busy_factor`), and raised where that share,
    filled at the published vacancy and agency rates and less absence, could not hold the need:
    a council that reports no crisis does not start one. The table says, per team, both figures.
    """
    teams: dict = {}
    workforce: dict = {}
    rows = []
    staffed = {n: t for n, t in base.teams.items() if not t.is_service and t.posts}
    if "inpost_fte" in v:
        holders = v.get("case_holders_fte", v["inpost_fte"])
        vacancy = v.get("vacancy_rate", 100 * (1 - _filled_share(base))) / 100
        agency_share = v.get("agency_rate", 0.0) / 100
        if rates_leave_no_one_employed(vacancy, agency_share):
            # the case holders are the staff, nearly all agency: as many posts, all filled
            posts_total, filled, agency_ratio = holders, 1.0, np.inf
        else:
            posts_total = holders / (1 - vacancy)
            agency_ratio = agency_share / (1 - agency_share)  # agency per employed FTE
            filled = min((1 - vacancy) * (1 + agency_ratio), 1.0)
        load = {
            name: sum(
                open_cases.get(stage, spec.initial_cases)
                for stage, spec in base.pathway.stages.items()
                if spec.team == name
            )
            for name in staffed
        }
        caps = {}
        for name, team in staffed.items():
            cap = team.caseload_cap
            if "caseload" in v and name != base.pathway.stages[base.pathway.entry].team:
                cap = max(cap, int(np.ceil(CASELOAD_HEADROOM * v["caseload"])))
            caps[name] = cap
        # the front door meets each day's contacts: sized for its busy days
        entry = base.pathway.stages[base.pathway.entry].team
        busy = {name: busy_factor(base, name) if name == entry else 1.0 for name in staffed}
        need = {  # square-root staffing: room for the load and for its Poisson swings
            name: (busy[name] * load[name] + SAFETY * np.sqrt(busy[name] * load[name])) / caps[name]
            for name in staffed
        }
        for name, team in staffed.items():
            shared = max(1, round(posts_total * need[name] / sum(need.values())))
            absence = v["absence_rate"] / 100 if "absence_rate" in v else team.sickness_share
            enough = int(np.ceil(need[name] / max(filled * (1 - absence), 0.05)))
            posts = max(shared, enough)
            perm = round(posts * (1 - vacancy))
            agency = (
                posts - perm
                if np.isinf(agency_ratio)
                else min(posts - perm, round(perm * agency_ratio))
            )
            teams[name] = {"posts": posts, "initial_permanent": perm, "initial_agency": agency}
            if caps[name] != team.caseload_cap:
                teams[name]["caseload_cap"] = caps[name]
                teams[name]["nq_caseload_cap"] = max(
                    team.nq_caseload_cap,
                    round(caps[name] * team.nq_caseload_cap / team.caseload_cap),
                )
            rows.append({"team": name, "open_cases": round(load[name]),
                         "busy_day_factor": round(busy[name], 3), "caseload_cap": caps[name],
                         "posts_from_published_fte": shared, "posts_needed": enough,
                         "posts": posts})  # fmt: skip
    if "turnover_rate" in v:
        rate = v["turnover_rate"] / 100
        factor = rate / base.workforce.permanent.turnover_per_year
        workforce["permanent"] = {"turnover_per_year": round(rate, 4)}
        for name, team in staffed.items():
            if team.permanent_turnover_per_year is not None:
                teams.setdefault(name, {})["permanent_turnover_per_year"] = round(
                    team.permanent_turnover_per_year * factor, 4
                )
    if "absence_rate" in v:
        for name in staffed:
            teams.setdefault(name, {})["sickness_share"] = round(v["absence_rate"] / 100, 4)
    return teams, workforce, pd.DataFrame(rows)


#: the front door is sized for the open cases of this share of days (its busy days)
BUSY_QUANTILE = 0.9


def busy_factor(base: Scenario, team: str) -> float:
    """The team's open cases on its busy days (the BUSY_QUANTILE of a year's days) over their
    mean, from the baseline's pattern of demand (weekdays, school holidays, the end of term,
    months) and the durations of the team's stages reached from the entry stage: about 1.4
    for a front door whose work takes a day, since contacts come on weekdays in term time; near
    1 for work that lasts months. Open cases on day t are the contacts of day t - k still open,
    summed over k: a contact's expected time open within day k of its stay."""
    demand = base.demand.model_copy(
        update={"growth_per_year": 0.0, "monthly_contacts": {}, "intensity_file": None}
    )
    year = base.model_copy(update={"demand": demand, "years": 1.0, "warmup_days": 0})
    contacts = daily_intensity(year)
    stages = base.pathway.stages
    entry = stages[base.pathway.entry]
    u = (np.arange(2000) + 0.5) / 2000  # the duration's quantiles, evenly spaced
    load = np.zeros(len(contacts))
    for name, stage in stages.items():
        share = 1.0 if name == base.pathway.entry else entry.routes.get(name, 0.0)
        if stage.team != team or not share:
            continue
        days = np.asarray(quantile(stage.duration, u))
        weights = np.clip(days[:, None] - np.arange(int(np.ceil(days.max())) + 1), 0, 1)
        kernel = weights.mean(axis=0)  # expected part of day k a contact is still open
        load += share * np.convolve(np.tile(contacts, 2), kernel)[len(contacts) : 2 * len(contacts)]
    if not load.any():
        return 1.0
    return float(np.quantile(load, BUSY_QUANTILE) / load.mean())


def _staffing_notes(staffing: pd.DataFrame, figs: dict[str, Figure]) -> list[str]:
    """Where the council's own figures imply a real backlog, say so."""
    notes = []
    vacancy, agency = (figs[k].value if k in figs else 0.0 for k in ("vacancy_rate", "agency_rate"))
    if rates_leave_no_one_employed(vacancy / 100, agency / 100):
        notes.append(
            f"Staffing: the published vacancy ({vacancy:.0f}%) and agency ({agency:.0f}%) rates "
            "leave almost no social workers employed, so posts are sized from the case-holding "
            "FTE as if every post were filled, by agency workers where the rates say so."
        )
    raised = staffing.loc[staffing["posts"] > staffing["posts_from_published_fte"]]
    published = int(staffing["posts_from_published_fte"].sum())
    modelled = int(staffing["posts"].sum())
    if modelled > BACKLOG_MARGIN * published:
        notes.append(
            f"Staffing: the published social workers ({published} posts) cannot hold the open "
            f"cases at the caps used; posts raised to {modelled} in "
            f"{', '.join(raised['team'])} so the run starts without a backlog. The council's "
            "figures imply a real backlog, or cases held by staff the workforce census does not "
            "count as case holders."
        )
    elif len(raised):
        notes.append(
            f"Staffing: posts raised from {published} to {modelled} in {', '.join(raised['team'])}"
            " to leave room for absence and the swings of demand."
        )
    if "caseload" in figs:
        notes.append(
            f"Caseload caps from the published caseload of {figs['caseload'].value:.1f} cases "
            f"per FTE (x{CASELOAD_HEADROOM} headroom, never below the baseline's)."
        )
    if "awaiting_assessment" in figs and "cin_at31" in figs:
        waiting = figs["awaiting_assessment"].value
        share = waiting / figs["cin_at31"].value
        if share > 0.05:
            notes.append(
                f"Backlog reported: {waiting:.0f} children awaiting a first assessment at 31 March "
                f"({share:.0%} of children in need)."
            )
    return notes


def _filled_share(base: Scenario) -> float:
    staffed = [t for t in base.teams.values() if t.posts]
    return sum(t.initial_permanent for t in staffed) / sum(t.posts for t in staffed)
