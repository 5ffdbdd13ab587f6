"""The generated church: deterministic, exactly N people, realistic households, contacts, names and groups."""

from __future__ import annotations

import gc
import json
import re
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from local.sandbox.church import ANCHOR, ChurchSummary, generate_church
from local.sandbox.clock import FakeClock
from local.sandbox.data import ID_BASES, LINKS, Record, Store

SEED = 7
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _church(people: int, seed: int = SEED) -> tuple[Store, ChurchSummary]:
    store = Store(FakeClock())
    return store, generate_church(store, people=people, seed=seed)


def _dump_text(store: Store) -> str:
    return json.dumps(store.dump(), ensure_ascii=False, sort_keys=False)


@pytest.fixture(scope="module")
def church() -> tuple[Store, ChurchSummary]:
    return _church(1000)


@pytest.fixture(scope="module")
def store(church: tuple[Store, ChurchSummary]) -> Store:
    return church[0]


@pytest.fixture(scope="module")
def summary(church: tuple[Store, ChurchSummary]) -> ChurchSummary:
    return church[1]


def _age_days(birthdate: str) -> int:
    anchor = datetime.fromtimestamp(ANCHOR, UTC).date()
    return (anchor - date.fromisoformat(birthdate)).days


def _name(person: Record) -> str:
    return f"{person.attributes['first_name']} {person.attributes['last_name']}"


# ----------------------------------------------------------------------------- determinism and size


def test_given_the_same_seed_when_generated_twice_then_the_dumps_are_byte_identical() -> None:
    first, _ = _church(300)
    second, _ = _church(300)
    assert _dump_text(first) == _dump_text(second)


def test_given_another_seed_then_the_church_differs() -> None:
    first, _ = _church(300, seed=1)
    second, _ = _church(300, seed=2)
    assert _dump_text(first) != _dump_text(second)
    names_1 = sorted(_name(p) for p in first.all("Person"))
    names_2 = sorted(_name(p) for p in second.all("Person"))
    assert names_1 != names_2


def test_given_a_store_clock_later_than_the_anchor_then_the_church_does_not_depend_on_it() -> None:
    early, late = Store(FakeClock()), Store(FakeClock(start=ANCHOR + 400 * 86_400))
    generate_church(early, people=120, seed=SEED)
    generate_church(late, people=120, seed=SEED)
    assert _dump_text(early) == _dump_text(late)


@pytest.mark.parametrize("people", [0, 1, 2, 3, 7, 50, 300])
def test_given_a_size_then_exactly_that_many_people_exist(people: int) -> None:
    store, summary = _church(people)
    assert store.count("Person") == people
    assert summary.counts == {kind: store.count(kind) for kind in ID_BASES}
    assert sorted(summary.person_ids) == sorted(p.id for p in store.all("Person"))
    assert len(summary.adult_ids) + len(summary.child_ids) == people


def test_given_a_store_with_records_then_generation_refuses() -> None:
    store, _ = _church(5)
    with pytest.raises(ValueError, match="empty store"):
        generate_church(store, people=5, seed=SEED)


def test_given_negative_people_then_generation_refuses() -> None:
    with pytest.raises(ValueError, match="people"):
        generate_church(Store(FakeClock()), people=-1, seed=SEED)


def test_generation_publishes_no_webhooks() -> None:
    published: list[str] = []
    store = Store(FakeClock())
    store.publish = lambda event, resource, included: published.append(event)
    generate_church(store, people=60, seed=SEED)
    assert published == []


def test_the_dump_loads_back_to_an_identical_dump(store: Store) -> None:
    # Given the dump of a generated church, round-tripped through JSON as a dataset file would be
    document = json.loads(json.dumps(store.dump(), ensure_ascii=False))
    # When it is loaded into a fresh store
    copy = Store(FakeClock())
    copy.load(document)
    # Then the copy dumps exactly the same
    assert _dump_text(copy) == _dump_text(store)


# ----------------------------------------------------------------------------- integrity


def test_every_link_points_at_an_existing_record_of_its_type(store: Store) -> None:
    for kind, links in LINKS.items():
        for record in store.all(kind):
            assert set(record.links) == set(links), (kind, record.id)
            for name, target_kind in links.items():
                target = record.links[name]
                assert target is not None, (kind, record.id, name)
                assert store.find(target_kind, target) is not None, (kind, record.id, name, target)


