"""The record store's contract, run against the real DynamoDB store (on moto) and the in-memory fake the
logic tests use, so the fake cannot drift from what the deployed store does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pco_core.errors import PcoLinkTaken
from pco_core.records import ConflictEvent, Email, Family, FieldConflict, Person
from pco_core.store.records import RecordStore
from tests.unit.fakes import FakeRecords

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class WriteClock:
    """When the store writes: moved on by the tests, one second per tick."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def writes() -> WriteClock:
    return WriteClock()


@pytest.fixture(params=["dynamodb", "fake"])
def store(request: pytest.FixtureRequest, writes: WriteClock) -> Any:
    if request.param == "fake":
        return FakeRecords(clock=writes)
    dynamodb = request.getfixturevalue("dynamodb")
    return RecordStore(
        request.getfixturevalue("records_table"), client=dynamodb, now=lambda: writes().timestamp()
    )


def person(pid: str, pco_id: str | None = None, **extra: Any) -> Person:
    values: dict[str, Any] = {"id": pid, "pco_id": pco_id, "first_name": "Pat", "last_name": "Twinprobe"}
    return Person.model_validate({"updated_at": NOW, **values, **extra})


def test_given_a_linked_person_when_another_person_is_linked_to_the_same_pco_id_then_it_is_refused(store):
    first = person("p1", "9001", emails=[Email(address="one@example.org")])
    store.save_people([(first, None)])
    second = person("p2")
    store.save_people([(second, None)])

    with pytest.raises(PcoLinkTaken) as caught:
        store.save_people([(second.model_copy(update={"pco_id": "9001"}), second)])

    assert caught.value.taken == {"p2": "9001"}
    assert store.people_by_pco_ids(["9001"]) == {"9001": first}
    assert store.get_people(["p2"])["p2"].pco_id is None


def test_given_a_save_of_several_when_one_link_is_taken_then_the_others_are_written(store):
    store.save_people([(person("p1", "9001"), None)])

    with pytest.raises(PcoLinkTaken):
        store.save_people([(person("p2", "9001"), None), (person("p3", "9003"), None)])

    assert set(store.get_people(["p2", "p3"])) == {"p3"}
    assert store.people_by_pco_ids(["9003"])["9003"].id == "p3"


def test_given_a_pco_id_given_up_and_taken_in_one_save_then_the_new_owner_holds_it(store):
    a, b = person("p1", "77"), person("p2")
    store.save_people([(a, None), (b, None)])

    moved = b.model_copy(update={"pco_id": "77"})
    store.save_people([(a.model_copy(update={"pco_id": None}), a), (moved, b)])

    assert store.people_by_pco_ids(["77"]) == {"77": moved}


def test_given_a_person_unlinked_then_its_pco_id_can_be_linked_to_someone_else(store):
    a = person("p1", "77")
    store.save_people([(a, None)])
    store.save_people([(a.model_copy(update={"pco_id": None}), a)])

    store.save_people([(person("p2", "77"), None)])

    assert store.people_by_pco_ids(["77"])["77"].id == "p2"


def test_resaving_a_linked_person_is_not_a_second_link(store):
    a = person("p1", "77")
    store.save_people([(a, None)])
    store.save_people([(a.model_copy(update={"gender": "Female"}), a)])
    store.save_people([(a.model_copy(update={"gender": "Male"}), None)])  # a retry that lost `previous`

    assert store.people_by_pco_ids(["77"])["77"].gender == "Male"


@pytest.mark.parametrize(
    "lookup",
    [
        lambda s: s.people_by_email("shared@example.org"),
        lambda s: s.people_by_name("Twinprobe", "Pat", date(1990, 1, 1)),
    ],
    ids=["email", "name"],
)
def test_email_and_name_lookups_find_only_people_not_yet_linked(store, lookup: Callable[[Any], Any]):
    shared = {"emails": [Email(address="shared@example.org")], "birthdate": date(1990, 1, 1)}
    store.save_people([(person("p1", "9001", **shared), None), (person("p2", **shared), None)])

    assert [p.id for p in lookup(store)] == ["p2"]


