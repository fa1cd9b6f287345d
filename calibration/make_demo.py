"""Make the demo council in calibration/demo/: synthetic data, in exactly the documented input
formats, drawn with a fixed seed from the known parameters below.

    python calibration/make_demo.py            # rewrites calibration/demo/ (same seed, same files)

It also writes what only the generator knows, the truth the outlook's back-test is scored
against (``calibration/demo_truth/``): each team's unallocated cases, day by day and week by week.
The demo's cases move through the pathway without capacity limits, so its backlog is defined as
the cases a team holds beyond its staff's caseload capacity that day (see :func:`write_truth`).

The council: about 8,000 contacts a year with yearly seasonality, school-holiday dips, an
end-of-term surge and a 25% rise over winter 2022/23; staff who leave at constant hazards and
posts refilled after gamma-distributed lead times, except in a hiring freeze in the CiN team
(July 2023 to September 2024: posts falling vacant then wait for its end), which leaves up to
about 150 CiN cases unallocated in 2024, as in the review behind this project; cases that move
through the pathway with the routes and durations below; and an SSDA903 return for its
children looked after. Calibrating the demo (``demandsim calibrate calibration/demo --out ...``)
should give these numbers back, within sampling error, except the lead times the freeze
lengthens: docs/calibration.md shows the comparison.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demandsim.calendar import school_calendar, school_holidays

SEED = 20150201
OUT = Path(__file__).resolve().parent / "demo"
TRUTH = Path(__file__).resolve().parent / "demo_truth"
EXTRACT_START = dt.date(2021, 4, 1)
SNAPSHOT = dt.date(2025, 3, 31)
STAFF_HISTORY_START = dt.date(2017, 4, 1)
FUTURE_END = dt.date(2026, 3, 31)  # the truth runs on past the snapshot: the demo's own future
CASE_HISTORY_START = dt.date(2013, 4, 1)

# -- demand -----------------------------------------------------------------------------------
CONTACTS_PER_YEAR = 8000.0  # before the rise
RISE = 0.25  # level rise, phased in linearly over the window below
RISE_FROM, RISE_TO = dt.date(2022, 10, 1), dt.date(2023, 3, 31)
SEASONAL_AMPLITUDE = 0.10  # yearly cosine, peak in mid-October
PEAK_DAY_OF_YEAR = 288
WEEKDAY = np.array([1.2, 1.2, 1.2, 1.2, 1.2, 0.0, 0.0])
SUMMER_FACTOR = 0.70
HOLIDAY_FACTOR = 0.80  # other school holidays
END_OF_TERM_FACTOR = 1.6  # last two school days of each term
CONVERSION = (0.30, 0.34)  # contact-to-referral share before and after 2023-04-01
SOURCES = {"police": 0.40, "schools": 0.15, "health": 0.15, "other_la": 0.10, "other": 0.20}

# -- staff ------------------------------------------------------------------------------------
POSTS = {"front_door": 8, "assessment": 20, "cin": 55, "cic": 20, "after_care": 8}
PERMANENT_HAZARD = 0.18  # leavers per worker-year
PERMANENT_HAZARD_BY_TEAM = {"front_door": 0.40}
AGENCY_HAZARD = 0.70
PERMANENT_FILL_SHARE = 0.5  # share of vacancies filled by a permanent recruit
PERMANENT_FILL = (45.0, 0.4)  # gamma (mean days, cv): vacancy to accepted offer
AGENCY_FILL = (20.0, 0.6)  # gamma (mean days, cv): vacancy to locum starting
#: a hiring freeze: this team's vacancies opening in the window are not filled before it ends
#: (then after the usual lead time). The demo's staffing squeeze: its backlog is what the
#: outlook's back-test has to catch.
FREEZE_TEAM, FREEZE_FROM, FREEZE_TO = "cin", dt.date(2023, 7, 1), dt.date(2024, 9, 30)
SICKNESS_SHARE = {"front_door": 0.09}
SICKNESS_DEFAULT = 0.05
NQ_SHARE = 0.2

# -- cases (referral onwards): routes, and durations as (dist, mean days, cv) ------------------
ROUTES = {
    "mash": {"assessment": 0.88, "nfa": 0.12},
    "assessment": {"nfa": 0.42, "cin": 0.43, "s47": 0.15},
    "s47": {"cp": 0.45, "cin": 0.35, "nfa": 0.20},
    "cin": {"closed": 0.94, "cic": 0.06},
    "cp": {"cin": 0.60, "cic": 0.15, "closed": 0.25},
    "cic": {"return_home": 0.70, "after_care": 0.30},
    "after_care": {"care_leaver_closed": 1.0},
}
DURATIONS = {
    "mash": ("gamma", 2.0, 0.8),
    "assessment": ("lognormal", 30.0, 0.6),
    "s47": ("gamma", 14.0, 0.5),
    "cin": ("gamma", 220.0, 1.0),
    "cp": ("gamma", 280.0, 0.7),
    "cic": ("lognormal", 800.0, 1.1),
    "after_care": ("gamma", 900.0, 0.4),
}
ALLOCATED_SHARE = 0.95
# -- the truth: which team holds each stage, and each worker's caseload cap (the baseline's)
STAGE_TEAMS = {"assessment": "assessment", "s47": "assessment", "cin": "cin", "cp": "cin",
               "cic": "cic", "after_care": "after_care"}  # fmt: skip
CASELOAD_CAP = {"assessment": 18, "cin": 20, "cic": 15, "after_care": 20}
NQ_CASELOAD_CAP = {"assessment": 12, "cin": 14, "cic": 10, "after_care": 15}
NQ_DAYS = 365
PLACEMENTS = {"U1": 0.10, "U2": 0.20, "U3": 0.20, "U4": 0.15, "U5": 0.08, "U6": 0.02,
              "K2": 0.10, "R1": 0.02, "H5": 0.05, "P1": 0.05, "S1": 0.03}  # fmt: skip
PLACEMENT_MEAN_DAYS = 300.0
LEAVING_CARE_REC = ("E7", "E8", "E17")
OTHER_REC = ("E4A", "E11", "E45", "E13")


def daily_rate(days: pd.DatetimeIndex) -> np.ndarray:
    """Expected contacts on each day."""
    d = days.to_numpy().astype("datetime64[D]")
    holiday, end_of_term = school_calendar(d, 2)
    summer = np.zeros(len(d), dtype=bool)
    for year in range(days.year.min(), days.year.max() + 1):
        first, last = school_holidays(year)[3]
        summer |= (d >= np.datetime64(first)) & (d <= np.datetime64(last))
    season = 1 + SEASONAL_AMPLITUDE * np.cos(
        2 * np.pi * (days.day_of_year - PEAK_DAY_OF_YEAR) / 365.25
    )
    ramp = np.clip((days - pd.Timestamp(RISE_FROM)).days / (RISE_TO - RISE_FROM).days, 0, 1)
    level = CONTACTS_PER_YEAR / 365.25 * (1 + RISE * ramp)
    shape = WEEKDAY[days.day_of_week] * season
    shape = shape * np.where(summer, SUMMER_FACTOR, np.where(holiday, HOLIDAY_FACTOR, 1.0))
    shape = shape * np.where(end_of_term, END_OF_TERM_FACTOR, 1.0)
    return level * shape


def gamma(rng, mean, cv, size=None):
    shape = 1 / cv**2
    return rng.gamma(shape, mean / shape, size)


def duration(rng, spec) -> float:
    dist, mean, cv = spec
    if dist == "gamma":
        return float(gamma(rng, mean, cv))
    sigma2 = np.log1p(cv * cv)
    return float(rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2)))


def make_demand(rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """demand.csv rows (date, source, contacts, referrals) and referral dates from 2013."""
    days = pd.date_range(CASE_HISTORY_START, SNAPSHOT, freq="D")
    contacts = rng.poisson(daily_rate(days))
    conversion = np.where(days < pd.Timestamp("2023-04-01"), *CONVERSION)
    referrals = rng.binomial(contacts, conversion)
    by_source = np.array([rng.multinomial(c, list(SOURCES.values())) for c in contacts])
    ref_source = np.array(
        [
            rng.multivariate_hypergeometric(row, r)
            for row, r in zip(by_source, referrals, strict=True)
        ]
    )
    rows = []
    keep = days >= pd.Timestamp(EXTRACT_START)
    for j, source in enumerate(SOURCES):
        rows.append(pd.DataFrame({"date": days[keep].strftime("%Y-%m-%d"), "source": source,
                                  "contacts": by_source[keep, j], "referrals": ref_source[keep, j]}))  # fmt: skip
    demand = pd.concat(rows).sort_values(["date", "source"], kind="stable")
    referral_days = np.repeat(days.to_numpy(), referrals)
    return demand, pd.Series(referral_days)


def make_cases(rng, referral_days: pd.Series):
    """Every case's episodes from referral on (a service without capacity limits)."""
    rows: list[tuple] = []
    for case, start in enumerate(
        referral_days + pd.to_timedelta(rng.random(len(referral_days)), "D")
    ):
        follow(rng, case, "mash", start, pd.Timestamp(SNAPSHOT), rows)
    return pd.DataFrame(rows, columns=["case", "stage", "start", "end", "next"])


