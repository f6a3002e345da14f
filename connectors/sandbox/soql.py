"""SOQL engine for the Salesforce sandbox emulator.

Compiles the subset of SOQL that integrations actually send into a `Query`
object that filters, sorts, pages and projects plain ``dict`` records.  Pure
Python, standard library only; no Django.

Typical use::

    query = compile("SELECT Id, Account.Name FROM Contact "
                    "WHERE Email LIKE '%@example.com' ORDER BY LastName LIMIT 10",
                    schema)
    rows = query.apply(records, resolve)          # filter + ORDER BY + OFFSET/LIMIT
    body = [query.project(row, resolve) for row in rows]

Records are dicts keyed by canonical field name (``{"Id": ..., "AccountId": ...}``).
``resolve(sobject, record_id) -> dict | None`` fetches a parent record when a
relationship path such as ``Account.Owner.Email`` is used.

Supported: field lists with relationship paths of any depth, ``COUNT()`` and
``COUNT(field) [alias]``; ``WHERE`` with ``= != <> < <= > >= IN NOT IN LIKE``,
``AND``/``OR``/``NOT``/parentheses, ``null``, booleans, strings with backslash
escapes, numbers, date and datetime literals and relative date literals
(``TODAY``, ``LAST_N_DAYS:n``, ...); ``ORDER BY ... ASC|DESC NULLS FIRST|LAST``,
``LIMIT``, ``OFFSET``.  Errors are raised as `SoqlError` carrying Salesforce's
error code and message (``ERROR at Row:1:Column:N`` shape).
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Protocol, Union

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "DateRange",
    "DictSchema",
    "FieldInfo",
    "FieldRef",
    "INVALID_FIELD",
    "INVALID_QUERY_FILTER_OPERATOR",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "Relationship",
    "Resolver",
    "Schema",
    "SoqlError",
    "TopLevelCondition",
    "compile",
]

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

MAX_OFFSET = 2000
_MAX_INT = 2**31 - 1

Record = Mapping[str, Any]
Resolver = Callable[[str, str], Union[Record, None]]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class SoqlError(Exception):
    """A query Salesforce would reject.

    ``code`` is the REST ``errorCode`` (``MALFORMED_QUERY``, ``INVALID_FIELD``,
    ``INVALID_TYPE``, ``INVALID_QUERY_FILTER_OPERATOR`` or
    ``NUMBER_OUTSIDE_VALID_RANGE``); ``message`` is the full wire message,
    including Salesforce's excerpt/caret/``ERROR at Row:R:Column:C`` prefix when
    the error has a position; ``detail`` is the bare explanation; ``row`` and
    ``column`` are 1-based (``None`` for position-less errors).
    """

    def __init__(self, code: str, detail: str, soql: str | None = None, pos: int | None = None):
        self.code = code
        self.detail = detail
        self.row: int | None = None
        self.column: int | None = None
        if soql is None or pos is None:
            self.message = detail
        else:
            self.row, self.column = _row_column(soql, pos)
            self.message = _located_message(soql, pos, detail)
        super().__init__(f"{code}: {self.message}")

    def as_dict(self) -> dict[str, str]:
        """The error as one element of Salesforce's REST error array."""
        return {"message": self.message, "errorCode": self.code}


_EXCERPT_RADIUS = 40


def _row_column(soql: str, pos: int) -> tuple[int, int]:
    line_start = soql.rfind("\n", 0, pos) + 1
    return soql.count("\n", 0, pos) + 1, pos - line_start + 1


def _located_message(soql: str, pos: int, detail: str) -> str:
    """Salesforce's shape: excerpt of the offending line, a caret, the location, the detail."""
    row, column = _row_column(soql, pos)
    line_start = pos - column + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : len(soql) if line_end == -1 else line_end]
    col0 = column - 1
    start = max(0, col0 - _EXCERPT_RADIUS)
    if start > 0:
        space = line.find(" ", start, col0)
        start = space + 1 if space != -1 else start
    end = min(len(line), col0 + _EXCERPT_RADIUS)
    if end < len(line):
        space = line.rfind(" ", col0 + 1, end)
        end = space if space != -1 else end
    caret = " " * (col0 - start) + "^"
    return f"\n{line[start:end]}\n{caret}\nERROR at Row:{row}:Column:{column}\n{detail}"


def _unexpected(tok: _Token, soql: str) -> SoqlError:
    return SoqlError(MALFORMED_QUERY, f"unexpected token: '{tok.text}'", soql, tok.pos)


def _no_such_column(name: str, sobject: str) -> str:
    return (
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )


