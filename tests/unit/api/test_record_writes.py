"""The admin API's record writes against a real RecordStore on moto: what each route stores, and that
every refused request (bad body, unknown record, no permission) leaves the table exactly as it was."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.records import Email, Family, Group, GroupMember, Person, SyncMeta
from pco_core.store.records import RecordStore
from tests.unit.api.events import ADMIN, VOLUNTEER, http_event
from tests.unit.store.tables import create_table

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
LAST_EXCHANGE = SyncMeta(pco_hash="abc123", pco_updated_at=T0 - timedelta(days=3))


def common(sync: SyncMeta) -> SyncMeta:
    """The sync fields every record kind has (each kind keeps its own base beside them)."""
    return SyncMeta.model_validate(sync.model_dump(include=set(SyncMeta.model_fields)))


class StepClock:
    """Each reading is one minute after the previous one, so every write's time is distinct and known."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(dynamodb: Any) -> RecordStore:
    return RecordStore(create_table(dynamodb, "RecordsTable", "records"), client=dynamodb)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


def person(person_id: str, first: str, last: str, **fields: Any) -> Person:
    return Person(id=person_id, first_name=first, last_name=last, updated_at=T0, **fields)


@pytest.fixture
def church(store: RecordStore) -> RecordStore:
    """Given: the Smiths (Ann primary, Bob), Cara on her own, Dan in the Jones family alone with Eve,
    and a youth group led by Ann; the Smiths and Ann were exchanged with PCO before."""
    store.save_people(
        [
            (
                person(
                    "ann",
                    "Ann",
                    "Smith",
                    pco_id="101",
                    family_id="smiths",
                    birthdate=date(1980, 5, 1),
                    gender="Female",
                    emails=[Email(address="ann@example.org", primary=True, pco_id="e101")],
                    sync=LAST_EXCHANGE,
                ),
                None,
            ),
            (person("bob", "Bob", "Smith", family_id="smiths"), None),
            (person("cara", "Cara", "Lee"), None),
            (person("dan", "Dan", "Jones", family_id="joneses"), None),
            (person("eve", "Eve", "Jones", family_id="joneses"), None),
        ]
    )
    store.save_families(
        [
            (
                Family(
                    id="smiths",
                    pco_id="201",
                    name="Smith Household",
                    member_ids=["ann", "bob"],
                    primary_member_id="ann",
                    updated_at=T0,
                    sync=LAST_EXCHANGE,
                ),
                None,
            ),
            (
                Family(
                    id="joneses",
                    name="Jones Household",
                    member_ids=["dan", "eve"],
                    primary_member_id="dan",
                    updated_at=T0,
                ),
                None,
            ),
        ]
    )
    store.save_groups(
        [
            (
                Group(
                    id="youth",
                    pco_id="301",
                    name="Youth",
                    members=[GroupMember(person_id="ann", role="leader")],
                    updated_at=T0,
                    sync=LAST_EXCHANGE,
                ),
                None,
            )
        ]
    )
    return store


@pytest.fixture
def resolve(church: RecordStore, clock: StepClock) -> Any:
    """The admin API over the church's store: an event in, (status, JSON body) out."""
    services = AdminServices(
        runs=None,  # type: ignore[arg-type]
        records=church,
        role_permissions={"TECH_ADMIN": ["pco.manage"]},
        connection=None,  # type: ignore[arg-type]
        deliveries=None,  # type: ignore[arg-type]
        dead_letters=None,  # type: ignore[arg-type]
        clock=clock,
    )
    app = create_app(lambda: services)

    def _resolve(event: dict[str, Any]) -> tuple[int, Any]:
        answer = app.resolve(event, None)  # type: ignore[arg-type]
        assert answer["headers"]["Content-Type"] == "application/json"
        return answer["statusCode"], json.loads(answer["body"])

    return _resolve


@pytest.fixture
def call(resolve: Any) -> Any:
    def _call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        kwargs.setdefault("claims", ADMIN)
        result: tuple[int, Any] = resolve(http_event(method, path, **kwargs))
        return result

    return _call


def table_items(store: RecordStore) -> list[dict[str, Any]]:
    items = store.client.scan(TableName=store.table_name)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


@pytest.fixture
def unchanged(church: RecordStore) -> Iterator[None]:
    """Then: the table holds exactly what it held before the request."""
    before = table_items(church)
    yield
    assert table_items(church) == before


# people


