"""The sandbox's in-memory Planning Center: records, their indexes, settings, and the JSON dataset format.

Records are kept close to PCO's own shape: a type, a numeric-string id, stored attributes and to-one
links (`person`, `household`, `group`, `group_type`). To-many relationships are derived from indexes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from local.sandbox.clock import Clock, iso
from local.sandbox.jsonapi import not_found

GenderStyle = Literal["long", "short"]
Publish = Callable[[str, dict[str, Any], "list[dict[str, Any]] | None"], None]

# Id ranges per type, so ids look like PCO's (numeric strings) and never collide across types.
ID_BASES = {
    "Person": 10_000_000,
    "Email": 20_000_000,
    "PhoneNumber": 30_000_000,
    "Address": 40_000_000,
    "Household": 50_000_000,
    "HouseholdMembership": 60_000_000,
    "PersonMerger": 70_000_000,
    "GroupType": 80_000,
    "Group": 81_000_000,
    "Membership": 90_000_000,
}

# Which to-one links each type has (link name -> linked type).
LINKS: dict[str, dict[str, str]] = {
    "Person": {},
    "Email": {"person": "Person"},
    "PhoneNumber": {"person": "Person"},
    "Address": {"person": "Person"},
    "Household": {"primary_contact": "Person"},
    "HouseholdMembership": {"household": "Household", "person": "Person"},
    "PersonMerger": {},
    "GroupType": {},
    "Group": {"group_type": "GroupType"},
    "Membership": {"group": "Group", "person": "Person"},
}


@dataclass
class SandboxSettings:
    """Behaviours where PCO_API.md is UNCERTAIN, switchable at run time (`PATCH /_sandbox/settings`)."""

    gender_style: GenderStyle = "long"  # "long": Male/Female (documented); "short": M/F
    groups_person_id_offset: int = 0  # non-zero: Groups API person ids = People id + offset
    organization_name: str = "Grace Community Church"
    time_zone: str = "America/Chicago"

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "gender_style" in changes and changes["gender_style"] not in ("long", "short"):
            raise ValueError("gender_style must be 'long' or 'short'")
        if "groups_person_id_offset" in changes and type(changes["groups_person_id_offset"]) is not int:
            raise ValueError("groups_person_id_offset must be an integer")
        for name, value in changes.items():
            setattr(self, name, value)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Record:
    type: str
    id: str
    attributes: dict[str, Any]
    links: dict[str, str | None] = field(default_factory=dict)

    def link(self, name: str) -> str | None:
        return self.links.get(name)


class Store:
    """All records of one sandbox, with a re-entrant lock that every read and write of the API holds."""

    def __init__(self, clock: Clock, settings: SandboxSettings | None = None) -> None:
        self.clock = clock
        self.settings = settings or SandboxSettings()
        self.lock = threading.RLock()
        self._records: dict[str, dict[str, Record]] = {kind: {} for kind in ID_BASES}
        # (child type, link name, parent id) -> child ids in insertion order
        self._children: dict[tuple[str, str, str], dict[str, None]] = {}
        self._next_ids: dict[str, int] = dict(ID_BASES)
        self.publish: Publish = _no_publish
        self.base_url = "http://127.0.0.1"

    # ---- time and ids
    def now(self) -> str:
        return iso(self.clock.now())

    def new_id(self, kind: str) -> str:
        with self.lock:
            self._next_ids[kind] += 1
            return str(self._next_ids[kind])

    # ---- reads
    def find(self, kind: str, record_id: str | None) -> Record | None:
        if record_id is None:
            return None
        return self._records[kind].get(str(record_id))

    def get(self, kind: str, record_id: str) -> Record:
        record = self.find(kind, record_id)
        if record is None:
            raise not_found()
        return record

    def all(self, kind: str) -> list[Record]:
        return list(self._records[kind].values())

    def count(self, kind: str) -> int:
        return len(self._records[kind])

    def children(self, kind: str, link: str, parent_id: str) -> list[Record]:
        ids = self._children.get((kind, link, parent_id), {})
        return [self._records[kind][i] for i in ids]

    # ---- writes (index upkeep only; the domain services decide what may change)
    def insert(self, record: Record) -> Record:
        with self.lock:
            self._records[record.type][record.id] = record
            number = int(record.id)
            if number > self._next_ids[record.type]:
                self._next_ids[record.type] = number
            for name, parent_id in record.links.items():
                if parent_id is not None:
                    self._children.setdefault((record.type, name, parent_id), {})[record.id] = None
        return record

    def relink(self, record: Record, name: str, parent_id: str | None) -> None:
        with self.lock:
            old = record.links.get(name)
            if old is not None:
                self._children.get((record.type, name, old), {}).pop(record.id, None)
            record.links[name] = parent_id
            if parent_id is not None:
                self._children.setdefault((record.type, name, parent_id), {})[record.id] = None

    def remove(self, record: Record) -> None:
        with self.lock:
            self._records[record.type].pop(record.id, None)
            for name, parent_id in record.links.items():
                if parent_id is not None:
                    self._children.get((record.type, name, parent_id), {}).pop(record.id, None)

    def clear(self) -> None:
        with self.lock:
            for table in self._records.values():
                table.clear()
            self._children.clear()
            self._next_ids = dict(ID_BASES)

    # ---- dataset files (JSON:API resources)
    def dump(self) -> dict[str, Any]:
        """Every record as a JSON:API resource (stored attributes and to-one relationships)."""
        with self.lock:
            data = []
            for kind, table in self._records.items():
                for record in table.values():
                    relationships = {
                        name: {"data": None if pid is None else {"type": LINKS[kind][name], "id": pid}}
                        for name, pid in record.links.items()
                    }
                    data.append(
                        {
                            "type": kind,
                            "id": record.id,
                            "attributes": dict(record.attributes),
                            "relationships": relationships,
                        }
                    )
            return {"data": data, "meta": {"settings": self.settings.as_json()}}

    def load(self, document: dict[str, Any]) -> None:
        """Replace everything with the resources of a dataset document (see `dump`)."""
        resources = document.get("data")
        if not isinstance(resources, list):
            raise ValueError("a dataset is a JSON object with a `data` list of JSON:API resources")
        with self.lock:
            self.clear()
            for resource in resources:
                self.insert(_record_of(resource))
            settings = document.get("meta", {}).get("settings")
            if isinstance(settings, dict):
                self.settings.update(settings)

    def save_file(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.dump(), ensure_ascii=False, indent=1), encoding="utf-8")

    def load_file(self, path: str | Path) -> None:
        self.load(json.loads(Path(path).read_text(encoding="utf-8")))


def _record_of(resource: Any) -> Record:
    if not isinstance(resource, dict):
        raise ValueError("every dataset entry must be a JSON:API resource object")
    kind = resource.get("type")
    if kind not in LINKS:
        raise ValueError(f"unknown resource type in dataset: {kind!r}")
    record_id = str(resource.get("id", ""))
    if not record_id.isdigit():
        raise ValueError(f"{kind} id must be a numeric string, got {record_id!r}")
    links: dict[str, str | None] = {}
    for name, rel in (resource.get("relationships") or {}).items():
        if name in LINKS[kind]:
            data = (rel or {}).get("data")
            links[name] = None if data is None else str(data["id"])
    return Record(kind, record_id, dict(resource.get("attributes") or {}), links)


def _no_publish(event: str, resource: dict[str, Any], included: list[dict[str, Any]] | None) -> None:
    return None


def ids_of(records: Iterable[Record]) -> list[str]:
    return [r.id for r in records]