def _bad_relationship(name: str) -> str:
    return (
        f"Didn't understand relationship '{name}' in field path. If you are attempting to "
        "use a custom relationship, be sure to append the '__r' after the custom "
        "relationship name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )


def _unsupported_sobject(name: str) -> str:
    return (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your "
        "WSDL or the describe call for the appropriate names."
    )


# --------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------


class FieldInfo(NamedTuple):
    """A field as the schema knows it: canonical name and describe ``type``
    (``id``, ``string``, ``email``, ``picklist``, ``boolean``, ``date``,
    ``datetime``, ``double``, ``int``, ``currency``, ``reference``, ...)."""

    name: str
    type: str


class Relationship(NamedTuple):
    """A parent relationship: ``Relationship("Account", "AccountId", "Account")``
    means ``Contact.Account`` follows the ``AccountId`` foreign key to ``Account``."""

    name: str
    field: str
    target: str


class Schema(Protocol):
    """What the compiler needs to know about sObjects.  ``name`` arguments are
    as written in the query (any case); ``sobject`` arguments are canonical."""

    def canonical_sobject(self, name: str) -> str | None:
        """``"contact"`` -> ``"Contact"``; ``None`` if the sObject is unknown."""

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        """The field called ``name`` (case-insensitive) on ``sobject``, or ``None``."""

    def relationship(self, sobject: str, name: str) -> Relationship | None:
        """The parent relationship called ``name`` (case-insensitive), or ``None``."""


class DictSchema:
    """A `Schema` backed by a plain dict, for tests and simple use::

        DictSchema({
            "Contact": {"Id": "id", "LastName": "string",
                        "AccountId": ("reference", "Account"),
                        "Boss__c": ("reference", "Contact", "Boss__r")},
            "Account": {"Id": "id", "Name": "string"},
        })

    A reference field is ``("reference", target)`` or ``("reference", target,
    relationship_name)``; the relationship name defaults to Salesforce's
    convention (``AccountId`` -> ``Account``, ``Boss__c`` -> ``Boss__r``).
    """

    def __init__(self, objects: Mapping[str, Mapping[str, str | tuple[str, ...]]]):
        self._sobjects = {name.lower(): name for name in objects}
        self._fields: dict[str, dict[str, FieldInfo]] = {}
        self._relationships: dict[str, dict[str, Relationship]] = {}
        for sobject, fields in objects.items():
            by_name = self._fields[sobject] = {}
            relationships = self._relationships[sobject] = {}
            for field_name, spec in fields.items():
                if isinstance(spec, str):
                    by_name[field_name.lower()] = FieldInfo(field_name, spec)
                    continue
                field_type, target, *rest = spec
                by_name[field_name.lower()] = FieldInfo(field_name, field_type)
                rel_name = rest[0] if rest else _conventional_relationship_name(field_name)
                relationships[rel_name.lower()] = Relationship(rel_name, field_name, target)

    def canonical_sobject(self, name: str) -> str | None:
        return self._sobjects.get(name.lower())

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        return self._fields.get(sobject, {}).get(name.lower())

    def relationship(self, sobject: str, name: str) -> Relationship | None:
        return self._relationships.get(sobject, {}).get(name.lower())


def _conventional_relationship_name(field_name: str) -> str:
    if field_name.endswith("__c"):
        return field_name[:-3] + "__r"
    if field_name.endswith("Id") and len(field_name) > 2:
        return field_name[:-2]
    return field_name


# --------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    """A resolved field path.  ``path`` is canonical and dotted
    (``"Account.Owner.Email"``), ``name``/``type`` describe the final field and
    ``hops`` are the relationships followed to reach it."""

    path: str
    name: str
    type: str
    hops: tuple[Relationship, ...] = ()


@dataclass(frozen=True)
class DateRange:
    """A relative date literal (``TODAY``, ``LAST_N_DAYS:7``, ...) resolved
    against the compile-time date to the half-open day range ``[start, end)``."""

    literal: str
    start: date
    end: date


@dataclass(frozen=True)
class Comparison:
    """``field op value``.  ``op`` is one of ``= != < <= > >= IN NOT IN LIKE``
    (``<>`` is normalised to ``!=``).  ``value`` is a Python value: ``None``,
    ``bool``, ``int``/``float``, ``str``, ``date``, timezone-aware ``datetime``
    (UTC), `DateRange`, a tuple of those for ``IN``/``NOT IN``, or for ``LIKE``
    the pattern in SOQL/SQL syntax (``%``, ``_``, backslash escapes)."""

    field: FieldRef
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    operand: Condition


Condition = Union[Comparison, And, Or, Not]


@dataclass(frozen=True)
class OrderItem:
    """One ``ORDER BY`` key; ``nulls_first`` already reflects Salesforce's
    defaults (ASC -> NULLS FIRST, DESC -> NULLS LAST)."""

    field: FieldRef
    descending: bool
    nulls_first: bool


class TopLevelCondition(NamedTuple):
    """A comparison ANDed at the top level of ``WHERE`` (see
    `Query.top_level_conditions`)."""

    path: str
    op: str
    value: Any


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # ident | string | number | date | datetime | op | eof
    text: str  # source text
    value: Any  # decoded value
    pos: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == "ident" and self.text.upper() == word

    def is_op(self, op: str) -> bool:
        return self.kind == "op" and self.text == op


_DIGITS = frozenset("0123456789")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | _DIGITS
_DATETIME_CHARS = _DIGITS | frozenset("-:T.Z+")
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ",", ":")
_STRING_ESCAPES = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t",
    "b": "\b", "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'",
    "\\": "\\", "%": "%", "_": "_",
}
# Inside a LIKE pattern these stay escaped so the pattern keeps SQL meaning.
_LIKE_KEPT_ESCAPES = frozenset("\\%_")


def _tokenize(soql: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(soql)
    while True:
        while i < n and soql[i].isspace():
            i += 1
        if i >= n:
            tokens.append(_Token("eof", "<EOF>", None, n))
            return tokens
        ch = soql[i]
        if ch == "'":
            token, i = _lex_string(soql, i)
        elif ch in _DIGITS or (ch == "-" and soql[i + 1 : i + 2] in _DIGITS):
            token, i = _lex_number_or_date(soql, i)
        elif ch in _IDENT_START:
            token, i = _lex_identifier(soql, i)
        else:
            op = next((op for op in _OPERATORS if soql.startswith(op, i)), None)
            if op is None:
                raise SoqlError(MALFORMED_QUERY, f"unexpected token: '{ch}'", soql, i)
            token, i = _Token("op", op, op, i), i + len(op)
        tokens.append(token)


def _lex_identifier(soql: str, start: int) -> tuple[_Token, int]:
    """Identifiers include dotted relationship paths: ``Account.Owner.Email``."""
    i, n = start, len(soql)
    while True:
        while i < n and soql[i] in _IDENT_CHARS:
            i += 1
        if i + 1 < n and soql[i] == "." and soql[i + 1] in _IDENT_START:
            i += 1
            continue
        text = soql[start:i]
        return _Token("ident", text, text, start), i


def _lex_string(soql: str, start: int) -> tuple[_Token, int]:
    i, n = start + 1, len(soql)
    while i < n:
        ch = soql[i]
        if ch == "\\":
            i += 2
        elif ch == "'":
            text = soql[start : i + 1]
            return _Token("string", text, _decode_string(soql, start, like=False), start), i + 1
        else:
            i += 1
    raise SoqlError(MALFORMED_QUERY, "mismatched character '<EOF>' expecting '''", soql, start)


def _decode_string(soql: str, start: int, *, like: bool) -> str:
    """Decode the string literal starting at ``start``; with ``like=True`` keep
    ``\\\\``, ``\\%`` and ``\\_`` escaped for LIKE pattern matching."""
    out: list[str] = []
    i = start + 1
    while soql[i] != "'":
        ch = soql[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = soql[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", soql[i + 2 : i + 6]):
            out.append(chr(int(soql[i + 2 : i + 6], 16)))
            i += 6
            continue
        if nxt not in _STRING_ESCAPES:
            end = soql.find("'", i + 2)
            literal = soql[start : end + 1 if end != -1 else len(soql)]
            raise SoqlError(
                MALFORMED_QUERY,
                f"Invalid string literal {literal}. Illegal character sequence "
                f"'\\{nxt}' in string literal.",
                soql,
                start,
            )
        out.append("\\" + nxt if like and nxt in _LIKE_KEPT_ESCAPES else _STRING_ESCAPES[nxt])
        i += 2
    return "".join(out)


def _lex_number_or_date(soql: str, start: int) -> tuple[_Token, int]:
    n = len(soql)
    if all(ch in _DIGITS for ch in soql[start : start + 4]) and soql[start + 4 : start + 5] == "-":
        i = start
        while i < n and soql[i] in _DATETIME_CHARS:
            i += 1
        text = soql[start:i]
        return _parse_date_token(text, soql, start), i
    i = start + 1
    while i < n and soql[i] in _DIGITS:
        i += 1
    if i + 1 < n and soql[i] == "." and soql[i + 1] in _DIGITS:
        i += 1
        while i < n and soql[i] in _DIGITS:
            i += 1
        return _Token("number", soql[start:i], float(soql[start:i]), start), i
    return _Token("number", soql[start:i], int(soql[start:i]), start), i


_DATETIME_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})"
)


def _parse_date_token(text: str, soql: str, pos: int) -> _Token:
    if len(text) == 10:
        try:
            return _Token("date", text, date.fromisoformat(text), pos)
        except ValueError:
            raise SoqlError(MALFORMED_QUERY, f"Invalid date: {text}", soql, pos) from None
    if _DATETIME_SHAPE.fullmatch(text):
        try:
            value = datetime.fromisoformat(text).astimezone(timezone.utc)
            return _Token("datetime", text, value, pos)
        except ValueError:
            pass
    raise SoqlError(MALFORMED_QUERY, f"Invalid datetime: {text}", soql, pos)


# --------------------------------------------------------------------------
# Relative date literals
# --------------------------------------------------------------------------

_DAY = timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_range(today: date, offset: int) -> tuple[date, date]:
    start = _add_months(today.replace(day=1), offset)
    return start, _add_months(start, 1)


def _year_range(today: date, offset: int) -> tuple[date, date]:
    return date(today.year + offset, 1, 1), date(today.year + offset + 1, 1, 1)


_RELATIVE_DATES: dict[str, Callable[[date], tuple[date, date]]] = {
    "TODAY": lambda t: (t, t + _DAY),
    "YESTERDAY": lambda t: (t - _DAY, t),
    "TOMORROW": lambda t: (t + _DAY, t + 2 * _DAY),
    "THIS_MONTH": lambda t: _month_range(t, 0),
    "LAST_MONTH": lambda t: _month_range(t, -1),
    "NEXT_MONTH": lambda t: _month_range(t, 1),
    "THIS_YEAR": lambda t: _year_range(t, 0),
    "LAST_YEAR": lambda t: _year_range(t, -1),
    "NEXT_YEAR": lambda t: _year_range(t, 1),
}

# LAST_N_DAYS:n includes today, so it spans n + 1 days.
_RELATIVE_N_DATES: dict[str, Callable[[date, int], tuple[date, date]]] = {
    "LAST_N_DAYS": lambda t, n: (t - n * _DAY, t + _DAY),
    "NEXT_N_DAYS": lambda t, n: (t + _DAY, t + (n + 1) * _DAY),
    "N_DAYS_AGO": lambda t, n: (t - n * _DAY, t - (n - 1) * _DAY),
}


# --------------------------------------------------------------------------
# Parser (syntax only; names are bound to the schema afterwards)
# --------------------------------------------------------------------------

_RESERVED = frozenset(
    "AND ASC BY DESC EXCLUDES FALSE FROM GROUP HAVING IN INCLUDES LIKE LIMIT NOT "
    "NULL NULLS OFFSET OR ORDER SELECT TRUE WHERE WITH".split()
)
_COMPARISON_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Literal(NamedTuple):
    value: Any
    pos: int
    quoted: bool


@dataclass(frozen=True)
class _RawComparison:
    field: _Token
    op: str
    values: tuple[_Literal, ...]


@dataclass
class _RawQuery:
    select: list[_Token]
    is_count: bool
    count_field: _Token | None
    count_alias: str | None
    sobject: _Token
    where: Any
    order_by: list[tuple[_Token, bool, bool | None]]
    limit: int | None
    offset: int | None
    offset_pos: int | None


class _Parser:
    """Recursive descent over the token list::

        query      := SELECT select FROM ident [WHERE or] [ORDER BY order (, order)*]
                      [LIMIT int] [OFFSET int]
        select     := COUNT ( [path] ) [alias] | path (, path)*
        or         := and (OR and)*
        and        := not (AND not)*
        not        := NOT not | ( or ) | comparison
        comparison := path op value | path [NOT] IN ( value (, value)* ) | path LIKE string
    """

    def __init__(self, soql: str, today: date, strict_logic: bool):
        self.soql = soql
        self.tokens = _tokenize(soql)
        self.index = 0
        self.today = today
        self.strict_logic = strict_logic

    # -- token helpers -----------------------------------------------------

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at_keyword(self, word: str) -> bool:
        return self.peek().is_keyword(word)

    def accept_keyword(self, word: str) -> bool:
        if self.at_keyword(word):
            self.advance()
            return True
        return False

    def expect_keyword(self, word: str) -> _Token:
        if not self.at_keyword(word):
            raise _unexpected(self.peek(), self.soql)
        return self.advance()

    def expect_op(self, op: str) -> _Token:
        token = self.peek()
        if not token.is_op(op):
            if op == ")":
                raise SoqlError(
                    MALFORMED_QUERY,
                    f"expecting a right parentheses, found '{token.text}'",
                    self.soql,
                    token.pos,
                )
            raise _unexpected(token, self.soql)
        return self.advance()

    def expect_path(self) -> _Token:
        token = self.peek()
        if token.kind != "ident" or token.text.upper() in _RESERVED:
            raise _unexpected(token, self.soql)
        return self.advance()

    def expect_integer(self) -> int:
        token = self.peek()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise _unexpected(token, self.soql)
        if token.value > _MAX_INT:
            raise SoqlError(
                MALFORMED_QUERY, f"numeric value out of range: {token.text}", self.soql, token.pos
            )
        self.advance()
        return token.value

    # -- grammar -----------------------------------------------------------

    def parse(self) -> _RawQuery:
        self.expect_keyword("SELECT")
        select, is_count, count_field, count_alias = self.parse_select_list()
        self.expect_keyword("FROM")
        sobject = self.peek()
        # ORDER and GROUP are keywords but also standard sObject names.
        reserved = sobject.text.upper() in _RESERVED - {"ORDER", "GROUP"}
        if sobject.kind != "ident" or "." in sobject.text or reserved:
            raise _unexpected(sobject, self.soql)
        self.advance()
        where = self.parse_where() if self.accept_keyword("WHERE") else None
        order_by = self.parse_order_by() if self.at_keyword("ORDER") else []
        limit = self.expect_integer() if self.accept_keyword("LIMIT") else None
        offset = offset_pos = None
        if self.accept_keyword("OFFSET"):
            offset_pos = self.peek().pos
            offset = self.expect_integer()
        if self.peek().kind != "eof":
            raise _unexpected(self.peek(), self.soql)
        return _RawQuery(
            select, is_count, count_field, count_alias, sobject, where, order_by,
            limit, offset, offset_pos,
        )

    def parse_select_list(self) -> tuple[list[_Token], bool, _Token | None, str | None]:
        if self.at_keyword("COUNT") and self.peek(1).is_op("("):
            self.advance()
            self.advance()
            if self.peek().is_op(")"):
                self.advance()
                return [], True, None, None
            field = self.expect_path()
            self.expect_op(")")
            alias = None
            if self.peek().kind == "ident" and not self.at_keyword("FROM"):
                alias = self.expect_path().text
            return [], False, field, alias
        fields = [self.expect_path()]
        while self.peek().is_op(","):
            self.advance()
            fields.append(self.expect_path())
        return fields, False, None, None

    def parse_where(self) -> Any:
        condition, _ = self.parse_or()
        return condition

    def parse_or(self) -> tuple[Any, _Token | None]:
        """Returns the condition and its first unparenthesised OR token."""
        first, first_and = self.parse_and()
        operands, first_or = [first], None
        while self.at_keyword("OR"):
            token = self.advance()
            first_or = first_or or token
            operand, and_token = self.parse_and()
            first_and = first_and or and_token
            operands.append(operand)
        if self.strict_logic and first_or and first_and:
            # Real SOQL refuses to guess precedence between AND and OR; the
            # offending token is whichever of the two came second.
            raise _unexpected(max(first_or, first_and, key=lambda t: t.pos), self.soql)
        return (first if len(operands) == 1 else Or(tuple(operands))), first_or

    def parse_and(self) -> tuple[Any, _Token | None]:
        """Returns the condition and its first unparenthesised AND token."""
        operands, first_and = [self.parse_not()], None
        while self.at_keyword("AND"):
            token = self.advance()
            first_and = first_and or token
            operands.append(self.parse_not())
        return (operands[0] if len(operands) == 1 else And(tuple(operands))), first_and

    def parse_not(self) -> Any:
        if self.accept_keyword("NOT"):
            return Not(self.parse_not())
        if self.peek().is_op("("):
            self.advance()
            condition, _ = self.parse_or()
            self.expect_op(")")
            return condition
        return self.parse_comparison()

    def parse_comparison(self) -> _RawComparison:
        field = self.expect_path()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISON_OPS:
            self.advance()
            return _RawComparison(field, _COMPARISON_OPS[token.text], (self.parse_value(),))
        if token.is_keyword("LIKE"):
            self.advance()
            return _RawComparison(field, "LIKE", (self.parse_like_pattern(),))
        if token.is_keyword("IN") or (token.is_keyword("NOT") and self.peek(1).is_keyword("IN")):
            op = "IN" if token.is_keyword("IN") else "NOT IN"
            self.advance()
            if op == "NOT IN":
                self.advance()
            return _RawComparison(field, op, self.parse_value_list())
        raise _unexpected(token, self.soql)

    def parse_value_list(self) -> tuple[_Literal, ...]:
        token = self.peek()
        if token.is_op(":"):
            raise self.bind_variable_error(token)
        if not token.is_op("("):
            raise SoqlError(
                MALFORMED_QUERY, f"expecting a left parentheses, found '{token.text}'",
                self.soql, token.pos,
            )
        self.advance()
        values = [self.parse_value()]
        while self.peek().is_op(","):
            self.advance()
            values.append(self.parse_value())
        self.expect_op(")")
        return tuple(values)

    def parse_like_pattern(self) -> _Literal:
        token = self.peek()
        if token.kind != "string":
            return self.parse_value()  # rejected later with Salesforce's type message
        self.advance()
        return _Literal(_decode_string(self.soql, token.pos, like=True), token.pos, True)

    def parse_value(self) -> _Literal:
        token = self.peek()
        if token.kind in ("string", "number", "date", "datetime"):
            self.advance()
            return _Literal(token.value, token.pos, token.kind == "string")
        if token.is_op(":"):
            raise self.bind_variable_error(token)
        if token.kind == "ident":
            word = token.text.upper()
            constants = {"NULL": None, "TRUE": True, "FALSE": False}
            if word in constants:
                self.advance()
                return _Literal(constants[word], token.pos, False)
            if word in _RELATIVE_DATES:
                self.advance()
                start, end = _RELATIVE_DATES[word](self.today)
                return _Literal(DateRange(word, start, end), token.pos, False)
            if word in _RELATIVE_N_DATES:
                self.advance()
                self.expect_op(":")
                n = self.expect_integer()
                start, end = _RELATIVE_N_DATES[word](self.today, n)
                return _Literal(DateRange(f"{word}:{n}", start, end), token.pos, False)
        raise _unexpected(token, self.soql)

    def bind_variable_error(self, token: _Token) -> SoqlError:
        return SoqlError(MALFORMED_QUERY, "Bind variables only allowed in Apex code", self.soql, token.pos)

    def parse_order_by(self) -> list[tuple[_Token, bool, bool | None]]:
        self.expect_keyword("ORDER")
        self.expect_keyword("BY")
        items = []
        while True:
            field = self.expect_path()
            descending = False
            if self.accept_keyword("DESC"):
                descending = True
            else:
                self.accept_keyword("ASC")
            nulls_first = None
            if self.accept_keyword("NULLS"):
                if self.accept_keyword("FIRST"):
                    nulls_first = True
                else:
                    self.expect_keyword("LAST")
                    nulls_first = False
            items.append((field, descending, nulls_first))
            if not self.peek().is_op(","):
                return items
            self.advance()


# --------------------------------------------------------------------------
# Binding names and literals to the schema
# --------------------------------------------------------------------------

_TEXT, _ID, _BOOLEAN, _NUMBER, _DATE, _DATETIME = "text", "id", "boolean", "number", "date", "datetime"
_KIND_BY_TYPE = {
    "id": _ID,
    "reference": _ID,
    "boolean": _BOOLEAN,
    "int": _NUMBER,
    "double": _NUMBER,
    "currency": _NUMBER,
    "percent": _NUMBER,
    "long": _NUMBER,
    "date": _DATE,
    "datetime": _DATETIME,
}
# Type names as they appear in Salesforce's filter error messages.
_WIRE_TYPE_BY_KIND = {_TEXT: "string", _ID: "id", _BOOLEAN: "boolean", _DATE: "date", _DATETIME: "dateTime"}
_WIRE_NUMBER_TYPES = {"int": "integer", "long": "long"}
_ID_SHAPE = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")


def _kind(field_type: str) -> str:
    return _KIND_BY_TYPE.get(field_type.lower(), _TEXT)


def _literal_fits(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if kind in (_TEXT, _ID):
        return isinstance(value, str)
    if kind == _BOOLEAN:
        return isinstance(value, bool)
    if kind == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == _DATETIME:
        return isinstance(value, (datetime, DateRange))
    return isinstance(value, DateRange) or (isinstance(value, date) and not isinstance(value, datetime))


class _Binder:
    """Resolves names against the schema and type-checks filter literals."""

    def __init__(self, schema: Schema, soql: str, root: str):
        self.schema = schema
        self.soql = soql
        self.root = root

    def field(self, token: _Token) -> FieldRef:
        parts = token.text.split(".")
        current, hops = self.root, []
        for index, part in enumerate(parts[:-1]):
            relationship = self.schema.relationship(current, part)
            if relationship is None:
                if index == 0 and part.lower() == self.root.lower():
                    continue  # "SELECT Contact.Name FROM Contact" qualifies with the object name
                raise SoqlError(INVALID_FIELD, _bad_relationship(part), self.soql, token.pos)
            hops.append(relationship)
            current = relationship.target
        info = self.schema.field(current, parts[-1])
        if info is None:
            raise SoqlError(INVALID_FIELD, _no_such_column(parts[-1], current), self.soql, token.pos)
        path = ".".join([hop.name for hop in hops] + [info.name])
        return FieldRef(path, info.name, info.type, tuple(hops))

    def condition(self, node: Any) -> Condition:
        if isinstance(node, _RawComparison):
            return self.comparison(node)
        if isinstance(node, Not):
            return Not(self.condition(node.operand))
        return type(node)(tuple(self.condition(operand) for operand in node.operands))

    def comparison(self, raw: _RawComparison) -> Comparison:
        field = self.field(raw.field)
        kind = _TEXT if raw.op == "LIKE" else _kind(field.type)
        for literal in raw.values:
            self.check_literal(field, kind, literal)
        values = tuple(literal.value for literal in raw.values)
        value = values if raw.op in ("IN", "NOT IN") else values[0]
        return Comparison(field, raw.op, value)

    def check_literal(self, field: FieldRef, kind: str, literal: _Literal) -> None:
        if not _literal_fits(literal.value, kind):
            wire_type = _WIRE_TYPE_BY_KIND.get(kind) or _WIRE_NUMBER_TYPES.get(field.type.lower(), "double")
            quotes = "should be enclosed in quotes" if kind in (_TEXT, _ID) else "should not be enclosed in quotes"
            raise SoqlError(
                INVALID_FIELD,
                f"value of filter criterion for field '{field.name}' must be of type {wire_type} and {quotes}",
                self.soql,
                literal.pos,
            )
        if kind == _ID and literal.value is not None and not _ID_SHAPE.fullmatch(literal.value):
            raise SoqlError(
                INVALID_QUERY_FILTER_OPERATOR, f"invalid ID field: {literal.value}", self.soql, literal.pos
            )


# --------------------------------------------------------------------------
# Value normalisation: record values and literals map to comparable keys
# --------------------------------------------------------------------------


def _text_key(value: Any) -> str:
    return value.lower() if type(value) is str else str(value).lower()


def _id_key(value: Any) -> str:
    # An 18-char id is the 15-char (case-sensitive) id plus a checksum suffix.
    value = value if type(value) is str else str(value)
    return value[:15] if len(value) == 18 else value


def _boolean_key(value: Any) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _number_key(value: Any) -> float:
    if type(value) is int or type(value) is float:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")  # compares false with everything


def _date_key(value: Any) -> str:
    if type(value) is str:
        return value[:10]
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _format_datetime_key(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}"


def _datetime_key(value: Any) -> str:
    """Normalise a datetime to a UTC ``YYYY-MM-DDTHH:MM:SS.ffffff`` string whose
    ordering is chronological."""
    if type(value) is str:
        # Fast path for Salesforce's own format, e.g. 2013-05-20T20:49:32.000+0000.
        if len(value) == 28 and value[19] == "." and value.endswith("+0000"):
            return f"{value[:23]}000"
        return _parse_datetime_key(value)
    if isinstance(value, datetime):
        return _format_datetime_key(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000000"
    return _parse_datetime_key(str(value))


@functools.lru_cache(maxsize=65536)
def _parse_datetime_key(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return _format_datetime_key(parsed)


_KEY_BY_KIND: dict[str, Callable[[Any], Any]] = {
    _TEXT: _text_key,
    _ID: _id_key,
    _BOOLEAN: _boolean_key,
    _NUMBER: _number_key,
    _DATE: _date_key,
    _DATETIME: _datetime_key,
}


def _range_keys(value: DateRange, kind: str) -> tuple[str, str]:
    if kind == _DATETIME:
        start = datetime.combine(value.start, time(), timezone.utc)
        end = datetime.combine(value.end, time(), timezone.utc)
        return _second_key(start), _second_key(end)
    return value.start.isoformat(), value.end.isoformat()


# --------------------------------------------------------------------------
# Compiling the AST to closures
# --------------------------------------------------------------------------

Getter = Callable[[Record, Resolver], Any]
Predicate = Callable[[Record, Resolver], bool]


def _compile_getter(ref: FieldRef) -> Getter:
    name = ref.name
    if not ref.hops:
        return lambda record, resolve: record.get(name)
    hops = tuple((hop.field, hop.target) for hop in ref.hops)

    def get(record: Record, resolve: Resolver) -> Any:
        for foreign_key, target in hops:
            related_id = record.get(foreign_key)
            if related_id is None:
                return None
            record = resolve(target, related_id)
            if record is None:
                return None
        return record.get(name)

    return get


def _compile_condition(node: Condition) -> Predicate:
    if isinstance(node, Comparison):
        return _compile_comparison(node)
    if isinstance(node, Not):
        inner = _compile_condition(node.operand)
        return lambda record, resolve: not inner(record, resolve)
    parts = tuple(_compile_condition(operand) for operand in node.operands)
    if isinstance(node, And):
        if len(parts) == 2:
            left, right = parts
            return lambda record, resolve: left(record, resolve) and right(record, resolve)
        return lambda record, resolve: all(part(record, resolve) for part in parts)
    if len(parts) == 2:
        left, right = parts
        return lambda record, resolve: left(record, resolve) or right(record, resolve)
    return lambda record, resolve: any(part(record, resolve) for part in parts)


def _second_key(value: Any) -> str:
    """A datetime's key cut to the whole second: Salesforce ignores milliseconds when it
    compares datetimes (``SystemModstamp >= 12:00:05.900`` holds for a stamp of 12:00:05.000),
    though it keeps them and orders by them."""
    return _datetime_key(value)[:19]


def _compile_comparison(node: Comparison) -> Predicate:
    get = _compile_getter(node.field)
    kind = _kind(node.field.type)
    key = _second_key if kind == _DATETIME else _KEY_BY_KIND[kind]
    op, value = node.op, node.value
    if op == "LIKE":
        return _compile_like(get, value)
    if op in ("IN", "NOT IN"):
        return _compile_membership(get, key, kind, value, negate=op == "NOT IN")
    if value is None:
        return _compile_null_comparison(get, op)
    if isinstance(value, DateRange):
        return _compile_range_comparison(get, key, op, *_range_keys(value, kind))
    return _compile_value_comparison(get, key, op, key(value))


def _compile_like(get: Getter, pattern: str) -> Predicate:
    match = _like_regex(pattern).fullmatch

    def like(record: Record, resolve: Resolver) -> bool:
        v = get(record, resolve)
        return v is not None and match(v if type(v) is str else str(v)) is not None

    return like


def _like_regex(pattern: str) -> re.Pattern[str]:
    """Translate a SOQL LIKE pattern (``%``, ``_``, backslash escapes) to a
    case-insensitive regex."""
    parts, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _compile_membership(get: Getter, key: Callable, kind: str, values: tuple, negate: bool) -> Predicate:
    exact = frozenset(key(v) for v in values if v is not None and not isinstance(v, DateRange))
    ranges = tuple(_range_keys(v, kind) for v in values if isinstance(v, DateRange))
    has_null = None in values

    def contains(record: Record, resolve: Resolver) -> bool:
        v = get(record, resolve)
        if v is None:
            return has_null
        k = key(v)
        return k in exact or any(lo <= k < hi for lo, hi in ranges)

    if not negate:
        return contains
    return lambda record, resolve: not contains(record, resolve)


def _compile_null_comparison(get: Getter, op: str) -> Predicate:
    if op == "=":
        return lambda record, resolve: get(record, resolve) is None
    if op == "!=":
        return lambda record, resolve: get(record, resolve) is not None
    return lambda record, resolve: False


def _compile_value_comparison(get: Getter, key: Callable, op: str, lit: Any) -> Predicate:
    # Salesforce's `!=` (unlike SQL's) is true for null values.
    if op == "!=":
        return lambda r, res: (v := get(r, res)) is None or key(v) != lit
    tests: dict[str, Predicate] = {
        "=": lambda r, res: (v := get(r, res)) is not None and key(v) == lit,
        "<": lambda r, res: (v := get(r, res)) is not None and key(v) < lit,
        "<=": lambda r, res: (v := get(r, res)) is not None and key(v) <= lit,
        ">": lambda r, res: (v := get(r, res)) is not None and key(v) > lit,
        ">=": lambda r, res: (v := get(r, res)) is not None and key(v) >= lit,
    }
    return tests[op]


def _compile_range_comparison(get: Getter, key: Callable, op: str, lo: str, hi: str) -> Predicate:
    """Comparisons against a relative date literal covering ``[lo, hi)``."""
    if op == "!=":
        return lambda r, res: (v := get(r, res)) is None or not lo <= key(v) < hi
    tests: dict[str, Predicate] = {
        "=": lambda r, res: (v := get(r, res)) is not None and lo <= key(v) < hi,
        "<": lambda r, res: (v := get(r, res)) is not None and key(v) < lo,
        "<=": lambda r, res: (v := get(r, res)) is not None and key(v) < hi,
        ">": lambda r, res: (v := get(r, res)) is not None and key(v) >= hi,
        ">=": lambda r, res: (v := get(r, res)) is not None and key(v) >= lo,
    }
    return tests[op]


# -- ORDER BY ---------------------------------------------------------------


class _Descending:
    """Inverts ordering inside a composite sort key."""

    __slots__ = ("key",)

    def __init__(self, key: Any):
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def _compile_sort_key(item: OrderItem) -> Callable[[Record, Resolver], tuple]:
    """Key for a single ``ORDER BY`` item, meant for ``sort(reverse=descending)``.

    Non-null values sit in group 1; nulls go to group 0 or 2 so that, after an
    optional reversal, they land first or last as requested.
    """
    get = _compile_getter(item.field)
    key = _KEY_BY_KIND[_kind(item.field.type)]
    null_key = (0 if item.nulls_first != item.descending else 2, None)

    def sort_key(record: Record, resolve: Resolver) -> tuple:
        v = get(record, resolve)
        return null_key if v is None else (1, key(v))

    return sort_key


# -- projection ---------------------------------------------------------------

# Ordered: field name -> None (a plain field) or relationship name -> (Relationship, subtree).
_ProjectionTree = dict[str, Union[None, tuple[Relationship, "_ProjectionTree"]]]


def _projection_tree(fields: Iterable[FieldRef]) -> _ProjectionTree:
    root: _ProjectionTree = {}
    for ref in fields:
        node = root
        for hop in ref.hops:
            entry = node.get(hop.name)
            if entry is None:
                entry = node[hop.name] = (hop, {})
            node = entry[1]
        node[ref.name] = None
    return root


def _render(tree: _ProjectionTree, sobject: str, record: Record, resolve: Resolver, version: str) -> dict:
    attributes = {"type": sobject}
    record_id = record.get("Id")
    if record_id is not None:
        attributes["url"] = f"/services/data/v{version}/sobjects/{sobject}/{record_id}"
    row: dict[str, Any] = {"attributes": attributes}
    for name, entry in tree.items():
        if entry is None:
            row[name] = record.get(name)
            continue
        relationship, subtree = entry
        related_id = record.get(relationship.field)
        related = resolve(relationship.target, related_id) if related_id is not None else None
        row[name] = None if related is None else _render(subtree, relationship.target, related, resolve, version)
    return row


def _memoized(resolve: Resolver) -> Resolver:
    cache: dict[tuple[str, str], Record | None] = {}

    def cached(sobject: str, record_id: str) -> Record | None:
        try:
            return cache[sobject, record_id]
        except KeyError:
            result = cache[sobject, record_id] = resolve(sobject, record_id)
            return result

    return cached


def _missing_resolver(sobject: str, record_id: str) -> Record | None:
    raise TypeError("this query follows relationships; pass a resolve(sobject, id) callable")


# --------------------------------------------------------------------------
# Query
# --------------------------------------------------------------------------


class Query:
    """A compiled SOQL query.  Build with `compile`; immutable and thread-safe.

    Attributes: ``soql``; ``sobject`` (canonical); ``fields`` (canonical dotted
    paths in select order); ``field_refs`` (`FieldRef` per selected field);
    ``is_count`` (``SELECT COUNT()``); ``count_field``/``count_alias`` (for
    ``SELECT COUNT(field) [alias]``); ``where`` (`Condition` tree or ``None``);
    ``order_by`` (tuple of `OrderItem`); ``limit``/``offset`` (int or ``None``);
    ``needs_resolve`` (whether any path follows a relationship).
    """

    def __init__(
        self,
        *,
        soql: str,
        sobject: str,
        field_refs: tuple[FieldRef, ...],
        is_count: bool,
        count_field: FieldRef | None,
        count_alias: str | None,
        where: Condition | None,
        order_by: tuple[OrderItem, ...],
        limit: int | None,
        offset: int | None,
    ):
        self.soql = soql
        self.sobject = sobject
        self.field_refs = field_refs
        self.is_count = is_count
        self.count_field = count_field
        self.count_alias = count_alias
        self.where = where
        self.order_by = order_by
        self.limit = limit
        self.offset = offset
        self._predicate = _compile_condition(where) if where is not None else None
        self._sort_keys = tuple((_compile_sort_key(item), item.descending) for item in order_by)
        self._projection = _projection_tree(field_refs)
        self._count_getter = _compile_getter(count_field) if count_field else None
        refs = list(field_refs) + [item.field for item in order_by] + list(_condition_fields(where))
        if count_field:
            refs.append(count_field)
        self.needs_resolve = any(ref.hops for ref in refs)

    def __repr__(self) -> str:
        return f"<Query {self.soql!r}>"

    @property
    def fields(self) -> list[str]:
        return [ref.path for ref in self.field_refs]

    def _resolver(self, resolve: Resolver | None, memoize: bool = False) -> Resolver:
        if resolve is None:
            return _missing_resolver
        return _memoized(resolve) if memoize and self.needs_resolve else resolve

    def top_level_conditions(self) -> list[TopLevelCondition]:
        """The comparisons every matching record must satisfy: those ANDed at the
        top level of ``WHERE`` (nested ANDs are flattened; anything under OR or
        NOT is left out).  Meant for index pre-filtering; remember that string
        equality is case-insensitive, ``!=`` matches nulls and ids compare on
        their 15-character form."""
        result: list[TopLevelCondition] = []
        pending = [self.where] if self.where is not None else []
        while pending:
            node = pending.pop(0)
            if isinstance(node, And):
                pending[:0] = node.operands
            elif isinstance(node, Comparison):
                result.append(TopLevelCondition(node.field.path, node.op, node.value))
        return result

    def matches(self, record: Record, resolve: Resolver | None = None) -> bool:
        """Whether ``record`` satisfies ``WHERE``.  ``resolve`` is required only
        when the query follows relationships."""
        if self._predicate is None:
            return True
        return self._predicate(record, self._resolver(resolve))

    def sort_key(self, record: Record, resolve: Resolver | None = None) -> tuple:
        """A composite key such that ``sorted(records, key=...)`` follows
        ``ORDER BY`` (including NULLS FIRST/LAST).  `sort` is faster for bulk."""
        resolve = self._resolver(resolve)
        return tuple(
            _Descending(key(record, resolve)) if descending else key(record, resolve)
            for key, descending in self._sort_keys
        )

    def sort(self, records: Iterable[Record], resolve: Resolver | None = None) -> list[Record]:
        """``records`` ordered by ``ORDER BY``; stable, so ties keep input order."""
        return self._sorted(records, self._resolver(resolve, memoize=True))

    def _sorted(self, records: Iterable[Record], resolve: Resolver) -> list[Record]:
        rows = list(records)
        for key, descending in reversed(self._sort_keys):
            rows.sort(key=lambda record: key(record, resolve), reverse=descending)
        return rows

    def apply(self, records: Iterable[Record], resolve: Resolver | None = None) -> list[Record]:
        """Filter, sort and page ``records``; returns the matching records
        themselves (not projected).  For ``COUNT()`` queries use `count`."""
        return self._apply(records, self._resolver(resolve, memoize=True))

    def _apply(self, records: Iterable[Record], resolve: Resolver) -> list[Record]:
        predicate = self._predicate
        rows: Iterable[Record] = records
        if predicate is not None:
            rows = (record for record in records if predicate(record, resolve))
        start = self.offset or 0
        stop = None if self.limit is None else start + self.limit
        if not self._sort_keys:
            return list(itertools.islice(rows, start, stop))
        return self._sorted(rows, resolve)[start:stop]

    def count(self, records: Iterable[Record], resolve: Resolver | None = None) -> int:
        """Number of matching records after OFFSET/LIMIT (``SELECT COUNT()``'s
        ``totalSize``)."""
        return len(self.apply(records, resolve))

    def aggregate(
        self, records: Iterable[Record], resolve: Resolver | None = None
    ) -> list[dict[str, Any]]:
        """Rows for ``SELECT COUNT(field) [alias]``: a single AggregateResult
        counting matching records whose field is not null."""
        if self._count_getter is None:
            raise ValueError("aggregate() is only for SELECT COUNT(field) queries")
        resolve = self._resolver(resolve, memoize=True)
        get = self._count_getter
        total = sum(1 for record in self._apply(records, resolve) if get(record, resolve) is not None)
        return [{"attributes": {"type": "AggregateResult"}, self.count_alias or "expr0": total}]

    def project(
        self, record: Record, resolve: Resolver | None = None, *, api_version: str = "59.0"
    ) -> dict[str, Any]:
        """One row in Salesforce's JSON shape: ``attributes`` first, then the
        selected fields in order, relationship paths nested as objects with their
        own ``attributes`` (``None`` when the reference is empty)."""
        if self.is_count or self.count_field is not None:
            raise ValueError("COUNT queries have no per-record projection")
        version = api_version[1:] if api_version.startswith("v") else api_version
        return _render(self._projection, self.sobject, record, self._resolver(resolve), version)


def _condition_fields(node: Condition | None) -> Iterable[FieldRef]:
    if node is None:
        return
    if isinstance(node, Comparison):
        yield node.field
    elif isinstance(node, Not):
        yield from _condition_fields(node.operand)
    else:
        for operand in node.operands:
            yield from _condition_fields(operand)


def compile(
    soql: str,
    schema: Schema,
    *,
    today: date | None = None,
    strict_logic: bool = False,
) -> Query:
    """Parse ``soql`` and bind it to ``schema``.

    ``today`` anchors relative date literals (``TODAY``, ``LAST_N_DAYS:n``...;
    default: the current UTC date).  With ``strict_logic=True``, mixing AND and
    OR without parentheses is rejected as real Salesforce does; by default it is
    accepted with NOT > AND > OR precedence.

    Raises `SoqlError` with Salesforce's code and message for syntax errors
    (MALFORMED_QUERY), unknown objects (INVALID_TYPE), unknown fields or
    relationships and mistyped filter values (INVALID_FIELD), malformed id
    literals (INVALID_QUERY_FILTER_OPERATOR) and OFFSET above 2000
    (NUMBER_OUTSIDE_VALID_RANGE).
    """
    if not soql or not soql.strip():
        raise SoqlError(MALFORMED_QUERY, "SOQL statements cannot be empty or null")
    today = today or datetime.now(timezone.utc).date()
    raw = _Parser(soql, today, strict_logic).parse()

    sobject = schema.canonical_sobject(raw.sobject.text)
    if sobject is None:
        raise SoqlError(INVALID_TYPE, _unsupported_sobject(raw.sobject.text), soql, raw.sobject.pos)
    binder = _Binder(schema, soql, sobject)

    field_refs: list[FieldRef] = []
    for token in raw.select:
        ref = binder.field(token)
        if any(existing.path == ref.path for existing in field_refs):
            raise SoqlError(INVALID_FIELD, f"duplicate field selected: {ref.path}", soql, token.pos)
        field_refs.append(ref)
    count_field = binder.field(raw.count_field) if raw.count_field else None
    where = binder.condition(raw.where) if raw.where is not None else None
    order_by = tuple(
        OrderItem(binder.field(token), descending, (not descending) if nulls_first is None else nulls_first)
        for token, descending, nulls_first in raw.order_by
    )
    if raw.offset is not None and raw.offset > MAX_OFFSET:
        raise SoqlError(
            NUMBER_OUTSIDE_VALID_RANGE, f"Maximum SOQL offset allowed is {MAX_OFFSET}", soql, raw.offset_pos
        )
    return Query(
        soql=soql,
        sobject=sobject,
        field_refs=tuple(field_refs),
        is_count=raw.is_count,
        count_field=count_field,
        count_alias=raw.count_alias,
        where=where,
        order_by=order_by,
        limit=raw.limit,
        offset=raw.offset,
    )
