"""Tolerant pydantic models of the JSON:API documents PCO sends (unknown fields are kept, ids are strings)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _id_as_str(value: object) -> object:
    # person_merger webhook payloads carry ids as JSON numbers; everywhere else they are strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _none_as_empty_dict(value: object) -> object:
    return {} if value is None else value


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class ResourceIdentifier(_Tolerant):
    type: str
    id: str

    _id = field_validator("id", mode="before")(_id_as_str)


class Relationship(_Tolerant):
    data: ResourceIdentifier | list[ResourceIdentifier] | None = None
    links: dict[str, Any] = Field(default_factory=dict)

    _links = field_validator("links", mode="before")(_none_as_empty_dict)

    def identifiers(self) -> list[ResourceIdentifier]:
        """The related identifiers as a list, whether PCO sent one, many or none."""
        if self.data is None:
            return []
        if isinstance(self.data, list):
            return list(self.data)
        return [self.data]

    def first_id(self) -> str | None:
        found = self.identifiers()
        return found[0].id if found else None


class Resource(_Tolerant):
    type: str
    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    relationships: dict[str, Relationship] = Field(default_factory=dict)
    links: dict[str, Any] = Field(default_factory=dict)

    _id = field_validator("id", mode="before")(_id_as_str)
    # A destroyed-event payload has no attributes; some servers send null instead of omitting them.
    _dicts = field_validator("attributes", "relationships", "links", mode="before")(_none_as_empty_dict)

    @field_validator("relationships", mode="before")
    @classmethod
    def _drop_null_relationships(cls, value: object) -> object:
        if isinstance(value, dict):
            return {name: rel for name, rel in value.items() if rel is not None}
        return value

    def related_ids(self, name: str) -> list[str]:
        """The ids named by relationships.<name>.data (empty when absent)."""
        relationship = self.relationships.get(name)
        return [ident.id for ident in relationship.identifiers()] if relationship else []


class Document(_Tolerant):
    data: Resource | list[Resource] | None = None
    included: list[Resource] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, Any] = Field(default_factory=dict)

    _dicts = field_validator("meta", "links", mode="before")(_none_as_empty_dict)

    @field_validator("included", mode="before")
    @classmethod
    def _none_as_empty_list(cls, value: object) -> object:
        return [] if value is None else value

    def resources(self) -> list[Resource]:
        """The primary data as a list, whether the document holds one resource, many or none."""
        if self.data is None:
            return []
        if isinstance(self.data, list):
            return list(self.data)
        return [self.data]

    def find_included(self, type_: str, id_: str) -> Resource | None:
        for candidate in self.included:
            if candidate.type == type_ and candidate.id == id_:
                return candidate
        return None

    def related(self, resource: Resource, name: str) -> list[Resource]:
        """The included resources named by resource.relationships[name], in order; missing ones skipped."""
        relationship = resource.relationships.get(name)
        if relationship is None:
            return []
        index = {(item.type, item.id): item for item in self.included}
        return [
            index[(ident.type, ident.id)]
            for ident in relationship.identifiers()
            if (ident.type, ident.id) in index
        ]

    @property
    def total_count(self) -> int | None:
        return as_int(self.meta.get("total_count"))

    @property
    def next_url(self) -> str | None:
        value = self.links.get("next")
        return value if isinstance(value, str) and value else None

    @property
    def has_next(self) -> bool:
        """PCO marks the last page by leaving out both links.next and meta.next."""
        return self.next_url is not None or bool(self.meta.get("next"))

    @property
    def next_offset(self) -> int | None:
        """meta.next.offset, or the offset query parameter of links.next; None on the last page."""
        meta_next = self.meta.get("next")
        if isinstance(meta_next, dict):
            offset = as_int(meta_next.get("offset"))
            if offset is not None:
                return offset
        if self.next_url is not None:
            values = parse_qs(urlsplit(self.next_url).query).get("offset")
            if values:
                return as_int(values[0])
        return None


def as_int(value: object) -> int | None:
    """An int from PCO's JSON (a number or a numeric string); None for anything else, booleans included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None
