"""Bulk API 2.0 query jobs (Bulk API 2.0 and Bulk API Developer Guide: "Create a Query Job",
"Get Information About a Query Job", "Get Results for a Query Job", "Abort a Query Job",
"Delete a Query Job", "Get Information About All Query Jobs").

A job is created in state UploadComplete (there is nothing to upload) and runs after that
answer, processed by the same :data:`bulk.worker` as the ingest jobs (so tests can hold it):
InProgress, then JobComplete with its result kept as CSV rows. The results endpoint hands
them out ``maxRecords`` at a time: ``Sforce-NumberOfRecords`` counts the set and
``Sforce-Locator`` names the next one (the string "null" after the last). A locator stays
valid as long as its job exists, so a set can be read again. Results are asked for with the
API version that created the job, or the call fails with 409. Every call counts against the
org's daily allowance, as REST calls do.

The SOQL Bulk API 2.0 does not take is refused when the job is created (400), as Salesforce
does: aggregate functions such as COUNT(), GROUP BY, OFFSET, TYPEOF and parent-to-child
subqueries ("Understanding Bulk API 2.0 Query", SOQL considerations). ORDER BY and LIMIT are
taken (Salesforce only warns that they switch its PK chunking off, so that a large query may
time out); the sandbox keeps ORDER BY's order, and without one hands rows out in Id order.
Salesforce documents no order for a query without ORDER BY.
"""
from __future__ import annotations

import base64
import binascii
import csv
import logging
import re
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

from connectors.sandbox import soql
from connectors.sandbox.models import SandboxOrg, SandboxQueryJob, SandboxQueryJobChunk

from . import ids
from .api import ApiRequest, json_response, rest_endpoint
from .bulk import CSV_CONTENT_TYPE, DELIMITERS, LINE_ENDINGS, worker
from .errors import ApiError
from .query import QueryRunner
from .schema import OrgSchema

log = logging.getLogger(__name__)

OPERATIONS = ("query", "queryAll")
# Rows a results call hands out when it names no maxRecords: the guide leaves it to "a
# default value based on the service"; simple-salesforce always asks for 50,000.
DEFAULT_MAX_RECORDS = 50_000
CHUNK_ROWS = 2_000  # result rows kept per SandboxQueryJobChunk
_OVER = (SandboxQueryJob.JOB_COMPLETE, SandboxQueryJob.FAILED, SandboxQueryJob.ABORTED)

# What Bulk API 2.0 refuses, found in the text before the SOQL engine (which knows no GROUP
# BY, TYPEOF or subquery) reads it. The messages are the sandbox's, worded as Salesforce's
# for the cases seen in the field ("Aggregate Relationships not supported in Bulk V2 Query
# with CSV content type" for a subquery).
_REFUSED_TEXT = (
    (re.compile(r"\(\s*SELECT\b", re.IGNORECASE), "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"),
    (re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE), "GROUP BY not supported in Bulk V2 Query"),
    (re.compile(r"\bTYPEOF\b", re.IGNORECASE), "TYPEOF not supported in Bulk V2 Query"),
)


def _stamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _job_info(job: SandboxQueryJob, *, full: bool = True) -> dict[str, Any]:
    """The job as Get Information answers it; ``full=False``: as creation and the list do."""
    info: dict[str, Any] = {
        "id": job.job_id, "operation": job.operation, "object": job.sobject, "createdById": job.created_by,
        "createdDate": _stamp(job.created_at), "systemModstamp": _stamp(job.modified_at), "state": job.state,
        "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(job.api_version),
        "jobType": "V2Query", "lineEnding": job.line_ending, "columnDelimiter": job.column_delimiter,
    }
    if full:
        info.update(numberRecordsProcessed=job.processed_count, retries=0, totalProcessingTime=0, isPkChunkingSupported=True)
    if job.error_message:
        info["errorMessage"] = job.error_message
    return info


def _job(api: ApiRequest, job_id: str) -> SandboxQueryJob:
    job = SandboxQueryJob.objects.filter(org=api.org, job_id=ids.to18(job_id) if ids.is_id(job_id) else job_id).first()
    if job is None:
        raise ApiError.of(404, "NOT_FOUND", "The requested resource does not exist")
    return job


