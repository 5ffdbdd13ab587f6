"""A deterministic, realistic church for the sandbox: households of people, contacts, groups, memberships.

`generate_church(store, people=N, seed=S)` fills an empty Store directly (no webhooks). The same seed gives a
byte-identical `store.dump()`; only `random.Random(seed)` and a fixed time anchor are used, never wall time.
"""

from __future__ import annotations

import gc
import random
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from local.sandbox.data import ID_BASES, Record, Store

# Timestamps are spread over the years before this anchor (2026-01-01T00:00:00Z, FakeClock's default start),
# or before the store's clock when that is earlier, so generated records never lie in the store's future.
ANCHOR = 1_767_225_600
DAY = 86_400
YEAR = 365 * DAY
HISTORY_SECONDS = 10 * YEAR
MAX_GROUPS_PER_PERSON = 4

MALE_FIRST = (
    "James", "John", "Jon", "Michael", "David", "Robert", "William", "Daniel", "Matthew", "Christopher",
    "Andrew", "Joshua", "Nathan", "Samuel", "Thomas", "Benjamin", "Caleb", "Isaac", "Steven", "Stephen",
    "Brian", "Bryan", "Eric", "Erik", "Mark", "Jeffrey", "Geoffrey", "Philip", "Phillip", "Luis", "Carlos",
    "Mateo", "José", "Søren", "Łukasz", "François", "Björn", "Andrés", "Tomás", "Minh", "Wei", "Kwame",
    "Elijah", "Noah", "Ethan", "Liam", "Aaron", "Jordan", "Tyler", "Gabriel",
)  # fmt: skip
FEMALE_FIRST = (
    "Mary", "Katherine", "Catherine", "Kathryn", "Sarah", "Sara", "Elizabeth", "Zoë", "Renée", "Chloé",
    "Anna", "Ann", "Anne", "María", "Jennifer", "Jessica", "Emily", "Emma", "Olivia", "Sophia", "Grace",
    "Hannah", "Abigail", "Rebecca", "Rachel", "Megan", "Meghan", "Linh", "Mai", "Ingrid", "Agnieszka",
    "Małgorzata", "Siobhán", "Aimée", "Nicole", "Ashley", "Lauren", "Amy", "Priya", "Ruth", "Esther",
    "Naomi", "Lydia", "Leah", "Julia", "Victoria", "Madison", "Ava", "Isabella", "Camila",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernández", "López", "Nguyễn", "Trần", "Kim", "Lee", "Park", "Chen", "Wang", "O'Brien", "O'Connor",
    "McDonald", "Smith-Jones", "García-López", "Anderson", "Andersen", "Søndergaard", "Kowalski",
    "Wiśniewski", "Müller", "Schmidt", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Martin",
    "Thompson", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards",
    "Stewart", "Morris", "Murphy", "Cook", "Rogers", "D'Angelo", "St. John", "Van der Berg", "De La Cruz",
    "Okafor", "Mensah", "Patel", "Singh", "Dubois", "Lefèvre", "Johansson", "Núñez",
)  # fmt: skip
# Spelling variants that make "the same person entered twice" look plausible.
FIRST_VARIANTS = {
    "John": "Jon", "Jon": "John", "Katherine": "Catherine", "Catherine": "Katherine", "Kathryn": "Katherine",
    "Steven": "Stephen", "Stephen": "Steven", "Sarah": "Sara", "Sara": "Sarah", "Brian": "Bryan",
    "Bryan": "Brian", "Eric": "Erik", "Erik": "Eric", "Jeffrey": "Geoffrey", "Geoffrey": "Jeffrey",
    "Megan": "Meghan", "Meghan": "Megan", "Philip": "Phillip", "Phillip": "Philip", "Zoë": "Zoe",
    "José": "Jose", "Renée": "Renee", "Ann": "Anne", "Anne": "Ann", "Elizabeth": "Elisabeth",
    "Michael": "Micheal", "Chloé": "Chloe",
}  # fmt: skip
LAST_VARIANTS = {
    "O'Brien": "OBrien", "O'Connor": "O Connor", "Nguyễn": "Nguyen", "Smith-Jones": "Smith Jones",
    "McDonald": "MacDonald", "Andersen": "Anderson", "Anderson": "Andersen", "García-López": "Garcia Lopez",
    "Søndergaard": "Sondergaard", "Hernández": "Hernandez", "Müller": "Mueller",
}  # fmt: skip
NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Katherine": "Kate", "Michael": "Mike",
    "Christopher": "Chris", "Jennifer": "Jen", "Rebecca": "Becky", "Thomas": "Tom", "Daniel": "Dan",
    "Samuel": "Sam", "Benjamin": "Ben", "Matthew": "Matt", "Joshua": "Josh", "Abigail": "Abby",
}  # fmt: skip
MAIL_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
    "aol.com", "comcast.net", "att.net",
)  # fmt: skip
WORK_DOMAINS = ("austinisd.org", "lonestarbank.com", "hillcountryhealth.org", "txstate.edu", "brazoslaw.com")
AREA_CODES = ("512", "512", "512", "737", "254")
PHONE_FORMATS = ("({a}) {e}-{n}", "{a}-{e}-{n}", "{a}.{e}.{n}", "+1 {a} {e} {n}", "{a}{e}{n}")
STREETS = (
    "Oak", "Maple", "Cedar", "Pecan", "Live Oak", "Bluebonnet", "Main", "Church", "Mesa", "Ranch Road",
    "Lamar", "Congress", "Barton Springs", "Shoal Creek", "Riverside", "Parmer", "Wells Branch",
    "Hidden Valley",
)  # fmt: skip
STREET_SUFFIXES = ("St", "Ave", "Dr", "Ln", "Blvd", "Ct", "Trail", "Way", "Cove")
CITIES = (
    ("Austin", "TX", ("78701", "78704", "78745", "78748", "78750", "78759")),
    ("Round Rock", "TX", ("78664", "78665", "78681")),
    ("Pflugerville", "TX", ("78660",)),
    ("Cedar Park", "TX", ("78613",)),
    ("Georgetown", "TX", ("78626", "78628")),
    ("Leander", "TX", ("78641",)),
)
GROUP_TYPES = (
    ("Small Groups", "Weekly groups meeting in homes across the city.", "#4a8df8"),
    ("Serving Teams", "Volunteers who make Sundays happen.", "#f5a623"),
    ("Classes", "Short courses for growing in faith.", "#7ed321"),
    ("Youth", "Middle and high school ministry.", "#bd10e0"),
)
MEETING_TIMES = ("6:30 AM", "9:00 AM", "12:00 PM", "6:30 PM", "7:00 PM")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Per group type: name templates ({day}, {last}) with the audience they draw members from.
GROUP_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "Small Groups": (
        ("{day} Night Men's Study", "men"),
        ("{day} Morning Women's Bible Study", "women"),
        ("{last} Home Group", "adults"),
        ("Young Couples {day}", "adults"),
        ("Empty Nesters", "adults"),
        ("{day} Night Life Group", "adults"),
        ("Moms of Littles", "women"),
        ("Men's Breakfast", "men"),
    ),
    "Serving Teams": (
        ("Worship Team", "adults"),
        ("Greeters", "adults"),
        ("Ushers", "adults"),
        ("Kids Ministry Volunteers", "adults"),
        ("Tech & Production", "adults"),
        ("Hospitality", "adults"),
        ("Parking Team", "men"),
        ("Prayer Team", "adults"),
    ),
    "Classes": (
        ("Membership 101", "adults"),
        ("Financial Peace", "adults"),
        ("Alpha Course", "adults"),
        ("Marriage Prep", "adults"),
        ("Baptism Class", "everyone"),
        ("Church History", "adults"),
    ),
    "Youth": (
        ("Middle School Boys", "teens"),
        ("High School Girls", "teens"),
        ("Youth Worship", "teens"),
        ("Confirmation Class", "teens"),
        ("{day} Night Youth", "teens"),
    ),
}
GROUP_SIZES = {"Small Groups": (5, 16), "Serving Teams": (4, 30), "Classes": (3, 25), "Youth": (5, 40)}
_ASCII = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae"})


