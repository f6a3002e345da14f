"""The two query languages of the records API, as far as the sandbox speaks them.

- Search criteria (``GET /{module}/search?criteria=``): ``(Field:operator:value)`` joined
  by ``and``/``or`` in parentheses, e.g. ``((Email:equals:a@b.com)and(Last_Name:starts_with:S))``;
  operators equals, not_equal, starts_with, in (comma-separated values), greater_than,
  greater_equal, less_than, less_equal; ``\\`` escapes ``(``, ``)`` and ``,`` in values.
  Text compares case-insensitively.
- COQL (``POST /coql``): ``select f1, f2 from Module where <condition> [order by f [asc|desc], …]
  [limit [offset,] count]`` with =, !=, <, <=, >, >=, like ('%' wildcards), in (…),
  not in (…), is null, is not null, between x and y, joined by and/or with parentheses.
  The WHERE clause is mandatory, as in Zoho.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .dates import parse

Row = dict[str, Any]  # a record as shaped for the wire (lookups as {"name","id"})
Predicate = Callable[[Row], bool]


class QueryError(Exception):
    pass


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    return value


def _compare_key(value: Any, other: Any) -> tuple[Any, Any]:
    """Both sides in a comparable form: moments, numbers, or lower-case text."""
    value, other = _plain(value), _plain(other)
    if isinstance(other, datetime) or (isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value or "")):
        try:
            left = parse(value) if isinstance(value, str) else value
            right = parse(other) if isinstance(other, str) else other
            return left, right
        except (TypeError, ValueError):
            pass
    if isinstance(other, int) and not isinstance(other, bool) and str(value).lstrip("-").isdigit():
        return int(value), other  # ids are 19 digits: floats would round them
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        try:
            return float(value), float(other)
        except (TypeError, ValueError):
            return None, other
    if isinstance(other, bool) or isinstance(value, bool):
        return value, other
    return (str(value).lower() if value is not None else None), (str(other).lower() if other is not None else None)


def _op(name: str, values: list[Any]) -> Predicate:
    def test(row_value: Any) -> bool:
        if name in ("is null", "is not null"):
            empty = _plain(row_value) in (None, "")
            return empty if name == "is null" else not empty
        if name in ("in", "not in"):
            hit = any(_eq(row_value, v) for v in values)
            return hit if name == "in" else not hit
        if name == "between":
            low, high = (_compare_key(row_value, v) for v in values)
            return low[0] is not None and low[1] <= low[0] <= high[1]
        left, right = _compare_key(row_value, values[0])
        if name == "=":
            return left == right
        if name == "!=":
            return left != right
        if name == "like":
            pattern = "^" + ".*".join(re.escape(p) for p in str(values[0]).lower().split("%")) + "$"
            return left is not None and re.match(pattern, str(left)) is not None
        if name == "starts_with":
            return left is not None and str(left).startswith(str(right))
        if left is None:
            return False
        try:
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[name]
        except TypeError:
            return False
    return test


def _eq(row_value: Any, value: Any) -> bool:
    left, right = _compare_key(row_value, value)
    return left == right


def _field_value(row: Row, name: str) -> Any:
    for key, value in row.items():
        if key.lower() == name.lower():
            return value
    if "." in name:  # Account_Name.Account_Name and the like
        head, _, tail = name.partition(".")
        inner = _field_value(row, head)
        return inner.get("name") if isinstance(inner, dict) and tail else inner
    return None


# --- search criteria --------------------------------------------------------------------------------
SEARCH_OPERATORS = {"equals": "=", "not_equal": "!=", "starts_with": "starts_with", "in": "in",
                    "greater_than": ">", "greater_equal": ">=", "less_than": "<", "less_equal": "<="}


def criteria(text: str) -> Predicate:
    """A predicate over wire-shaped records for a search ``criteria`` string."""
    position = 0

    def condition() -> Predicate:
        nonlocal position
        if position >= len(text) or text[position] != "(":
            raise QueryError("criteria must be in parentheses")
        position += 1
        if text[position:position + 1] == "(":
            result = group()
        else:
            result = simple()
        if text[position:position + 1] != ")":
            raise QueryError("unbalanced parentheses in criteria")
        position += 1
        return result

    def group() -> Predicate:
        nonlocal position
        parts, joins = [condition()], []
        while True:
            match = re.match(r"\s*(and|or)\s*", text[position:], re.IGNORECASE)
            if not match:
                break
            position += match.end()
            joins.append(match.group(1).lower())
            parts.append(condition())
        return _join(parts, joins)

    def simple() -> Predicate:
        nonlocal position
        raw, escaped = [], False
        while position < len(text):
            char = text[position]
            if escaped:
                raw.append("\\" + char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == ")":
                break
            else:
                raw.append(char)
            position += 1
        body = "".join(raw)
        name, _, rest = body.partition(":")
        operator, _, value = rest.partition(":")
        if operator not in SEARCH_OPERATORS or not name:
            raise QueryError(f"invalid criteria: {body}")
        values = [v.replace("\\,", ",").replace("\\(", "(").replace("\\)", ")")
                  for v in re.split(r"(?<!\\),", value)] if operator == "in" else [
            value.replace("\\,", ",").replace("\\(", "(").replace("\\)", ")")]
        test = _op(SEARCH_OPERATORS[operator], values)
        return lambda row: test(_field_value(row, name))

    result = group()
    if position != len(text):
        raise QueryError("unexpected text after the criteria")
    return result


def _join(parts: list[Predicate], joins: list[str]) -> Predicate:
    """``and`` binds tighter than ``or``."""
    groups: list[list[Predicate]] = [[parts[0]]]
    for join, part in zip(joins, parts[1:]):
        if join == "and":
            groups[-1].append(part)
        else:
            groups.append([part])
    return lambda row: any(all(p(row) for p in group) for group in groups)


# --- COQL -----------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|!=|=|<|>)"""
                    r"""|(?P<punct>[(),])|(?P<word>[\w$.]+))""")