def _invalid_state(job: SandboxQueryJob, action: str) -> ApiError:
    return ApiError.of(409, "INCORRECT_STATE", f"Cannot {action} a job in state {job.state}.")


def _refused(message: str) -> ApiError:
    return ApiError.of(400, "API_ERROR", message)


def _compile(runner: QueryRunner, text: str) -> soql.Query:
    """The job's SOQL, or the refusal Salesforce answers at creation."""
    for pattern, message in _REFUSED_TEXT:
        if pattern.search(text):
            raise _refused(message)
    query = runner.compile(text)  # INVALID_FIELD, MALFORMED_QUERY, … as REST answers them
    if query.is_count or query.count_field is not None:
        raise _refused("Aggregate functions not supported in Bulk V2 Query")
    if query.offset is not None:
        raise _refused("OFFSET not supported in Bulk V2 Query")
    return query


@rest_endpoint("POST", "GET")
def jobs(api: ApiRequest) -> HttpResponse:
    """POST creates a query job (UploadComplete: it runs once answered); GET lists them."""
    if api.request.method == "GET":
        rows = SandboxQueryJob.objects.filter(org=api.org).order_by("id")
        return json_response({"done": True, "records": [_job_info(j, full=False) for j in rows], "nextRecordsUrl": None})
    body = api.json_object()
    operation = body.get("operation")
    if operation not in OPERATIONS:
        raise ApiError.of(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ApiError.of(400, "INVALIDJOB", "InvalidJob : Query is required for a query job")
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS or str(body.get("contentType") or "CSV") != "CSV":
        raise ApiError.of(400, "INVALIDJOB", "InvalidJob : Invalid contentType, columnDelimiter or lineEnding")
    query = _compile(QueryRunner(api.org, api.schema, api.version), text)
    job = SandboxQueryJob.objects.create(
        org=api.org, job_id=ids.random_id("750"), sobject=query.sobject, operation=operation, soql=text,
        line_ending=line_ending, column_delimiter=delimiter, api_version=api.version, created_by=api.user_id,
    )
    transaction.on_commit(worker.schedule)
    return json_response(_job_info(job, full=False))


@rest_endpoint("GET", "PATCH", "DELETE")
def job_detail(api: ApiRequest, job_id: str) -> HttpResponse:
    """GET the job's info; PATCH ``{"state": "Aborted"}`` aborts it; DELETE removes a job
    that is over, with its results (204)."""
    job = _job(api, job_id)
    if api.request.method == "DELETE":
        if job.state not in _OVER:
            raise _invalid_state(job, "delete")
        job.delete()
        return HttpResponse(status=204)
    if api.request.method == "PATCH":
        wanted = api.json_object().get("state")
        if wanted != SandboxQueryJob.ABORTED:
            raise ApiError.of(400, "INVALIDJOBSTATE", f"Invalid state: {wanted}")
        if not SandboxQueryJob.objects.filter(pk=job.pk, state__in=(SandboxQueryJob.UPLOAD_COMPLETE, SandboxQueryJob.IN_PROGRESS)).update(
                state=SandboxQueryJob.ABORTED, modified_at=timezone.now()):
            raise _invalid_state(job, "abort")
        job.refresh_from_db()
    return json_response(_job_info(job))


def _locator(position: int) -> str:
    # Salesforce's locators are opaque strings such as "MTAwMDA"; the sandbox's spell the position.
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def _position(locator: str) -> int:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        raise ApiError.of(400, "INVALID_LOCATOR", f"Invalid locator: {locator}")
    return int(text)


@rest_endpoint("GET")
def job_results(api: ApiRequest, job_id: str) -> HttpResponse:
    """One set of a finished job's rows as CSV (the header first), from ``locator`` (the
    start when absent), ``maxRecords`` at most."""
    job = _job(api, job_id)
    if job.api_version != api.version:
        raise ApiError.of(409, "API_VERSION_MISMATCH",
                          f"Job {job.job_id} was created with API version {job.api_version}: ask for its results with it.")
    if job.state != SandboxQueryJob.JOB_COMPLETE:
        raise ApiError.of(400, "INVALIDJOBSTATE", f"Job {job.job_id} is in state {job.state}, not JobComplete.")
    wanted = api.request.GET.get("maxRecords", "")
    if wanted and not (wanted.isdigit() and int(wanted) > 0):
        raise ApiError.of(400, "INVALID_MAX_RECORDS", f"maxRecords must be a positive number: {wanted}")
    size = int(wanted) if wanted else DEFAULT_MAX_RECORDS
    start = _position(api.request.GET["locator"]) if api.request.GET.get("locator") else 0
    if start > job.processed_count:
        raise ApiError.of(400, "INVALID_LOCATOR", f"Invalid locator: {api.request.GET['locator']}")
    end = min(start + size, job.processed_count)
    chunks = SandboxQueryJobChunk.objects.filter(
        job=job, position__gte=start // CHUNK_ROWS, position__lte=max(end - 1, start) // CHUNK_ROWS).order_by("position")
    offset = start - start // CHUNK_ROWS * CHUNK_ROWS
    rows = [row for chunk in chunks for row in chunk.rows][offset:offset + end - start]
    response = HttpResponse(job.header + "".join(rows), content_type=f"{CSV_CONTENT_TYPE}; charset=UTF-8")
    response["Sforce-NumberOfRecords"] = str(len(rows))
    response["Sforce-Locator"] = _locator(end) if end < job.processed_count else "null"
    return response


# --- processing -------------------------------------------------------------------------------
def query_jobs_process_pending() -> int:
    """Run every query job not yet run, oldest first; returns how many. Each is claimed first."""
    done = 0
    while True:
        job = SandboxQueryJob.objects.filter(state=SandboxQueryJob.UPLOAD_COMPLETE).order_by("id").first()
        if job is None:
            return done
        if SandboxQueryJob.objects.filter(pk=job.pk, state=SandboxQueryJob.UPLOAD_COMPLETE).update(
                state=SandboxQueryJob.IN_PROGRESS, modified_at=timezone.now()):
            try:
                query_job_process(job)
            except Exception:  # the job fails, as Salesforce's do, rather than the worker
                log.exception("Sandbox Salesforce query job %s failed", job.job_id)
                SandboxQueryJob.objects.filter(pk=job.pk, state=SandboxQueryJob.IN_PROGRESS).update(
                    state=SandboxQueryJob.FAILED, error_message="InternalServerError : the query could not be run",
                    modified_at=timezone.now())
            done += 1


class _Lines(list):
    """A csv writer's file that keeps each row written as one string."""

    def write(self, line: str) -> None:
        self.append(line)


def query_job_process(job: SandboxQueryJob) -> None:
    """Run a claimed job's query once and keep its rows as CSV lines, chunk by chunk; a job
    aborted meanwhile stops there."""
    org = SandboxOrg.objects.get(pk=job.org_id)
    runner = QueryRunner(org, OrgSchema.load(org), job.api_version)
    query = runner.compile(job.soql)
    pks = runner.matching_pks(query, include_deleted=job.operation == "queryAll")
    lines = _Lines()
    # Salesforce quotes every value of its CSV ("Get Results for a Query Job", example).
    writer = csv.writer(lines, delimiter=DELIMITERS[job.column_delimiter], lineterminator=LINE_ENDINGS[job.line_ending],
                        quoting=csv.QUOTE_ALL)
    writer.writerow(query.fields)
    header = lines.pop()
    for position, start in enumerate(range(0, len(pks), CHUNK_ROWS)):
        if SandboxQueryJob.objects.filter(pk=job.pk, state=SandboxQueryJob.ABORTED).exists():
            return
        for row in runner.rows(query, pks[start:start + CHUNK_ROWS]):
            writer.writerow([_cell(ref, row) for ref in query.field_refs])
        SandboxQueryJobChunk.objects.create(job=job, position=position, rows=list(lines))
        lines.clear()
    SandboxQueryJob.objects.filter(pk=job.pk, state=SandboxQueryJob.IN_PROGRESS).update(
        state=SandboxQueryJob.JOB_COMPLETE, header=header, processed_count=len(pks), modified_at=timezone.now())


def _cell(ref: soql.FieldRef, row: dict[str, Any]) -> str:
    """A value as Bulk API 2.0 writes it: empty for null, ``true``/``false``, datetimes in
    UTC with a ``Z`` (where REST says ``+0000``)."""
    value: Any = row
    for name in ref.path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if ref.type == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"
    return str(value)
