"""Staffing policies do what the scenario says: when agency cover is asked for, and who leaves."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from demandsim.eventlog import Contract, Kind
from demandsim.model import Model
from demandsim.policies import POLICIES, CoverVacancies
from demandsim.scenario_files import apply_overrides

SHORT = ["years=1", "warmup_days=0"]


def log_of(baseline, changes, seed=0) -> pd.DataFrame:
    return Model(apply_overrides(baseline, [*SHORT, *changes]), seed).run().frame()


def test_never_policy_makes_no_agency_requests(baseline):
    log = log_of(baseline, ["workforce.agency_policy.request_on=never"])
    assert not (log["kind"] == Kind.AGENCY_REQUEST).any()
    starts = log[(log["kind"] == Kind.START) & (log["t"] > 0)]
    assert (starts["value"] == Contract.PERMANENT).all()  # only permanent starters after day 0


def test_vacancy_policy_asks_for_cover_on_every_vacancy(baseline):
    """Each post falling vacant is followed at once by a request for agency cover in its team;
    every other request for a post is a retry, at once, after the market failed to fill one."""
    log = log_of(baseline, ["workforce.agency_policy.request_on=vacancy"])

    def when(kind: Kind) -> Counter:
        rows = log[(log["kind"] == kind) & (log["value"] == 0)]  # value 0: for a post
        return Counter(zip(rows["t"], rows["team"], strict=True))

    vacancies, requests = when(Kind.VACANCY_OPEN), when(Kind.AGENCY_REQUEST)
    assert vacancies.total() > 20
    assert not vacancies - requests  # a request at the time of every vacancy
    assert requests != vacancies  # some requests failed and were asked again
    assert not requests - vacancies - when(Kind.AGENCY_UNFILLED)  # the rest: retries


def test_backlog_policy_waits_for_a_backlog(baseline):
    """With a threshold no team ever reaches, the backlog policy never asks for agency cover."""
    log = log_of(baseline, ["workforce.agency_policy.request_on=backlog",
                            "workforce.agency_policy.backlog_threshold_cases=100000"])  # fmt: skip
    assert not (log["kind"] == Kind.AGENCY_REQUEST).any()


def test_agency_above_establishment_while_a_backlog_lasts(baseline):
    """Short-staffed assessment with a backlog: extra agency workers start, up to the limit."""
    changes = [
        "teams.assessment.posts=20", "teams.assessment.initial_permanent=10",
        "teams.assessment.initial_agency=8",
        "workforce.agency_policy.backlog_threshold_cases=20",
        "workforce.agency_policy.max_extra_per_team=3",
        "workforce.agency.turnover_per_year=0",
    ]  # fmt: skip
    scenario = apply_overrides(baseline, [*SHORT, *changes])
    log = Model(scenario, 0).run().frame()
    assessment = list(scenario.teams).index("assessment")
    extra = (log["value"] == Contract.AGENCY_EXTRA) & (log["team"] == assessment)
    starts = (log["kind"] == Kind.START) & extra
    assert starts.sum() >= 1
    in_post = (starts.astype(int) - ((log["kind"] == Kind.LEAVE) & extra)).cumsum()  # log order
    assert in_post.max() <= 3


def test_agency_cover_leaves_when_the_permanent_starter_arrives(baseline):
    log = log_of(
        baseline,
        ["workforce.agency.turnover_per_year=0", "workforce.permanent.turnover_per_year=0"],
    )
    # with no turnover, every agency leaver is cover released for a permanent starter
    agency_left = log[(log["kind"] == Kind.LEAVE) & (log["value"] == Contract.AGENCY)]
    permanent = log["value"] == Contract.PERMANENT
    permanent_started = log[(log["kind"] == Kind.START) & permanent & (log["t"] > 0)]
    assert len(agency_left) > 0
    assert set(agency_left["t"]) <= set(permanent_started["t"])


class CoverOneTeam(CoverVacancies):
    """A policy written for this test: agency cover for vacancies in one team only."""

    def __init__(self, config, staff, team: str) -> None:
        super().__init__(config, staff)
        self.team = team

    def vacated(self, post) -> None:
        if post.team.name == self.team:
            super().vacated(post)

    def unfilled(self, post) -> None:
        if post.team.name == self.team:
            super().unfilled(post)


def test_a_new_staffing_policy_is_one_class(baseline):
    scenario = apply_overrides(baseline, SHORT)
    model = Model(scenario, 0)
    staff = model.staffing
    staff.policy = CoverOneTeam(scenario.workforce.agency_policy, staff, "assessment")
    log = model.run().frame()
    requests = log[log["kind"] == Kind.AGENCY_REQUEST]
    assessment = list(scenario.teams).index("assessment")
    assert len(requests) > 0 and (requests["team"] == assessment).all()
    vacancies = log[log["kind"] == Kind.VACANCY_OPEN]
    assert (vacancies["team"] != assessment).any()  # other teams had vacancies, left uncovered


def test_request_on_names_a_policy_class(baseline):
    for request_on, policy in POLICIES.items():
        scenario = apply_overrides(baseline, [f"workforce.agency_policy.request_on='{request_on}'"])
        assert type(Model(scenario, 0).staffing.policy) is policy


def test_the_backlog_a_policy_sees_is_the_unallocated_cases_in_the_log(baseline):
    """When the worker holding a blocked transfer leaves, the case moves on unallocated: the
    receiving team's backlog grows by one, the sending team's is unchanged (this was a bug:
    one fewer there and two more here, and the case lost its place in the queue)."""
    short_staffed_care = [
        "years=1", "warmup_days=0", "teams.cic.posts=20", "teams.cic.initial_permanent=15",
        "teams.cic.initial_agency=3", "workforce.permanent.turnover_per_year=2",
    ]  # fmt: skip
    model = Model(apply_overrides(baseline, short_staffed_care), 1)
    log = model.run().frame()
    assert ((log["kind"] == Kind.UNBLOCK) & (log["kind"].shift() == Kind.DEALLOC)).any()
    for team in model.teams:
        rows = log[log["team"] == team.idx]
        kind, held = rows["kind"], rows["worker"] >= 0
        unallocated = (
            (kind == Kind.ENTER) & ~held).sum() - (kind == Kind.ALLOC).sum() + (
            kind == Kind.DEALLOC).sum() - ((kind == Kind.EXIT) & ~held).sum()  # fmt: skip
        assert team.waiting == unallocated, team.name


def test_vacancy_fill_factor_stretches_the_fill_of_posts_only(baseline):
    """Ten posts vacant on day one, no leavers, no permanent hires that succeed: each post's
    agency cover arrives exactly three times later with the factor 3 (same draws), while the
    agency workers asked for above establishment arrive as before."""
    changes = [
        "teams.assessment.posts=20", "teams.assessment.initial_permanent=10",
        "teams.assessment.initial_agency=0", "teams.assessment.hire_success_share=0.001",
        "teams.assessment.agency_requested_on_day_one=2", "teams.assessment.permanent_turnover_per_year=0",
        "workforce.agency.turnover_per_year=0", "workforce.permanent.turnover_per_year=0",
        "workforce.agency.fill_share=1.0", "workforce.agency_policy.request_on=vacancy",
    ]  # fmt: skip

    def starts(factor: float) -> dict[int, list[float]]:
        scenario = apply_overrides(
            baseline, [*SHORT, *changes, f"teams.assessment.vacancy_fill_factor={factor}"]
        )
        log = Model(scenario, 3).run().frame()
        team = list(scenario.teams).index("assessment")
        mine = log[(log["kind"] == Kind.START) & (log["team"] == team) & (log["t"] > 0)]
        return {c: sorted(mine.loc[mine["value"] == c, "t"]) for c in (Contract.AGENCY, Contract.AGENCY_EXTRA)}  # fmt: skip

    usual, stretched = starts(1.0), starts(3.0)
    assert len(usual[Contract.AGENCY]) == 10
    assert stretched[Contract.AGENCY] == pytest.approx([3 * t for t in usual[Contract.AGENCY]])
    assert len(usual[Contract.AGENCY_EXTRA]) == 2
    assert stretched[Contract.AGENCY_EXTRA] == usual[Contract.AGENCY_EXTRA]
