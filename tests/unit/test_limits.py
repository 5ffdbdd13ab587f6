"""pco_core.limits: the shapes it accepts and refuses, and the arithmetic that keeps every lookup key
DynamoDB holds under its 2,048-byte limit whatever characters a name or an email is made of."""

from __future__ import annotations

import sys
from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from pco_core.limits import (
    EMAIL_MAX,
    ID_MAX,
    NAME_KEY_MAX_BYTES,
    Birthdate,
    EmailAddress,
    Gender,
    Name,
    birthdate_problem,
    json_depth,
)
from pco_core.store.records import email_lookup_key, name_lookup_pk

DYNAMODB_KEY_MAX_BYTES = 2048
DYNAMODB_SORT_KEY_MAX_BYTES = 1024


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[[[[", "b": "\\"]]]"}', 1),  # brackets inside strings, escaped quotes, do not count
        ("[" * 100_000, 100_000),
        ("42", 0),
        ("", 0),
    ],
)
def test_json_depth_counts_nesting_without_parsing(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize(
    "address",
    ["ann@example.org", "o'brien+news@mail.example.co.uk", "zoë@exämple.de", "a@b.io", "x@123.example"],
)
def test_real_email_shapes_are_accepted(address):
    assert TypeAdapter(EmailAddress).validate_python(f" {address} ") == address


@pytest.mark.parametrize(
    "address",
    [
        "not an email",
        "ann@localhost",
        "ann@",
        "@example.org",
        "a@b@example.org",
        "ann@example..org",
        "ann@-example.org",
        "ann@example.123",
        "ann@exa_mple.org",
        "a\x00b@example.org",
        "a" * 65 + "@example.org",
        "a@" + "b" * 64 + ".org",
    ],
)
def test_other_email_shapes_are_refused(address):
    with pytest.raises(ValidationError):
        TypeAdapter(EmailAddress).validate_python(address)


@pytest.mark.parametrize(
    ("given", "stored"), [("M", "Male"), ("male", "Male"), ("F", "Female"), (None, None)]
)
def test_gender_is_one_of_pcos_values(given, stored):
    assert TypeAdapter(Gender).validate_python(given) == stored


@pytest.mark.parametrize("given", ["Attack Helicopter", "", "X", 0, True])
def test_any_other_gender_is_refused(given):
    with pytest.raises(ValidationError, match="must be Male or Female"):
        TypeAdapter(Gender).validate_python(given)


@pytest.mark.parametrize("given", [19900101, "1990-1-1", "01/02/1990", "1990-02-30", None])
def test_a_birthdate_is_a_real_yyyy_mm_dd_date(given):
    with pytest.raises(ValidationError):
        TypeAdapter(Birthdate).validate_python(given)


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (date(1899, 12, 31), "must not be before 1900-01-01"),
        (date(1900, 1, 1), None),
        (date(2026, 11, 25), None),  # tomorrow in UTC is today east of it
        (date(2026, 11, 26), "must not be in the future"),
        (date(2999, 1, 1), "must not be in the future"),
    ],
)
def test_birthdates_from_1900_to_today(born, problem):
    assert birthdate_problem(born, today=date(2026, 11, 24)) == problem


def test_a_name_key_longer_than_its_limit_is_refused_even_within_the_character_limit():
    adapter = TypeAdapter(Name)
    assert adapter.validate_python("\ufdfa" * 12)  # 396 bytes once normalised
    with pytest.raises(ValidationError, match=f"at most {NAME_KEY_MAX_BYTES} bytes"):
        adapter.validate_python("\ufdfa" * 13)


def test_the_longest_name_lookup_key_fits_dynamodb():
    # Each name is at most NAME_KEY_MAX_BYTES once normalised, whatever it is made of.
    longest = name_lookup_pk("x" * NAME_KEY_MAX_BYTES, "y" * NAME_KEY_MAX_BYTES, date(2026, 11, 24))
    assert len(longest.encode()) < DYNAMODB_KEY_MAX_BYTES // 2 + 100


def test_the_longest_email_lookup_key_fits_dynamodb_whatever_its_characters():
    # Lower-casing (how emails are matched) makes no character longer than 4 bytes.
    widest = max(
        len(chr(c).lower().encode("utf-8")) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000
    )
    assert widest == 4
    pk, sk = email_lookup_key("\U0001d49c" * EMAIL_MAX, "i" * ID_MAX)
    assert len(pk.encode()) <= len("EMAIL#") + EMAIL_MAX * widest < DYNAMODB_KEY_MAX_BYTES
    assert len(sk.encode()) < DYNAMODB_SORT_KEY_MAX_BYTES
