"""Groups person ids resolved by what PCO answers: shared ids cost nothing, differing ids are learned
once through PCO's emails, and a doubtful one resolves to nobody."""

from __future__ import annotations

from typing import Any

from pco_core.engine.groups_people import PEOPLE_EMAILS, GroupsPeople, known_groups_person
from pco_core.engine.ports import QueryParams
from pco_core.pco.jsonapi import Document
from pco_core.pco.models import PcoMembership
from pco_core.records import Email, Person, PersonFields, PersonSync
from tests.unit.fakes import START, FakeRecords


class EmailsPco:
    """PCO's /people/v2/emails?where[address]=: each address answers the People ids that hold it."""

    def __init__(self, holders: dict[str, list[str]]) -> None:
        self.holders = holders
        self.asked: list[str] = []

    def get(self, path: str, params: QueryParams | None = None) -> Document:
        assert path == PEOPLE_EMAILS
        address = str((params or {})["where[address]"])
        self.asked.append(address)
        rows = [
            {
                "type": "Email",
                "id": f"e{n}",
                "attributes": {"address": address},
                "relationships": {"person": {"data": {"type": "Person", "id": pid}}},
            }
            for n, pid in enumerate(self.holders.get(address, []))
        ]
        return Document.model_validate({"data": rows})


def person(pid: str, pco_id: str, first: str, last: str, **sync: Any) -> Person:
    base = PersonFields(
        first_name=first,
        last_name=last,
        gender=None,
        birthdate=None,
        status="active",
        emails=(),
        phones=(),
        addresses=(),
    )
    return Person(
        id=pid,
        pco_id=pco_id,
        first_name=first,
        last_name=last,
        updated_at=START,
        sync=PersonSync(base=base, **sync),
    )


def membership(groups_id: str, first: str, last: str, *emails: str) -> PcoMembership:
    document = {
        "data": {
            "type": "Membership",
            "id": f"m{groups_id}",
            "attributes": {"role": "member"},
            "relationships": {"person": {"data": {"type": "Person", "id": groups_id}}},
        },
        "included": [
            {
                "type": "Person",
                "id": groups_id,
                "attributes": {
                    "first_name": first,
                    "last_name": last,
                    "email_addresses": [{"address": e, "primary": True} for e in emails],
                },
            }
        ],
    }
    doc = Document.model_validate(document)
    return PcoMembership.from_resource(doc.resources()[0], doc)


def test_given_shared_ids_when_resolved_then_the_linked_person_answers_without_a_request() -> None:
    records = FakeRecords()
    ann = person("L1", "100", "Ann", "Lee")
    records.add(ann)
    pco = EmailsPco({})

    found = GroupsPeople(pco, records).resolve([membership("100", "ANN", "lee", "ann@example.org")])

    assert found == {"100": ann}
    assert pco.asked == []
    # ... and no learned-id lookup either: shared ids cost one DynamoDB lookup, as before
    assert records.calls["people_by_groups_person_ids"] == 0


def test_given_a_groups_id_that_is_another_persons_people_id_then_email_resolves_it_once() -> None:
    records = FakeRecords()
    ann = person("L1", "100", "Ann", "Lee")
    bob = person("L2", "555", "Bob", "Stone")  # People id 555 is Bob; Groups id 555 is Ann
    records.add(ann, bob)
    pco = EmailsPco({"ann@example.org": ["100"]})
    resolver = GroupsPeople(pco, records)

    found = resolver.resolve([membership("555", "Ann", "Lee", "ann@example.org")])
    resolver.save_learned()

    assert {g: p.id for g, p in found.items()} == {"555": "L1"}
    assert records.people["L1"].sync.groups_person_id == "555"
    # Next time the learned id answers at once
    pco.asked.clear()
    again = GroupsPeople(pco, records).resolve([membership("555", "Ann", "Lee", "ann@example.org")])
    assert {g: p.id for g, p in again.items()} == {"555": "L1"}
    assert pco.asked == []


def test_given_an_email_shared_by_two_people_of_that_name_then_nobody_is_guessed() -> None:
    records = FakeRecords()
    records.add(person("L1", "100", "Sam", "Park"), person("L2", "101", "Sam", "Park"))
    pco = EmailsPco({"family@example.org": ["100", "101"]})

    found = GroupsPeople(pco, records).resolve([membership("9100", "Sam", "Park", "family@example.org")])

    assert found == {}


def test_given_a_local_rename_not_yet_pushed_then_the_name_pco_holds_still_matches() -> None:
    records = FakeRecords()
    renamed = person("L1", "100", "Ann", "Lee").model_copy(update={"last_name": "Lee-Wong"})
    records.add(renamed)

    found = GroupsPeople(EmailsPco({}), records).resolve([membership("100", "Ann", "Lee")])

    assert found == {"100": renamed}


def test_given_a_person_renamed_in_pco_since_our_last_read_then_the_shared_id_still_answers() -> None:
    records = FakeRecords()
    ann = person("L1", "100", "Ann", "Lee").model_copy(
        update={"emails": [Email(address="ann@example.org", primary=True)]}
    )
    records.add(ann)
    pco = EmailsPco({})
    resolver = GroupsPeople(pco, records)

    # Renamed with her email (shared) and renamed with none: nothing contradicts PCO's own id
    assert resolver.resolve([membership("100", "Annie", "Lee-Wong", "ANN@example.org")]) == {"100": ann}
    assert resolver.resolve([membership("100", "Annie", "Lee-Wong")]) == {"100": ann}
    assert pco.asked == []


def test_given_another_name_and_another_email_that_pco_gives_nobody_then_nobody_is_guessed() -> None:
    records = FakeRecords()
    records.add(person("L1", "100", "Ann", "Lee"))
    pco = EmailsPco({})

    found = GroupsPeople(pco, records).resolve([membership("100", "Zed", "Other", "zed@example.org")])

    assert found == {}
    assert pco.asked == ["zed@example.org"]


def test_a_webhooks_groups_id_names_the_learned_person_never_one_known_by_another_groups_id() -> None:
    records = FakeRecords()
    ann = person("L1", "100", "Ann", "Lee", groups_person_id="555")
    bob = person("L2", "555", "Bob", "Stone", groups_person_id="9555")
    cat = person("L3", "200", "Cat", "Ray")
    records.add(ann, bob, cat)

    assert known_groups_person(records, "555") == ann  # learned, though 555 is Bob's People id
    assert known_groups_person(records, "200") == cat  # nothing learned: the shared id
    assert known_groups_person(records, "100") is None  # Ann is known in Groups as 555, not 100