@dataclass
class ChurchSummary:
    """What was generated: counts per record type and examples the tests and benchmarks can aim at."""

    seed: int
    counts: dict[str, int]  # record type -> number of records (every type of the Store)
    person_ids: list[str] = field(default_factory=list)
    adult_ids: list[str] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    shared_email_pairs: list[tuple[str, str]] = field(default_factory=list)  # spouses, one address on both
    near_duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)  # (original, look-alike)
    inactive_ids: list[str] = field(default_factory=list)
    missing_birthdate_ids: list[str] = field(default_factory=list)
    without_household_ids: list[str] = field(default_factory=list)
    two_household_ids: list[str] = field(default_factory=list)  # split families: first household is primary
    archived_group_ids: list[str] = field(default_factory=list)


def generate_church(store: Store, *, people: int, seed: int) -> ChurchSummary:
    """Insert a church of exactly `people` Person records, with households, contacts and groups."""
    if people < 0:
        raise ValueError("people must be >= 0")
    if any(store.count(kind) for kind in ID_BASES):
        raise ValueError("generate_church needs an empty store")
    anchor = min(ANCHOR, int(store.clock.now()) // DAY * DAY)
    builder = _ChurchBuilder(store, random.Random(seed), anchor, seed)
    # Tens of thousands of new dicts would trigger full collections that scan the whole (already large)
    # heap again and again; nothing built here is cyclic garbage, so pausing the collector is safe.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with store.lock:
            builder.people(people)
            builder.groups(people)
    finally:
        if collecting:
            gc.enable()
    return builder.summary()


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@cache
def _ascii(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.translate(_ASCII)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass
class _Adult:
    id: str
    first: str
    last: str
    gender: str | None
    birthdate: str | None
    created: int


class _ChurchBuilder:
    def __init__(self, store: Store, rng: random.Random, anchor: int, seed: int) -> None:
        self.store = store
        self.rng = rng
        self.anchor = anchor
        self.seed = seed
        self.anchor_ordinal = datetime.fromtimestamp(anchor, UTC).date().toordinal()
        self.anchor_year = time.gmtime(anchor).tm_year
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()
        self.adults: list[str] = []
        self.children: list[str] = []
        self.teens: list[str] = []
        self.men: list[str] = []
        self.women: list[str] = []
        self.created_at: dict[str, int] = {}
        self.primary_email: dict[str, str] = {}
        self.households_of: dict[str, int] = {}
        self.dup_candidates: list[_Adult] = []
        self.shared_pairs: list[tuple[str, str]] = []
        self.near_dups: list[tuple[str, str]] = []
        self.inactive: list[str] = []
        self.no_birthdate: list[str] = []
        self.archived: list[str] = []
        self.person_ids: list[str] = []

    # ------------------------------------------------------------------ records
    def insert(
        self, kind: str, attributes: dict[str, Any], links: dict[str, str | None] | None = None
    ) -> str:
        record_id = self.store.new_id(kind)
        self.store.insert(Record(kind, record_id, attributes, links or {}))
        return record_id

    def later(self, start: int, spread: int | None = None) -> int:
        """A moment between `start` and the anchor (within `spread` seconds when given)."""
        room = max(0, self.anchor - start)
        if spread is not None:
            room = min(room, spread)
        return start + self.rng.randrange(room + 1)

    def stamps(self, created: int) -> dict[str, str]:
        return {"created_at": _iso(created), "updated_at": _iso(self.later(created))}

    # ------------------------------------------------------------------ people
    def people(self, total: int) -> None:
        remaining = total
        units = 0
        while remaining > 0:
            remaining -= self.unit(remaining, units)
            units += 1

    def unit(self, cap: int, index: int) -> int:
        """One household-sized unit of people, never more than `cap`; returns how many people it made."""
        rng = self.rng
        if self.dup_candidates and (rng.random() < 0.03 or (not self.near_dups and index >= 6)):
            return self.near_duplicate()
        roll = rng.random()
        if roll < 0.45 and cap >= 2:
            return self.couple_family(cap)
        if roll < 0.55 and cap >= 2:
            return self.single_parent(cap)
        if roll < 0.60 and cap >= 4:
            return self.multi_generation(cap)
        return self.single_adult()

    def birthdate(self, min_age: int, max_age: int) -> tuple[str, int]:
        days = self.rng.randrange(min_age * 365, max_age * 365 + 365)
        ordinal = self.anchor_ordinal - days
        return date.fromordinal(ordinal).isoformat(), days

    def person(
        self,
        first: str,
        last: str,
        gender: str | None,
        *,
        age: tuple[int, int] | None = None,
        birthdate: str | None = None,
        child: bool = False,
        created: int,
        membership: str | None = None,
        anniversary: str | None = None,
    ) -> str:
        rng = self.rng
        days = 0
        if age is not None and (child or rng.random() >= 0.12):
            birthdate, days = self.birthdate(*age)
        elif birthdate is not None:
            days = self.anchor_ordinal - date.fromisoformat(birthdate).toordinal()
        grade = graduation_year = None
        if child and days >= 5 * 365:
            grade = min(12, days // 365 - 5)
            graduation_year = self.anchor_year + 12 - grade
        if membership is None:
            membership = self.membership(child and days < 12 * 365, child)
        middle = None
        if not child and rng.random() < 0.25:
            middle = rng.choice(MALE_FIRST if gender == "M" else FEMALE_FIRST)
        nickname = NICKNAMES[first] if first in NICKNAMES and rng.random() < 0.25 else None
        updated = self.later(created)
        inactive_at = None
        if rng.random() < 0.05:
            inactive_at = created + rng.randrange(updated - created + 1)
        attrs = {
            "first_name": first,
            "last_name": last,
            "given_name": None,
            "middle_name": middle,
            "nickname": nickname,
            "gender": gender,
            "birthdate": birthdate,
            "anniversary": anniversary,
            "child": child,
            "grade": grade,
            "graduation_year": graduation_year,
            "membership": membership,
            "status": "inactive" if inactive_at is not None else "active",
            "inactivated_at": None if inactive_at is None else _iso(inactive_at),
            "remote_id": None,
            "created_at": _iso(created),
            "updated_at": _iso(updated),
        }
        pid = self.insert("Person", attrs)
        self.person_ids.append(pid)
        self.created_at[pid] = created
        if inactive_at is not None:
            self.inactive.append(pid)
        if birthdate is None:
            self.no_birthdate.append(pid)
        if child:
            self.children.append(pid)
            if days >= 11 * 365:
                self.teens.append(pid)
        else:
            self.adults.append(pid)
            if gender == "M":
                self.men.append(pid)
            elif gender == "F":
                self.women.append(pid)
            if first in FIRST_VARIANTS or last in LAST_VARIANTS:
                self.dup_candidates.append(_Adult(pid, first, last, gender, birthdate, created))
        return pid

    def membership(self, young: bool = False, child: bool = False) -> str | None:
        roll = self.rng.random()
        if young:
            return "Regular Attender" if roll < 0.4 else None
        if child:
            return "Regular Attender" if roll < 0.35 else ("Member" if roll < 0.5 else None)
        if roll < 0.5:
            return "Member"
        if roll < 0.75:
            return "Regular Attender"
        if roll < 0.87:
            return "Visitor"
        return None

    def adult_gender(self, gender: str) -> str | None:
        return None if self.rng.random() < 0.01 else gender

    def family_start(self) -> int:
        return self.anchor - DAY - self.rng.randrange(HISTORY_SECONDS)

    def kids(self, count: int, last: str, parent_age: int, created: int) -> list[str]:
        rng = self.rng
        oldest = max(0, min(17, parent_age - 19))
        ids = []
        for _ in range(count):
            gender = "M" if rng.random() < 0.5 else "F"
            first = rng.choice(MALE_FIRST if gender == "M" else FEMALE_FIRST)
            age = rng.randint(0, oldest)
            pid = self.person(
                first, last, gender, age=(age, age), child=True, created=created + rng.randrange(900)
            )
            ids.append(pid)
            if age >= 13:
                self.child_contacts(pid, first, last)
        return ids

    def couple(self, with_kids: bool) -> tuple[list[str], int, str]:
        """Two adults (husband first); returns ids, the younger age and the family's last name."""
        rng = self.rng
        created = self.family_start()
        his_last = rng.choice(LAST_NAMES)
        roll = rng.random()
        her_last = his_last
        if roll < 0.12:
            her_last = rng.choice(LAST_NAMES)
        elif roll < 0.18:
            her_last = f"{rng.choice(LAST_NAMES)}-{his_last}"
        low, high = (24, 52) if with_kids else (20, 88)
        age1 = rng.randint(low, high)
        age2 = max(19, min(95, age1 + rng.randint(-6, 4)))
        anniversary = None
        if rng.random() < 0.4:
            married_days = rng.randrange(365, max(366, (min(age1, age2) - 18) * 365))
            anniversary = date.fromordinal(self.anchor_ordinal - married_days).isoformat()
        membership = self.membership()
        him = self.person(
            rng.choice(MALE_FIRST),
            his_last,
            self.adult_gender("M"),
            age=(age1, age1),
            created=created,
            membership=membership,
            anniversary=anniversary,
        )
        her = self.person(
            rng.choice(FEMALE_FIRST),
            her_last,
            self.adult_gender("F"),
            age=(age2, age2),
            created=created + rng.randrange(600),
            membership=membership,
            anniversary=anniversary,
        )
        return [him, her], min(age1, age2), his_last

    def couple_family(self, cap: int) -> int:
        rng = self.rng
        kids = min(cap - 2, rng.choices((0, 1, 2, 3, 4), (30, 20, 28, 15, 7))[0])
        adults, age, last = self.couple(kids > 0)
        created = self.created_at[adults[0]]
        children = self.kids(kids, last, age, created)
        self.couple_contacts(adults, last)
        self.household(adults, children, [], rng.choice(adults), created)
        return 2 + kids

    def single_parent(self, cap: int) -> int:
        rng = self.rng
        created = self.family_start()
        split = cap >= 3 and rng.random() < 0.35
        kids = min(cap - 1 - int(split), rng.choices((1, 2, 3), (50, 35, 15))[0])
        kids_last = rng.choice(LAST_NAMES)
        mom_last = kids_last if rng.random() < 0.5 else rng.choice(LAST_NAMES)
        mom_age = rng.randint(24, 52)
        mom = self.person(
            rng.choice(FEMALE_FIRST),
            mom_last,
            self.adult_gender("F"),
            age=(mom_age, mom_age),
            created=created,
        )
        children = self.kids(kids, kids_last, mom_age, created)
        self.adult_contacts(mom, *self.names(mom))
        self.household([mom], children, [], mom, created)
        if not split:
            return 1 + kids
        dad_age = max(19, mom_age + rng.randint(-3, 6))
        dad_created = self.later(created, 2 * YEAR)
        dad = self.person(
            rng.choice(MALE_FIRST),
            kids_last,
            self.adult_gender("M"),
            age=(dad_age, dad_age),
            created=dad_created,
        )
        self.adult_contacts(dad, *self.names(dad))
        self.household([dad], children, [], dad, dad_created)
        return 2 + kids

    def multi_generation(self, cap: int) -> int:
        rng = self.rng
        grandparents = min(cap - 3, rng.choice((1, 1, 2)))
        kids = min(cap - 2 - grandparents, rng.randint(1, 3))
        adults, age, last = self.couple(True)
        created = self.created_at[adults[0]]
        children = self.kids(kids, last, age, created)
        elders = []
        for i in range(grandparents):
            gender = "F" if i == 0 else "M"
            elder_age = min(99, age + rng.randint(22, 34))
            first = rng.choice(FEMALE_FIRST if gender == "F" else MALE_FIRST)
            elders.append(
                self.person(
                    first, last, gender, age=(elder_age, elder_age), created=created + rng.randrange(3600)
                )
            )
        self.couple_contacts(adults, last)
        for elder in elders:
            self.adult_contacts(elder, *self.names(elder), phones=(60, 40, 0, 0))
        self.household(adults, children, elders, adults[0], created)
        return len(adults) + kids + grandparents

    def single_adult(self) -> int:
        rng = self.rng
        gender = "M" if rng.random() < 0.45 else "F"
        first = rng.choice(MALE_FIRST if gender == "M" else FEMALE_FIRST)
        last = rng.choice(LAST_NAMES)
        created = self.family_start()
        pid = self.person(first, last, self.adult_gender(gender), age=(19, 90), created=created)
        if rng.random() < 0.25:
            self.adult_contacts(pid, first, last)
            self.household([pid], [], [], pid, created)
        else:
            self.adult_contacts(pid, first, last, address=rng.random() < 0.8)
        return 1

    def near_duplicate(self) -> int:
        """Someone entered again under a variant spelling (a visitor card for an existing member)."""
        rng = self.rng
        original = rng.choice(self.dup_candidates)
        first, last = original.first, original.last
        if first in FIRST_VARIANTS and (last not in LAST_VARIANTS or rng.random() < 0.6):
            first = FIRST_VARIANTS[first]
        else:
            last = LAST_VARIANTS[last]
        birthdate = original.birthdate if rng.random() < 0.6 else None
        created = self.later(original.created)
        pid = self.person(
            first, last, original.gender, birthdate=birthdate, created=created, membership="Visitor"
        )
        self.adult_contacts(pid, first, last, address=rng.random() < 0.5)
        if self.dup_candidates[-1].id == pid:  # a look-alike is not copied again
            self.dup_candidates.pop()
        self.near_dups.append((original.id, pid))
        return 1

    def names(self, pid: str) -> tuple[str, str]:
        attrs = self.store.get("Person", pid).attributes
        return attrs["first_name"], attrs["last_name"]

    # ------------------------------------------------------------------ households
    def household(
        self,
        adults: Sequence[str],
        children: Sequence[str],
        others: Sequence[str],
        primary: str,
        created: int,
    ) -> str:
        # PCO names a new household after its primary contact's last name.
        hid = self.insert(
            "Household",
            {"name": f"{self.names(primary)[1]} Household", **self.stamps(min(self.anchor, created + 900))},
            {"primary_contact": primary},
        )
        for role, members in (("adult", adults), ("child_or_dependent", children), ("other_adult", others)):
            for pid in members:
                self.insert(
                    "HouseholdMembership",
                    {"household_role": role, "pending": False},
                    {"household": hid, "person": pid},
                )
                self.households_of[pid] = self.households_of.get(pid, 0) + 1
        address = self.home_address()
        for pid in (*adults, *others):
            self.address(pid, address)
        return hid

    # ------------------------------------------------------------------ contacts
    def email_address(self, first: str, last: str, *, work: bool = False) -> str:
        rng = self.rng
        f, l = _ascii(first) or "friend", _ascii(last) or "church"  # noqa: E741
        if work:
            local, domain = f"{f}.{l}", rng.choice(WORK_DOMAINS)
        else:
            style = rng.randrange(5)
            if style == 0:
                local = f"{f}.{l}"
            elif style == 1:
                local = f"{f}{l}{rng.randint(1, 99)}"
            elif style == 2:
                local = f"{f[0]}{l}"
            elif style == 3:
                local = f"{l}.{f}"
            else:
                local = f"{f}_{l}{rng.randint(60, 99)}"
            domain = rng.choice(MAIL_DOMAINS)
        return self.unique_email(local, domain)

    def unique_email(self, local: str, domain: str) -> str:
        candidate = f"{local}@{domain}"
        while candidate in self.used_emails:
            candidate = f"{local}{self.rng.randint(2, 999)}@{domain}"
        self.used_emails.add(candidate)
        if self.rng.random() < 0.03:  # people type their address with capitals; PCO keeps it as typed
            name, _, host = candidate.partition("@")
            return f"{name.capitalize()}@{host.capitalize()}"
        return candidate

    def phone(self) -> str:
        rng = self.rng
        while True:
            area, exchange, line = rng.choice(AREA_CODES), rng.randint(201, 989), rng.randint(0, 9999)
            digits = f"{area}{exchange}{line:04d}"
            if digits not in self.used_phones:
                self.used_phones.add(digits)
                return rng.choice(PHONE_FORMATS).format(a=area, e=exchange, n=f"{line:04d}")

    def emails(self, pid: str, entries: Sequence[tuple[str, str]], primary: int) -> None:
        created = self.created_at[pid]
        for index, (address, location) in enumerate(entries):
            stamp = self.later(created, 30 * DAY)
            attrs = {
                "address": address,
                "location": location,
                "primary": index == primary,
                "blocked": self.rng.random() < 0.01,
                **self.stamps(stamp),
            }
            self.insert("Email", attrs, {"person": pid})
        if entries:
            self.primary_email[pid] = entries[primary][0]

    def phones(self, pid: str, entries: Sequence[tuple[str, str]]) -> None:
        created = self.created_at[pid]
        for index, (number, location) in enumerate(entries):
            attrs = {
                "number": number,
                "carrier": None,
                "country_code": "US",
                "location": location,
                "primary": index == 0,
                **self.stamps(self.later(created, 30 * DAY)),
            }
            self.insert("PhoneNumber", attrs, {"person": pid})

    def own_emails(self, first: str, last: str, count: int) -> list[tuple[str, str]]:
        entries = [(self.email_address(first, last), "Home")]
        if count >= 2:
            entries.append((self.email_address(first, last, work=True), "Work"))
        if count >= 3:
            entries.append((self.email_address(first, last), "Other"))
        return entries[:count]

    def own_phones(self, weights: Sequence[int]) -> list[tuple[str, str]]:
        count = self.rng.choices((0, 1, 2, 3), weights)[0]
        return [(self.phone(), location) for location in ("Mobile", "Home", "Work")[:count]]

    def adult_contacts(
        self,
        pid: str,
        first: str,
        last: str,
        *,
        address: bool = False,
        phones: Sequence[int] = (15, 50, 25, 10),
    ) -> None:
        count = self.rng.choices((1, 2, 3), (60, 30, 10))[0]
        self.emails(pid, self.own_emails(first, last, count), 0)
        self.phones(pid, self.own_phones(phones))
        if address:
            self.address(pid, self.home_address())

    def couple_contacts(self, pair: Sequence[str], last: str) -> None:
        """Spouses: often one shared family address (on both), sometimes a shared home phone."""
        rng = self.rng
        shared = None
        if rng.random() < 0.6:
            key = _ascii(last) or "family"
            firsts = [_ascii(self.names(pid)[0]) or "x" for pid in pair]
            local = rng.choice((f"the{key}s", f"{key}family", f"{firsts[0]}and{firsts[1]}"))
            shared = self.unique_email(local, rng.choice(MAIL_DOMAINS))
            self.shared_pairs.append((pair[0], pair[1]))
        home_phone = self.phone() if rng.random() < 0.3 else None
        for pid in pair:
            first, own_last = self.names(pid)
            if shared is None:
                count = rng.choices((1, 2, 3), (60, 30, 10))[0]
                self.emails(pid, self.own_emails(first, own_last, count), 0)
            else:
                own = self.own_emails(first, own_last, rng.choices((0, 1, 2), (40, 45, 15))[0])
                entries = [(shared, "Home"), *own]
                primary = 0 if not own or rng.random() < 0.5 else 1
                self.emails(pid, entries, primary)
            phones = self.own_phones((20, 55, 20, 5))
            if home_phone is not None:
                phones = [p for p in phones if p[1] != "Home"]
                phones.insert(min(1, len(phones)), (home_phone, "Home"))
            self.phones(pid, phones)

    def child_contacts(self, pid: str, first: str, last: str) -> None:
        if self.rng.random() < 0.35:
            self.emails(pid, [(self.email_address(first, last), "Home")], 0)
        if self.rng.random() < 0.3:
            self.phones(pid, [(self.phone(), "Mobile")])

    def home_address(self) -> dict[str, Any]:
        rng = self.rng
        city, state, zips = rng.choice(CITIES)
        line2 = None
        if rng.random() < 0.12:
            line2 = rng.choice(("Apt {}", "Unit {}", "#{}")).format(
                rng.randint(1, 40) * 10 + rng.randint(1, 9)
            )
        return {
            "street_line_1": f"{rng.randint(100, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}",
            "street_line_2": line2,
            "city": city,
            "state": state,
            "zip": rng.choice(zips),
            "country_code": "US",
        }

    def address(self, pid: str, place: dict[str, Any]) -> None:
        created = self.later(self.created_at[pid], 30 * DAY)
        self.insert(
            "Address", {**place, "location": "Home", "primary": True, **self.stamps(created)}, {"person": pid}
        )
        if self.rng.random() < 0.05:
            work = {**self.home_address(), "street_line_2": "Suite 200", "location": "Work", "primary": False}
            self.insert("Address", {**work, **self.stamps(created)}, {"person": pid})

    # ------------------------------------------------------------------ groups
    def groups(self, total_people: int) -> None:
        rng = self.rng
        type_ids = []
        for position, (name, description, color) in enumerate(GROUP_TYPES):
            attrs = {
                "name": name,
                "description": description,
                "color": color,
                "position": position,
                "church_center_visible": name != "Serving Teams",
                "church_center_map_visible": name == "Small Groups",
            }
            type_ids.append((name, self.insert("GroupType", attrs)))
        load: dict[str, int] = {}
        everyone = self.person_ids
        audiences = {
            "men": self.men or self.adults,
            "women": self.women or self.adults,
            "adults": self.adults,
            "teens": self.teens or self.children,
            "everyone": everyone,
        }
        count = max(3, round(total_people / 40))
        used_names: set[str] = set()
        for index in range(count):
            type_name, type_id = (
                type_ids[index] if index < len(type_ids) else rng.choices(type_ids, (45, 30, 15, 10))[0]
            )
            template, audience = rng.choice(GROUP_NAMES[type_name])
            name = template.format(day=rng.choice(DAYS), last=rng.choice(LAST_NAMES))
            base, n = name, 2
            while name in used_names:
                name, n = f"{base} {n}", n + 1
            used_names.add(name)
            created = self.anchor - DAY - rng.randrange(8 * YEAR)
            low, high = GROUP_SIZES[type_name]
            size = min(total_people, rng.randint(low, high))
            leaders = self.pick(
                self.adults or everyone, rng.choice((1, 1, 2)) if size >= 3 else 1, set(), load
            )
            taken = set(leaders)
            members = self.pick(audiences[audience] or everyone, size - len(leaders), taken, load)
            members += self.pick(everyone, size - len(leaders) - len(members), taken, load)
            if len(leaders) + len(members) < min(3, total_people):
                spare = [p for p in everyone if p not in taken and load.get(p, 0) < MAX_GROUPS_PER_PERSON]
                members += spare[: min(3, total_people) - len(leaders) - len(members)]
            joins = []
            for role, pids in (("leader", leaders), ("member", members)):
                for pid in pids:
                    load[pid] = load.get(pid, 0) + 1
                    joins.append((pid, role, self.later(max(created, self.created_at[pid]))))
            archived = None
            if rng.random() < 0.1 or (index == count - 1 and not self.archived):  # always some archived
                archived = self.later(max((joined for _, _, joined in joins), default=created))
            contact = self.primary_email.get(leaders[0]) if leaders and rng.random() < 0.6 else None
            day = rng.choice(DAYS)
            attrs = {
                "name": name,
                "description": f"{name}: everyone welcome." if rng.random() < 0.7 else None,
                "archived_at": None if archived is None else _iso(archived),
                "contact_email": contact,
                "created_at": _iso(created),
                "schedule": f"{day}s at {rng.choice(MEETING_TIMES)}",
                "listed": archived is None and rng.random() < 0.9,
                "location_type_preference": "virtual" if rng.random() < 0.1 else "physical",
                "events_visibility": "members" if rng.random() < 0.7 else "public",
            }
            gid = self.insert("Group", attrs, {"group_type": type_id})
            if archived is not None:
                self.archived.append(gid)
            for pid, role, joined in joins:
                self.insert(
                    "Membership", {"role": role, "joined_at": _iso(joined)}, {"group": gid, "person": pid}
                )

    def pick(self, pool: Sequence[str], k: int, taken: set[str], load: dict[str, int]) -> list[str]:
        chosen: list[str] = []
        if k <= 0 or not pool:
            return chosen
        for pid in self.rng.sample(pool, min(len(pool), 2 * k + 4)):
            if pid not in taken and load.get(pid, 0) < MAX_GROUPS_PER_PERSON:
                chosen.append(pid)
                taken.add(pid)
                if len(chosen) == k:
                    break
        return chosen

    # ------------------------------------------------------------------ summary
    def summary(self) -> ChurchSummary:
        store = self.store
        counts = {kind: store.count(kind) for kind in ID_BASES}
        return ChurchSummary(
            seed=self.seed,
            counts=counts,
            person_ids=list(self.person_ids),
            adult_ids=list(self.adults),
            child_ids=list(self.children),
            shared_email_pairs=list(self.shared_pairs),
            near_duplicate_pairs=list(self.near_dups),
            inactive_ids=list(self.inactive),
            missing_birthdate_ids=list(self.no_birthdate),
            without_household_ids=[p for p in self.person_ids if p not in self.households_of],
            two_household_ids=[p for p, n in self.households_of.items() if n > 1],
            archived_group_ids=list(self.archived),
        )
