"""The most PCO Sync accepts of anything it stores: lengths, list sizes, value ranges and body shapes.

One module for every way records come in: the admin API refuses a longer value with a 422 naming the
field; a PCO record (pull or webhook) holding a longer value is a failed record with its reason, never
truncated (pco/models.py), so both sides of the sync hold a record to the same numbers. Lengths are in
characters (Unicode code points) unless named `_BYTES`. The lookup items that make a match one read hold
a normalised email or name in their DynamoDB key, which may be at most 2,048 bytes: the limits below keep
every such key under 1,100 bytes (tests/unit/test_limits.py checks the arithmetic;
tests/unit/api/test_record_writes.py stores the longest allowed values on moto, which enforces DynamoDB's
key limits).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from pco_core.records import normalise_name

ID_MAX = 64  # ids of people, families, groups and runs (ours are 36-character UUIDs)
NAME_MAX = 100  # first_name, last_name, given_name, middle_name, nickname
MEMBERSHIP_MAX = 100  # one of the church's membership types in PCO ("Member", "Regular Attender")
# PCO's `grade` is an integer (People docs, Person); its values run from -1 (pre-K, UNCERTAIN: no source
# shows it) and 0 (kindergarten) to 12 (pcomirror's live answers order 12 first for `order=-grade`).
GRADE_MIN = -1
GRADE_MAX = 12
# A name as the name lookup key holds it (NFKC, casefolded): one character can become 18 ("ﷺ").
NAME_KEY_MAX_BYTES = 400
FAMILY_NAME_MAX = 200  # a family's (PCO household's) name
GROUP_NAME_MAX = 200  # a group's name
# PCO's values are Male/Female; a PCO record's other text passes through as PCO sent it, up to this.
GENDER_MAX = 50
EMAIL_MAX = 254  # RFC 5321's limit on an address; its lookup key stays under 1,100 bytes
EMAIL_LOCAL_MAX = 64
PHONE_MAX = 40
LOCATION_MAX = 50  # "Home", "Work", "Mobile"
STREET_MAX = 500  # may hold several lines
CITY_MAX = 100
STATE_MAX = 100
ZIP_MAX = 20
# ISO 3166-1 alpha-2, the officially assigned codes (249; Debian iso-codes 4.15.0, iso_3166-1.json): what
# PCO's Address `country_code` holds ("US" in pcomirror's live golden answers, tests/fixtures/pco/).
# fmt: off
COUNTRY_CODES = frozenset(
    {
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA",
        "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV",
        "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU",
        "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES",
        "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM",
        "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE",
        "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM",
        "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
        "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT",
        "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU",
        "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA",
        "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
        "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL",
        "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
        "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    }
)
# fmt: on
CONTACTS_MAX = 20  # emails, phones and addresses, each, per person
FAMILY_MEMBERS_MAX = 100
CURSOR_MAX = 1024
BIRTHDATE_MIN = date(1900, 1, 1)
# PCO's values (live data shows only these, or null); "M"/"F" are read as them.
GENDERS: dict[str, str] = {"male": "Male", "m": "Male", "female": "Female", "f": "Female"}
BODY_MAX_BYTES = 256 * 1024  # far above the largest body the limits above allow
JSON_DEPTH_MAX = 32  # our bodies nest 3 deep
# PCO's webhook deliveries are a few kilobytes (one record and its includes); API Gateway alone would let
# 10 MB through. A larger body is answered 413 before its signature is even checked, and nothing is stored.
# 1 MiB still takes an unusually large record (queued compressed when over SQS's 256 KiB).
WEBHOOK_BODY_MAX_BYTES = 1024 * 1024

_SPACE = re.compile(r"\s")
# A letter or digit, then letters, digits or hyphens, ending with a letter or digit: 63 at most.
_DOMAIN_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")


def _name_key_fits(value: str) -> str:
    if len(normalise_name(value).encode("utf-8")) > NAME_KEY_MAX_BYTES:
        raise ValueError(f"is too long: at most {NAME_KEY_MAX_BYTES} bytes once normalised for matching")
    return value


def _email_shape(value: str) -> str:
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or not local
        or len(local) > EMAIL_LOCAL_MAX
        or "@" in local
        or not local.isprintable()
        or _SPACE.search(value)
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError("is not an email address (name@example.org)")
    return value


def _gender(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().casefold() not in GENDERS:
        raise ValueError("must be Male or Female (or M or F), or null")
    return GENDERS[value.strip().casefold()]


def _country(value: object) -> object:
    if not isinstance(value, str):
        return value  # the strict str check answers
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as US or GB")
    return code


def _iso_date(value: object) -> object:
    # JSON has no date type: a birthdate is a "YYYY-MM-DD" string, never a number read as a timestamp.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def text(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """Constraints of a stored string: trimmed, then `min_length`..`max_length` characters."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Id = Annotated[str, text(ID_MAX)]
Name = Annotated[str, text(NAME_MAX), AfterValidator(_name_key_fits)]
FamilyName = Annotated[str, text(FAMILY_NAME_MAX)]
EmailAddress = Annotated[
    str,
    text(EMAIL_MAX),
    AfterValidator(_email_shape),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX}),
]
PhoneNumber = Annotated[str, text(PHONE_MAX)]
Location = Annotated[str, text(LOCATION_MAX, min_length=0)]
Street = Annotated[str, text(STREET_MAX, min_length=0)]
City = Annotated[str, text(CITY_MAX, min_length=0)]
State = Annotated[str, text(STATE_MAX, min_length=0)]
Zip = Annotated[str, text(ZIP_MAX, min_length=0)]
CountryCode = Annotated[
    str,
    BeforeValidator(_country),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 2,
            "maxLength": 2,
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166-1 alpha-2 (stored upper-case)",
        }
    ),
]
Gender = Annotated[
    str | None,
    BeforeValidator(_gender),
    WithJsonSchema({"anyOf": [{"enum": ["Male", "Female", "M", "F"]}, {"type": "null"}]}),
]
PastDate = Annotated[
    date,
    Field(strict=False, description=f"YYYY-MM-DD, from {BIRTHDATE_MIN.isoformat()} to today"),
    BeforeValidator(_iso_date),
]
Birthdate = PastDate
OtherName = Annotated[str, text(NAME_MAX)]  # given, middle and nick names: never in a lookup key
Membership = Annotated[str, text(MEMBERSHIP_MAX)]
Grade = Annotated[int, Field(ge=GRADE_MIN, le=GRADE_MAX)]


def birthdate_problem(born: date, today: date) -> str | None:
    """Why `born` cannot be a birthdate (or an anniversary), or None (a day of slack: `today` is UTC's, a
    church may be ahead)."""
    if born < BIRTHDATE_MIN:
        return f"must not be before {BIRTHDATE_MIN.isoformat()}"
    if born > today + timedelta(days=1):
        return "must not be in the future"
    return None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_NESTING = re.compile(r"[\[\]{}]")


def json_depth(document: str) -> int:
    """How deep a JSON document's arrays and objects nest, found without parsing (so without recursion)."""
    depth = deepest = 0
    for bracket in _JSON_NESTING.findall(_JSON_STRING.sub("", document)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest
