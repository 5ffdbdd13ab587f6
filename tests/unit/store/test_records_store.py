"""RecordStore on moto: records and their lookup items, batch paths, list cursors."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

import pytest

from pco_core.errors import InvalidCursor, InvalidLimit, StoreConflict
from pco_core.records import (
    Address,
    Email,
    Family,
    Group,
    GroupMember,
    Person,
    SyncMeta,
    normalise_email,
    normalise_name,
)
from pco_core.store.records import RecordStore
from tests.unit.store.clients import CountingClient, NeverServingClient, ThrottledClient

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def person(n: int, **changes: Any) -> Person:
    values: dict[str, Any] = {
        "id": f"p-{n:04d}",
        "pco_id": str(1000 + n),
        "first_name": f"First{n}",
        "last_name": "Smith",
        "birthdate": date(1980, 1, 1 + n % 28),
        "emails": [Email(address=f"person{n}@church.example", primary=True)],
        "updated_at": NOW,
    }
    values.update(changes)
    return Person(**values)


def all_keys(dynamodb: Any, table: str) -> set[tuple[str, str]]:
    items = dynamodb.scan(TableName=table)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]) for i in items}


@pytest.fixture
def store(dynamodb: Any, records_table: str) -> RecordStore:
    return RecordStore(records_table, client=dynamodb, sleep=lambda _: None)


def test_normalisation():
    assert normalise_email("  Zoe.Smith@Church.Example ") == "zoe.smith@church.example"
    assert (
        normalise_name("  \uff3aOË   Ann ") == "zoë ann"
    )  # fullwidth Z folded by NFKC, inner spaces collapsed
    assert normalise_name("STRASSE") == normalise_name("Straße")  # casefold, not lower
    assert normalise_name("ﬁona") == "fiona"  # the ligature is NFKC-folded


def test_given_a_saved_person_then_it_reads_back_with_its_sync_meta_and_every_lookup_item_exists(
    store, dynamodb
):
    zoe = person(
        1,
        pco_id=None,  # not yet linked to PCO: findable by email and name
        first_name="Zoë",
        last_name="Smith-Jones",
        emails=[Email(address="Zoe@Church.Example"), Email(address="zoe.work@example.org", location="Work")],
        addresses=[Address(street="1 Main St", city="Springfield", primary=True)],
        sync=SyncMeta(pco_updated_at=NOW, pco_hash="abc", last_run_id="run-1", last_outcome="created"),
    )
    store.save_people([(zoe, None)])

    assert store.get_person(zoe.id) == zoe
    assert store.get_person(zoe.id).sync.last_outcome == "created"
    assert store.get_person("nobody") is None
    assert all_keys(dynamodb, store.table_name) == {
        ("PERSON#p-0001", "RECORD"),
        ("EMAIL#zoe@church.example", "PERSON#p-0001"),
        ("EMAIL#zoe.work@example.org", "PERSON#p-0001"),
        ("NAME#smith-jones#zoë#1980-01-02", "PERSON#p-0001"),
    }
    # Stored as plain DynamoDB types: ISO strings for dates, no floats anywhere.
    raw = dynamodb.get_item(
        TableName=store.table_name, Key={"pk": {"S": "PERSON#p-0001"}, "sk": {"S": "RECORD"}}
    )
    assert raw["Item"]["birthdate"] == {"S": "1980-01-02"}
    assert raw["Item"]["kind"] == {"S": "person"}
    assert raw["Item"]["sync"]["M"]["pco_hash"] == {"S": "abc"}


def test_lookups_find_linked_people_by_pco_id_and_unlinked_ones_by_email_and_name(store):
    zoe = person(1, pco_id=None, first_name="Zoë", emails=[Email(address="zoe@church.example")])
    twin = person(
        2,
        pco_id=None,
        first_name="Zoë",
        birthdate=zoe.birthdate,
        emails=[Email(address="ZOE@church.example")],
    )
    linked = person(
        3, first_name="Zoë", birthdate=zoe.birthdate, emails=[Email(address="zoe@church.example")]
    )
    store.save_people([(zoe, None), (twin, None), (linked, None)])

    assert set(store.people_by_pco_ids(["1001", "1003", "9999"])) == {"1003"}
    assert store.people_by_pco_ids(["1003"])["1003"] == linked
    # A person already linked to PCO is never an email or name match, so only the unlinked are found.
    assert [p.id for p in store.people_by_email(" Zoe@Church.EXAMPLE")] == ["p-0001", "p-0002"]
    assert [p.id for p in store.people_by_name("SMITH ", "zoë", zoe.birthdate)] == ["p-0001", "p-0002"]
    assert store.people_by_name("Smith", "Zoë", date(1999, 9, 9)) == []
    assert store.people_by_email("") == []


def test_given_a_changed_email_name_and_pco_id_then_old_lookups_are_gone_and_new_ones_exist(store, dynamodb):
    before = person(
        1, pco_id=None, emails=[Email(address="old@church.example"), Email(address="kept@church.example")]
    )
    store.save_people([(before, None)])
    assert store.has_unlinked_people()

    after = before.model_copy(
        update={
            "emails": [Email(address="kept@church.example"), Email(address="new@church.example")],
            "last_name": "Jones",
            "birthdate": None,
        }
    )
    store.save_people([(after, before)])

    keys = all_keys(dynamodb, store.table_name)
    assert ("EMAIL#old@church.example", "PERSON#p-0001") not in keys
    assert ("NAME#smith#first1#1980-01-02", "PERSON#p-0001") not in keys
    assert {
        ("EMAIL#kept@church.example", "PERSON#p-0001"),
        ("EMAIL#new@church.example", "PERSON#p-0001"),
        ("NAME#jones#first1#-", "PERSON#p-0001"),
    } <= keys
    assert store.people_by_email("old@church.example") == []
    assert store.people_by_name("Jones", "First1", None) == [after]

    # When the person is linked to PCO, the email and name lookups go and the PCO id one comes
    linked = after.model_copy(update={"pco_id": "2001"})
    store.save_people([(linked, after)])
    assert all_keys(dynamodb, store.table_name) == {
        ("PERSON#p-0001", "RECORD"),
        ("PCO#person#2001", "LOOKUP"),
    }
    assert store.people_by_email("kept@church.example") == []
    assert store.people_by_pco_ids(["2001"]) == {"2001": linked}
    assert not store.has_unlinked_people()


def test_an_unchanged_save_writes_only_the_record(store, dynamodb):
    zoe = person(1)
    store.save_people([(zoe, None)])
    counting = CountingClient(dynamodb)
    quiet = RecordStore(store.table_name, client=counting)

    quiet.save_people([(zoe.model_copy(update={"gender": "F"}), zoe)])

    assert counting.calls == {"batch_write_item": 1}


def test_given_one_pco_id_moving_between_two_people_in_one_save_then_the_new_owner_keeps_the_lookup(store):
    a, b = person(1, pco_id="77"), person(2, pco_id=None)
    store.save_people([(a, None), (b, None)])

    a2, b2 = a.model_copy(update={"pco_id": None}), b.model_copy(update={"pco_id": "77"})
    store.save_people([(a2, a), (b2, b)])  # delete and put of the same lookup key in one batch

    assert store.people_by_pco_ids(["77"]) == {"77": b2}


def test_a_stale_lookup_left_by_an_abandoned_save_never_matches(store, dynamodb):
    zoe = person(1, emails=[Email(address="zoe@church.example")])
    store.save_people([(zoe, None)])
    # An abandoned save wrote its lookups but not the record.
    dynamodb.put_item(
        TableName=store.table_name,
        Item={
            "pk": {"S": "EMAIL#ghost@church.example"},
            "sk": {"S": "PERSON#p-0001"},
            "record_id": {"S": "p-0001"},
        },
    )
    dynamodb.put_item(
        TableName=store.table_name,
        Item={"pk": {"S": "PCO#person#555"}, "sk": {"S": "LOOKUP"}, "record_id": {"S": "p-0001"}},
    )
    assert store.people_by_email("ghost@church.example") == []
    assert store.people_by_pco_ids(["555"]) == {}


def test_a_page_of_100_people_costs_a_handful_of_calls(store, dynamodb):
    counting = CountingClient(dynamodb)
    batch = RecordStore(store.table_name, client=counting)
    page = [person(n) for n in range(100)]

    assert batch.people_by_pco_ids([p.pco_id for p in page]) == {}
    batch.save_people([(p, None) for p in page])  # 100 records + 100 PCO id lookups
    found = batch.people_by_pco_ids([p.pco_id for p in page])

    assert len(found) == 100
    assert set(counting.calls) == {"batch_get_item", "batch_write_item", "put_item"}
    assert counting.calls["batch_get_item"] == 1 + 2  # empty lookup read; lookups + records
    # The 100 PCO id lookups are claimed one conditional put each (one link per PCO id, sent ten at a
    # time); the records go in batches.
    assert counting.calls["put_item"] == 100
    assert counting.calls["batch_write_item"] == 100 // 25

    counting.calls.clear()
    updated = [p.model_copy(update={"status": "inactive"}) for p in page]
    batch.save_people(list(zip(updated, page, strict=True)))
    assert counting.calls == {"batch_write_item": 4}  # no lookup changed


def test_given_throttled_batches_over_100_items_then_every_unprocessed_key_and_item_is_retried(
    store, dynamodb
):
    throttled = ThrottledClient(dynamodb, served=20)
    slept: list[float] = []
    batch = RecordStore(store.table_name, client=throttled, sleep=slept.append)
    people = [person(n) for n in range(130)]

    batch.save_people([(p, None) for p in people])
    got = batch.get_people([p.id for p in people] + ["missing"])
    by_pco = batch.people_by_pco_ids([p.pco_id for p in people])

    assert got == {p.id: p for p in people}
    assert by_pco == {p.pco_id: p for p in people}
    assert throttled.largest_batch == 100  # reads are chunked at 100 keys...
    assert len(all_keys(dynamodb, store.table_name)) == 130 * 2
    assert slept  # ...and the retries back off (without really sleeping)
    assert max(slept) <= 2.0


def test_given_a_partition_that_never_serves_then_the_batch_gives_up_with_a_retriable_error(store, dynamodb):
    stuck = RecordStore(store.table_name, client=NeverServingClient(dynamodb), sleep=lambda _: None)
    with pytest.raises(StoreConflict):
        stuck.get_people(["p-1"])
    with pytest.raises(StoreConflict):
        stuck.save_people([(person(1), None)])


def test_list_people_pages_through_everyone_once_in_id_order(store):
    people = [person(n) for n in range(23)]
    store.save_families([(Family(id="f-1", name="Smith", updated_at=NOW), None)])  # other kinds stay out
    store.save_people([(p, None) for p in people])

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = store.list_people(10, cursor)
        pages += 1
        seen += [p.id for p in page]
        if cursor is None:
            break
    assert seen == sorted(p.id for p in people)
    assert pages == 3

    exact, nxt = store.list_people(23, None)
    assert len(exact) == 23
    assert nxt is None  # no cursor to an empty page


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"pk": "PERSON#1"}').decode(),
        base64.urlsafe_b64encode(b'{"pk": "GROUP#1", "sk": "RECORD", "kind": "group", "id": "1"}').decode(),
    ],
)
def test_a_malformed_cursor_is_refused(store, cursor):
    with pytest.raises(InvalidCursor, match="cursor"):
        store.list_people(10, cursor)


def test_list_limit_is_validated(store):
    with pytest.raises(InvalidLimit):
        store.list_people(0, None)


def test_families_round_trip_by_id_pco_id_and_list(store, dynamodb):
    family = Family(
        id="f-1",
        pco_id="h-9",
        name="Smith household",
        member_ids=["p-0001", "p-0002"],
        primary_member_id="p-0001",
        address=Address(street="1 Main St", zip="12345"),
        updated_at=NOW,
        sync=SyncMeta(pco_hash="h"),
    )
    store.save_families([(family, None)])
    assert store.get_family("f-1") == family
    assert store.get_family("f-1").sync.pco_hash == "h"
    assert store.families_by_pco_ids(["h-9"]) == {"h-9": family}
    assert store.list_families(10, None) == ([family], None)

    moved = family.model_copy(update={"pco_id": "h-10"})
    store.save_families([(moved, family)])
    assert store.families_by_pco_ids(["h-9", "h-10"]) == {"h-10": moved}
    assert ("PCO#family#h-9", "LOOKUP") not in all_keys(dynamodb, store.table_name)


def group(n: int, pco_id: str | None) -> Group:
    return Group(
        id=f"g-{n:03d}",
        pco_id=pco_id,
        name=f"Group {n}",
        members=[
            GroupMember(person_id="p-0001", role="leader", joined_at=NOW),
            GroupMember(person_id="p-0002"),
        ],
        updated_at=NOW,
    )


def test_groups_round_trip_with_inline_members(store):
    g = group(1, "g-pco-1")
    store.save_groups([(g, None)])
    assert store.get_group("g-001") == g
    assert store.groups_by_pco_ids(["g-pco-1"]) == {"g-pco-1": g}
    assert store.list_groups(5, None) == ([g], None)


def test_iter_groups_with_pco_id_walks_only_groups_with_a_pco_id_in_id_order(store):
    groups = [group(n, f"pco-{n}" if n % 3 else None) for n in range(1, 31)]
    store.save_groups([(g, None) for g in groups])
    wanted = [g.id for g in groups if g.pco_id]

    walked: list[str] = []
    after: str | None = None
    while True:
        page = store.iter_groups_with_pco_id(after, 7)
        walked += [g.id for g in page]
        if len(page) < 7:
            break
        after = page[-1].id
    assert walked == wanted
    assert all(g.members for g in store.iter_groups_with_pco_id(None, 3))
