"""PCO's endpoints this project reads and writes, in one place."""

from __future__ import annotations

PEOPLE = "/people/v2/people"
HOUSEHOLDS = "/people/v2/households"
EMAILS = "/people/v2/emails"
PHONE_NUMBERS = "/people/v2/phone_numbers"
ADDRESSES = "/people/v2/addresses"
GROUPS = "/groups/v2/groups"


def person_path(pco_id: str) -> str:
    return f"{PEOPLE}/{pco_id}"


def household_path(pco_id: str) -> str:
    return f"{HOUSEHOLDS}/{pco_id}"


def memberships_path(group_pco_id: str) -> str:
    return f"{GROUPS}/{group_pco_id}/memberships"