def follow(rng, case: int, stage: str, t: pd.Timestamp, until: pd.Timestamp, rows: list) -> None:
    """A case's episodes from ``stage`` at ``t`` until it leaves or an episode ends after
    ``until`` (that episode's end and next stage are drawn, so the case can be followed on)."""
    while True:
        end = t + pd.Timedelta(days=duration(rng, DURATIONS[stage]))
        targets = ROUTES[stage]
        nxt = rng.choice(list(targets), p=list(targets.values()))
        rows.append((case, stage, t.normalize(), end.normalize(), nxt))
        if end > until or nxt not in ROUTES:
            break
        stage, t = nxt, end


def write_cases(rng, cases: pd.DataFrame) -> None:
    snap = pd.Timestamp(SNAPSHOT)
    ids = pd.Series(rng.permutation(cases["case"].max() + 1) + 100000)
    first = cases.groupby("case")["start"].transform("min")
    extract = cases.loc[(first >= pd.Timestamp(EXTRACT_START)) & (cases["start"] <= snap)]
    still_open = extract["end"] > snap
    pd.DataFrame(
        {
            "case_id": "C" + ids[extract["case"]].astype(str).to_numpy(),
            "stage": extract["stage"],
            "start_date": extract["start"].dt.strftime("%Y-%m-%d"),
            "end_date": extract["end"].dt.strftime("%Y-%m-%d").where(~still_open, ""),
            "next_stage": extract["next"].where(~still_open, ""),
        }
    ).to_csv(OUT / "case_episodes.csv", index=False)
    open_now = cases.loc[(cases["start"] <= snap) & (cases["end"] > snap)]
    pd.DataFrame(
        {
            "snapshot_date": SNAPSHOT.isoformat(),
            "case_id": "C" + ids[open_now["case"]].astype(str).to_numpy(),
            "stage": open_now["stage"],
            "start_date": open_now["start"].dt.strftime("%Y-%m-%d"),
            "allocated": np.where(rng.random(len(open_now)) < ALLOCATED_SHARE, "yes", "no"),
        }
    ).to_csv(OUT / "snapshot_cases.csv", index=False)
    write_ssda903(rng, cases, ids)