def test_given_a_new_person_when_posted_then_201_and_stored_with_a_fresh_id_and_no_pco_id(call, church):
    status, body = call(
        "POST",
        "/api/people",
        body={
            "first_name": " Zoë ",
            "last_name": "Park",
            "gender": "F",
            "birthdate": "2001-02-03",
            "emails": [{"address": "zoe@example.org", "location": "Home"}, {"address": "z@work.example"}],
            "phones": [{"number": "555-0100", "primary": True}],
            "addresses": [{"street": "1 Main St\nApt 2", "city": "Springfield", "zip": "12345"}],
        },
    )

    assert status == 201
    assert uuid.UUID(body["id"]).version == 4
    stored = church.get_person(body["id"])
    assert stored is not None
    assert body == stored.model_dump(mode="json")
    assert stored.pco_id is None
    assert stored.family_id is None
    assert (stored.first_name, stored.last_name, stored.gender) == ("Zoë", "Park", "Female")
    assert stored.birthdate == date(2001, 2, 3)
    assert stored.status == "active"
    assert stored.updated_at == T0 + timedelta(minutes=1)
    # With none marked primary, the first entry is.
    assert [(e.address, e.location, e.primary) for e in stored.emails] == [
        ("zoe@example.org", "Home", True),
        ("z@work.example", None, False),
    ]
    assert [(p.number, p.primary) for p in stored.phones] == [("555-0100", True)]
    assert stored.addresses[0].street == "1 Main St\nApt 2"
    assert stored.addresses[0].primary is True
    assert common(stored.sync) == SyncMeta()
    # The new person can be matched by email before it is linked to PCO.
    assert [p.id for p in church.people_by_email("ZOE@example.org")] == [body["id"]]


def test_given_the_attributes_beyond_the_name_and_a_country_then_stored_and_served_as_pco_holds_them(
    call, church
):
    status, body = call(
        "POST",
        "/api/people",
        body={
            "first_name": "Marie",
            "last_name": "Roy",
            "given_name": "Marie-Claire",
            "middle_name": "Claire",
            "nickname": "Mimi",
            "membership": "Regular Attender",
            "child": False,
            "grade": 0,
            "anniversary": "2010-09-04",
            "addresses": [{"street": "1 Rue Sainte", "city": "Montréal", "country_code": " ca "}],
        },
    )

    assert status == 201, body
    stored = church.get_person(body["id"])
    assert stored is not None
    assert (stored.given_name, stored.middle_name, stored.nickname) == ("Marie-Claire", "Claire", "Mimi")
    assert (stored.membership, stored.child, stored.grade) == ("Regular Attender", False, 0)
    assert stored.anniversary == date(2010, 9, 4)
    assert stored.inactivated_at is None
    assert stored.addresses[0].country_code == "CA"
    served = call("GET", f"/api/people/{body['id']}")[1]
    assert (served["membership"], served["anniversary"], served["inactivated_at"]) == (
        "Regular Attender",
        "2010-09-04",
        None,
    )
    assert served["addresses"][0]["country_code"] == "CA"

    # A patch changes only what it names; null clears an attribute here (PCO keeps its own value).
    status, patched = call("PATCH", f"/api/people/{body['id']}", body={"grade": 1, "nickname": None})
    assert status == 200
    assert (patched["grade"], patched["nickname"], patched["membership"]) == (1, None, "Regular Attender")


def test_given_two_creates_then_two_people_with_distinct_ids(call, church):
    ids = {call("POST", "/api/people", body={"first_name": "Sam", "last_name": "Roe"})[1]["id"] for _ in "ab"}
    assert len(ids) == 2
    assert all(church.get_person(i) is not None for i in ids)


def test_given_a_patch_then_only_the_given_fields_change_lists_are_replaced_and_sync_is_kept(call, church):
    status, body = call(
        "PATCH",
        "/api/people/ann",
        body={
            "last_name": "Smith-Jones",
            "birthdate": None,
            "emails": [{"address": "ann@new.example"}],
            "phones": [{"number": "555-0111"}],
        },
    )

    assert status == 200
    stored = church.get_person("ann")
    assert stored is not None
    assert body == stored.model_dump(mode="json")
    assert (stored.first_name, stored.last_name, stored.birthdate) == ("Ann", "Smith-Jones", None)
    assert stored.gender == "Female"
    assert [(e.address, e.primary) for e in stored.emails] == [("ann@new.example", True)]
    assert [(p.number, p.primary) for p in stored.phones] == [("555-0111", True)]
    assert (stored.pco_id, stored.family_id, stored.status) == ("101", "smiths", "active")
    assert stored.updated_at == T0 + timedelta(minutes=1)
    # The last exchange with PCO is untouched, so push sees Ann changed since then.
    assert common(stored.sync) == LAST_EXCHANGE