@dataclass
class Coql:
    module: str
    fields: list[str]
    where: Predicate
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    offset: int = 0
    limit: int = 200


def coql(text: str) -> Coql:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"unexpected character at {position}")
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        tokens.append((kind, value))
    pos = 0

    def peek_word(*words: str) -> bool:
        return pos < len(tokens) and tokens[pos][0] == "word" and str(tokens[pos][1]).lower() in words

    def take(kind: str | None = None, word: str | None = None) -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise QueryError("the query ends too early")
        token = tokens[pos]
        if (kind and token[0] != kind) or (word and str(token[1]).lower() != word):
            raise QueryError(f"unexpected {token[1]!r}")
        pos += 1
        return token[1]

    take("word", "select")
    fields = [take("word")]
    while pos < len(tokens) and tokens[pos] == ("punct", ","):
        pos += 1
        fields.append(take("word"))
    take("word", "from")
    module = take("word")
    if not peek_word("where"):
        raise QueryError("the where clause is mandatory")
    take("word", "where")

    def value() -> Any:
        nonlocal pos
        kind, token = tokens[pos] if pos < len(tokens) else ("", None)
        if kind in ("string", "number"):
            pos += 1
            return token
        if kind == "word" and str(token).lower() in ("true", "false", "null"):
            pos += 1
            return {"true": True, "false": False, "null": None}[str(token).lower()]
        raise QueryError(f"a value was expected, not {token!r}")

    def comparison() -> Predicate:
        nonlocal pos
        if pos < len(tokens) and tokens[pos] == ("punct", "("):
            pos += 1
            inner = disjunction()
            take("punct")
            return inner
        name = take("word")
        if pos < len(tokens) and tokens[pos][0] == "op":
            operator = take("op")
            test = _op(operator, [value()])
        elif peek_word("like"):
            pos += 1
            test = _op("like", [value()])
        elif peek_word("is"):
            pos += 1
            negate = peek_word("not")
            if negate:
                pos += 1
            take("word", "null")
            test = _op("is not null" if negate else "is null", [])
        elif peek_word("between"):
            pos += 1
            low = value()
            take("word", "and")
            test = _op("between", [low, value()])
        elif peek_word("in", "not"):
            negate = peek_word("not")
            pos += 1 + (1 if negate else 0)
            take("punct")
            values = [value()]
            while tokens[pos] == ("punct", ","):
                pos += 1
                values.append(value())
            take("punct")
            test = _op("not in" if negate else "in", values)
        else:
            raise QueryError(f"an operator was expected after {name}")
        return lambda row: test(_field_value(row, name))

    def conjunction() -> Predicate:
        nonlocal pos
        parts = [comparison()]
        while peek_word("and"):
            pos += 1
            parts.append(comparison())
        return lambda row: all(p(row) for p in parts)

    def disjunction() -> Predicate:
        nonlocal pos
        parts = [conjunction()]
        while peek_word("or"):
            pos += 1
            parts.append(conjunction())
        return lambda row: any(p(row) for p in parts)

    where = disjunction()
    query = Coql(module=module, fields=fields, where=where)
    if peek_word("order"):
        pos += 1
        take("word", "by")
        while True:
            name = take("word")
            descending = False
            if peek_word("asc", "desc"):
                descending = take("word").lower() == "desc"
            query.order.append((name, descending))
            if pos < len(tokens) and tokens[pos] == ("punct", ","):
                pos += 1
                continue
            break
    if peek_word("limit"):
        pos += 1
        first = take("number")
        if pos < len(tokens) and tokens[pos] == ("punct", ","):
            pos += 1
            query.offset, query.limit = int(first), int(take("number"))
        else:
            query.limit = int(first)
        if peek_word("offset"):
            pos += 1
            query.offset = int(take("number"))
    if pos != len(tokens):
        raise QueryError(f"unexpected {tokens[pos][1]!r}")
    return query


def sort_key(name: str) -> Callable[[Row], Any]:
    """Sorting wire-shaped records by a field: nulls first, moments as moments, ids as numbers."""
    def key(row: Row) -> Any:
        value = _plain(_field_value(row, name))
        if value is None or value == "":
            return (0, "")
        if name.lower() == "id" or (isinstance(value, str) and value.isdigit()):
            return (1, int(value))
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
            return (1, parse(value).timestamp())
        return (1, str(value).lower()) if not isinstance(value, (int, float)) else (1, value)
    return key