def write_ssda903(rng, cases: pd.DataFrame, ids: pd.Series) -> None:
    """Periods of care open at any time since the extract start, as SSDA903 episodes (every
    placement of the period, as stacked annual returns give them); REC codes say whether the
    child left care as a care leaver."""
    snap = pd.Timestamp(SNAPSHOT)
    window = pd.Timestamp(EXTRACT_START)
    cic = cases.loc[(cases["stage"] == "cic") & (cases["end"] >= window) & (cases["start"] <= snap)]
    codes, weights = list(PLACEMENTS), list(PLACEMENTS.values())
    rows = []
    for period in cic.itertuples():
        t = period.start
        while True:
            stop = t + pd.Timedelta(days=max(1.0, rng.exponential(PLACEMENT_MEAN_DAYS)))
            last = stop >= period.end
            stop = min(stop, period.end)
            if last:
                rec = rng.choice(LEAVING_CARE_REC if period.next == "after_care" else OTHER_REC)
            else:
                rec = "X1"
            closed = stop <= snap
            rows.append({
                "CHILD": int(ids[period.case]), "DECOM": t.strftime("%d/%m/%Y"), "RNE": "S",
                "LS": "C2", "CIN": "N1", "PLACE": rng.choice(codes, p=weights),
                "PLACE_PROVIDER": "PR1", "DEC": stop.strftime("%d/%m/%Y") if closed else "",
                "REC": rec if closed else "", "LA": "Demo",
            })  # fmt: skip
            if last or stop > snap:
                break
            t = stop.normalize()
    pd.DataFrame(rows).to_csv(OUT / "ssda903" / "episodes.csv", index=False)


def frozen_until(team: str, opened: pd.Timestamp) -> pd.Timestamp:
    """When recruitment to a vacancy opened on ``opened`` can start: the end of the hiring
    freeze for the frozen team's vacancies opening inside it, else the day it opened."""
    if team == FREEZE_TEAM and pd.Timestamp(FREEZE_FROM) <= opened <= pd.Timestamp(FREEZE_TO):
        return pd.Timestamp(FREEZE_TO)
    return opened