def test_given_a_patched_email_list_then_an_unchanged_address_keeps_its_pco_link(call, church):
    status, body = call(
        "PATCH",
        "/api/people/ann",
        body={"emails": [{"address": "ann@new.example"}, {"address": " ann@example.org", "primary": True}]},
    )
    assert status == 200
    stored = church.get_person("ann")
    assert stored is not None
    # The link is PCO's id of that address: a webhook about it finds it; a new address has none yet
    assert [(e.address, e.pco_id) for e in stored.emails] == [
        ("ann@new.example", None),
        ("ann@example.org", "e101"),
    ]
    assert body["emails"][1]["pco_id"] == "e101"


def test_given_an_email_sent_back_as_served_then_blocked_stays_what_pco_says(call, church):
    ann = church.get_person("ann")
    assert ann is not None
    blocked = ann.model_copy(update={"emails": [ann.emails[0].model_copy(update={"blocked": True})]})
    church.save_people([(blocked, ann)])
    served = call("GET", "/api/people/ann")[1]["emails"]
    assert served[0]["blocked"] is True

    edited = served[0] | {"blocked": False, "location": "Work"}
    sent = [edited, {"address": "new@example.org", "blocked": True}]
    status, body = call("PATCH", "/api/people/ann", body={"emails": sent})

    assert status == 200, body
    assert [(e["address"], e["location"], e["blocked"]) for e in body["emails"]] == [
        ("ann@example.org", "Work", True),  # PCO's own: what was sent is ignored
        ("new@example.org", None, False),
    ]


@pytest.mark.usefixtures("unchanged")
def test_given_a_pco_link_in_an_email_body_then_422_and_nothing_is_written(call):
    status, body = call("PATCH", "/api/people/ann", body={"emails": [{"address": "a@b.org", "pco_id": "9"}]})
    assert status == 422
    assert "pco_id" in json.dumps(body)


def test_given_a_patch_that_empties_a_list_and_changes_status_then_stored(call, church):
    status, body = call("PATCH", "/api/people/ann", body={"emails": [], "status": "inactive"})
    assert status == 200
    assert (body["emails"], body["status"]) == ([], "inactive")
    stored = church.get_person("ann")
    assert stored is not None
    assert stored.emails == []
    assert stored.status == "inactive"


@pytest.mark.usefixtures("unchanged")
def test_given_a_patch_that_changes_nothing_then_200_and_nothing_is_written(call):
    status, body = call("PATCH", "/api/people/ann", body={"first_name": "Ann", "gender": "Female"})
    assert status == 200
    assert body["updated_at"] == T0.isoformat().replace("+00:00", "Z")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/api/people/nobody"), ("PATCH", "/api/families/none")]
)
def test_given_an_unknown_record_when_patched_then_404_naming_it(call, method, path):
    status, body = call(method, path, body={"name": "X"} if "families" in path else {"first_name": "X"})
    assert status == 404
    assert path.rsplit("/", 1)[1] in body["message"]


