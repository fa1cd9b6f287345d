"""The council's names for stages, teams, exits and contracts, mapped onto the baseline's.

Councils label their data in their own ways ("First Response", "CLA", "Child Protection"); each
label is lower-cased, with spaces, hyphens and dots turned into underscores, then looked up here.
A label that matches nothing is an error naming the file, row and column, with the accepted names.
"""

from __future__ import annotations

import re

STAGES = ("front_door", "mash", "assessment", "s47", "cin", "cp", "cic", "after_care", "early_help")
TEAMS = ("front_door", "assessment", "cin", "cic", "after_care", "early_help")
EXITS = ("nfa", "closed", "return_home", "care_leaver_closed")
CONTRACTS = ("permanent", "agency")

STAGE_ALIASES = {
    "contact": "front_door",
    "first_response": "front_door",
    "front_door": "front_door",
    "screening": "front_door",
    "mash": "mash",
    "referral": "mash",
    "assessment": "assessment",
    "single_assessment": "assessment",
    "s47": "s47",
    "section_47": "s47",
    "s47_enquiry": "s47",
    "cin": "cin",
    "child_in_need": "cin",
    "cin_plan": "cin",
    "cp": "cp",
    "cpp": "cp",
    "child_protection": "cp",
    "child_protection_plan": "cp",
    "cic": "cic",
    "cla": "cic",
    "lac": "cic",
    "looked_after": "cic",
    "child_in_care": "cic",
    "after_care": "after_care",
    "aftercare": "after_care",
    "care_leaver": "after_care",
    "leaving_care": "after_care",
    "early_help": "early_help",
    "eh": "early_help",
}
EXIT_ALIASES = {
    "nfa": "nfa",
    "no_further_action": "nfa",
    "closed": "closed",
    "close": "closed",
    "step_down": "closed",
    "return_home": "return_home",
    "returned_home": "return_home",
    "adoption": "return_home",
    "sgo": "return_home",
    "left_care": "return_home",
    "care_leaver_closed": "care_leaver_closed",
}
TEAM_ALIASES = {
    "front_door": "front_door",
    "first_response": "front_door",
    "mash": "front_door",
    "assessment": "assessment",
    "cin": "cin",
    "child_in_need": "cin",
    "cp": "cin",
    "cin_cp": "cin",
    "cic": "cic",
    "cla": "cic",
    "lac": "cic",
    "children_in_care": "cic",
    "after_care": "after_care",
    "aftercare": "after_care",
    "leaving_care": "after_care",
    "early_help": "early_help",
}
CONTRACT_ALIASES = {
    "permanent": "permanent",
    "perm": "permanent",
    "employed": "permanent",
    "agency": "agency",
    "locum": "agency",
    "interim": "agency",
}


def normalise(label: object) -> str:
    return re.sub(r"[\s\-./]+", "_", str(label).strip().lower())


def lookup(label: object, aliases: dict[str, str]) -> str | None:
    """The baseline name for ``label``, or None when it matches nothing."""
    return aliases.get(normalise(label))


def accepted(aliases: dict[str, str]) -> str:
    return ", ".join(sorted(set(aliases.values())))
