"""``POST /crm/v3/objects/contacts/search``: filter groups (OR) of filters (AND), one sort,
a free-text ``query``, offset paging by ``after`` — and the vendor's limits: at most 5
groups, 6 filters in a group and 18 in all; ``limit`` 10 by default and at most 200; one
query pages through at most ``search_result_cap`` results (10,000), asking beyond is 400.

Values compare by the property's type: numbers as numbers, dates and datetimes as
milliseconds since the epoch (a filter may give either those or an ISO date), other
values as case-insensitive text. A property without a value matches only NEQ, NOT_IN,
NOT_HAS_PROPERTY and NOT_CONTAINS_TOKEN. By default the sandbox indexes at once: a contact
is searchable as soon as it is written. Like the vendor, an account with a search lag
finds a write only seconds later, seeing meanwhile what was indexed before (``as_indexed``).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Callable

from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsProperty

from . import errors
from .contacts import as_indexed, live_contacts, values_of
from .dates import from_ms, parse_ms
from .properties import live_properties

OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
             "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
DEFAULT_LIMIT, MAX_LIMIT = 10, 200
QUERY_PROPERTIES = ("email", "firstname", "lastname", "phone", "company", "hs_additional_emails")
_TOKENS = re.compile(r"[\s@.,;:!?()\[\]/\\+\-_]+")


@dataclass
class SearchPage:
    contacts: list[HsContact]
    total: int
    next_after: int | None


def search(account: HsAccount, body: Any) -> SearchPage:
    if not isinstance(body, dict):
        raise errors.validation("Invalid input JSON: expected an object.")  # (emulator) wording
    properties = live_properties(account)
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise errors.validation("filterGroups must be a list.")
    if len(groups) > MAX_GROUPS:
        raise errors.validation(f"Too many filter groups ({len(groups)}). The maximum number of filter groups is {MAX_GROUPS}.")
    count = 0
    predicates: list[list[Callable[[dict[str, str]], bool]]] = []
    for group in groups:
        filters = (group or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise errors.validation(
                f"Too many filters in a group ({len(filters)}). The maximum is {MAX_FILTERS_PER_GROUP} per group.")
        count += len(filters)
        predicates.append([_predicate(properties, f) for f in filters])
    if count > MAX_FILTERS:
        raise errors.validation(f"Too many filters ({count}). The maximum number of filters is {MAX_FILTERS}.")
    sort_name, descending = _sort(properties, body.get("sorts") or [])
    limit = _int(body.get("limit"), DEFAULT_LIMIT, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.validation(f"limit must be between 1 and {MAX_LIMIT}; got {limit}.")  # (emulator) wording
    after = _int(body.get("after"), 0, "after")
    cap = account.search_result_cap
    if after < 0 or after >= cap:
        raise errors.validation(
            f"Paging beyond {cap} results is not supported: 'after' must be less than {cap}.")  # (emulator) wording
    query = str(body.get("query") or "").strip().casefold()

    rows = live_contacts(account)
    lower = _modified_floor(predicates)
    if lower is not None:  # the incremental read's filter narrows the rows before they are loaded
        rows = rows.filter(updated_at__gte=from_ms(lower))
    matches: list[tuple[Any, int, HsContact]] = []
    for stored in rows.iterator(chunk_size=2000):
        contact = as_indexed(stored)
        if contact is None:
            continue
        values = values_of(contact)
        if predicates and not any(all(p(values) for p in group) for group in predicates):
            continue
        if query and not any(query in values.get(name, "").casefold() for name in QUERY_PROPERTIES):
            continue
        matches.append((_sort_key(properties.get(sort_name), values.get(sort_name, "")), contact.number, contact))
    present = sorted((m for m in matches if m[0] is not None), key=lambda m: (m[0], m[1]), reverse=descending)
    absent = sorted((m for m in matches if m[0] is None), key=lambda m: m[1])
    ordered = present + absent  # contacts without the sort property come last either way
    end = min(after + limit, cap)
    page = [m[2] for m in ordered[after:end]]
    next_after = end if end < min(len(ordered), cap) else None
    return SearchPage(page, len(ordered), next_after)


def _int(value: Any, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.validation(f"{name} must be a number; got {value!r}.") from None  # (emulator) wording


def _sort(properties: dict[str, HsProperty], sorts: Any) -> tuple[str, bool]:
    """The one sort: ``{"propertyName", "direction"}`` or a name (``-name`` descending)."""
    if not isinstance(sorts, list):
        raise errors.validation("sorts must be a list.")
    if len(sorts) > 1:
        raise errors.validation("Only one sort is supported.")  # (emulator) wording
    if not sorts:
        return "hs_object_id", False
    sort = sorts[0]
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    elif isinstance(sort, dict):
        name, descending = str(sort.get("propertyName") or ""), str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise errors.validation("A sort must name a property.")
    if name not in properties:
        raise errors.validation(f"Cannot sort by {name}: no such property.")  # (emulator) wording
    return name, descending


def _sort_key(prop: HsProperty | None, value: str) -> Any:
    if not value:
        return None
    typed = _typed(prop, value)
    return (0, typed) if isinstance(typed, (int, float)) else (1, str(typed))


def _typed(prop: HsProperty | None, value: str) -> Any:
    """A value as it compares: a number, milliseconds, or folded text."""
    kind = prop.type if prop else "string"
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value.casefold()
    if kind in ("date", "datetime"):
        ms = parse_ms(value)
        return value.casefold() if ms is None else ms
    return value.casefold()


def _modified_floor(predicates: list[list[Callable]]) -> int | None:
    """The ``lastmodifieddate`` lower bound every group shares, if there is one group with one."""
    if len(predicates) != 1:
        return None
    bounds = [getattr(p, "modified_floor", None) for p in predicates[0]]
    bounds = [b for b in bounds if b is not None]
    return max(bounds) if bounds else None


def _predicate(properties: dict[str, HsProperty], spec: Any) -> Callable[[dict[str, str]], bool]:
    if not isinstance(spec, dict):
        raise errors.validation("A filter must be an object.")
    name, operator = str(spec.get("propertyName") or ""), str(spec.get("operator") or "EQ").upper()
    if operator not in OPERATORS:
        raise errors.validation(f"Unknown filter operator {operator}: one of {', '.join(OPERATORS)}.")
    prop = properties.get(name)
    if prop is None:
        raise errors.validation(f"There was a problem with the request: property {name} does not exist.")  # (emulator)
    multi = prop.field_type == "checkbox"

    def parts(value: str) -> list[Any]:
        return [_typed(prop, p) for p in (value.split(";") if multi else [value])]

    def needs(key: str) -> Any:
        if spec.get(key) in (None, ""):
            raise errors.validation(f"Operator {operator} on {name} needs a {key}.")  # (emulator) wording
        return _typed(prop, str(spec[key]))

    if operator == "HAS_PROPERTY":
        return lambda v: bool(v.get(name))
    if operator == "NOT_HAS_PROPERTY":
        return lambda v: not v.get(name)
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(spec.get("value") or "").casefold()

        def contains(v: dict[str, str]) -> bool:
            text = v.get(name, "").casefold()
            tokens = [t for t in _TOKENS.split(text) if t] + [text]
            return any(fnmatch.fnmatchcase(t, pattern) for t in tokens)

        return contains if operator == "CONTAINS_TOKEN" else (lambda v: not contains(v))
    if operator in ("IN", "NOT_IN"):
        wanted = spec.get("values")
        if not isinstance(wanted, list) or not wanted:
            raise errors.validation(f"Operator {operator} on {name} needs a list of values.")  # (emulator) wording
        targets = {_typed(prop, str(w)) for w in wanted}
        if operator == "IN":
            return lambda v: bool(v.get(name)) and any(p in targets for p in parts(v[name]))
        return lambda v: not v.get(name) or not any(p in targets for p in parts(v[name]))
    target = needs("value")
    if operator == "NEQ":
        return lambda v: not v.get(name) or target not in parts(v[name])
    if operator == "EQ":
        return lambda v: bool(v.get(name)) and target in parts(v[name])
    if operator == "BETWEEN":
        high = needs("highValue")
        return lambda v: bool(v.get(name)) and _compare(_typed(prop, v[name]), target, ">=") \
            and _compare(_typed(prop, v[name]), high, "<=")
    symbol = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}[operator]
    check = lambda v: bool(v.get(name)) and _compare(_typed(prop, v[name]), target, symbol)  # noqa: E731
    if name == "lastmodifieddate" and operator in ("GT", "GTE") and isinstance(target, int):
        check.modified_floor = target  # type: ignore[attr-defined]
    return check


def _compare(value: Any, target: Any, symbol: str) -> bool:
    if type(value) is not type(target) and not (isinstance(value, (int, float)) and isinstance(target, (int, float))):
        value, target = str(value), str(target)
    return {"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}[symbol]
