"""A council against its ten statistical neighbours and England, from the DfE published tables.

Covers: the rates a council compares with other councils (the review asked Buckinghamshire to
"develop understanding of comparative contact / referral / conversion rates with other
councils"): referrals, re-referrals, children in need, child protection plans and children
looked after per 10,000 children; the shares of referrals that end in no further action or in
"not in need", re-referrals and second plans, and child protection plans started per 100
referrals; caseload, vacancy, agency, turnover and absence rates of the social workers. Each
for the council, each of its ten statistical neighbours (``sn_model_2025_wide.csv``), their
median and England, for every year the tables hold, with the council's rank among itself and its
neighbours.

Assumptions:
- a figure the tables suppress (``c``, ``x``, ``z``, ``low`` ...) or do not hold (a council not
  yet created, a year a table does not cover) is missing, with the reason in ``status``; it is
  never estimated, and a neighbour stands in for nobody;
- rates per 10,000 children divide by the ONS mid-year estimate of children aged 0-17 of the
  calendar year before the year ending 31 March (the mid-year inside that year, as the DfE's own
  rates do: the looked-after table's ``population_estimate`` is that figure);
- workforce figures for the year ending 31 March Y are the census at 30 September Y-1 (as
  :mod:`demandsim.calibration.published` reads them), taken as published;
- rank 1 is the highest value among the council and its neighbours with a figure (ties share
  the better rank); it is not a judgement, as a high rate is not always a bad one.

Contacts, assessments and section 47 enquiries are not in the shipped tables, so the
contact-to-referral conversion and the assessment and s47 rates cannot be computed here
(:data:`NOT_AVAILABLE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from demandsim.calibration import published
from demandsim.resources import DFE_DIR

C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
B1 = "b1_children_in_need_2013_to_2025.csv"
D3 = "d3_cpps_subsequent_plan_2013_to_2025.csv"
D5 = "d5_cpps_at31march_by_duration_2013_to_2025.csv"
CLA = published.CLA_FILE
CSWW = published.WORKFORCE_FILE
POPULATION = published.POPULATION_FILE
#: the area code used for England's row
ENGLAND = "England"
COUNCIL, NEIGHBOUR, MEDIAN, NATIONAL = "council", "neighbour", "neighbours' median", "England"
PER_10K = "per 10,000 children"
PERCENT = "%"
PER_100 = "per 100 referrals"
CASES_PER_FTE = "cases per FTE"
PUBLISHED = "published"
NOT_IN_TABLES = "not in the tables"


@dataclass(frozen=True)
class Source:
    """One column of one DfE table (for the looked-after table: a population_type's count)."""

    file: str
    column: str

    def describe(self) -> str:
        if self.file == CLA:
            return f"{self.file}, children_count where population_type = '{self.column}'"
        return f"{self.file}, column {self.column}"


POP = Source(POPULATION, "population_estimate")


@dataclass(frozen=True)
class Measure:
    """A measure for people: its label and unit, and how it comes from the tables.

    ``denominator`` None: the numerator as published; POP: per 10,000 children aged 0-17;
    another column: ``scale`` x numerator / denominator, both from the same table and year."""

    key: str
    label: str
    unit: str
    numerator: Source
    denominator: Source | None = None
    scale: float = 1.0
    group: str = "Demand"

    def how(self) -> str:
        if self.denominator is None:
            return (
                f"as published ({self.numerator.describe()}); the census at 30 September "
                "inside the year ending 31 March (time_period Y-1 for year Y)"
            )
        if self.denominator == POP:
            return (
                f"{self.numerator.describe()} / children aged 0-17 (ONS mid-year estimate for "
                "the June inside the year ending 31 March, so time_period Y-1 of "
                "ons_mid-year_population_estimates_2012_to_2024.csv) x 10,000"
            )
        if self.denominator.file == self.numerator.file:
            over = f"{self.denominator.column} (same table and year)"
        else:
            over = f"{self.denominator.describe()} (same year)"
        return f"{self.numerator.describe()} / {over} x {self.scale:,.0f}"


def _m(key, label, unit, numerator, denominator=None, group="Demand") -> Measure:
    scale = {PER_10K: 10_000.0, PERCENT: 100.0, PER_100: 100.0}.get(unit, 1.0)
    return Measure(key, label, unit, numerator, denominator, scale, group)


#: every measure, declared once: the terminal table, CSV, charts, HTML and workbook read these
MEASURES: dict[str, Measure] = {m.key: m for m in (
    _m("referrals_per_10k", "Referrals", PER_10K, Source(C1, "referral_count"), POP),
    _m("rereferrals_per_10k", "Re-referrals within 12 months of a previous referral", PER_10K,
       Source(C1, "rereferral_count"), POP),
    _m("rereferral_pct", "Re-referrals, share of referrals", PERCENT,
       Source(C1, "rereferral_count"), Source(C1, "referral_count"), "Conversion"),
    _m("nfa_pct", "Referrals ending in no further action", PERCENT,
       Source(C1, "no_further_action_count"), Source(C1, "referral_count"), "Conversion"),
    _m("not_in_need_pct", "Referrals assessed as not in need", PERCENT,
       Source(C1, "not_in_need_count"), Source(C1, "referral_count"), "Conversion"),
    _m("cpp_per_100_referrals", "Conversion: child protection plans started", PER_100,
       Source(D3, "CPP_start"), Source(C1, "referral_count"), "Conversion"),
    _m("cin_per_10k", "Children in need at 31 March (episodes)", PER_10K,
       Source(B1, "At31_episodes"), POP),
    _m("cpp_started_per_10k", "Child protection plans started", PER_10K,
       Source(D3, "CPP_start"), POP),
    _m("cpp_per_10k", "Child protection plans at 31 March", PER_10K, Source(D5, "CPP_At31"), POP),
    _m("cpp_subsequent_pct", "Second or later child protection plans, share of plans started",
       PERCENT, Source(D3, "CPP_subsequent"), Source(D3, "CPP_start"), "Conversion"),
    _m("cla_per_10k", "Children looked after at 31 March", PER_10K,
       Source(CLA, "Children looked after on 31 March each year"), POP),
    _m("cla_started_per_10k", "Children starting to be looked after", PER_10K,
       Source(CLA, "Children starting to be looked after each year"), POP),
    _m("caseload", "Caseload per case-holding social worker", CASES_PER_FTE,
       Source(CSWW, "caseload_fte"), group="Workforce"),
    _m("vacancy_rate", "Vacancy rate (FTE)", PERCENT, Source(CSWW, "vacancy_rate_fte"),
       group="Workforce"),
    _m("agency_rate", "Agency worker rate (FTE)", PERCENT, Source(CSWW, "agency_rate_fte"),
       group="Workforce"),
    _m("turnover_rate", "Turnover rate (FTE)", PERCENT, Source(CSWW, "turnover_rate_fte"),
       group="Workforce"),
    _m("absence_rate", "Sickness absence rate (FTE)", PERCENT, Source(CSWW, "absence_rate_fte"),
       group="Workforce"),
)}  # fmt: skip

#: what the review asks for that the shipped tables cannot give, and why
NOT_AVAILABLE = {
    "Contacts and the contact-to-referral conversion rate": "contacts are not collected in the "
    "DfE children in need census; no shipped table holds them",
    "Assessments per 10,000 children": "the assessments table of the children in need release "
    "is not among the shipped tables (only referrals assessed as not in need are)",
    "Section 47 enquiries per 10,000 children": "the section 47 and initial child protection "
    "conference table is not among the shipped tables",
}

#: the DfE's symbols for a figure it does not publish
SYMBOLS = {
    "c": "suppressed (c)",
    "low": "rounds to zero (low)",
    "x": "not available (x)",
    "z": "not applicable (z)",
    "u": "low reliability (u)",
    "k": "below 0.5 (k)",
    ":": "not available (:)",
    "..": "not available (..)",
    "": "blank in the table",
}


class NeighboursError(published.PublishedDataError):
    """An unknown or abolished council, a year outside the tables, a council with no neighbours."""


@lru_cache(maxsize=16)
def _raw(file: str) -> pd.DataFrame:
    """A table as text, local authorities and England (area code ``England``), with ``year``:
    the year ending 31 March it describes (the workforce census of September Y-1 is year Y;
    the ONS mid-year estimate of Y-1 is the population of year Y)."""
    path = DFE_DIR / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    level = frame["geographic_level"]
    frame = frame.loc[level.isin(["Local authority", "National"])].copy()
    frame["area_code"] = frame["old_la_code"].where(
        frame["geographic_level"] == "Local authority", ENGLAND
    )
    shift = 1 if file in (CSWW, POPULATION) else 0
    frame["year"] = frame["time_period"].astype(int) + shift
    return frame


@lru_cache(maxsize=64)
def column(source: Source) -> pd.DataFrame:
    """One source column: index (area_code, year); ``value`` (NaN where not published) and
    ``status`` (``published`` or the DfE's reason)."""
    frame = _raw(source.file)
    name = source.column
    if source.file == CLA:
        frame = frame.loc[frame["population_type"] == name]
        name = "children_count"
    text = frame[name].str.strip().str.replace(",", "")
    value = pd.to_numeric(text, errors="coerce")
    status = np.where(
        value.notna(), PUBLISHED, text.map(lambda t: SYMBOLS.get(t.lower(), f"not a number ({t})"))
    )
    out = pd.DataFrame(
        {"area_code": frame["area_code"], "year": frame["year"], "value": value, "status": status}
    )
    return out.drop_duplicates(["area_code", "year"]).set_index(["area_code", "year"])


def years() -> list[int]:
    """The years (ending 31 March) the children in need tables hold."""
    return sorted(int(y) for y in column(MEASURES["referrals_per_10k"].numerator).index.unique(1))


def values(measure: Measure, areas: list[str], span: list[int]) -> pd.DataFrame:
    """``measure`` for ``areas`` x ``span``: columns area_code, year, value, status."""
    index = pd.MultiIndex.from_product([areas, span], names=["area_code", "year"])
    num = column(measure.numerator).reindex(index)
    value = num["value"]
    status = num["status"].fillna(NOT_IN_TABLES)
    status = status.where(status == PUBLISHED, measure.numerator.column + ": " + status)
    if measure.denominator is not None:
        den = column(measure.denominator).reindex(index)
        value = measure.scale * value / den["value"].where(den["value"] > 0)
        what = "children aged 0-17" if measure.denominator == POP else measure.denominator.column
        den_status = den["status"].fillna(NOT_IN_TABLES).where(den["value"] != 0, "zero")
        status = pd.Series(
            np.where((status == PUBLISHED) & value.isna(), what + ": " + den_status, status),
            index=index,
        )
    return pd.DataFrame({"value": value, "status": status}, index=index).reset_index()


@dataclass(frozen=True)
class Council:
    code: str
    name: str
    neighbours: tuple[str, ...]
    names: dict  # area code -> name, for the council, its neighbours and England
    closeness: dict  # neighbour's code -> the model's word for it ("Very close", "Close" ...)


def council(name: str, year: int | None = None) -> tuple[Council, int]:
    """The council called ``name`` (name, old or ONS code) and the year, checked."""
    span = years()
    if year is not None and not span[0] <= year <= span[-1]:
        raise NeighboursError(
            f"--year {year}: the DfE tables cover the years ending 31 March {span[0]} to {span[-1]}"
        )
    year = span[-1] if year is None else year
    code, la_name = published.find_council(name, year)
    near = tuple(published.neighbours(code))
    if not near:
        raise NeighboursError(
            f"--la {name!r}: {la_name} (old_la_code {code}) has no statistical neighbours in "
            f"{published.NEIGHBOURS_FILE} (the 2025 groupings cover today's councils only)"
        )
    names = published.councils().set_index("old_la_code")["la_name"].to_dict()
    names = {c: names.get(c, f"council {c}") for c in (code, *near)}
    names[ENGLAND] = "England"
    model = published._table(published.NEIGHBOURS_FILE).set_index("old_la_code").loc[code]
    closeness = {model[f"SN_{i}"]: model[f"SN_{i}P"].strip() for i in range(1, 11)}
    return Council(code, la_name, near, names, closeness), year


def comparison(place: Council) -> pd.DataFrame:
    """The tidy table: one row per measure, year and area (the council, each neighbour, the
    neighbours' median, England) with value, status and the rank among the council and its
    neighbours (1 = highest; ``of``: how many had a figure)."""
    span = years()
    areas = [place.code, *place.neighbours, ENGLAND]
    role = {place.code: COUNCIL, ENGLAND: NATIONAL} | dict.fromkeys(place.neighbours, NEIGHBOUR)
    parts = []
    for measure in MEASURES.values():
        rows = values(measure, areas, span)
        rows["role"] = rows["area_code"].map(role)
        ranked = rows.loc[rows["role"] != NATIONAL]
        rows["rank"] = ranked.groupby("year")["value"].rank(ascending=False, method="min")
        rows["of"] = rows["year"].map(ranked.groupby("year")["value"].count())
        rows.loc[rows["role"] == NATIONAL, "of"] = np.nan
        near = rows.loc[rows["role"] == NEIGHBOUR].groupby("year")["value"]
        median = pd.DataFrame({"year": span, "value": near.median().reindex(span).to_numpy()})
        count = near.count().reindex(span).to_numpy()
        median["status"] = [
            f"median of {n} of {len(place.neighbours)} neighbours" if n else "no neighbour figure"
            for n in count
        ]
        median["area_code"], median["role"] = MEDIAN, MEDIAN
        parts.append(pd.concat([rows, median]).assign(measure=measure.key))
    out = pd.concat(parts, ignore_index=True)
    names = place.names | {MEDIAN: "Statistical neighbours' median"}
    out["area"] = out["area_code"].map(names)
    out["label"] = out["measure"].map(lambda k: MEASURES[k].label)
    out["unit"] = out["measure"].map(lambda k: MEASURES[k].unit)
    order = {COUNCIL: 0, MEDIAN: 1, NATIONAL: 2, NEIGHBOUR: 3}
    out["_order"] = out["role"].map(order)
    out["_m"] = out["measure"].map(list(MEASURES).index)
    out = out.sort_values(["_m", "year", "_order", "area"], kind="stable")
    columns = ["measure", "label", "unit", "year", "area", "area_code", "role", "value", "rank",
               "of", "status"]  # fmt: skip
    out = out[columns].reset_index(drop=True)
    out["rank"] = out["rank"].astype("Int64")
    out["of"] = out["of"].astype("Int64")
    return out


#: a change of less than this share between two years is "flat"
FLAT = 0.02


def trend(series: pd.Series, year: int, unit: str = PER_10K, n: int = 3) -> str:
    """The direction over the ``n`` years to ``year``: rising, falling, steady or mixed, with
    the change from the first to the last of them (percentage points for a percentage, else
    relative); "n/a" while a year is missing. A step under FLAT (relative) is steady."""
    span = list(range(year - n + 1, year + 1))
    got = series.reindex(span)
    if got.isna().any():
        gone = ", ".join(str(y) for y in got.index[got.isna()])
        return f"n/a ({gone} missing)"
    steps = []
    for a, b in zip(got.iloc[:-1], got.iloc[1:], strict=True):
        change = (b - a) / abs(a) if a else (np.inf if b else 0.0)
        steps.append(0 if abs(change) < FLAT else int(np.sign(change)))
    word = {1: "rising", -1: "falling", 0: "steady"}.get(steps[0], "mixed")
    if any(s != steps[0] for s in steps):
        word = "mixed"
    first, last = got.iloc[0], got.iloc[-1]
    if unit == PERCENT:
        change = f"{last - first:+.1f} pts"
    else:
        change = f"{(last - first) / abs(first):+.0%}" if first else "from 0"
    return f"{word} ({change} since {span[0]})"


def summary(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per measure for ``year``: council, neighbours' median, England, rank, of, trend,
    and the council's status where its figure is missing."""
    rows = []
    for key, measure in MEASURES.items():
        part = table.loc[table["measure"] == key]
        now = part.loc[part["year"] == year].set_index("role")
        mine = part.loc[part["role"] == COUNCIL].set_index("year")["value"]
        own = now.loc[COUNCIL]
        rows.append(
            {
                "measure": key,
                "label": measure.label,
                "unit": measure.unit,
                "council": own["value"],
                "neighbours_median": now.loc[MEDIAN, "value"],
                "england": now.loc[NATIONAL, "value"],
                "rank": float(own["rank"]) if pd.notna(own["rank"]) else np.nan,
                "of": float(own["of"]) if pd.notna(own["of"]) else np.nan,
                "trend": trend(mine, year, measure.unit),
                "status": own["status"],
            }
        )
    return pd.DataFrame(rows)