GOOD_PERSON: dict[str, Any] = {"first_name": "Sam", "last_name": "Roe"}


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "field", "problem_part"),
    [
        ({"first_name": 42, "last_name": "Roe"}, "first_name", "valid string"),
        ({"first_name": "", "last_name": "Roe"}, "first_name", "at least 1 character"),
        ({"first_name": "   ", "last_name": "Roe"}, "first_name", "at least 1 character"),
        ({"first_name": "Sam"}, "last_name", "is required"),
        (GOOD_PERSON | {"birthdate": "not a date"}, "birthdate", "date"),
        (GOOD_PERSON | {"birthdate": "1990-02-30"}, "birthdate", "date"),
        (GOOD_PERSON | {"birthdate": 19900101}, "birthdate", "date"),
        (GOOD_PERSON | {"status": "deceased"}, "status", "'active' or 'inactive'"),
        (GOOD_PERSON | {"id": "mine"}, "id", "not a field"),
        (GOOD_PERSON | {"pco_id": "9"}, "pco_id", "not a field"),
        (GOOD_PERSON | {"family_id": "smiths"}, "family_id", "not a field"),
        # PCO's own (it follows status), and an attribute we deliberately do not keep
        (GOOD_PERSON | {"inactivated_at": "2026-01-01T00:00:00Z"}, "inactivated_at", "not a field"),
        (GOOD_PERSON | {"medical_notes": "none"}, "medical_notes", "not a field"),
        (GOOD_PERSON | {"emails": [{"address": "a@x.org", "primary": "yes"}]}, "emails.0.primary", "boolean"),
        (GOOD_PERSON | {"emails": [{"adress": "a@x.org"}]}, "emails.0.address", "is required"),
        (GOOD_PERSON | {"emails": "a@x.org"}, "emails", "valid list"),
        (
            GOOD_PERSON
            | {"emails": [{"address": "a@x.org", "primary": True}, {"address": "b@x.org", "primary": True}]},
            "emails",
            "at most one entry may be primary",
        ),
        (GOOD_PERSON | {"phones": [{"number": 5550100}]}, "phones.0.number", "valid string"),
        (GOOD_PERSON | {"addresses": [{"zip": 12345}]}, "addresses.0.zip", "valid string"),
    ],
)
def test_given_a_bad_person_body_then_422_names_the_field_and_why_and_nothing_is_written(
    call, body, field, problem_part
):
    for method, path, sent in [
        ("POST", "/api/people", body),
        # A patch refuses the same mistakes (without the create's required fields).
        ("PATCH", "/api/people/ann", {k: v for k, v in body.items() if k not in GOOD_PERSON or field in k}),
    ]:
        if method == "PATCH" and field == "last_name":
            continue  # a patch needs no last name
        status, answer = call(method, path, body=sent)
        assert status == 422, (method, answer)
        problems = {d["field"]: d["problem"] for d in answer["details"]}
        assert field in problems, (method, answer)
        assert problem_part in problems[field]
        assert field in answer["message"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("field", ["first_name", "last_name", "status", "emails"])
def test_given_null_for_a_field_that_cannot_be_empty_when_patched_then_422(call, field):
    status, answer = call("PATCH", "/api/people/ann", body={field: None})
    assert status == 422
    assert answer["details"][0]["field"] == field


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"raw_body": "{not json"}, "not valid JSON"),
        ({"body": ["Sam", "Roe"]}, "must be a JSON object"),
        ({}, "needs a JSON object body"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/people"),
        ("PATCH", "/api/people/ann"),
        ("POST", "/api/families"),
        ("PATCH", "/api/families/smiths"),
        ("PUT", "/api/groups/youth/members/bob"),
    ],
)
def test_given_a_body_that_is_not_a_json_object_then_400_and_nothing_is_written(
    call, method, path, kwargs, message_part
):
    status, answer = call(method, path, **kwargs)
    assert status == 400
    assert message_part in answer["message"]


# families


def test_given_a_new_family_then_201_members_get_its_id_and_the_first_is_primary(call, church):
    status, body = call(
        "POST",
        "/api/families",
        body={"name": "Lee Household", "member_ids": ["cara"], "address": {"city": "Springfield"}},
    )

    assert status == 201
    family = church.get_family(body["id"])
    assert family is not None
    assert body == family.model_dump(mode="json")
    assert uuid.UUID(family.id).version == 4
    assert (family.pco_id, family.member_ids, family.primary_member_id) == (None, ["cara"], "cara")
    assert family.address is not None
    assert family.address.city == "Springfield"
    assert family.updated_at == T0 + timedelta(minutes=1)
    cara = church.get_person("cara")
    assert cara is not None
    assert cara.family_id == family.id
    assert cara.updated_at == T0 + timedelta(minutes=1)


def test_given_an_empty_new_family_then_it_has_no_primary(call, church):
    status, body = call("POST", "/api/families", body={"name": "Empty"})
    assert status == 201
    assert (body["member_ids"], body["primary_member_id"], body["address"]) == ([], None, None)


def test_given_a_person_from_another_family_when_added_then_they_move_and_the_old_family_follows(
    call, church
):
    status, body = call(
        "POST",
        "/api/families",
        body={"name": "Dan's", "member_ids": ["cara", "dan"], "primary_member_id": "dan"},
    )

    assert status == 201
    assert body["primary_member_id"] == "dan"
    dan = church.get_person("dan")
    assert dan is not None
    assert dan.family_id == body["id"]
    joneses = church.get_family("joneses")
    assert joneses is not None
    # Dan left the Joneses, who keep Eve, now their primary member.
    assert (joneses.member_ids, joneses.primary_member_id) == (["eve"], "eve")
    assert joneses.updated_at == T0 + timedelta(minutes=1)
    eve = church.get_person("eve")
    assert eve is not None
    assert (eve.family_id, eve.updated_at) == ("joneses", T0)