def test_two_families_cannot_link_one_household(store):
    one = Family(id="f1", pco_id="h1", name="One", updated_at=NOW)
    store.save_families([(one, None)])

    with pytest.raises(PcoLinkTaken):
        store.save_families([(Family(id="f2", pco_id="h1", name="Two", updated_at=NOW), None)])

    assert store.families_by_pco_ids(["h1"]) == {"h1": one}


def test_given_a_read_time_then_records_written_since_are_left_alone_and_named(store, writes):
    # Given p1 written before a run read PCO, and p2 written (by a webhook) after that read
    p1, p2 = person("p1", "1"), person("p2", "2")
    store.save_people([(p1, None)])
    read_at = writes.tick()
    writes.tick()
    store.save_people([(p2, None)])
    # When the run saves its versions of both with its read time
    older = [
        (p1.model_copy(update={"first_name": "Run"}), p1),
        (p2.model_copy(update={"first_name": "Run"}), p2),
    ]
    newer = store.save_people(older, read_at=read_at)
    # Then only p1 is written; p2 keeps the newer write and is named
    assert newer == {"p2"}
    assert {p.id: p.first_name for p in store.get_people(["p1", "p2"]).values()} == {"p1": "Run", "p2": "Pat"}
    # And a save without a read time writes whatever it is given
    assert store.save_people(older) == set()
    assert store.get_people(["p2"])["p2"].first_name == "Run"


def test_a_record_created_after_the_read_is_not_replaced_by_the_runs_creation_of_it(store, writes):
    read_at = writes.tick()
    writes.tick()
    by_webhook = person("p9", "9", first_name="Webhook")
    store.save_people([(by_webhook, None)])
    newer = store.save_people([(person("p9", "9", first_name="Run"), None)], read_at=read_at)
    assert newer == {"p9"}
    assert store.get_people(["p9"])["p9"].first_name == "Webhook"


def conflict(n: int, field: str = "last_name") -> FieldConflict:
    return FieldConflict(
        id=f"20261129T12000{n}Z-0000000{n}",
        field=field,
        label="Pat Twinprobe",
        base="Lee",
        local=f"ours-{n}",
        pco=f"theirs-{n}",
        detected_at=NOW,
        source="R1",
    )


def test_conflicts_are_listed_newest_first_by_status_and_move_when_resolved(store):
    first, second, third = conflict(1), conflict(2), conflict(3)
    store.log_conflicts([ConflictEvent("person", "p1", c, "open") for c in (first, second, third)])

    page, cursor = store.list_conflicts("open", 2, None)
    assert [c.id for c in page] == [third.id, second.id]
    rest, end = store.list_conflicts("open", 2, cursor)
    assert ([c.id for c in rest], end) == ([first.id], None)

    store.log_conflicts([ConflictEvent("person", "p1", second, "resolved", "admin_local")])

    assert [c.id for c in store.list_conflicts("open", 10, None)[0]] == [third.id, first.id]
    (resolved,) = store.list_conflicts("resolved", 10, None)[0]
    assert (resolved.id, resolved.status, resolved.resolution) == (second.id, "resolved", "admin_local")
    found = store.get_conflict(second.id)
    assert (found.status, found.local, found.record_id) == ("resolved", "ours-2", "p1")
    assert store.get_conflict("nope") is None


def test_a_learned_groups_person_id_finds_its_person_until_it_is_forgotten(store):
    ann = person("p1", "100")
    store.save_people([(ann, None)])
    assert store.people_by_groups_person_ids(["9100"]) == {}

    learned = ann.model_copy(update={"sync": ann.sync.model_copy(update={"groups_person_id": "9100"})})
    store.save_people([(learned, ann)])
    assert {g: p.id for g, p in store.people_by_groups_person_ids(["9100", "9999"]).items()} == {"9100": "p1"}
    # A learned id is no "unlinked" person awaiting a first link
    assert store.has_unlinked_people() is False

    forgotten = learned.model_copy(
        update={"sync": learned.sync.model_copy(update={"groups_person_id": None})}
    )
    store.save_people([(forgotten, learned)])
    assert store.people_by_groups_person_ids(["9100"]) == {}
