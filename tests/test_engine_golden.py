"""Layer 2: the engine gives the same event log, bit for bit, as the engine these goldens were
taken from (main at 482fa11, before the engine was split and sped up).

The goldens are SHA-256 digests of the log's float64 rows in event order, with each kind's row
count so a mismatch says where to look. Ramp-up is off (``ramp_up_days = 0``) in the four cases
taken first, so they stay a true before/after check of allocation, queueing, blocking and the
workforce policies whatever happens to ramp-up. Ramp-up changed only for caseload caps above four
per ramp-up day (at most four capacity steps a day, see :mod:`demandsim.workforce`), so the
baseline with its ramp-up is a fifth case, also taken on 482fa11.

To re-take them after a deliberate change of the model's results, run this file as a script and
say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from demandsim.eventlog import Kind
from demandsim.model import Model
from demandsim.scenario_files import load_scenario

GOLDEN = Path(__file__).with_name("golden") / "engine_logs.json"
NO_RAMP = ["workforce.permanent.ramp_up_days=0", "workforce.agency.ramp_up_days=0"]
CASES: dict[str, tuple[str | None, list[str], int]] = {
    "baseline_vacancy": (None, ["years=0.5", "warmup_days=30", *NO_RAMP], 0),
    "baseline_backlog_priority_extra": (
        None,
        [
            "years=0.5",
            "warmup_days=30",
            *NO_RAMP,
            "queue_order='priority'",
            "workforce.agency_policy.request_on='backlog'",
            "workforce.agency_policy.backlog_threshold_cases=20",
            "workforce.agency_policy.max_extra_per_team=2",
            "workforce.agency.release_on_permanent_start=false",
            "teams.cic.posts=20",
            "teams.cic.initial_permanent=15",
            "teams.cic.initial_agency=3",
        ],
        1,
    ),
    "baseline_never": (
        None,
        ["years=0.5", "warmup_days=0", *NO_RAMP, "workforce.agency_policy.request_on='never'"],
        2,
    ),
    "autumn_surge": ("scenarios/autumn-2014-surge.toml", NO_RAMP, 3),
    "baseline_with_ramp_up": (None, ["years=0.5", "warmup_days=30"], 4),
}


def fingerprint(name: str) -> dict:
    path, overrides, seed = CASES[name]
    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(None if path is None else root / path, overrides)
    rows = Model(scenario, seed).run().rows
    kinds = Counter(Kind(int(k)).name for k in rows[:, 1])
    return {
        "rows": len(rows),
        "kinds": dict(sorted(kinds.items())),
        "sha256": hashlib.sha256(rows.astype("<f8").tobytes()).hexdigest(),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_log_matches_the_golden(name):
    expected = json.loads(GOLDEN.read_text())[name]
    got = fingerprint(name)
    assert got["rows"] == expected["rows"] and got["kinds"] == expected["kinds"]
    assert got["sha256"] == expected["sha256"]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps({n: fingerprint(n) for n in sorted(CASES)}, indent=1) + "\n")
