"""Small scenarios built in code, so each test states every number it relies on."""

from __future__ import annotations

from typing import Any

from demandsim.scenario import Scenario

FLAT_DEMAND = {
    "weekday_factors": [1.0] * 7,
    "monthly_factors": [1.0] * 12,
    "school_holiday_factor": 1.0,
    "end_of_term_factor": 1.0,
}
NO_CHURN = {
    "permanent": {"turnover_per_year": 0.0, "nq_share": 0.0},
    "agency": {"turnover_per_year": 0.0},
}


def queue_scenario(
    arrivals_per_day: float,
    mean_service_days: float,
    workers: int,
    *,
    dist: str = "exponential",
    days: float = 400.0,
    warmup_days: int = 0,
    caseload_cap: int = 1,
) -> Scenario:
    """One team serving one stage: an M/M/c queue when ``dist`` is exponential and cap is 1."""
    return Scenario.model_validate(
        {
            "name": "queue",
            "start_date": "2021-01-01",
            "years": days / 365.25,
            "warmup_days": warmup_days,
            "demand": {"contacts_per_year": arrivals_per_day * 365.25, **FLAT_DEMAND},
            "pathway": {
                "entry": "work",
                "referral_stage": "work",
                "assessment_stage": "work",
                "exits": ["done"],
                "stages": {
                    "work": {
                        "team": "team",
                        "duration": {"dist": dist, "mean_days": mean_service_days},
                        "routes": {"done": 1.0},
                    }
                },
            },
            "teams": {
                "team": {
                    "posts": workers,
                    "initial_permanent": workers,
                    "caseload_cap": caseload_cap,
                    "nq_caseload_cap": caseload_cap,
                    "sickness_share": 0.0,
                }
            },
            "workforce": NO_CHURN,
        }
    )


def two_stage_scenario(blocking: bool = True, days: float = 20.0) -> Scenario:
    """Stage a (team A, one worker, 1 day) hands over to stage b (team B, one worker, 3 days)."""
    team = {"posts": 1, "initial_permanent": 1, "caseload_cap": 1, "sickness_share": 0.0}
    fixed = {"dist": "fixed"}
    data: dict[str, Any] = {
        "name": "handover",
        "start_date": "2021-01-01",
        "years": days / 365.25,
        "warmup_days": 0,
        "demand": {"contacts_per_year": 0.0, **FLAT_DEMAND},
        "pathway": {
            "entry": "a",
            "referral_stage": "a",
            "assessment_stage": "b",
            "exits": ["done"],
            "stages": {
                "a": {"team": "A", "duration": {**fixed, "mean_days": 1}, "routes": {"b": 1.0}},
                "b": {
                    "team": "B",
                    "duration": {**fixed, "mean_days": 3},
                    "routes": {"done": 1.0},
                    "blocking": blocking,
                },
            },
        },
        "teams": {"A": team, "B": team},
        "workforce": NO_CHURN,
    }
    return Scenario.model_validate(data)