def make_staff(rng) -> pd.DataFrame:
    """Each post through time: occupants leave at constant hazards and are replaced after a
    gamma lead time, by a permanent recruit or an agency worker. Returns every spell, with the
    hidden ``true_end`` of those still running at the snapshot (the truth needs it; the files
    do not hold it)."""
    start, snap = pd.Timestamp(STAFF_HISTORY_START), pd.Timestamp(SNAPSHOT)
    spells, vacancies = [], []
    worker = vacancy = 0
    for team, posts in POSTS.items():
        perm_hazard = PERMANENT_HAZARD_BY_TEAM.get(team, PERMANENT_HAZARD)
        sick = SICKNESS_SHARE.get(team, SICKNESS_DEFAULT)
        for _ in range(posts):
            t = start
            contract = "permanent" if rng.random() < PERMANENT_FILL_SHARE else "agency"
            while t <= snap:
                hazard = perm_hazard if contract == "permanent" else AGENCY_HAZARD
                end = t + pd.Timedelta(days=rng.exponential(365.25 / hazard))
                in_post = end <= snap
                working_days = (min(end, snap) - t).days * 253 / 365.25
                worker += 1
                spells.append({
                    "worker_id": f"W{worker:05d}", "team": team, "contract": contract,
                    "start_date": t.strftime("%Y-%m-%d"),
                    "end_date": end.strftime("%Y-%m-%d") if in_post else "", "fte": 1.0,
                    "newly_qualified": "yes" if contract == "permanent" and rng.random() < NQ_SHARE else "no",
                    "sickness_days": int(rng.poisson(sick * working_days)),
                    "true_end": end,
                })  # fmt: skip
                if not in_post:
                    break
                t = end.normalize()
                contract = "permanent" if rng.random() < PERMANENT_FILL_SHARE else "agency"
                mean, cv = PERMANENT_FILL if contract == "permanent" else AGENCY_FILL
                filled = frozen_until(team, t) + pd.Timedelta(days=float(gamma(rng, mean, cv)))
                vacancy += 1
                vacancies.append({
                    "vacancy_id": f"V{vacancy:05d}", "team": team,
                    "opened_date": t.strftime("%Y-%m-%d"),
                    "filled_date": filled.strftime("%Y-%m-%d") if filled <= snap else "",
                    "filled_by": contract if filled <= snap else "",
                })  # fmt: skip
                t = filled.normalize()
    staff = pd.DataFrame(spells)
    staff.drop(columns="true_end").to_csv(OUT / "staff_spells.csv", index=False)
    pd.DataFrame(vacancies).to_csv(OUT / "vacancies.csv", index=False)
    in_post = staff.loc[staff["end_date"] == ""]
    pd.DataFrame(
        {"snapshot_date": SNAPSHOT.isoformat(), "worker_id": in_post["worker_id"],
         "team": in_post["team"], "contract": in_post["contract"], "fte": in_post["fte"]}
    ).to_csv(OUT / "snapshot_staff.csv", index=False)  # fmt: skip
    return staff