def test_given_a_family_patch_of_members_then_joiners_get_its_id_leavers_lose_it(call, church):
    status, body = call("PATCH", "/api/families/smiths", body={"member_ids": ["bob", "cara"]})

    assert status == 200
    smiths = church.get_family("smiths")
    assert smiths is not None
    assert body == smiths.model_dump(mode="json")
    # Ann, the primary, left: the first remaining member is primary now.
    assert (smiths.member_ids, smiths.primary_member_id) == (["bob", "cara"], "bob")
    assert (smiths.name, smiths.pco_id, common(smiths.sync)) == ("Smith Household", "201", LAST_EXCHANGE)
    family_of = {p.id: p.family_id for p in church.get_people(["ann", "bob", "cara"]).values()}
    assert family_of == {"ann": None, "bob": "smiths", "cara": "smiths"}
    ann = church.get_person("ann")
    assert ann is not None
    assert common(ann.sync) == LAST_EXCHANGE
    assert ann.updated_at == T0 + timedelta(minutes=1)
    bob = church.get_person("bob")
    assert bob is not None
    assert bob.updated_at == T0


def test_given_a_family_patch_of_name_primary_and_address_then_only_those_change(call, church):
    status, body = call(
        "PATCH",
        "/api/families/smiths",
        body={"name": "The Smiths", "primary_member_id": "bob", "address": {"street": "2 Oak Ave"}},
    )
    assert status == 200
    smiths = church.get_family("smiths")
    assert smiths is not None
    assert (smiths.name, smiths.member_ids, smiths.primary_member_id) == ("The Smiths", ["ann", "bob"], "bob")
    assert smiths.address is not None
    assert smiths.address.street == "2 Oak Ave"
    assert smiths.updated_at == T0 + timedelta(minutes=1)

    status, body = call("PATCH", "/api/families/smiths", body={"address": None})
    assert status == 200
    assert body["address"] is None


@pytest.mark.usefixtures("unchanged")
def test_given_a_family_patch_that_changes_nothing_then_nothing_is_written(call):
    status, body = call(
        "PATCH", "/api/families/smiths", body={"name": "Smith Household", "member_ids": ["ann", "bob"]}
    )
    assert status == 200
    assert body["primary_member_id"] == "ann"


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path", "body", "field", "problem_part"),
    [
        ("POST", "/api/families", {"name": "X", "member_ids": ["cara", "ghost"]}, "member_ids", "'ghost'"),
        ("PATCH", "/api/families/smiths", {"member_ids": ["ann", "ghost", "ghoul"]}, "member_ids", "'ghoul'"),
        (
            "POST",
            "/api/families",
            {"name": "X", "member_ids": ["cara", "cara"]},
            "member_ids",
            "cara more than once",
        ),
        (
            "POST",
            "/api/families",
            {"name": "X", "member_ids": ["cara"], "primary_member_id": "bob"},
            "primary_member_id",
            "not in member_ids",
        ),
        (
            "PATCH",
            "/api/families/smiths",
            {"primary_member_id": "cara"},
            "primary_member_id",
            "not in member_ids",
        ),
        ("POST", "/api/families", {"name": 7}, "name", "valid string"),
        ("POST", "/api/families", {"member_ids": ["cara"]}, "name", "is required"),
        ("POST", "/api/families", {"name": "X", "member_ids": "cara"}, "member_ids", "valid list"),
        ("POST", "/api/families", {"name": "X", "member_ids": [5]}, "member_ids.0", "valid string"),
        ("POST", "/api/families", {"name": "X", "id": "mine"}, "id", "not a field"),
        ("PATCH", "/api/families/smiths", {"pco_id": "1"}, "pco_id", "not a field"),
        ("PATCH", "/api/families/smiths", {"name": None}, "name", "valid string"),
        ("PATCH", "/api/families/smiths", {"address": {"city": 9}}, "address.city", "valid string"),
    ],
)
def test_given_a_bad_family_write_then_422_names_the_field_and_nothing_is_written(
    call, method, path, body, field, problem_part
):
    status, answer = call(method, path, body=body)
    assert status == 422, answer
    problems = [d["problem"] for d in answer["details"] if d["field"] == field]
    assert problems, answer
    assert any(problem_part in p for p in problems), answer


def test_given_unknown_members_then_the_answer_names_each(call):
    status, answer = call("PATCH", "/api/families/smiths", body={"member_ids": ["ann", "ghost", "ghoul"]})
    assert status == 422
    assert "'ghost'" in answer["message"]
    assert "'ghoul'" in answer["message"]
    assert len(answer["details"]) == 2


# group memberships


def test_given_a_person_not_in_the_group_when_put_then_201_and_they_are_a_member(call, church):
    status, body = call("PUT", "/api/groups/youth/members/cara", body={"role": "member"})

    assert status == 201
    youth = church.get_group("youth")
    assert youth is not None
    assert body == youth.model_dump(mode="json")
    assert [(m.person_id, m.role) for m in youth.members] == [("ann", "leader"), ("cara", "member")]
    assert youth.updated_at == T0 + timedelta(minutes=1)
    assert common(youth.sync) == LAST_EXCHANGE


