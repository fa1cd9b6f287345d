"""Staffing policies: when to ask the agency market for workers.

Covers: the three rules a scenario names with ``workforce.agency_policy.request_on``: cover every
vacancy at once (``vacancy``), cover vacancies only while the team's backlog is above
``backlog_threshold_cases`` (``backlog``), or never (``never``); and, under any of them, up to
``max_extra_per_team`` agency workers above establishment while the backlog lasts, each engaged for
``extra_engagement_days`` at a time and kept on while the backlog is still there.

Scenario: a policy reads :class:`~demandsim.scenario.AgencyPolicy` and acts through the
:class:`~demandsim.workforce.Staffing` it is given. A new rule (overtime once a backlog passes N,
a flexible pool shared by teams) is one class with the :class:`StaffingPolicy` methods, and one
entry in :data:`POLICIES` if scenario files are to name it.

Assumptions: the backlog is a team's unallocated cases, reviewed every ``review_every_days``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from demandsim.eventlog import Contract
from demandsim.scenario import AgencyPolicy

if TYPE_CHECKING:
    from demandsim.teams import TeamState, Worker
    from demandsim.workforce import Post, Staffing


class StaffingPolicy(Protocol):
    """What the workforce tells a staffing policy; the policy acts through the workforce."""

    def begin(self, team: TeamState) -> None:
        """The team is staffed at time 0 (not called for a service with fixed places)."""

    def vacated(self, post: Post) -> None:
        """The post has just fallen vacant (permanent recruitment has already started)."""

    def unfilled(self, post: Post) -> None:
        """The market failed to fill a request for this post, which is still vacant."""

    def engaged(self, worker: Worker) -> None:
        """An agency worker above establishment has started."""


class AgencyRule:
    """Agency above establishment while a backlog lasts; posts are never covered. The base of the
    rules a scenario can name, as ``max_extra_per_team`` applies under each of them."""

    cover_on_review = False  # ask for cover for vacant posts at each review with a backlog

    def __init__(self, config: AgencyPolicy, staff: Staffing) -> None:
        self.config, self.staff = config, staff

    def begin(self, team: TeamState) -> None:
        if self.cover_on_review or self.config.max_extra_per_team:
            self.staff.after(self.config.review_every_days, self._review, team)

    def vacated(self, post: Post) -> None:
        pass

    def unfilled(self, post: Post) -> None:
        pass

    def engaged(self, worker: Worker) -> None:
        self.staff.after(self.config.extra_engagement_days, self._engagement_ends, worker)

    def backlogged(self, team: TeamState) -> bool:
        return team.waiting > self.config.backlog_threshold_cases

    def _review(self, team: TeamState) -> None:
        """Periodic backlog review: agency cover for vacant posts and above establishment."""
        if self.backlogged(team):
            if self.cover_on_review:
                for post in team.posts:
                    if post.holder is None:
                        self.staff.request_agency(post)
            extras = sum(w.contract == Contract.AGENCY_EXTRA for w in team.workers)
            if extras + team.extra_pending < self.config.max_extra_per_team:
                self.staff.request_extra(team)
        self.staff.after(self.config.review_every_days, self._review, team)

    def _engagement_ends(self, worker: Worker) -> None:
        if not worker.alive:
            return
        if self.backlogged(worker.team):
            self.staff.after(self.config.extra_engagement_days, self._engagement_ends, worker)
        else:
            self.staff.leaves(worker)


class NoCover(AgencyRule):
    """``request_on = "never"``: vacant posts wait for permanent recruits."""


class CoverVacancies(AgencyRule):
    """``request_on = "vacancy"``: ask for cover the moment a post falls vacant, and again after
    a failed request."""

    def vacated(self, post: Post) -> None:
        self.staff.request_agency(post)

    def unfilled(self, post: Post) -> None:
        self.staff.request_agency(post)


class CoverWhenBacklogged(AgencyRule):
    """``request_on = "backlog"``: ask for cover for vacant posts only while the team's backlog is
    above the threshold (at each review, and again after a failed request)."""

    cover_on_review = True

    def unfilled(self, post: Post) -> None:
        if self.backlogged(post.team):
            self.staff.request_agency(post)


POLICIES: dict[str, type[AgencyRule]] = {
    "vacancy": CoverVacancies,
    "backlog": CoverWhenBacklogged,
    "never": NoCover,
}


def staffing_policy(config: AgencyPolicy, staff: Staffing) -> StaffingPolicy:
    """The policy a scenario's ``request_on`` names."""
    return POLICIES[config.request_on](config, staff)
