"""SOQL over an org's records: SQL pre-filtering, streaming, and query-locator paging.

The first call computes the whole ordered result once, as a list of row pks kept in
fixed-size chunks (:class:`SandboxQueryChunk`); ``nextRecordsUrl`` then reads one page
of it, so paging through N records costs O(N) overall. Top-level conditions the SQL
can express (Id, IsDeleted, SystemModstamp/CreatedDate/LastModifiedDate ranges, indexed
fields such as Email or external ids) narrow the rows read; the SOQL engine decides
every match.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator

from django.db.models import Q, QuerySet

from connectors.sandbox import lag, soql
from connectors.sandbox.models import SandboxOrg, SandboxQueryChunk, SandboxQueryCursor, SandboxRecord, SandboxRecordKey

from . import ids, store
from .errors import ApiError, ErrorDetail
from .schema import OrgSchema, SObjectSchema
from .values import now

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
CHUNK_SIZE = 2000
# Query locators live 15 minutes after their last use (SOAP API guide, queryMore()).
LOCATOR_TTL = timedelta(minutes=15)
_SCAN_CHUNK = 2000

_DATETIME_COLUMNS = {"CreatedDate": "created_date", "LastModifiedDate": "last_modified_date", "SystemModstamp": "system_modstamp"}
# Fields SQL can order by exactly as SOQL does (within one object, Id order is `number` order).
_SQL_COLUMNS = {"Id": "number", **_DATETIME_COLUMNS}
_RANGE_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _root_fields(query: soql.Query, *, sorting: bool) -> set[str]:
    """Fields of the queried object that WHERE, COUNT(field) and — when Python sorts —
    ORDER BY read (a relationship path reads its first foreign key)."""
    refs = [item.field for item in query.order_by if sorting] + ([query.count_field] if query.count_field else [])
    pending: list[Any] = [query.where] if query.where is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, soql.Comparison):
            refs.append(node.field)
        elif isinstance(node, soql.Not):
            pending.append(node.operand)
        else:
            pending.extend(node.operands)
    return {ref.hops[0].field if ref.hops else ref.name for ref in refs}


def visible(rows: QuerySet) -> QuerySet:
    """Rows whose last write SOQL can see by now (the org's commit lag).

    The emulator's model: a row written under a commit lag is left out of SOQL (query,
    queryAll, and so the ids a query locator snapshots) until its ``visible_at``; for an
    update the whole row is hidden meanwhile, not its previous version. Reads by Id
    (``/sobjects/X/id``, composite retrieve) see it at once.
    """
    return rows.filter(Q(visible_at__isnull=True) | Q(visible_at__lte=lag.clock.now()))


def batch_size_from_header(header: str) -> int:
    """The page size asked for in ``Sforce-Query-Options: batchSize=N`` (200–2000)."""
    for option in header.split(","):
        name, _, value = option.strip().partition("=")
        if name.strip() == "batchSize" and value.strip().isdigit():
            return max(MIN_BATCH_SIZE, min(DEFAULT_BATCH_SIZE, int(value)))
    return DEFAULT_BATCH_SIZE


def invalid_locator() -> ApiError:
    return ApiError.of(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


class _Resolver:
    """``resolve(sobject, id)`` for relationship paths, cached for one request."""

    def __init__(self, org: SandboxOrg, schema: OrgSchema):
        self.org = org
        self.schema = schema
        self.cache: dict[str, tuple[str, dict[str, Any]] | None] = {}

    def __call__(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        if not ids.is_id(record_id):
            return None
        key = ids.to18(record_id)
        if key not in self.cache:
            self.prefetch([key])
        found = self.cache[key]
        return found[1] if found is not None and found[0] == sobject else None

    def prefetch(self, record_ids: list[str]) -> None:
        """Load many parents in one query (a page's Account.Name, Owner.Email, ...)."""
        wanted = [i for i in {ids.to18(r) for r in record_ids if ids.is_id(r)} if i not in self.cache]
        self.cache.update(dict.fromkeys(wanted))
        for row in SandboxRecord.objects.filter(org=self.org, record_id__in=wanted, is_deleted=False):
            self.cache[row.record_id] = (row.sobject, store.values(self.schema.objects[row.sobject], row))


@dataclass
class QueryRunner:
    """Runs SOQL for one org and answers in the REST query resource's shape."""

    org: SandboxOrg
    schema: OrgSchema
    api_version: str

    def run(self, text: str, *, include_deleted: bool, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, Any]:
        """The first page of ``text``'s result (``/query`` or ``/queryAll``)."""
        query = self._compile(text)
        obj = self.schema.objects[query.sobject]
        rows, sql_ordered = self._candidates(query, obj, include_deleted)
        resolve = _Resolver(self.org, self.schema)
        if query.is_count:
            return {"totalSize": self._count(query, obj, rows, resolve), "done": True, "records": []}
        if query.count_field is not None:
            records = query.aggregate((values for _, values in self._scan(query, obj, rows)), resolve)
            return {"totalSize": len(records), "done": True, "records": records}
        pks = self._matching_pks(query, obj, rows, resolve, sql_ordered)
        page = pks[:batch_size]
        next_url = None
        if len(pks) > batch_size:
            cursor = self._open_cursor(text, include_deleted, pks, batch_size)
            next_url = self._next_url(cursor.locator, batch_size)
        return self._body(len(pks), self._project(query, obj, page, resolve), next_url)

    def more(self, locator: str, position: int) -> dict[str, Any]:
        """The page of an open cursor starting at ``position`` (``nextRecordsUrl``)."""
        moment = now()
        cursor = SandboxQueryCursor.objects.filter(
            org=self.org, locator=ids.to18(locator) if ids.is_id(locator) else locator, expires_at__gt=moment,
        ).first()
        if cursor is None or not 0 <= position < cursor.total_size:
            raise invalid_locator()
        end = min(position + cursor.batch_size, cursor.total_size)
        chunks = SandboxQueryChunk.objects.filter(
            cursor=cursor, position__gte=position // CHUNK_SIZE, position__lte=(end - 1) // CHUNK_SIZE,
        ).order_by("position")
        pks = [pk for chunk in chunks for pk in chunk.record_pks]
        offset = position - position // CHUNK_SIZE * CHUNK_SIZE
        page = pks[offset:offset + end - position]
        SandboxQueryCursor.objects.filter(pk=cursor.pk).update(expires_at=moment + LOCATOR_TTL)
        query = self._compile(cursor.soql)
        obj = self.schema.objects[query.sobject]
        next_url = self._next_url(cursor.locator, end) if end < cursor.total_size else None
        return self._body(cursor.total_size, self._project(query, obj, page, _Resolver(self.org, self.schema)), next_url)

    def compile(self, text: str) -> soql.Query:
        """``text`` bound to the org's schema; a SOQL error raises the ApiError REST answers."""
        return self._compile(text)

    def matching_pks(self, query: soql.Query, *, include_deleted: bool) -> list[int]:
        """The pks of every row ``query`` matches, in its ORDER BY order (else by Id)."""
        obj = self.schema.objects[query.sobject]
        rows, sql_ordered = self._candidates(query, obj, include_deleted)
        return self._matching_pks(query, obj, rows, _Resolver(self.org, self.schema), sql_ordered)

    def rows(self, query: soql.Query, pks: list[int]) -> list[dict[str, Any]]:
        """The rows of ``pks`` as ``query`` projects them (the REST shape), in that order."""
        return self._project(query, self.schema.objects[query.sobject], pks, _Resolver(self.org, self.schema))

    # --- steps ----------------------------------------------------------------------------
    def _compile(self, text: str) -> soql.Query:
        try:
            # Salesforce refuses AND and OR mixed without parentheses; so does the sandbox.
            return soql.compile(text, self.schema, strict_logic=True)
        except soql.SoqlError as error:
            raise ApiError(400, ErrorDetail(error.code, error.message)) from None

    def _candidates(self, query: soql.Query, obj: SObjectSchema, include_deleted: bool) -> tuple[QuerySet, bool]:
        """Rows that may match, narrowed in SQL; and whether SQL already orders them right."""
        rows = visible(SandboxRecord.objects.filter(org=self.org, sobject=obj.name))
        if not include_deleted:
            rows = rows.filter(is_deleted=False)
        for path, op, value in query.top_level_conditions():
            rows = self._narrow(rows, obj, path, op, value)
        sql_ordered = all(not item.field.hops and item.field.path in _SQL_COLUMNS for item in query.order_by)
        if sql_ordered:
            order = [("-" if item.descending else "") + _SQL_COLUMNS[item.field.path] for item in query.order_by]
            return rows.order_by(*order, "number"), True
        return rows.order_by("number"), False

    def _narrow(self, rows: QuerySet, obj: SObjectSchema, path: str, op: str, value: Any) -> QuerySet:
        column = _SQL_COLUMNS.get(path)
        if column and column != "number" and isinstance(value, datetime) and op in _RANGE_LOOKUPS:
            # Whole seconds, as SOQL compares datetimes (see soql._second_key).
            second = value.replace(microsecond=0)
            following = second + timedelta(seconds=1)
            if op == "=":
                return rows.filter(**{f"{column}__gte": second, f"{column}__lt": following})
            bound = {">": following, ">=": second, "<": second, "<=": following}[op]
            return rows.filter(**{f"{column}__{'gte' if op[0] == '>' else 'lt'}": bound})
        if op not in ("=", "IN"):
            return rows
        values = value if op == "IN" else (value,)
        if path == "Id":
            return rows.filter(record_id__in=[ids.to18(v) for v in values if ids.is_id(v)])
        if path == "IsDeleted" and isinstance(value, bool):
            return rows.filter(is_deleted=value)
        spec = obj.field(path)
        if spec in obj.indexed_fields and values and all(isinstance(v, str) for v in values):
            keys = SandboxRecordKey.objects.filter(
                org=self.org, sobject=obj.name, field=spec.name, value__in=[store.key_value(v) for v in values],
            )
            return rows.filter(pk__in=keys.values("record_id"))
        return rows

    def _scan(
        self, query: soql.Query, obj: SObjectSchema, rows: QuerySet, *, sorting: bool = False
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """(pk, values) of each candidate row, with just the system fields the query reads."""
        fields = _root_fields(query, sorting=sorting)
        moments = [name for name in _DATETIME_COLUMNS if name in fields]
        columns = ["pk", "record_id", "data", "is_deleted", "master_record_id", *(_DATETIME_COLUMNS[n] for n in moments)]
        for pk, record_id, data, is_deleted, master_id, *stamps in rows.values_list(*columns).iterator(chunk_size=_SCAN_CHUNK):
            yield pk, store.values_from(obj, record_id, data, is_deleted, master_id, dict(zip(moments, stamps)))

    def _window(self, query: soql.Query) -> tuple[int, int | None]:
        start = query.offset or 0
        return start, None if query.limit is None else start + query.limit

    def _matching_pks(
        self, query: soql.Query, obj: SObjectSchema, rows: QuerySet, resolve: _Resolver, sql_ordered: bool
    ) -> list[int]:
        start, stop = self._window(query)
        if query.where is None and sql_ordered:
            return list(rows.values_list("pk", flat=True)[start:stop])
        if sql_ordered:
            matched: list[int] = []
            for pk, values in self._scan(query, obj, rows):
                if query.matches(values, resolve):
                    matched.append(pk)
                    if stop is not None and len(matched) >= stop:
                        break
            return matched[start:stop]
        keyed = [
            (query.sort_key(values, resolve), pk)
            for pk, values in self._scan(query, obj, rows, sorting=True)
            if query.matches(values, resolve)
        ]
        keyed.sort(key=lambda item: item[0])  # stable: ties stay in Id order
        return [pk for _, pk in keyed[start:stop]]

    def _count(self, query: soql.Query, obj: SObjectSchema, rows: QuerySet, resolve: _Resolver) -> int:
        start, stop = self._window(query)
        if query.where is None:
            total = rows.count()
        else:
            total = 0
            for _, values in self._scan(query, obj, rows):
                total += query.matches(values, resolve)
                if stop is not None and total >= stop:
                    break
        return max(0, (total if stop is None else min(total, stop)) - start)

    def _project(self, query: soql.Query, obj: SObjectSchema, pks: list[int], resolve: _Resolver) -> list[dict[str, Any]]:
        by_pk = SandboxRecord.objects.in_bulk(pks)
        page = [store.values(obj, by_pk[pk]) for pk in pks if pk in by_pk]
        first_hops = {ref.hops[0].field for ref in query.field_refs if ref.hops}
        resolve.prefetch([values[field] for values in page for field in first_hops if values.get(field)])
        return [query.project(values, resolve, api_version=self.api_version) for values in page]

    def _open_cursor(self, text: str, include_deleted: bool, pks: list[int], batch_size: int) -> SandboxQueryCursor:
        moment = now()
        SandboxQueryCursor.objects.filter(expires_at__lte=moment).delete()
        cursor = SandboxQueryCursor.objects.create(
            locator=ids.random_id(ids.QUERY_LOCATOR_PREFIX), org=self.org, soql=text, include_deleted=include_deleted,
            total_size=len(pks), batch_size=batch_size, expires_at=moment + LOCATOR_TTL,
        )
        SandboxQueryChunk.objects.bulk_create(
            SandboxQueryChunk(cursor=cursor, position=n, record_pks=pks[start:start + CHUNK_SIZE])
            for n, start in enumerate(range(0, len(pks), CHUNK_SIZE))
        )
        return cursor

    def _next_url(self, locator: str, position: int) -> str:
        # queryAll's locators page through /query/ too (REST API guide, "QueryAll").
        return f"/services/data/v{self.api_version}/query/{locator}-{position}"

    @staticmethod
    def _body(total: int, records: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"totalSize": total, "done": next_url is None}
        if next_url:
            body["nextRecordsUrl"] = next_url
        body["records"] = records
        return body