def test_given_no_role_then_the_person_joins_as_a_member(call):
    status, body = call("PUT", "/api/groups/youth/members/bob", body={})
    assert status == 201
    assert body["members"][-1] == {"person_id": "bob", "role": "member", "joined_at": None}


def test_given_a_member_when_put_with_another_role_then_200_and_the_role_changes(call, church):
    status, _body = call("PUT", "/api/groups/youth/members/ann", body={"role": "member"})
    assert status == 200
    youth = church.get_group("youth")
    assert youth is not None
    assert [(m.person_id, m.role) for m in youth.members] == [("ann", "member")]
    assert youth.updated_at == T0 + timedelta(minutes=1)


@pytest.mark.usefixtures("unchanged")
def test_given_a_member_when_put_with_the_same_role_then_200_and_nothing_is_written(call):
    status, body = call("PUT", "/api/groups/youth/members/ann", body={"role": "leader"})
    assert status == 200
    assert body["members"] == [{"person_id": "ann", "role": "leader", "joined_at": None}]


def test_given_a_member_when_deleted_then_200_with_the_group_without_them(call, church):
    status, body = call("DELETE", "/api/groups/youth/members/ann")
    assert status == 200
    youth = church.get_group("youth")
    assert youth is not None
    assert body == youth.model_dump(mode="json")
    assert youth.members == []
    assert youth.updated_at == T0 + timedelta(minutes=1)
    assert common(youth.sync) == LAST_EXCHANGE
    assert church.get_person("ann") is not None  # only the membership goes


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message_part"),
    [
        ("PUT", "/api/groups/nogroup/members/ann", {"role": "member"}, 404, "no group with id 'nogroup'"),
        ("PUT", "/api/groups/youth/members/ghost", {"role": "member"}, 422, "no person with id 'ghost'"),
        ("PUT", "/api/groups/youth/members/bob", {"role": "pastor"}, 422, "role"),
        (
            "PUT",
            "/api/groups/youth/members/bob",
            {"role": "member", "joined_at": "2026-01-01"},
            422,
            "joined_at",
        ),
        ("DELETE", "/api/groups/nogroup/members/ann", None, 404, "no group with id 'nogroup'"),
        ("DELETE", "/api/groups/youth/members/bob", None, 404, "'bob' is not a member of group 'youth'"),
    ],
)
def test_given_a_bad_membership_write_then_it_says_why_and_nothing_is_written(
    call, method, path, body, status, message_part
):
    got, answer = call(method, path, body=body)
    assert got == status, answer
    assert message_part in answer["message"]


# who may write