def the_future(cases: pd.DataFrame, staff: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases and staff spells from the start to :data:`FUTURE_END`: the history, with the
    cases and spells running at the snapshot followed on, new referrals after it, and posts
    refilled as before. Drawn from a stream of its own, after everything the files hold, so
    the demo files do not change. Staff come back as team, start, end (true), newly qualified."""
    rng = np.random.default_rng([SEED, 1])
    snap, until = pd.Timestamp(SNAPSHOT), pd.Timestamp(FUTURE_END)
    rows: list[tuple] = []
    last = cases.groupby("case").tail(1)
    for r in last[(last["end"] > snap) & last["next"].isin(list(ROUTES))].itertuples():
        follow(rng, r.case, r.next, r.end, until, rows)
    days = pd.date_range(snap + pd.Timedelta(days=1), until, freq="D")
    referrals = rng.binomial(rng.poisson(daily_rate(days)), CONVERSION[1])
    starts = pd.Series(np.repeat(days.to_numpy(), referrals))
    starts = starts + pd.to_timedelta(rng.random(len(starts)), "D")
    for case, start in enumerate(starts, start=int(cases["case"].max()) + 1):
        follow(rng, case, "mash", start, until, rows)
    future_cases = pd.DataFrame(rows, columns=["case", "stage", "start", "end", "next"])
    spells = [pd.DataFrame({
        "team": staff["team"], "start": pd.to_datetime(staff["start_date"]),
        "end": staff["true_end"], "nq": staff["newly_qualified"] == "yes",
    })]  # fmt: skip
    later = []
    for spell in staff[staff["true_end"] > snap].itertuples():
        perm_hazard = PERMANENT_HAZARD_BY_TEAM.get(spell.team, PERMANENT_HAZARD)
        t = spell.true_end.normalize()
        while t <= until:
            contract = "permanent" if rng.random() < PERMANENT_FILL_SHARE else "agency"
            mean, cv = PERMANENT_FILL if contract == "permanent" else AGENCY_FILL
            t = (t + pd.Timedelta(days=float(gamma(rng, mean, cv)))).normalize()
            hazard = perm_hazard if contract == "permanent" else AGENCY_HAZARD
            end = t + pd.Timedelta(days=rng.exponential(365.25 / hazard))
            nq = contract == "permanent" and rng.random() < NQ_SHARE
            later.append({"team": spell.team, "start": t, "end": end, "nq": nq})
            t = end.normalize()
    spells.append(pd.DataFrame(later))
    return pd.concat([cases, future_cases], ignore_index=True), pd.concat(spells, ignore_index=True)


def write_truth(cases: pd.DataFrame, staff: pd.DataFrame) -> None:
    """Each team's unallocated cases on every day from the extract start to
    :data:`FUTURE_END`, and by week (Monday to Sunday: the largest and the mean daily count);
    ``after_snapshot`` marks the demo's future, which no input file holds.

    A case is open on day d if it entered its stage on or before d and left after d (as in the
    snapshot). A worker in post on day d carries up to the team's caseload cap less sickness,
    rounded (the newly qualified a lower cap in their first year), as the model's workers do;
    ramp-up after starting is ignored. Unallocated = open cases beyond that capacity, at least 0.
    The front door is left out: the demo's cases start at referral, not at contact.
    """
    days = pd.date_range(EXTRACT_START, FUTURE_END, freq="D")
    grid = days.to_numpy()
    rows = []
    for team in CASELOAD_CAP:
        held = cases[cases["stage"].map(STAGE_TEAMS) == team]
        opened = np.searchsorted(np.sort(held["start"].to_numpy()), grid, side="right")
        closed = np.searchsorted(np.sort(held["end"].to_numpy()), grid, side="right")
        open_cases = opened - closed
        keep = 1 - SICKNESS_SHARE.get(team, SICKNESS_DEFAULT)
        capacity = np.zeros(len(days), dtype=int)
        for spell in staff[staff["team"] == team].itertuples():
            on = (days >= spell.start) & (days < spell.end)
            nq = spell.nq & (days < spell.start + pd.Timedelta(days=NQ_DAYS))
            full, low = round(CASELOAD_CAP[team] * keep), round(NQ_CASELOAD_CAP[team] * keep)
            capacity += np.where(on, np.where(nq, low, full), 0)
        rows.append(pd.DataFrame({
            "date": days.strftime("%Y-%m-%d"), "after_snapshot": days > pd.Timestamp(SNAPSHOT),
            "team": team, "open_cases": open_cases,
            "capacity_cases": capacity, "unallocated_cases": np.maximum(open_cases - capacity, 0),
        }))  # fmt: skip
    daily = pd.concat(rows, ignore_index=True)
    TRUTH.mkdir(exist_ok=True)
    daily.to_csv(TRUTH / "unallocated_daily.csv", index=False)
    dates = pd.to_datetime(daily["date"])
    weekly = (
        daily.assign(
            week_start=(dates - pd.to_timedelta(dates.dt.day_of_week, "D")).dt.strftime("%Y-%m-%d")
        )
        .groupby(["week_start", "team"], sort=False)
        .agg(
            after_snapshot=("after_snapshot", "any"),
            max_unallocated=("unallocated_cases", "max"),
            mean_unallocated=("unallocated_cases", "mean"),
            days=("unallocated_cases", "size"),
        )
        .reset_index()
    )
    weekly.to_csv(TRUTH / "unallocated_weekly.csv", index=False, float_format="%.2f")


def main() -> None:
    rng = np.random.default_rng(SEED)
    (OUT / "ssda903").mkdir(parents=True, exist_ok=True)
    demand, referral_days = make_demand(rng)
    demand.to_csv(OUT / "demand.csv", index=False)
    cases = make_cases(rng, referral_days)
    write_cases(rng, cases)
    staff = make_staff(rng)
    write_truth(*the_future(cases, staff))
    print(f"wrote {OUT} and {TRUTH}")


if __name__ == "__main__":
    main()