def test_ids_are_numeric_strings(store: Store) -> None:
    for kind in ID_BASES:
        assert all(r.id.isdigit() for r in store.all(kind)), kind


def test_timestamps_are_iso_utc_and_in_order(store: Store) -> None:
    anchor = datetime.fromtimestamp(ANCHOR, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for kind in ("Person", "Email", "PhoneNumber", "Address", "Household", "Group"):
        for record in store.all(kind):
            created = record.attributes["created_at"]
            assert ISO.match(created), (kind, created)
            assert created <= anchor
            updated = record.attributes.get("updated_at")
            if updated is not None:
                assert ISO.match(updated)
                assert created <= updated <= anchor
    for membership in store.all("Membership"):
        assert ISO.match(membership.attributes["joined_at"])
        assert membership.attributes["joined_at"] <= anchor


# ----------------------------------------------------------------------------- households


def test_households_have_members_a_primary_contact_among_them_and_a_name(store: Store) -> None:
    assert store.count("Household") > 0
    for household in store.all("Household"):
        memberships = store.children("HouseholdMembership", "household", household.id)
        members = {m.link("person") for m in memberships}
        assert members
        primary = household.link("primary_contact")
        assert primary in members
        assert store.get("Person", str(primary)).attributes["child"] is False
        last = store.get("Person", str(primary)).attributes["last_name"]
        assert household.attributes["name"] == f"{last} Household"
        roles = {m.attributes["household_role"] for m in memberships}
        assert roles <= {"adult", "child_or_dependent", "other_adult"}
        assert len(members) == len(memberships), "a person is in a household once"


def test_household_roles_match_the_people(store: Store) -> None:
    for membership in store.all("HouseholdMembership"):
        person = store.get("Person", str(membership.link("person")))
        is_child = membership.attributes["household_role"] == "child_or_dependent"
        assert person.attributes["child"] is is_child


def test_most_people_have_one_household_a_few_two_some_none(store: Store, summary: ChurchSummary) -> None:
    per_person = Counter(m.link("person") for m in store.all("HouseholdMembership"))
    assert max(per_person.values()) == 2
    two = sorted(str(p) for p, n in per_person.items() if n == 2)
    assert two == sorted(summary.two_household_ids)
    assert 0 < len(two) < 0.1 * store.count("Person")
    without = [p.id for p in store.all("Person") if p.id not in per_person]
    assert without == summary.without_household_ids
    assert 0 < len(without) < 0.5 * store.count("Person")


def test_adults_of_a_household_share_its_primary_address(store: Store) -> None:
    def place(address: Record) -> tuple[object, ...]:
        a = address.attributes
        return (a["street_line_1"], a["street_line_2"], a["city"], a["state"], a["zip"])

    for household in store.all("Household"):
        places = set()
        for membership in store.children("HouseholdMembership", "household", household.id):
            person_id = str(membership.link("person"))
            if membership.attributes["household_role"] == "child_or_dependent":
                continue
            primary = [a for a in store.children("Address", "person", person_id) if a.attributes["primary"]]
            assert len(primary) == 1
            places.add(place(primary[0]))
        assert len(places) == 1, household.attributes["name"]


def test_addresses_carry_the_attributes_the_renderer_reads(store: Store) -> None:
    for address in store.all("Address"):
        a = address.attributes
        assert all(a[key] for key in ("street_line_1", "city", "state", "zip"))
        assert a["location"] in {"Home", "Work"}
        assert a["country_code"] == "US"


# ----------------------------------------------------------------------------- contacts


@pytest.mark.parametrize("people", [50, 120, 1000])
def test_given_fifty_or_more_people_then_some_spouses_share_one_email(people: int) -> None:
    store, summary = _church(people)
    assert summary.shared_email_pairs
    for first, second in summary.shared_email_pairs:
        mine = {e.attributes["address"] for e in store.children("Email", "person", first)}
        theirs = {e.attributes["address"] for e in store.children("Email", "person", second)}
        assert mine & theirs
        households = {m.link("household") for m in store.children("HouseholdMembership", "person", first)}
        assert households & {
            m.link("household") for m in store.children("HouseholdMembership", "person", second)
        }


def test_no_email_is_shared_except_by_spouses(store: Store, summary: ChurchSummary) -> None:
    holders: dict[str, set[str]] = {}
    for email in store.all("Email"):
        holders.setdefault(email.attributes["address"].casefold(), set()).add(str(email.link("person")))
    pairs = {frozenset(pair) for pair in summary.shared_email_pairs}
    shared = [frozenset(people) for people in holders.values() if len(people) > 1]
    assert shared
    assert set(shared) <= pairs


def test_children_are_mostly_without_email(store: Store, summary: ChurchSummary) -> None:
    with_email = [c for c in summary.child_ids if store.children("Email", "person", c)]
    assert len(with_email) < 0.3 * len(summary.child_ids)
    for child_id in with_email:
        birthdate = store.get("Person", child_id).attributes["birthdate"]
        assert _age_days(birthdate) >= 13 * 365, "only teenagers have an email"


def test_adults_have_one_to_three_emails_and_at_most_three_phones(
    store: Store, summary: ChurchSummary
) -> None:
    for adult in summary.adult_ids:
        assert 1 <= len(store.children("Email", "person", adult)) <= 3
        assert len(store.children("PhoneNumber", "person", adult)) <= 3
    assert any(not store.children("PhoneNumber", "person", a) for a in summary.adult_ids)


@pytest.mark.parametrize("kind", ["Email", "PhoneNumber", "Address"])
def test_everyone_with_contacts_of_a_kind_has_exactly_one_primary(store: Store, kind: str) -> None:
    seen = 0
    for person in store.all("Person"):
        records = store.children(kind, "person", person.id)
        if records:
            seen += 1
            assert sum(1 for r in records if r.attributes["primary"] is True) == 1, (kind, person.id)
    assert seen > 0


def test_phone_numbers_are_us_numbers_in_mixed_formats(store: Store) -> None:
    formats = set()
    for phone in store.all("PhoneNumber"):
        number = phone.attributes["number"]
        digits = "".join(ch for ch in number if ch.isdigit())
        assert len(digits) in (10, 11)
        formats.add(re.sub(r"\d", "9", number))
    assert len(formats) >= 3


# ----------------------------------------------------------------------------- people


def test_names_mix_unicode_hyphens_and_apostrophes(store: Store) -> None:
    names = [_name(p) for p in store.all("Person")]
    assert any(not name.isascii() for name in names)
    assert any("-" in p.attributes["last_name"] for p in store.all("Person"))
    assert any("'" in p.attributes["last_name"] for p in store.all("Person"))
    # names are stored NFC (as typed), not decomposed
    assert all(unicodedata.is_normalized("NFC", name) for name in names)


def test_near_duplicate_people_are_present(store: Store, summary: ChurchSummary) -> None:
    assert summary.near_duplicate_pairs
    for original_id, copy_id in summary.near_duplicate_pairs:
        original, copy = store.get("Person", original_id), store.get("Person", copy_id)
        assert original_id != copy_id
        assert _name(original) != _name(copy)
        same_first = original.attributes["first_name"] == copy.attributes["first_name"]
        same_last = original.attributes["last_name"] == copy.attributes["last_name"]
        assert same_first or same_last, "exactly one part of the name is spelled differently"
        assert original.attributes["gender"] == copy.attributes["gender"]


def test_given_a_smaller_church_then_near_duplicates_are_still_present() -> None:
    _, summary = _church(300)
    assert summary.near_duplicate_pairs


def test_genders_are_stored_as_the_renderer_expects(store: Store) -> None:
    genders = Counter(p.attributes["gender"] for p in store.all("Person"))
    assert set(genders) <= {"M", "F", None}
    assert genders["M"] > 0.3 * store.count("Person")
    assert genders["F"] > 0.3 * store.count("Person")


def test_some_birthdates_are_missing_but_never_a_childs(store: Store, summary: ChurchSummary) -> None:
    missing = [p.id for p in store.all("Person") if p.attributes["birthdate"] is None]
    assert missing == summary.missing_birthdate_ids
    assert 0.03 * store.count("Person") < len(missing) < 0.2 * store.count("Person")
    assert not set(missing) & set(summary.child_ids)


def test_children_are_under_eighteen_and_adults_over(store: Store, summary: ChurchSummary) -> None:
    children = set(summary.child_ids)
    assert children
    for person in store.all("Person"):
        a = person.attributes
        assert a["child"] is (person.id in children)
        if a["birthdate"] is None:
            continue
        age_days = _age_days(a["birthdate"])
        if a["child"]:
            assert 0 <= age_days < 18 * 365
        else:
            assert age_days >= 18 * 365 + 5


def test_some_people_are_inactive_with_an_inactivation_time(store: Store, summary: ChurchSummary) -> None:
    inactive = [p for p in store.all("Person") if p.attributes["status"] == "inactive"]
    assert [p.id for p in inactive] == summary.inactive_ids
    assert 0.02 * store.count("Person") < len(inactive) < 0.1 * store.count("Person")
    for person in store.all("Person"):
        a = person.attributes
        assert a["status"] in {"active", "inactive"}
        if a["status"] == "inactive":
            assert a["created_at"] <= a["inactivated_at"] <= a["updated_at"]
        else:
            assert a["inactivated_at"] is None


def test_membership_strings_are_a_realistic_mix(store: Store) -> None:
    kinds = Counter(p.attributes["membership"] for p in store.all("Person"))
    assert {"Member", "Regular Attender", "Visitor"} <= set(kinds)
    assert kinds["Member"] > kinds["Visitor"]


# ----------------------------------------------------------------------------- groups


def test_group_types_and_about_one_group_per_forty_people(store: Store, summary: ChurchSummary) -> None:
    assert store.count("GroupType") >= 3
    assert store.count("Group") == 25
    types = {g.link("group_type") for g in store.all("Group")}
    assert len(types) >= 3
    assert summary.archived_group_ids
    assert summary.archived_group_ids == [g.id for g in store.all("Group") if g.attributes["archived_at"]]
    assert len({g.attributes["name"] for g in store.all("Group")}) == store.count("Group")


@pytest.mark.parametrize("people", [0, 1, 7, 100])
def test_given_any_size_then_at_least_three_groups_exist(people: int) -> None:
    store, _ = _church(people)
    assert store.count("GroupType") >= 3
    assert store.count("Group") >= 3
    for group in store.all("Group"):
        size = len(store.children("Membership", "group", group.id))
        assert min(3, people) <= size <= min(40, people)


def test_memberships_have_leaders_sizes_and_no_duplicates(store: Store) -> None:
    pairs = Counter((m.link("person"), m.link("group")) for m in store.all("Membership"))
    assert max(pairs.values()) == 1
    for group in store.all("Group"):
        memberships = store.children("Membership", "group", group.id)
        assert 3 <= len(memberships) <= 40, group.attributes["name"]
        roles = Counter(m.attributes["role"] for m in memberships)
        assert set(roles) <= {"leader", "member"}
        assert 1 <= roles["leader"] <= 2
        for membership in memberships:
            assert membership.attributes["joined_at"] >= group.attributes["created_at"]
            if group.attributes["archived_at"]:
                assert membership.attributes["joined_at"] <= group.attributes["archived_at"]
    groups_per_person = Counter(m.link("person") for m in store.all("Membership"))
    assert max(groups_per_person.values()) <= 4


def test_gendered_groups_draw_from_that_gender(store: Store) -> None:
    checked = 0
    for group in store.all("Group"):
        name = group.attributes["name"]
        if "Men's" not in name and "Women's" not in name:
            continue
        want = "M" if "Men's" in name else "F"
        members = [
            store.get("Person", str(m.link("person")))
            for m in store.children("Membership", "group", group.id)
            if m.attributes["role"] == "member"
        ]
        assert all(p.attributes["gender"] == want for p in members), name
        checked += 1
    assert checked


def test_generation_leaves_the_garbage_collector_as_it_found_it() -> None:
    _church(20)
    assert gc.isenabled()
    gc.disable()
    try:
        _church(20)
        assert not gc.isenabled()
    finally:
        gc.enable()