WRITES = [
    ("POST", "/api/people", GOOD_PERSON),
    ("PATCH", "/api/people/ann", {"first_name": "Annie"}),
    ("POST", "/api/families", {"name": "X", "member_ids": ["cara"]}),
    ("PATCH", "/api/families/smiths", {"name": "X"}),
    ("PUT", "/api/groups/youth/members/bob", {"role": "member"}),
    ("DELETE", "/api/groups/youth/members/ann", None),
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_given_no_verified_token_then_401_and_nothing_is_written(call, method, path, body):
    status, answer = call(method, path, body=body, claims={})
    assert status == 401
    assert "sign in" in answer["message"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_given_a_user_without_pco_manage_then_403_and_nothing_is_written(call, method, path, body):
    status, answer = call(method, path, body=body, claims=VOLUNTEER)
    assert status == 403
    assert "pco.manage" in answer["message"]


# bounded, validated input (issue 15): every refusal names the field, answers JSON and writes nothing

LONG = "x" * 2100  # over DynamoDB's 2,048-byte key limit once it is a lookup key


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "field", "problem_part"),
    [
        (GOOD_PERSON | {"first_name": LONG}, "first_name", "at most 100 characters"),
        (GOOD_PERSON | {"last_name": "x" * 101}, "last_name", "at most 100 characters"),
        # One character NFKC-normalises to 18: a short name can still make a long lookup key.
        (GOOD_PERSON | {"last_name": "\ufdfa" * 13}, "last_name", "at most 400 bytes"),
        (GOOD_PERSON | {"emails": [{"address": LONG + "@example.org"}]}, "emails.0.address", "at most 254"),
        (GOOD_PERSON | {"emails": [{"address": "not an email"}]}, "emails.0.address", "not an email address"),
        (
            GOOD_PERSON | {"emails": [{"address": "ann@localhost"}]},
            "emails.0.address",
            "not an email address",
        ),
        (GOOD_PERSON | {"emails": [{"address": "a@b@example.org"}]}, "emails.0.address", "not an email"),
        (GOOD_PERSON | {"emails": [{"address": "a" * 65 + "@x.org"}]}, "emails.0.address", "not an email"),
        (
            GOOD_PERSON | {"emails": [{"address": f"a{n}@x.org"} for n in range(21)]},
            "emails",
            "at most 20 items",
        ),
        (GOOD_PERSON | {"phones": [{"number": "5" * 41}]}, "phones.0.number", "at most 40 characters"),
        (GOOD_PERSON | {"addresses": [{"street": "s" * 501}]}, "addresses.0.street", "at most 500"),
        (GOOD_PERSON | {"addresses": [{"zip": "1" * 21}]}, "addresses.0.zip", "at most 20 characters"),
        (GOOD_PERSON | {"emails": [{"address": "a@x.org", "location": "l" * 51}]}, "emails.0.location", "50"),
        (GOOD_PERSON | {"gender": "Attack Helicopter"}, "gender", "must be Male or Female"),
        (GOOD_PERSON | {"gender": 1}, "gender", "must be Male or Female"),
        (GOOD_PERSON | {"birthdate": "2999-01-01"}, "birthdate", "must not be in the future"),
        (GOOD_PERSON | {"birthdate": "0001-01-01"}, "birthdate", "must not be before 1900-01-01"),
        (GOOD_PERSON | {"birthdate": "1899-12-31"}, "birthdate", "must not be before 1900-01-01"),
        (GOOD_PERSON | {"anniversary": "2999-01-01"}, "anniversary", "must not be in the future"),
        (GOOD_PERSON | {"anniversary": 20010602}, "anniversary", "date"),
        (GOOD_PERSON | {"grade": 13}, "grade", "less than or equal to 12"),
        (GOOD_PERSON | {"grade": -2}, "grade", "greater than or equal to -1"),
        (GOOD_PERSON | {"grade": "4"}, "grade", "valid integer"),
        (GOOD_PERSON | {"child": "yes"}, "child", "valid boolean"),
        (GOOD_PERSON | {"nickname": "n" * 101}, "nickname", "at most 100 characters"),
        (GOOD_PERSON | {"middle_name": "m" * 101}, "middle_name", "at most 100 characters"),
        (GOOD_PERSON | {"given_name": ""}, "given_name", "at least 1 character"),
        (GOOD_PERSON | {"membership": "m" * 101}, "membership", "at most 100 characters"),
        (GOOD_PERSON | {"addresses": [{"country_code": "ZZ"}]}, "addresses.0.country_code", "ISO 3166-1"),
        (GOOD_PERSON | {"addresses": [{"country_code": "USA"}]}, "addresses.0.country_code", "ISO 3166-1"),
        (GOOD_PERSON | {"addresses": [{"country_code": 1}]}, "addresses.0.country_code", "valid string"),
        # JSON may carry a lone surrogate, which no store can encode.
        (GOOD_PERSON | {"first_name": "Sam\ud800"}, "first_name", "unicode string"),
    ],
)
def test_given_an_out_of_bounds_person_then_422_names_the_field_and_nothing_is_written(
    call, body, field, problem_part
):
    for method, path, sent in [
        ("POST", "/api/people", body),
        ("PATCH", "/api/people/ann", {k: v for k, v in body.items() if k not in GOOD_PERSON or k == field}),
    ]:
        status, answer = call(method, path, body=sent)
        assert status == 422, (method, answer)
        problems = {d["field"]: d["problem"] for d in answer["details"]}
        assert field in problems, (method, answer)
        assert problem_part in problems[field], (method, answer)
        assert field in answer["message"]


@pytest.mark.parametrize(
    ("gender", "stored"), [("M", "Male"), ("f", "Female"), (" Female ", "Female"), (None, None)]
)
def test_given_pcos_genders_or_their_letters_then_pcos_value_is_stored(call, church, gender, stored):
    status, body = call("POST", "/api/people", body=GOOD_PERSON | {"gender": gender})
    assert status == 201
    person = church.get_person(body["id"])
    assert person is not None
    assert person.gender == stored


