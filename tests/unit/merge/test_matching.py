"""PersonMatch: PCO id, then email + first name, then name + birthdate; never a wrong merge."""

from __future__ import annotations

from datetime import date

from pco_core.merge.matching import PersonMatch
from pco_core.pco.models import PcoEmail, PcoPerson
from pco_core.records import Email, Person
from tests.unit.fakes import START, FakeRecords


def local(
    pid: str,
    first: str,
    last: str,
    *,
    pco_id: str | None = None,
    email: str | None = None,
    birthdate: date | None = None,
) -> Person:
    return Person(
        id=pid,
        pco_id=pco_id,
        first_name=first,
        last_name=last,
        birthdate=birthdate,
        emails=[Email(address=email)] if email else [],
        updated_at=START,
    )


def pco(
    pid: str, first: str, last: str, *, email: str | None = None, birthdate: date | None = None
) -> PcoPerson:
    emails = [PcoEmail(id=f"e{pid}", address=email, primary=True)] if email else []
    return PcoPerson(
        id=pid, first_name=first, last_name=last, birthdate=birthdate, updated_at=START, emails=emails
    )


def match_one(records: FakeRecords, person: PcoPerson) -> Person | None:
    return PersonMatch(records).match_page([person])[person.id]


def test_given_a_linked_record_when_matching_then_pco_id_wins_over_everything() -> None:
    records = FakeRecords()
    records.add(local("L1", "Ann", "Lee", pco_id="100"), local("L2", "Ann", "Lee", email="ann@x.org"))
    assert match_one(records, pco("100", "Annie", "Lee", email="ann@x.org")).id == "L1"  # type: ignore[union-attr]


def test_given_same_email_and_first_name_then_it_matches_case_and_space_insensitively() -> None:
    records = FakeRecords()
    records.add(local("L1", "Zoë", "Ng", email="zoe@x.org"))
    found = match_one(records, pco("7", " ZOË ", "Ng", email="Zoe@X.org "))
    assert found is not None
    assert found.id == "L1"


def test_given_spouses_sharing_one_email_then_each_pco_person_matches_their_own_record() -> None:
    records = FakeRecords()
    records.add(
        local("L1", "John", "Smith", email="smiths@x.org"), local("L2", "Mary", "Smith", email="smiths@x.org")
    )
    matches = PersonMatch(records).match_page(
        [pco("1", "Mary", "Smith", email="smiths@x.org"), pco("2", "Paul", "Smith", email="smiths@x.org")]
    )
    assert matches["1"] is not None
    assert matches["1"].id == "L2"
    assert matches["2"] is None  # a third person at the same address is new, never merged into John


def test_given_email_match_with_conflicting_birthdate_then_no_match() -> None:
    records = FakeRecords()
    records.add(local("L1", "John", "Smith", email="s@x.org", birthdate=date(1960, 1, 1)))
    assert match_one(records, pco("1", "John", "Smith", email="s@x.org", birthdate=date(1990, 5, 5))) is None


def test_given_a_candidate_linked_to_another_pco_id_then_it_is_never_matched() -> None:
    records = FakeRecords()
    records.add(local("L1", "Ann", "Lee", pco_id="999", email="ann@x.org", birthdate=date(1980, 2, 3)))
    assert match_one(records, pco("1", "Ann", "Lee", email="ann@x.org", birthdate=date(1980, 2, 3))) is None


def test_given_two_equal_email_candidates_then_ambiguity_creates_rather_than_merges() -> None:
    records = FakeRecords()
    records.add(local("L1", "Sam", "Ray", email="r@x.org"), local("L2", "Sam", "Ray", email="r@x.org"))
    assert match_one(records, pco("1", "Sam", "Ray", email="r@x.org")) is None


def test_given_two_email_candidates_when_only_one_agrees_on_last_name_and_birthdate_then_that_one() -> None:
    records = FakeRecords()
    records.add(
        local("L1", "Sam", "Ray", email="r@x.org", birthdate=date(2000, 1, 1)),
        local("L2", "Sam", "Roe", email="r@x.org"),
    )
    found = match_one(records, pco("1", "Sam", "Ray", email="r@x.org", birthdate=date(2000, 1, 1)))
    assert found is not None
    assert found.id == "L1"


def test_given_name_and_birthdate_then_match_but_never_without_a_birthdate() -> None:
    records = FakeRecords()
    records.add(local("L1", "Ann", "Lee", birthdate=date(1980, 2, 3)), local("L2", "Bob", "Kay"))
    assert match_one(records, pco("1", "ann", "LEE", birthdate=date(1980, 2, 3))).id == "L1"  # type: ignore[union-attr]
    assert match_one(records, pco("2", "Bob", "Kay")) is None


def test_given_near_duplicate_names_then_they_are_not_merged() -> None:
    records = FakeRecords()
    records.add(local("L1", "Jon", "Smith", email="j@x.org", birthdate=date(1980, 2, 3)))
    assert match_one(records, pco("1", "John", "Smith", email="j@x.org", birthdate=date(1980, 2, 3))) is None
    assert match_one(records, pco("2", "Jon", "Smyth", birthdate=date(1980, 2, 3))) is None


def test_given_two_pco_people_fitting_one_local_record_then_only_the_first_takes_it() -> None:
    records = FakeRecords()
    records.add(local("L1", "Ann", "Lee", email="a@x.org", birthdate=date(1980, 2, 3)))
    matches = PersonMatch(records).match_page(
        [pco("1", "Ann", "Lee", email="a@x.org"), pco("2", "Ann", "Lee", birthdate=date(1980, 2, 3))]
    )
    assert matches["1"] is not None
    assert matches["2"] is None


def test_given_a_page_then_pco_ids_are_looked_up_once_and_email_only_for_the_unmatched() -> None:
    records = FakeRecords()
    records.add(*(local(f"L{i}", "P", str(i), pco_id=str(i), email=f"{i}@x.org") for i in range(5)))
    records.add(local("U", "Una", "Linked", email="una@x.org"))  # one local person not yet in PCO
    PersonMatch(records).match_page([pco(str(i), "P", str(i), email=f"{i}@x.org") for i in range(6)])
    assert records.calls["people_by_pco_ids"] == 1
    assert records.calls["people_by_email"] == 1


def test_given_every_local_person_is_linked_then_no_email_or_name_query_is_made() -> None:
    # Given only people already linked to PCO (every sync after the first)
    records = FakeRecords()
    records.add(*(local(f"L{i}", "P", str(i), pco_id=str(i), email=f"{i}@x.org") for i in range(5)))
    # When a page holds new PCO people too
    matches = PersonMatch(records).match_page(
        [pco(str(i), "P", str(i), email=f"{i}@x.org", birthdate=date(1990, 1, 1)) for i in range(8)]
    )
    # Then they are new without a single email or name query (nothing unlinked could match them)
    assert [pid for pid, found in matches.items() if found is None] == ["5", "6", "7"]
    assert records.calls.get("people_by_email", 0) == 0
    assert records.calls.get("people_by_name", 0) == 0
