"""The keyset walk (pco.paginate.Keyset) against the PCO sandbox in-process: every record read exactly once
while PCO deletes, merges and adds records under it, and seconds holding more than a page drained."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pco_core.errors import PcoUnavailable
from pco_core.pco.jsonapi import Document
from pco_core.pco.paginate import DRAIN_OVERLAP, Keyset, KeysetStep
from tests.unit.push.sandbox_pco import Pco

PEOPLE = "/people/v2/people"


def _walk(
    pco: Pco, keyset: Keyset, *, between: Callable[[int], None] = lambda _: None, max_pages: int = 200
) -> tuple[list[str], Keyset | None]:
    """Every id the walk reads, in order; `between(n)` runs after page n (PCO changing under the walk)."""
    client = pco.client()
    read: list[str] = []
    current: Keyset | None = keyset
    for n in range(max_pages):
        assert current is not None
        step: KeysetStep = current.advance(
            client.get(PEOPLE, {**current.params(), "fields[Person]": "created_at,updated_at"})
        )
        read.extend(resource.id for resource in step.fresh)
        current = step.following
        if current is None:
            return read, None
        between(n)
    raise AssertionError("the walk never ended")


def _ids(pco: Pco) -> set[str]:
    return {record.id for record in pco.sandbox.store.all("Person")}


def test_given_people_deleted_merged_and_added_mid_walk_then_every_other_person_is_read_exactly_once() -> (
    None
):
    # Given a church of 450 people walked by created_at, 100 a page
    pco = Pco(people=450)
    before = _ids(pco)
    ordered = [
        r.id
        for r in sorted(
            pco.sandbox.store.all("Person"), key=lambda r: (r.attributes["created_at"], int(r.id))
        )
    ]
    deleted: set[str] = set()
    added: set[str] = set()
    admin = pco.sandbox_admin()

    def change(n: int) -> None:
        # When, after each page, PCO deletes people already read and not yet read, merges two, adds one
        if n > 2:
            return
        behind, ahead = ordered[50 + n * 100 : 55 + n * 100], ordered[300 + n * 20 : 305 + n * 20]
        for pid in [*behind, *ahead]:
            admin.delete(f"/_sandbox/people/{pid}")
            deleted.add(pid)
        keep, remove = ordered[400 + n], ordered[120 + n]
        admin.post(
            "/_sandbox/person_mergers", json={"person_to_keep_id": keep, "person_to_remove_id": remove}
        )
        deleted.add(remove)
        added.add(
            admin.post("/_sandbox/people", json={"first_name": "New", "last_name": f"Person{n}"}).json()[
                "data"
            ]["id"]
        )

    read, _ = _walk(pco, Keyset("created_at"), between=change)

    # Then no one is read twice, and everyone who was there throughout (and everyone added) was read
    assert not [pid for pid, n in Counter(read).items() if n > 1]
    assert (before - deleted) | added <= set(read)
    assert set(read) <= before | added


def test_given_a_second_holding_more_than_a_page_then_it_is_drained_inside_that_second() -> None:
    # Given 260 people touched in one same second (a bulk edit), and others before and after it
    pco = Pco(people=400)
    admin = pco.sandbox_admin()
    burst = sorted(_ids(pco), key=int)[:260]
    touched = admin.post("/_sandbox/people/touch", json={"ids": burst, "at": "2026-02-01T10:00:00Z"}).json()
    assert touched["updated_at"] == "2026-02-01T10:00:00Z"
    pco.requests.clear()

    # When the people are walked by updated_at from just before the burst
    read, following = _walk(pco, Keyset("updated_at", after=datetime(2026, 2, 1, 9, 59, 59, tzinfo=UTC)))

    # Then each of the 260 is read once, and the offsets asked for never leave that second
    assert sorted(read, key=int) == burst
    assert following is None
    drains = [r.url.params for r in pco.requests if "offset" in r.url.params]
    assert drains, "a second longer than a page is read by offset inside that second"
    for params in drains:
        assert params["where[updated_at][gte]"] == "2026-02-01T10:00:00Z"
        assert params["where[updated_at][lt]"] == "2026-02-01T10:00:01Z"
    assert max(int(p["offset"]) for p in drains) < 260


def test_given_people_deleted_inside_a_drained_second_then_the_overlap_skips_none_of_the_others() -> None:
    # Given 250 people sharing one updated_at second
    assert DRAIN_OVERLAP > 10, "the deletions below stay within the rows a drain reads again"
    pco = Pco(people=300)
    admin = pco.sandbox_admin()
    burst = sorted(_ids(pco), key=int)[:250]
    admin.post("/_sandbox/people/touch", json={"ids": burst, "at": "2026-02-01T10:00:00Z"})
    gone: set[str] = set()

    def delete_read_ones(n: int) -> None:
        # When, after each page, PCO deletes people of that second the walk has already read (fewer than
        # the overlap re-reads)
        victims = burst[n * 100 : n * 100 + 10]
        for pid in victims:
            if pid not in gone:
                admin.delete(f"/_sandbox/people/{pid}")
                gone.add(pid)

    read, _ = _walk(
        pco, Keyset("updated_at", after=datetime(2026, 2, 1, 9, 59, 59, tzinfo=UTC)), between=delete_read_ones
    )

    # Then every person of that second still in PCO was read, and none twice
    assert set(burst) - gone <= set(read)
    assert len(read) == len(set(read))


def test_given_watermark_ids_then_they_are_not_read_again_but_the_rest_of_their_second_is() -> None:
    pco = Pco(people=20)
    admin = pco.sandbox_admin()
    ids = sorted(_ids(pco), key=int)
    admin.post("/_sandbox/people/touch", json={"ids": ids[:5], "at": "2026-02-01T10:00:00Z"})
    # Given a watermark at that second that already holds three of the five
    start = Keyset("updated_at", after=datetime(2026, 2, 1, 10, tzinfo=UTC), seen=tuple(ids[:3]))
    read, _ = _walk(pco, start)
    # Then only the two others of that second are read (and nothing older)
    assert sorted(read, key=int) == ids[3:5]


def test_a_full_page_of_one_second_without_timestamps_is_refused_rather_than_looped() -> None:
    page = Document.model_validate(
        {
            "data": [{"type": "Person", "id": str(i), "attributes": {}} for i in range(3)],
            "meta": {"next": {"offset": 3}},
        }
    )
    with pytest.raises(PcoUnavailable, match="no created_at"):
        Keyset("created_at").advance(page)
