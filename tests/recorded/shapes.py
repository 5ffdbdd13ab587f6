"""Comparing the shape of a sandbox answer with a recorded PCO answer: same keys, same JSON types.

Values differ (other people, other ids); what must not differ is which attributes, relationships, meta and
links keys there are, and each value's JSON type where both sides have one (null matches any type, since a
real answer's null is a value the sandbox may fill, and the reverse).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def assert_same_shape(recorded: dict[str, Any], ours: dict[str, Any], *, compare_links: bool = False) -> None:
    """One resource: type, attribute names and types, relationship names and their data's kind."""
    where = f"{recorded.get('type')} resource"
    assert ours["type"] == recorded["type"], where
    theirs_attrs, our_attrs = recorded.get("attributes", {}), ours.get("attributes", {})
    assert sorted(our_attrs) == sorted(theirs_attrs), f"{where}: attribute names differ"
    for name, value in theirs_attrs.items():
        kinds = {json_type(value), json_type(our_attrs[name])} - {None}
        assert len(kinds) <= 1, (
            f"{where}: {name} is {json_type(value)} in PCO, {json_type(our_attrs[name])} here"
        )
    theirs_rels, our_rels = recorded.get("relationships", {}), ours.get("relationships", {})
    assert sorted(our_rels) == sorted(theirs_rels), f"{where}: relationship names differ"
    for name, relationship in theirs_rels.items():
        assert sorted(our_rels[name]) == sorted(relationship), f"{where}: relationship {name} keys differ"
        kinds = {json_type(relationship["data"]), json_type(our_rels[name]["data"])} - {None}
        assert len(kinds) <= 1, f"{where}: relationship {name} data is a {kinds}"
    if compare_links:
        assert sorted(ours.get("links", {})) == sorted(recorded.get("links", {})), f"{where}: links differ"


def _resources(data: Any) -> list[dict[str, Any]]:
    return data if isinstance(data, list) else [data]


def assert_same_document_shape(
    recorded: dict[str, Any], ours: dict[str, Any], *, types: Iterable[str] | None = None
) -> None:
    """A whole answer: top-level, meta and links keys, then every resource of `types` (default: all) in
    data and included against the recorded resource of its type. A recording without `included` reads as
    one with an empty `included` (the sandbox always sends it; see tests/fixtures/pco/README.md)."""
    recorded_keys = set(recorded) | ({"included"} if "data" in recorded else set())
    assert set(ours) == recorded_keys, "top-level keys differ"
    if "errors" in recorded:
        for theirs, mine in zip(recorded["errors"], ours["errors"], strict=True):
            assert sorted(mine) == sorted(theirs), "error object keys differ"
        return
    assert sorted(ours.get("meta", {})) == sorted(recorded.get("meta", {})), "meta keys differ"
    assert sorted(ours.get("links", {})) == sorted(recorded.get("links", {})), "links keys differ"
    assert isinstance(ours["data"], list) == isinstance(recorded["data"], list), "data kind differs"
    wanted = set(types) if types is not None else None
    examples = {r["type"]: r for r in [*_resources(recorded["data"]), *recorded.get("included", [])]}
    compared = 0
    for resource in [*_resources(ours["data"]), *ours.get("included", [])]:
        if wanted is not None and resource["type"] not in wanted:
            continue
        assert resource["type"] in examples, f"{resource['type']} is not in the recording"
        assert_same_shape(examples[resource["type"]], resource)
        compared += 1
    recorded_types = set(examples) if wanted is None else set(examples) & wanted
    assert compared or not recorded_types, "no resource of the recorded types was compared"
