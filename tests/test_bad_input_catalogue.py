"""A catalogue of bad inputs: each is refused up front, in one message, with exit code 2.

Every case runs the command line in-process (click's CliRunner) in a fresh folder and asserts:
exit code 2; a message naming the source (the file, ``--set``, ``--years`` or the option) and
the key or column; no traceback; nothing left behind (the folder holds exactly what it held);
and bounded time and memory. Almost every case fails in validation, before any simulation or
fit, so the catalogue runs in seconds. Signals (Ctrl-C, ``kill -9`` of a batch) need real
processes and are at the end. Categories: scenario keys, types, ranges, pathway graph, files,
encodings, CLI options, calibration CSVs, signals. See docs/bad-input.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = 'extends = "builtin:baseline"\nname = "t"\n'
SECRET = "s3cr3t-token-0123456789"
#: each case's bounds
SECONDS = 10.0
PEAK_BYTES = 150_000_000


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: list[str]  # substrings of the message: its source and its key
    files: dict[str, str | bytes] = field(default_factory=dict)
    forbid: list[str] = field(default_factory=list)


CASES: list[Case] = []


def add(category: str, case: Case) -> None:
    case.id = f"{category}:{case.id}"
    CASES.append(case)


def run_set(*assignments: str) -> list[str]:
    argv = ["run", "good.toml", "--out", "out"]
    for text in assignments:
        argv += ["--set", text]
    return argv


def set_case(category: str, assignment: str, key: str, *more: str, extra=()) -> None:
    add(category, Case(assignment, run_set(assignment, *extra), ["--set: ", key, *more],
                       {"good.toml": GOOD}))  # fmt: skip


# --- scenario keys: unknown keys are named and their values never repeated ----------------
for text in [
    "demand.contacts_per_yr=1", "teams.cin.postss=3", "workforce.agency.fill_dayz=3",
    "pathway.stages.cin.durationn=3", "costs.agency_day_rate=1", "limits.max_yearz=5",
    "yeras=3", "warmup=3", "demand.sources_mix=1", "workforce.permanent.turnover=0.1",
    "pathway.stagess=1", "teams.cin.caseload=1", "workforce.agency_policy.request=1",
    "demand.monthly_factor=1", "pathway.stages.cin.duration.mean=3",
    f'teams.cin.api_token="{SECRET}"',
]:  # fmt: skip
    key = text.partition("=")[0]
    add("keys", Case(text, run_set(text), [f"--set: {key}: unknown key"], {"good.toml": GOOD},
                     forbid=[SECRET]))  # fmt: skip
set_case("keys", "costs.placement_per_week_gbp={hotel=5}", "costs.placement_per_week_gbp", "hotel")
# a duration that is neither a number nor a table says it could be either
set_case(
    "types",
    'workforce.agency.fill_days="three"',
    "workforce.agency.fill_days",
    "number of days",
    "mean_days",
)
set_case(
    "types", "pathway.stages.cin.duration=true", "pathway.stages.cin.duration", "number of days"
)
# a misspelt team is a new team (teams are named by the scenario), staffed and paid but serving
# no stage: refused, naming it and the teams the stages use
set_case("keys", "teams.cinn.posts=3", "teams.cinn", "serves no stage", "'cin'")
set_case("keys", 'pathway.stages.cin.routes_by_month={"2026-13"={closed=1.0}}',
         "pathway.stages.cin.routes_by_month", "YYYY-MM")  # fmt: skip

# --- types: strict, no bool as a number, no numeric strings -----------------------------------
for text, key in [
    ("pathway.stages.cin.initial_cases=true", "pathway.stages.cin.initial_cases"),
    ('teams.cin.posts="92"', "teams.cin.posts"),
    ("teams.cin.posts=92.5", "teams.cin.posts"),
    ("teams.cin.posts=92.0", "teams.cin.posts"),
    ("years=true", "years"),
    ('years="3"', "years"),
    ('demand.contacts_per_year="15000"', "demand.contacts_per_year"),
    ("demand.contacts_per_year=[1, 2]", "demand.contacts_per_year"),
    ("demand.contacts_per_year={a=1}", "demand.contacts_per_year"),
    ("start_date=20260401", "start_date"),
    ('start_date="01/04/2026"', "start_date"),
    ("start_date=2026-04-01T10:00:00", "start_date"),
    ("name=5", "name"),
    ('name=""', "name"),
    ("queue_order=1", "queue_order"),
    ("pathway.stages.cin.blocking=1", "pathway.stages.cin.blocking"),
    ('pathway.stages.cin.blocking="yes"', "pathway.stages.cin.blocking"),
    (
        "workforce.agency.release_on_permanent_start=0",
        "workforce.agency.release_on_permanent_start",
    ),
    ("pathway.stages.cin.priority=1.5", "pathway.stages.cin.priority"),
    ("pathway.stages.cin.priority=true", "pathway.stages.cin.priority"),
    ('demand.monthly_factors="flat"', "demand.monthly_factors"),
    ("demand.monthly_factors=[1,1,1,1,1,1,1,1,1,1,1,true]", "demand.monthly_factors"),
    ('demand.weekday_factors=[1,1,1,1,1,"1",1]', "demand.weekday_factors"),
    ('pathway.exits="nfa"', "pathway.exits"),
    ("pathway.stages.cin.team=3", "pathway.stages.cin.team"),
    ('costs.care_stages="cic"', "costs.care_stages"),
    ('demand.sources={police="0.5", other=0.5}', "demand.sources.police"),
    ("teams.cin.caseload_cap=false", "teams.cin.caseload_cap"),
    ('pathway.stages.cin.duration="200"', "pathway.stages.cin.duration"),
    ("pathway.stages.cin.duration={mean_days=true}", "pathway.stages.cin.duration.mean_days"),
    ("demand.intensity_file=5", "demand.intensity_file"),
    ("warmup_days=182.0", "warmup_days"),
    ('teams.cin.sickness_share="5%"', "teams.cin.sickness_share"),
    ("limits.max_years=true", "limits.max_years"),
]:
    set_case("types", text, key)

# --- ranges: finite, and within the documented ceilings (limits.*) --------------------------
for text, key in [
    ("demand.contacts_per_year=inf", "demand.contacts_per_year"),
    ("demand.contacts_per_year=nan", "demand.contacts_per_year"),
    ("demand.contacts_per_year=-inf", "demand.contacts_per_year"),
    ("demand.contacts_per_year=-1", "demand.contacts_per_year"),
    ("demand.contacts_per_year=1e8", "demand.contacts_per_year"),
    ('pathway.stages.cin.duration={dist="gamma", mean_days=10, cv=inf}', "pathway.stages.cin.duration.cv"),
    ('pathway.stages.cin.duration={dist="gamma", mean_days=10, cv=1e6}', "pathway.stages.cin.duration.cv"),
    ("pathway.stages.cin.duration=1e9", "pathway.stages.cin.duration.mean_days"),
    ("pathway.stages.cin.duration=nan", "pathway.stages.cin.duration.mean_days"),
    ("years=0", "years"), ("years=-1", "years"), ("years=10000", "years"), ("years=200", "years"),
    ("years=0.001", "years"), ("years=nan", "years"), ("years=inf", "years"),
    ("start_date=9999-06-01", "start_date"), ("start_date=1900-01-01", "start_date"),
    ("warmup_days=1000000000", "warmup_days"), ("warmup_days=-1", "warmup_days"),
    ("pathway.stages.cin.initial_cases=1000000000", "pathway.stages.cin.initial_cases"),
    ("pathway.stages.cin.initial_cases=-5", "pathway.stages.cin.initial_cases"),
    ("teams.cin.posts=100000000", "teams.cin.posts"),
    ("teams.early_help.capacity_cases=100000000", "teams.early_help.capacity_cases"),
    ("workforce.permanent.turnover_per_year=inf", "workforce.permanent.turnover_per_year"),
    ("workforce.agency.fill_share=0", "workforce.agency.fill_share"),
    ("workforce.agency.fill_share=1.5", "workforce.agency.fill_share"),
    ("demand.growth_per_year=-1", "demand.growth_per_year"),
    ("demand.growth_per_year=5", "demand.growth_per_year"),
    ("costs.inflation_per_year=3", "costs.inflation_per_year"),
    ("demand.monthly_factors=[0,0,0,0,0,0,0,0,0,0,0,0]", "demand.monthly_factors"),
    ("demand.weekday_factors=[1,1,1]", "demand.weekday_factors"),
    ("demand.end_of_term_days=1000000", "demand.end_of_term_days"),
    ("workforce.agency_policy.review_every_days=0.000001", "workforce.agency_policy.review_every_days"),
    ("workforce.agency_policy.extra_engagement_days=0.0001", "workforce.agency_policy.extra_engagement_days"),
    ("workforce.agency_policy.max_extra_per_team=100000000", "workforce.agency_policy.max_extra_per_team"),
    ('demand.monthly_contacts={"2026-05"=1e9}', "demand.monthly_contacts.2026-05"),
    ('demand.monthly_contacts={"2026-05"=-3}', "demand.monthly_contacts.2026-05"),
    ("costs.agency_billed_days_per_year=400", "costs.agency_billed_days_per_year"),
    ("teams.cin.sickness_share=1.2", "teams.cin.sickness_share"),
    ("costs.placement_mix={residential=1.2}", "costs.placement_mix"),
    ("pathway.stages.cin.routes={closed=0.5}", "pathway.stages.cin.routes"),
    ("demand.sources={police=0.3}", "demand.sources"),
    ("teams.cin.initial_permanent=1000", "teams.cin"),
    ("limits.max_years=-3", "limits.max_years"),
]:  # fmt: skip
    set_case("ranges", text, key)
set_case("ranges", "demand.contacts_per_year=400000", "demand.contacts_per_year",
         "limits.max_simulated_cases", extra=("years=25",))  # fmt: skip
add("ranges", Case("limit-raised-still-bounded", run_set("limits.max_years=100", "years=101"),
                   ["--set: years", "limits.max_years = 100"], {"good.toml": GOOD}))  # fmt: skip

# --- the pathway graph: an absorbing chain, every stage reached ------------------------------
for name, assignments, key, words in [
    ("closed-loop", ["pathway.stages.cin.routes={cp=1.0}", "pathway.stages.cp.routes={cin=1.0}"],
     "pathway.stages.cin.routes", "no way out"),
    ("self-loop", ["pathway.stages.s47.routes={s47=1.0}"], "pathway.stages.s47.routes", "no way out"),
    ("care-loop", ["pathway.stages.cic.routes={after_care=1.0}",
                   "pathway.stages.after_care.routes={cic=1.0}"], "pathway.stages.", "no way out"),
    ("loop-in-one-month", ['pathway.stages.cin.routes_by_month={"2026-06"={cp=1.0}}',
                           "pathway.stages.cp.routes={cin=1.0}"],
     "pathway.stages.cin.routes_by_month.2026-06", "no way out"),
    ("unreachable-stage", ["pathway.stages.front_door.routes={nfa=0.5, early_help=0.5}"],
     "pathway.stages.front_door.routes", "never reached"),
    ("loop-barely-open", ["pathway.stages.cin.routes={cp=0.9999, closed=0.0001}",
                          "pathway.stages.cp.routes={cin=1.0}"], "pathway.stages.",
     "limits.max_stages_per_case"),
    ("entry-not-a-stage", ['pathway.entry="triage"'], "pathway", "entry 'triage' is not a stage"),
    ("referral-not-a-stage", ['pathway.referral_stage="x"'], "pathway", "is not a stage"),
    ("no-exits", ["pathway.exits=[]"], "pathway.exits", "at least one exit"),
    ("exit-is-a-stage", ['pathway.exits=["cin","closed","nfa","return_home","care_leaver_closed"]'],
     "pathway", "both as stage and exit"),
    ("unknown-target", ["pathway.stages.cin.routes={closed=0.9, limbo=0.1}"], "pathway",
     "neither a stage nor an exit"),
    ("team-missing", ['pathway.stages.cin.team="hub"'], "pathway.stages.cin.team", "not a team"),
    ("care-stage-missing", ['costs.care_stages=["nowhere"]'], "costs", "not a stage"),
]:  # fmt: skip
    add("graph", Case(name, run_set(*assignments), ["--set: ", key, words], {"good.toml": GOOD}))

# --- files: checked for what they are, bounded, kept in the scenario's folder -----------------
SECRET_TOML = f'api_token = "{SECRET}"\nendpoint = "https://example.org"\n'
PARTIAL_SECRET = f'name = "x"\napi_token = "{SECRET}"\n'
INTENSITY_OK = "month,s0\n2026-04,1200\n"


def file_case(name: str, scenario: str | bytes, expect: list[str], files=None, argv_extra=(),
              forbid=()) -> None:  # fmt: skip
    add("files", Case(name, ["run", "sc/main.toml", "--out", "out", *argv_extra], expect,
                      {"sc/main.toml": scenario, **(files or {})}, forbid=list(forbid)))  # fmt: skip


file_case("binary", b"\x00\x01\x02PK\x03\x04" * 50, ["main.toml", "binary"])
file_case("not-toml", "name = \n", ["main.toml", "not valid TOML"])
file_case("empty", "", ["main.toml", "name: required key is missing"])
file_case(
    "foreign-toml", SECRET_TOML, ["main.toml", "does not look like a scenario"], forbid=[SECRET]
)
file_case("extends-dot", 'extends = "."\nname = "x"\n', ["main.toml", "extends", "folder"])
file_case("extends-empty", 'extends = ""\nname = "x"\n', ["main.toml", "extends"])
file_case("extends-number", 'extends = 5\nname = "x"\n', ["main.toml", "extends"])
file_case("extends-dev-zero", 'extends = "/dev/zero"\n', ["main.toml", "extends", "outside"])
file_case("extends-dev-zero-allowed", 'extends = "/dev/zero"\n', ["extends", "device or pipe"],
          argv_extra=["--allow-outside-paths"])  # fmt: skip
file_case("extends-outside", 'extends = "../secrets.toml"\n', ["main.toml", "extends", "outside"],
          {"secrets.toml": SECRET_TOML}, forbid=[SECRET])  # fmt: skip
file_case("extends-foreign-allowed", 'extends = "../secrets.toml"\n',
          ["secrets.toml", "does not look like a scenario"], {"secrets.toml": SECRET_TOML},
          argv_extra=["--allow-outside-paths"], forbid=[SECRET])  # fmt: skip
file_case("extends-partial-secret", 'extends = "base.toml"\n',
          ["base.toml: api_token: unknown key"], {"sc/base.toml": PARTIAL_SECRET}, forbid=[SECRET])  # fmt: skip
file_case("extends-cycle", 'extends = "b.toml"\n', ["extends forms a cycle"],
          {"sc/b.toml": 'extends = "main.toml"\n'})  # fmt: skip
file_case("extends-missing", 'extends = "nowhere.toml"\n', ["nowhere.toml", "not found"])
file_case("extends-too-deep", 'extends = "c0.toml"\n', ["extends", "at most 20"],
          {f"sc/c{i}.toml": f'extends = "c{i + 1}.toml"\n' for i in range(25)})  # fmt: skip
file_case("extends-builtin-missing", 'extends = "builtin:nope"\n', ["builtin:nope", "no such"])
file_case("calibration-dot", GOOD + 'calibration = "."\n', ["main.toml: calibration", "folder"])
file_case("calibration-folder", GOOD + 'calibration = "fitted"\n', ["calibration", "folder"],
          {"sc/fitted/x.txt": "x"})  # fmt: skip
file_case("calibration-missing", GOOD + 'calibration = "p.toml"\n', ["p.toml", "not found"])
file_case("calibration-outside", GOOD + 'calibration = "../p.toml"\n',
          ["main.toml: calibration", "outside"], {"p.toml": SECRET_TOML}, forbid=[SECRET])  # fmt: skip
file_case("calibration-number", GOOD + "calibration = 5\n", ["main.toml: calibration"])
file_case("calibration-extends", GOOD + 'calibration = "p.toml"\n', ["p.toml", "cannot use extends"],
          {"sc/p.toml": 'extends = "main.toml"\n'})  # fmt: skip
file_case("calibration-foreign", GOOD + 'calibration = "p.toml"\n',
          ["p.toml", "does not look like a scenario"], {"sc/p.toml": SECRET_TOML}, forbid=[SECRET])  # fmt: skip
file_case("calibration-dev-zero", GOOD + 'calibration = "/dev/zero"\n', ["device or pipe"],
          argv_extra=["--allow-outside-paths"])  # fmt: skip
file_case("too-large", GOOD + "#" * 1_100_000 + "\n", ["main.toml", "at most 1,000,000 bytes"])
for name, csv in [
    ("missing", None),
    ("negative", "month,s0\n2026-04,-5\n"),
    ("infinite", "month,s0\n2026-04,inf\n"),
    ("huge", "month,s0\n2026-04,1e12\n"),
    ("no-date-column", "when,s0\n2026-04,5\n"),
    ("bad-date", "month,s0\nApril,5\n"),
    ("header-only", "month,s0\n"),
    ("binary", b"\x00\x00\x01\x02" * 100),
    ("latin-1", "month,s0\n2026-04,5\n# caf\xe9\n".encode("latin-1")),
    ("no-sample-column", "month\n2026-04\n"),
]:
    files = {} if csv is None else {"sc/i.csv": csv}
    file_case(f"intensity-{name}", GOOD + '[demand]\nintensity_file = "i.csv"\n',
              ["main.toml: demand.intensity_file"], files)  # fmt: skip
file_case("intensity-outside", GOOD + '[demand]\nintensity_file = "../i.csv"\n',
          ["main.toml: demand.intensity_file", "outside"], {"i.csv": INTENSITY_OK})  # fmt: skip
file_case("intensity-folder", GOOD + '[demand]\nintensity_file = "d"\n',
          ["demand.intensity_file", "folder"], {"sc/d/x": "x"})  # fmt: skip
add("files", Case("scenario-is-a-folder", ["run", "sc", "--out", "out"], ["SCENARIO", "directory"],
                  {"sc/x.toml": GOOD}))  # fmt: skip
add(
    "files",
    Case("scenario-dev-zero", ["run", "/dev/zero", "--out", "out"], ["/dev/zero", "device"]),
)
add(
    "files",
    Case("scenario-missing", ["run", "nope.toml", "--out", "out"], ["nope.toml", "not found"]),
)
add("files", Case("scenario-builtin-missing", ["run", "builtin:nope", "--out", "out"],
                  ["builtin:nope", "no such built-in scenario"]))  # fmt: skip

# --- encodings ---------------------------------------------------------------------------------
file_case("latin-1", (GOOD + 'description = "Café"\n').encode("latin-1"),
          ["main.toml", "expected UTF-8", "line 3", "save it as UTF-8"])  # fmt: skip
file_case("utf-16", GOOD.encode("utf-16"), ["main.toml", "binary"])
file_case("cp1252-quote", (GOOD + 'description = "it\x92s"\n').encode("latin-1"),
          ["main.toml", "expected UTF-8"])  # fmt: skip
file_case(
    "bom-then-error", ("\ufeff" + GOOD + "years = -1\n").encode("utf-8"), ["main.toml: years"]
)  # a byte-order mark is fine: the error is the value

# --- command-line options ---------------------------------------------------------------------
for name, argv, expect in [
    ("seed-negative", ["--seed", "-1"], ["--seed"]),
    ("seed-text", ["--seed", "abc"], ["--seed"]),
    ("seed-huge", ["--seed", str(2**64)], ["--seed"]),
    ("years-inf", ["--years", "inf"], ["--years"]),
    ("years-nan", ["--years", "nan"], ["--years"]),
    ("years-minus-inf", ["--years", "-inf"], ["--years"]),
    ("years-zero", ["--years", "0"], ["--years: years"]),
    ("years-negative", ["--years", "-2"], ["--years: years"]),
    ("years-10000", ["--years", "10000"], ["--years: years", "limits.max_years"]),
    ("years-200", ["--years", "200"], ["--years: years", "limits.max_years"]),
    ("years-tiny", ["--years", "0.001"], ["--years: years", "at least a day"]),
    ("years-text", ["--years", "three"], ["--years"]),
    ("replications-zero", ["-n", "0"], ["--replications"]),
    ("replications-huge", ["-n", "100000000"], ["--replications"]),
    ("jobs-zero", ["--jobs", "0"], ["--jobs"]),
    ("jobs-huge", ["--jobs", "100000"], ["--jobs"]),
    ("executor-unknown", ["--executor", "spark"], ["--executor"]),
    ("set-no-equals", ["--set", "years"], ["--set 'years'", "KEY.PATH=VALUE"]),
    ("set-no-key", ["--set", "=5"], ["--set '=5'"]),
    ("set-empty-part", ["--set", "a..b=1"], ["--set 'a..b=1'"]),
    ("set-empty-value", ["--set", "years="], ["--set: years"]),
]:  # fmt: skip
    add("cli", Case(name, ["run", "good.toml", "--out", "out", *argv], expect, {"good.toml": GOOD}))
for name, out, files, expect in [
    ("out-is-a-file", "f.txt", {"f.txt": "x"}, ["--out", "not a folder"]),
    ("out-under-a-file", "f.txt/sub", {"f.txt": "x"}, ["--out", "is a file"]),
    ("out-in-proc", "/proc/demandsim-out", {}, ["--out", "cannot be made"]),
    ("out-in-sys", "/sys/demandsim/out", {}, ["--out", "cannot be made"]),
    ("out-empty", "", {}, ["--out"]),
]:
    add("cli", Case(name, ["run", "good.toml", "--out", out], expect, {"good.toml": GOOD, **files}))
for name, argv, expect in [
    ("compare-one", ["compare", "good.toml", "--out", "out"], ["at least two"]),
    ("compare-other-dates", ["compare", "good.toml", "old.toml", "--out", "out"],
     ["'t-2' has start_date 2014-09-01, 't' has 2026-04-01", "same in every file"]),
    ("compare-other-teams", ["compare", "good.toml", "team.toml", "--out", "out"],
     ["'t-2' has teams", "extra"]),
    ("compare-bad-second", ["compare", "good.toml", "bad.toml", "--out", "out"], ["bad.toml: teams.cin.posts"]),
    ("sweep-no-values", ["sweep", "good.toml", "--vary", "years", "--out", "out"], ["--vary"]),
    ("sweep-repeated", ["sweep", "good.toml", "--vary", "years=1,1", "--out", "out"], ["--vary", "repeated"]),
    ("sweep-huge", ["sweep", "good.toml", "--vary", "years=" + ",".join(str(1 + i / 1000) for i in range(200)),
                    "--vary", "warmup_days=" + ",".join(str(i) for i in range(100)), "--out", "out"],
     ["--vary", "design points"]),
    ("sweep-unknown-key", ["sweep", "good.toml", "--vary", "workforce.agency.fill_dayz=1,2", "--out", "out"],
     ["--vary workforce.agency.fill_dayz", "is not a key"]),
    ("sweep-bad-value", ["sweep", "good.toml", "--vary", "years=1,inf", "--out", "out"],
     ["--vary", "years=inf", "finite"]),
    ("run-years-and-file", ["run", "bad.toml", "--years", "2", "--out", "out"], ["bad.toml: teams.cin.posts"]),
    ("calibrate-nothing", ["calibrate", "--out", "out"], ["DATA_DIR or --la"]),
    ("calibrate-both", ["calibrate", "data", "--la", "Kent", "--out", "out"], ["DATA_DIR or --la"]),
    ("calibrate-unknown-la", ["calibrate", "--la", "Narnia", "--out", "out"], ["--la 'Narnia'"]),
    ("calibrate-year", ["calibrate", "--la", "Kent", "--year", "1800", "--out", "out"], ["--year"]),
    ("calibrate-samples-zero", ["calibrate", "data", "--samples", "0", "--out", "out"], ["--samples"]),
    ("calibrate-samples-huge", ["calibrate", "data", "--samples", "1000000000", "--out", "out"], ["--samples"]),
    ("calibrate-seed", ["calibrate", "data", "--seed", "-3", "--out", "out"], ["--seed"]),
    ("calibrate-out-file", ["calibrate", "data", "--out", "f.txt"], ["--out", "not a folder"]),
    ("calibrate-out-proc", ["calibrate", "--la", "Kent", "--out", "/proc/x"], ["--out", "cannot be made"]),
    ("calibrate-missing-dir", ["calibrate", "nowhere", "--out", "out"], ["DATA_DIR", "does not exist"]),
    ("calibrate-dir-is-file", ["calibrate", "f.txt", "--out", "out"], ["DATA_DIR", "is a file"]),
    ("neighbours-no-la", ["neighbours", "--out", "out"], ["--la"]),
    ("neighbours-unknown-la", ["neighbours", "--la", "Narnia", "--out", "out"], ["--la 'Narnia'"]),
    ("neighbours-year", ["neighbours", "--la", "Kent", "--year", "2030", "--out", "out"], ["--year 2030", "2013 to 2025"]),
    ("neighbours-abolished", ["neighbours", "--la", "Cumbria", "--year", "2024", "--out", "out"], ["--la 'Cumbria'", "abolished", "Cumberland"]),
    ("neighbours-no-neighbours", ["neighbours", "--la", "928", "--year", "2019", "--out", "out"], ["--la '928'", "no statistical neighbours"]),
    ("neighbours-out-file", ["neighbours", "--la", "Kent", "--out", "f.txt"], ["--out", "not a folder"]),
    ("serve-out-root-file", ["serve", "--out-root", "f.txt", "--no-browser"], ["--out-root", "writable folder", "not a folder"]),
    ("serve-out-root-proc", ["serve", "--out-root", "/proc", "--no-browser"], ["--out-root", "writable folder", "cannot be made"]),
    ("serve-port", ["serve", "--port", "70000", "--no-browser"], ["--port", "70000"]),
    ("outlook-nothing", ["outlook", "--out", "out"], ["DATA_DIR or --la", "got neither"]),
    ("outlook-both", ["outlook", "data", "--la", "Kent", "--out", "out"], ["DATA_DIR or --la", "got both"]),
    ("outlook-unknown-la", ["outlook", "--la", "Narnia", "--out", "out"], ["--la 'Narnia'", "no English council"]),
    ("outlook-la-year", ["outlook", "--la", "Kent", "--year", "2030", "--out", "out"], ["--year 2030", "2013 to 2025"]),
    ("outlook-year-without-la", ["outlook", "data", "--year", "2024", "--out", "out"], ["--year", "only with --la"]),
    ("outlook-la-backtest", ["outlook", "--la", "Kent", "--backtest", "f.txt", "--out", "out"], ["--backtest", "DATA_DIR"]),
    ("outlook-unknown-team", ["outlook", "--la", "Kent", "--threshold", "mash=10", "--out", "out"],
     ["--threshold: thresholds.mash", "not a staffed team", "'cin'"]),
    ("outlook-unknown-team-file", ["outlook", "data", "--settings", "outlook.toml", "--out", "out"],
     ["outlook.toml: thresholds.mash", "not a staffed team"]),
    ("outlook-level", ["outlook", "--la", "Kent", "--level", "1.5", "--out", "out"], ["--level", "from 0 to 1", "1.5"]),
    ("outlook-red-from", ["outlook", "data", "--settings", "lights.toml", "--out", "out"],
     ["lights.toml: lights.red_from", "less than or equal to 1"]),
    ("outlook-weeks-3", ["outlook", "--la", "Kent", "--weeks", "3", "--out", "out"], ["--weeks", "from 4 to 26", "got 3"]),
    ("outlook-weeks-27", ["outlook", "data", "--weeks", "27", "--out", "out"], ["--weeks", "from 4 to 26", "got 27"]),
    ("outlook-no-open-cases", ["outlook", "council", "--out", "out"], ["council: the outlook starts from the council's open cases"]),
]:  # fmt: skip
    files = {
        "good.toml": GOOD,
        "bad.toml": GOOD + "[teams.cin]\nposts = -3\n",
        "old.toml": GOOD + "start_date = 2014-09-01\n",
        "team.toml": GOOD + '[teams.extra]\nposts = 1\n[pathway.stages.cp]\nteam = "extra"\n',
        "f.txt": "x",
        "data/x.txt": "x",
        "outlook.toml": "[thresholds]\nmash = 10\n",
        "lights.toml": "[lights]\nred_from = 1.2\n",
        "council/vacancies.csv": "vacancy_id,team,opened_date,filled_date,filled_by\n"
        "V1,cin,2024-01-02,2024-02-01,agency\n",
    }
    add("cli", Case(name, argv, expect, files))

# --- calibration CSVs: named file, row and column; nothing written ---------------------------
HEADERS = {
    "demand.csv": "date,contacts,referrals",
    "staff_spells.csv": "worker_id,team,contract,start_date,end_date,fte",
    "vacancies.csv": "vacancy_id,team,opened_date,filled_date,filled_by",
    "case_episodes.csv": "case_id,stage,start_date,end_date,next_stage",
    "snapshot_cases.csv": "snapshot_date,case_id,stage,start_date,allocated",
    "snapshot_staff.csv": "snapshot_date,worker_id,team,contract",
    "ssda903/episodes.csv": "CHILD,DECOM,PLACE,DEC,REC",
    "ssda903/header.csv": "CHILD,DOB",
}


def months(n: int, contacts: int = 100, start: int = 2021) -> str:
    rows = [f"{start + m // 12}-{m % 12 + 1:02d},{contacts},{contacts // 3}" for m in range(n)]
    return HEADERS["demand.csv"] + "\n" + "\n".join(rows) + "\n"


def cal_case(name: str, files: dict[str, str | bytes], expect: list[str]) -> None:
    add("calibration", Case(name, ["calibrate", "data", "--out", "out"], expect,
                            {f"data/{k}": v for k, v in files.items()}))  # fmt: skip


for file, header in HEADERS.items():
    cal_case(f"header-only-{file}", {file: header + "\n"}, [file, "only the header"])
cal_case("zero-bytes", {"demand.csv": ""}, ["demand.csv", "empty file"])
cal_case("one-row-demand", {"demand.csv": months(1)}, ["demand.csv", "'date'", "24 months"])
cal_case("three-months", {"demand.csv": months(3)}, ["demand.csv", "'date'", "got 3 months"])
cal_case("23-months", {"demand.csv": months(23)}, ["demand.csv", "got 23 months"])
cal_case(
    "all-zero-demand",
    {"demand.csv": months(36, contacts=0)},
    ["demand.csv", "'contacts'", "0 in every row"],
)
cal_case(
    "future-demand",
    {"demand.csv": months(36, start=2099)},
    ["demand.csv", "'date'", "before today"],
)
cal_case("after-snapshot", {
    "snapshot_staff.csv": HEADERS["snapshot_staff.csv"] + "\n2025-03-31,W1,cin,permanent\n",
    "case_episodes.csv": HEADERS["case_episodes.csv"] + "\nA,cin,2025-06-01,,\n",
}, ["case_episodes.csv", "row", "'start_date'", "snapshot date"])  # fmt: skip
cal_case("latin-1", {"staff_spells.csv": (HEADERS["staff_spells.csv"] + "\nW1,cin,permanent,2020-01-01,,1\n# Zoë\n").encode("latin-1")},
         ["staff_spells.csv", "expected UTF-8", "save it as UTF-8"])  # fmt: skip
cal_case("binary", {"vacancies.csv": b"\x00PK\x03\x04" * 100}, ["vacancies.csv", "binary"])
cal_case("folder-for-file", {"demand.csv/x": "x"}, ["demand.csv", "expected a CSV file"])
cal_case("missing-column", {"case_episodes.csv": "case_id,stage,start_date,end_date\nA,cin,2024-01-01,\n"},
         ["case_episodes.csv", "'next_stage' is missing"])  # fmt: skip
cal_case("bad-date", {"vacancies.csv": HEADERS["vacancies.csv"] + "\nV1,cin,31/31/2020,,\n"},
         ["vacancies.csv", "row 2", "'opened_date'"])  # fmt: skip
cal_case("negative-count", {"demand.csv": months(30).replace(",100,", ",-100,", 1)},
         ["demand.csv", "row 2", "'contacts'"])  # fmt: skip
cal_case("referrals-over-contacts", {"demand.csv": months(30).replace(",100,33", ",100,130", 1)},
         ["demand.csv", "row 2", "'referrals'"])  # fmt: skip
cal_case("duplicate-id", {"vacancies.csv": HEADERS["vacancies.csv"] + "\nV1,cin,2020-01-01,,\nV1,cin,2020-01-01,,\n"},
         ["vacancies.csv", "row 3", "duplicate id"])  # fmt: skip
cal_case("unknown-team", {"staff_spells.csv": HEADERS["staff_spells.csv"] + "\nW1,narnia,permanent,2020-01-01,,1\n"},
         ["staff_spells.csv", "row 2", "'team'"])  # fmt: skip
cal_case("end-before-start", {"staff_spells.csv": HEADERS["staff_spells.csv"] + "\nW1,cin,permanent,2020-01-01,2019-01-01,1\n"},
         ["staff_spells.csv", "row 2", "'end_date'"])  # fmt: skip
cal_case("bad-flag", {"snapshot_cases.csv": HEADERS["snapshot_cases.csv"] + "\n2025-03-31,A,cin,2025-01-01,maybe\n"},
         ["snapshot_cases.csv", "row 2", "'allocated'"])  # fmt: skip
cal_case("empty-folder", {"notes.txt": "x"}, ["data", "holds none of the calibration inputs"])
cal_case("snapshot-dates-disagree", {
    "snapshot_cases.csv": HEADERS["snapshot_cases.csv"] + "\n2025-03-31,A,cin,2025-01-01,yes\n",
    "snapshot_staff.csv": HEADERS["snapshot_staff.csv"] + "\n2025-03-30,W,cin,permanent\n",
}, ["data", "disagree on snapshot_date"])  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _imported():
    """The commands import their libraries when they run; import them once here, so the time
    bound measures the checking, not a first import of pandas and matplotlib."""
    import demandsim.batch.commands
    import demandsim.calibration.cli
    import demandsim.calibration.council
    import demandsim.calibration.published  # noqa: F401


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_up_front(case: Case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    before = _tree(tmp_path)
    tracemalloc.start()
    started = time.perf_counter()
    result = CliRunner().invoke(main, case.argv)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output = result.output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    for part in case.expect:
        assert part in output, (part, output)
    for secret in case.forbid:
        assert secret not in output
    assert _tree(tmp_path) == before  # nothing left behind, not even an empty folder
    assert seconds < SECONDS, seconds
    assert peak < PEAK_BYTES, peak


def test_the_catalogue_is_large_and_covers_every_category():
    categories = {c.id.split(":")[0] for c in CASES}
    assert categories >= {"keys", "types", "ranges", "graph", "files", "cli", "calibration"}
    assert len(CASES) + len(SIGNAL_CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


def test_every_limit_is_documented_with_its_default():
    from demandsim.scenario import Limits

    text = (ROOT / "docs" / "bad-input.md").read_text()
    for name, info in Limits.model_fields.items():
        assert f"| `limits.{name}` | {info.default} |" in text, name


def test_a_scenario_with_a_byte_order_mark_loads(tmp_path):
    from demandsim.scenario_files import load_scenario

    path = tmp_path / "bom.toml"
    path.write_bytes(("\ufeff" + GOOD).encode("utf-8"))
    assert load_scenario(path).name == "t"


def test_a_valid_loop_with_an_exit_is_accepted():
    from demandsim.scenario_files import load_scenario

    scenario = load_scenario(
        None,
        ["pathway.stages.cin.routes={cp=0.8, closed=0.2}", "pathway.stages.cp.routes={cin=1.0}"],
    )
    assert scenario.pathway.expected_stages("cin") == pytest.approx(9.0)  # 5 in cin, 4 in cp
    from demandsim.run import run_replication

    short = load_scenario(None, ["pathway.stages.cin.routes={cp=0.8, closed=0.2}",
                                 "pathway.stages.cp.routes={cin=1.0}", "years=0.25"])  # fmt: skip
    assert run_replication(short, 0).timeliness["referrals"] > 0  # rare long loops still run


def test_outside_paths_are_allowed_with_the_flag(tmp_path):
    (tmp_path / "base.toml").write_text(GOOD)
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "main.toml").write_text('extends = "../base.toml"\nname = "m"\n')
    from demandsim.scenario_files import ScenarioError, load_scenario

    with pytest.raises(ScenarioError, match="outside"):
        load_scenario(tmp_path / "sc" / "main.toml")
    assert load_scenario(tmp_path / "sc" / "main.toml", allow_outside_paths=True).name == "m"


# --- signals: real processes -----------------------------------------------------------------
SIGNAL_CASES = ["interrupt-at-start-up", "interrupt-in-a-run", "interrupt-in-a-batch",
                "kill-9-of-a-batch",
                pytest.param("interrupt-in-the-act-today-search", marks=pytest.mark.slow)]  # fmt: skip


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    """The command as a shell starts it: its own process group, and Ctrl-C's default action
    (a test runner's worker may ignore SIGINT, and a child would inherit that)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "demandsim", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_line(proc: subprocess.Popen, start: str) -> list[str]:
    """Standard error's lines up to and including the first that starts with ``start``."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(start):
            return seen
    raise AssertionError(f"the command ended before saying {start!r}: {''.join(seen)}")


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_for_children(pid: int, n: int, seconds: float = 60) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        kids = _children(pid)
        if len(kids) >= n:
            time.sleep(1.0)  # let them import and start work
            return kids
        time.sleep(0.1)
    return _children(pid)


PROGRESS = ("demandsim: running", "demandsim: summarising", "demandsim: building",
            "demandsim: act today", "demandsim: checking", "demandsim: calibrating")  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc on Linux")
@pytest.mark.parametrize("name", SIGNAL_CASES)
def test_signals_leave_one_line_and_no_processes(name, tmp_path):
    batch = ["run", "-n", "6", "--jobs", "2", "--years", "1", "--out", "out"]
    if name == "interrupt-at-start-up":
        proc, delay = _start(["run", "--years", "1", "--out", "out"], tmp_path), 0.3
        time.sleep(delay)
        kids = []
    elif name == "interrupt-in-a-run":  # while it simulates (a run takes a few seconds)
        proc = _start(["run", "--years", "3", "--out", "out"], tmp_path)
        before = _wait_for_line(proc, "demandsim: running")
        kids = []
    elif name == "interrupt-in-the-act-today-search":  # its own pool, after the batch's
        demo = str(ROOT / "calibration" / "demo")
        proc = _start(["outlook", demo, "--weeks", "8", "-n", "20", "--jobs", "2", "--out", "out"],
                      tmp_path)  # fmt: skip
        before = _wait_for_line(proc, "demandsim: act today: searching")
        kids = _wait_for_children(proc.pid, 2)
    else:
        proc = _start(batch, tmp_path)
        kids = _wait_for_children(proc.pid, 2)
        assert kids, "the batch started no workers"
    if name == "kill-9-of-a-batch":
        proc.kill()
        proc.communicate(timeout=30)
        deadline = time.time() + 5
        while any(_alive(k) for k in kids) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(_alive(k) for k in kids), "workers outlived their parent"
        return
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    if name in ("interrupt-in-a-run", "interrupt-in-the-act-today-search"):
        err = "".join(before) + err
    assert "Traceback" not in err, err
    # what the run said it was doing before the signal ("demandsim: running ...") is progress,
    # not part of the interruption's message
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(PROGRESS)]
    assert len(lines) == 1 and "interrupted" in lines[0], err
    assert proc.returncode == 130, (proc.returncode, err)  # 128 + SIGINT, as shells report
    time.sleep(0.5)
    assert not any(_alive(k) for k in kids)
    if name == "interrupt-at-start-up":
        assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())
    elif name == "interrupt-in-the-act-today-search":  # an outlook cannot resume: unfinished
        assert (tmp_path / "out" / "INCOMPLETE").exists()
        assert not (tmp_path / "out" / "summary.txt").exists()
        assert "is marked INCOMPLETE: run the same command with --overwrite" in err, err
    elif list(tmp_path.iterdir()):  # a run is a batch of one: what it keeps, it keeps to resume
        assert "--resume" in err, err