def test_given_the_longest_allowed_values_then_they_are_stored_and_matchable(call, church):
    # Given names and an email at their limits, in characters that take the most bytes in a key
    first = "\ufdfa" * 12  # 12 characters, 396 bytes once normalised for matching
    last = "\U0001d49c" * 100  # 100 characters of 4 bytes
    email = "\U0001d49c" * 64 + "@" + ".".join(["\U0001d49c" * 61] * 3) + ".org"
    assert len(email) == 254
    status, body = call(
        "POST",
        "/api/people",
        body={
            "first_name": first,
            "last_name": last,
            "birthdate": "1900-01-01",
            "emails": [{"address": email}],
        },
    )
    # Then the person and its lookup items fit DynamoDB's key limits, and the lookups find them
    assert status == 201, body
    assert [p.id for p in church.people_by_email(email)] == [body["id"]]
    assert [p.id for p in church.people_by_name(last, first, date(1900, 1, 1))] == [body["id"]]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path", "body", "field", "problem_part"),
    [
        ("POST", "/api/families", {"name": "n" * 201}, "name", "at most 200 characters"),
        (
            "POST",
            "/api/families",
            {"name": "X", "member_ids": [f"p{n}" for n in range(101)]},
            "member_ids",
            "at most 100 items",
        ),
        ("POST", "/api/families", {"name": "X", "member_ids": ["i" * 65]}, "member_ids.0", "64 characters"),
        ("PATCH", "/api/families/smiths", {"address": {"city": "c" * 101}}, "address.city", "100 characters"),
        ("PATCH", "/api/families/smiths", {"primary_member_id": "i" * 65}, "primary_member_id", "64"),
    ],
)
def test_given_an_out_of_bounds_family_then_422_names_the_field(
    call, method, path, body, field, problem_part
):
    status, answer = call(method, path, body=body)
    assert status == 422, answer
    problems = {d["field"]: d["problem"] for d in answer["details"]}
    assert problem_part in problems[field], answer


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/people/" + "i" * 65, None),
        ("/api/groups/youth/members/" + "i" * 65, None),
        ("/api/people", {"cursor": "c" * 1025}),
        ("/api/people", {"limit": "101"}),
    ],
)
def test_given_an_id_or_parameter_over_its_limit_then_400_naming_it(call, path, query):
    method = "DELETE" if "members" in path else "GET"
    status, answer = call(method, path, query=query)
    assert status == 400, answer
    (name,) = {d["field"] for d in answer["details"]}
    assert f"'{name}'" in answer["message"]


def raw_event(method: str, path: str, body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    """An event whose body API Gateway passed base64-encoded, as it does for bytes it cannot treat as text."""
    event = http_event(method, path, claims=ADMIN)
    event["headers"]["content-type"] = content_type
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return event


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "content_type", "status", "message_part"),
    [
        (b"\xff\xfe\x00binary\x80", "application/json", 400, "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nests deeper than 32"),
        (b"[" * 1_000 + b"]" * 1_000, "application/json", 400, "nests deeper than 32"),
        (b'{"first_name": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json", 400, "nests deeper"),
        (b'{"first_name": "Sam", "last_name": "Roe"}', "text/plain", 415, "send JSON"),
        (b"first_name=Sam&last_name=Roe", "application/x-www-form-urlencoded", 415, "send JSON"),
        (b" " * 300_000, "application/json", 413, "at most"),
    ],
)
def test_given_a_body_that_cannot_be_read_as_json_then_a_json_refusal_and_nothing_is_written(
    resolve, body, content_type, status, message_part
):
    for method, path in [("POST", "/api/people"), ("PATCH", "/api/people/ann"), ("POST", "/api/families")]:
        got, answer = resolve(raw_event(method, path, body, content_type))
        assert got == status, (method, answer)
        assert message_part in answer["message"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded", "Application/JSON"],
)
def test_given_no_body_but_another_content_type_then_415_and_nothing_is_written(resolve, content_type):
    # ("Application/JSON": Powertools reads the type case-sensitively, so that one is refused as well.)
    event = http_event("POST", "/api/people", claims=ADMIN)
    event["headers"]["content-type"] = content_type
    status, answer = resolve(event)
    assert status == 415, answer
    assert "send JSON" in answer["message"]


@pytest.mark.usefixtures("unchanged")
def test_given_a_json_body_100000_levels_deep_as_text_then_400(call):
    # Not base64: the shape API Gateway passes a JSON body in.
    for text in ["[" * 100_000 + "]" * 100_000, "[" * 20_000, '{"a": ' * 30_000]:
        status, answer = call("POST", "/api/people", raw_body=text)
        assert status == 400, answer
        assert "nests deeper than 32" in answer["message"]


@pytest.mark.usefixtures("unchanged")
def test_given_thousands_of_wrong_fields_then_the_answer_names_the_first_20(call):
    status, answer = call("POST", "/api/people", body=GOOD_PERSON | {f"field{n}": n for n in range(5000)})
    assert status == 422
    assert [d["field"] for d in answer["details"]] == [f"field{n}" for n in range(20)]
    assert len(answer["message"]) < 2000
