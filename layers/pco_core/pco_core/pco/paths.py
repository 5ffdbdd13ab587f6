"""PCO's endpoints this project reads and writes, in one place."""

from __future__ import annotations

PEOPLE = "/people/v2/people"
HOUSEHOLDS = "/people/v2/households"
GROUPS = "/groups/v2/groups"


def memberships_path(group_pco_id: str) -> str:
    return f"{GROUPS}/{group_pco_id}/memberships"
