"""PCO's list semantics: where[...] filters, order=, per_page/offset pagination, include=, fields[Type]=,
links and meta."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from local.sandbox.data import Record, Store
from local.sandbox.jsonapi import ApiError
from local.sandbox.resources import render

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
_WHERE = re.compile(r"^where\[([^\]]+)\](?:\[([^\]]+)\])?$")
_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}

# include name -> (store, record, base) -> rendered included resources
Includer = Callable[[Store, Record, str], list[dict[str, Any]]]
Renderer = Callable[[Store, Record, str, frozenset[str]], dict[str, Any]]


@dataclass(frozen=True)
class ListSpec:
    """What one PCO collection allows: the `can_*` lists of its meta and how includes resolve."""

    can_order_by: tuple[str, ...] = ()
    can_query_by: tuple[str, ...] = ()
    datetime_attrs: tuple[str, ...] = ()  # queryable with [gt|gte|lt|lte]
    can_include: tuple[str, ...] = ()
    can_filter: tuple[str, ...] = ()
    includers: Mapping[str, Includer] = field(default_factory=dict)
    renderer: Renderer = render
    # query values that need translating to a stored value (e.g. groups archive_status)
    special_where: Mapping[str, Callable[[list[Record], str], list[Record]]] = field(default_factory=dict)
    # values to order or query by that the resource does not carry (a membership's person's first_name)
    derived: Mapping[str, Callable[[Store, Record], Any]] = field(default_factory=dict)


def parse_time(value: str, parameter: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ApiError(
            400, "Bad Request", f"{value!r} is not a valid time for {parameter}", code="invalid_where"
        ) from err
    if parsed.tzinfo is None:  # PCO reads zone-less values in the org's zone; the sandbox's zone is UTC
        return parsed.replace(tzinfo=UTC)
    return parsed


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def _sort_key(value: Any) -> tuple[bool, Any]:
    if isinstance(value, str):
        return (False, value.casefold())
    return (value is None, 0 if value is None else value)


def requested_includes(args: Mapping[str, str], spec: ListSpec) -> frozenset[str]:
    names = {n.strip() for n in args.get("include", "").split(",") if n.strip()}
    return frozenset(n for n in names if n in spec.can_include)


# Stored on every record as PCO sends them, so filters and orders on them need no rendering.
_STORED = ("created_at", "updated_at")


def select(store: Store, records: list[Record], args: Mapping[str, str], spec: ListSpec) -> list[Record]:
    """Filter and order `records` as the query string asks; PCO ignores what it cannot apply (an unknown
    `where[...]` or `order` term) and answers 200 (vrwarp/pcomirror tests/golden/err_unknown_order.json)."""
    records = sorted(records, key=lambda r: int(r.id))
    attrs_cache: dict[str, dict[str, Any]] = {}
    times: dict[str, datetime] = {}

    def value(record: Record, name: str) -> Any:
        if name in spec.derived:
            return spec.derived[name](store, record)
        if name in _STORED:
            return record.attributes.get(name)
        if record.id not in attrs_cache:
            resource = spec.renderer(store, record, "", frozenset())
            attrs_cache[record.id] = {**resource["attributes"], "id": resource["id"]}
        return attrs_cache[record.id].get(name)

    def moment(record: Record, name: str, parameter: str) -> datetime | None:
        text = value(record, name)
        if not text:
            return None
        if text not in times:
            times[text] = parse_time(text, parameter)
        return times[text]

    for key, wanted in args.items():
        match = _WHERE.match(key)
        if not match:
            continue
        name, operator = match.group(1), match.group(2)
        if name in spec.special_where and operator is None:
            records = spec.special_where[name](records, wanted)
        elif operator is not None:
            if name not in spec.datetime_attrs or operator not in _COMPARE:
                continue
            bound = parse_time(wanted, key)
            compare = _COMPARE[operator]
            records = [r for r in records if (t := moment(r, name, key)) is not None and compare(t, bound)]
        elif name in spec.can_query_by:
            if name in spec.datetime_attrs:
                at = parse_time(wanted, key)
                records = [r for r in records if moment(r, name, key) == at]
            else:
                folded = wanted.casefold()
                records = [r for r in records if _text(value(r, name)) == folded]

    terms = [t.strip() for t in args.get("order", "").split(",") if t.strip()]
    for term in reversed(terms):
        name = term.lstrip("-")
        if name in spec.can_order_by:
            records.sort(key=lambda r, n=name: _sort_key(value(r, n)), reverse=term.startswith("-"))
    return records


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(args.get(name, default))
    except (TypeError, ValueError):
        return default


def _url(base: str, path: str, args: Mapping[str, str], offset: int | None = None) -> str:
    """A link as PCO writes it: the request's own parameters in name order, `offset` set when given,
    brackets unescaped (`where[updated_at][gte]=2026-05-17T19%3A47%3A57Z`)."""
    params = {k: v for k, v in args.items() if k != "offset" or offset is None}
    if offset is not None:
        params["offset"] = str(offset)
    query = urlencode(sorted(params.items()), safe="[]")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def page_size(args: Mapping[str, str]) -> int:
    """Rows PCO puts on a page: `per_page` capped at 100; 0 gives an empty page whose next offset does not
    move (pcomirror golden page_per_page_zero); anything unreadable or negative gives the default 25."""
    per_page = _int_arg(args, "per_page", DEFAULT_PER_PAGE)
    return DEFAULT_PER_PAGE if per_page < 0 else min(per_page, MAX_PER_PAGE)


def list_document(
    store: Store,
    records: list[Record],
    *,
    base: str,
    path: str,
    args: Mapping[str, str],
    spec: ListSpec,
    parent: dict[str, str],
) -> dict[str, Any]:
    """One page of a PCO list: data, included, links (absolute) and meta."""
    selected = select(store, records, args, spec)
    per_page = page_size(args)
    offset = max(_int_arg(args, "offset", 0), 0)
    page = selected[offset : offset + per_page]
    includes = requested_includes(args, spec)
    data = [spec.renderer(store, r, base, includes) for r in page]
    included = included_for(store, page, base, includes, spec)
    total = len(selected)
    links: dict[str, str] = {"self": _url(base, path, args)}
    meta: dict[str, Any] = {"total_count": total, "count": len(page)}
    if offset + per_page < total:
        links["next"] = _url(base, path, args, offset + per_page)
        meta["next"] = {"offset": offset + per_page}
    if offset > 0:
        prev = max(offset - per_page, 0)
        links["prev"] = _url(base, path, args, prev)
        meta["prev"] = {"offset": prev}
    meta.update(spec_meta(spec, parent))
    return sparse({"links": links, "data": data, "included": included, "meta": meta}, args)


def spec_meta(spec: ListSpec, parent: dict[str, str]) -> dict[str, Any]:
    """The `can_*` lists PCO offers (an empty one is left out, as PCO does) and the parent."""
    lists = {
        "can_order_by": spec.can_order_by,
        "can_query_by": spec.can_query_by,
        "can_include": spec.can_include,
        "can_filter": spec.can_filter,
    }
    return {**{name: list(values) for name, values in lists.items() if values}, "parent": parent}


_FIELDS = re.compile(r"^fields\[([^\]]+)\]$")


def sparse(document: dict[str, Any], args: Mapping[str, str]) -> dict[str, Any]:
    """Apply sparse fieldsets: `fields[Person]=first_name,emails` keeps those attributes and relationships
    of every Person in data and included (pcomirror golden people_sparse_fieldset)."""
    wanted = {
        m.group(1): {name.strip() for name in value.split(",") if name.strip()}
        for key, value in args.items()
        if (m := _FIELDS.match(key))
    }
    if not wanted:
        return document
    data = document["data"]
    for resource in [*(data if isinstance(data, list) else [data]), *document.get("included", [])]:
        names = wanted.get(resource.get("type", ""))
        if names is None:
            continue
        resource["attributes"] = {k: v for k, v in resource.get("attributes", {}).items() if k in names}
        if "relationships" in resource:
            resource["relationships"] = {k: v for k, v in resource["relationships"].items() if k in names}
    return document


def included_for(
    store: Store, records: list[Record], base: str, includes: frozenset[str], spec: ListSpec
) -> list[dict[str, Any]]:
    included: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for record in records:
        for name in sorted(includes):
            includer = spec.includers.get(name)
            if includer is None:
                continue
            for resource in includer(store, record, base):
                key = (resource["type"], resource["id"])
                if key not in seen:
                    seen.add(key)
                    included.append(resource)
    return included


def one_document(
    store: Store,
    record: Record,
    *,
    base: str,
    args: Mapping[str, str],
    spec: ListSpec,
    parent: dict[str, str],
) -> dict[str, Any]:
    includes = requested_includes(args, spec)
    meta: dict[str, Any] = {"can_include": list(spec.can_include)} if spec.can_include else {}
    document = {
        "data": spec.renderer(store, record, base, includes),
        "included": included_for(store, [record], base, includes, spec),
        "meta": {**meta, "parent": parent},
    }
    return sparse(document, args)
