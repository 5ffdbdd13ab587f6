"""PCO's list semantics: where[...] filters, order=, per_page/offset pagination, include=, links and meta."""

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


def select(store: Store, records: list[Record], args: Mapping[str, str], spec: ListSpec) -> list[Record]:
    """Filter and order `records` as the query string asks."""
    records = sorted(records, key=lambda r: int(r.id))
    attrs_cache: dict[str, dict[str, Any]] = {}

    def attrs(record: Record) -> dict[str, Any]:
        if record.id not in attrs_cache:
            resource = spec.renderer(store, record, "", frozenset())
            attrs_cache[record.id] = {**resource["attributes"], "id": resource["id"]}
        return attrs_cache[record.id]

    for key, value in args.items():
        match = _WHERE.match(key)
        if not match:
            continue
        name, operator = match.group(1), match.group(2)
        if name in spec.special_where and operator is None:
            records = spec.special_where[name](records, value)
        elif operator is not None:
            if name not in spec.datetime_attrs or operator not in _COMPARE:
                continue
            bound = parse_time(value, key)
            compare = _COMPARE[operator]
            records = [
                r for r in records if attrs(r).get(name) and compare(parse_time(attrs(r)[name], key), bound)
            ]
        elif name in spec.can_query_by:
            if name in spec.datetime_attrs:
                moment = parse_time(value, key)
                records = [
                    r for r in records if attrs(r).get(name) and parse_time(attrs(r)[name], key) == moment
                ]
            else:
                wanted = value.casefold()
                records = [r for r in records if _text(attrs(r).get(name)) == wanted]

    order = args.get("order", "").strip()
    if order:
        for term in reversed([t.strip() for t in order.split(",") if t.strip()]):
            descending = term.startswith("-")
            name = term.lstrip("-")
            if name not in spec.can_order_by:
                raise ApiError(
                    400,
                    "Bad Request",
                    f"{name} is not a valid order. Valid orders: {', '.join(spec.can_order_by)}",
                    code="invalid_order",
                    source={"parameter": "order"},
                )
            records.sort(key=lambda r, n=name: _sort_key(attrs(r).get(n)), reverse=descending)
    return records


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(args.get(name, default))
    except (TypeError, ValueError):
        return default


def _url(base: str, path: str, args: Mapping[str, str], offset: int, per_page: int) -> str:
    params = [(k, v) for k, v in args.items() if k not in ("offset", "per_page")]
    params += [("offset", str(offset)), ("per_page", str(per_page))]
    return f"{base}{path}?{urlencode(params)}"


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
    per_page = min(max(_int_arg(args, "per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    offset = max(_int_arg(args, "offset", 0), 0)
    page = selected[offset : offset + per_page]
    includes = requested_includes(args, spec)
    data = [spec.renderer(store, r, base, includes) for r in page]
    included = included_for(store, page, base, includes, spec)
    total = len(selected)
    links: dict[str, str] = {"self": _url(base, path, args, offset, per_page)}
    meta: dict[str, Any] = {"total_count": total, "count": len(page)}
    if offset + per_page < total:
        links["next"] = _url(base, path, args, offset + per_page, per_page)
        meta["next"] = {"offset": offset + per_page}
    if offset > 0:
        prev = max(offset - per_page, 0)
        links["prev"] = _url(base, path, args, prev, per_page)
        meta["prev"] = {"offset": prev}
    meta.update(spec_meta(spec, parent))
    return {"links": links, "data": data, "included": included, "meta": meta}


def spec_meta(spec: ListSpec, parent: dict[str, str]) -> dict[str, Any]:
    return {
        "can_order_by": list(spec.can_order_by),
        "can_query_by": list(spec.can_query_by),
        "can_include": list(spec.can_include),
        "can_filter": list(spec.can_filter),
        "parent": parent,
    }


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
    return {
        "data": spec.renderer(store, record, base, includes),
        "included": included_for(store, [record], base, includes, spec),
        "meta": {"can_include": list(spec.can_include), "parent": parent},
    }
