"""Bulk API 2.0 ingest jobs (Bulk API 2.0 Developer Guide: "Create a Job", "Upload Job Data",
"Close or Abort a Job", "Get Job Info", "Get Job Successful / Failed / Unprocessed Record
Results").

A job is created Open, takes its CSV by ``PUT …/batches`` (201), and is closed with
``PATCH {"state":"UploadComplete"}``; it is processed after that answer by the :data:`worker`
(a background thread of the sandbox, or — for tests — at once when the close commits, or
only when ``jobs_process_pending()`` is called), going InProgress, then JobComplete. Each row
is written on its own: a refused row lands in the failed results with ``sf__Error``
(``CODE:message:fields --``), the others in the successful results with ``sf__Id`` and
``sf__Created``. In the CSV an empty value leaves a field as it is and ``#N/A`` clears it.
Every call counts against the org's daily allowance, as REST calls do. The same worker runs
the query jobs of :mod:`.bulk_query`.
"""
from __future__ import annotations

import csv
import io
import logging
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

from connectors.sandbox.dispatch import Dispatcher
from connectors.sandbox.models import SandboxBulkJob, SandboxOrg

from . import ids
from .api import ApiRequest, json_response, rest_endpoint
from .errors import ApiError, ErrorDetail, RecordError
from .records import MultipleMatches, RecordService
from .schema import OrgSchema

log = logging.getLogger(__name__)

OPERATIONS = ("insert", "update", "upsert", "delete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"
CSV_CONTENT_TYPE = "text/csv"


def _job_info(job: SandboxBulkJob) -> dict[str, Any]:
    stamp = job.modified_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    info: dict[str, Any] = {
        "id": job.job_id, "operation": job.operation, "object": job.sobject, "createdById": job.created_by,
        "createdDate": job.created_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "systemModstamp": stamp,
        "state": job.state, "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(job.api_version),
        "jobType": "V2Ingest", "lineEnding": job.line_ending, "columnDelimiter": job.column_delimiter,
        "contentUrl": f"services/data/v{job.api_version}/jobs/ingest/{job.job_id}/batches",
        "numberRecordsProcessed": job.processed_count, "numberRecordsFailed": job.failed_count, "retries": 0,
        "totalProcessingTime": 0, "apiActiveProcessingTime": 0, "apexProcessingTime": 0,
    }
    if job.external_id_field:
        info["externalIdFieldName"] = job.external_id_field
    if job.error_message:
        info["errorMessage"] = job.error_message
    return info


def _job(api: ApiRequest, job_id: str) -> SandboxBulkJob:
    job = SandboxBulkJob.objects.filter(org=api.org, job_id=job_id).first()
    if job is None:
        raise ApiError.of(404, "NOT_FOUND", "The requested resource does not exist")
    return job


def _invalid_state(job: SandboxBulkJob, action: str) -> ApiError:
    return ApiError.of(409, "INCORRECT_STATE", f"Cannot {action} a job in state {job.state}.")


@rest_endpoint("POST", "GET")
def jobs(api: ApiRequest) -> HttpResponse:
    """POST creates an ingest job (Open); GET lists the org's jobs."""
    if api.request.method == "GET":
        rows = SandboxBulkJob.objects.filter(org=api.org).order_by("id")
        return json_response({"done": True, "records": [_job_info(j) for j in rows], "nextRecordsUrl": None})
    body = api.json_object()
    operation = body.get("operation")
    if operation not in OPERATIONS:
        raise ApiError.of(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    obj = api.sobject(str(body.get("object") or ""))
    external = str(body.get("externalIdFieldName") or "")
    if operation == "upsert":
        if not external:
            raise ApiError.of(400, "INVALIDJOB", "InvalidJob : External ID was blank for upsert")
        try:
            external = api.records().key_field(obj, external)
        except RecordError:
            raise ApiError.of(400, "INVALIDJOB", f"InvalidJob : Field name provided, {external} does not match an External ID, "
                                                 f"Salesforce Id, or indexed field for {obj.name}") from None
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS or str(body.get("contentType") or "CSV") != "CSV":
        raise ApiError.of(400, "INVALIDJOB", "InvalidJob : Invalid contentType, columnDelimiter or lineEnding")
    job = SandboxBulkJob.objects.create(
        org=api.org, job_id=ids.random_id("750"), sobject=obj.name, operation=operation, external_id_field=external,
        line_ending=line_ending, column_delimiter=delimiter, api_version=api.version, created_by=api.user_id,
    )
    return json_response(_job_info(job))


@rest_endpoint("GET", "PATCH", "DELETE")
def job_detail(api: ApiRequest, job_id: str) -> HttpResponse:
    """GET the job's info; PATCH closes (UploadComplete) or aborts it; DELETE removes a
    job that is over."""
    job = _job(api, job_id)
    if api.request.method == "DELETE":
        if job.state not in (SandboxBulkJob.JOB_COMPLETE, SandboxBulkJob.FAILED, SandboxBulkJob.ABORTED):
            raise _invalid_state(job, "delete")
        job.delete()
        return HttpResponse(status=204)
    if api.request.method == "PATCH":
        wanted = api.json_object().get("state")
        if wanted == SandboxBulkJob.UPLOAD_COMPLETE:
            if job.state != SandboxBulkJob.OPEN:
                raise _invalid_state(job, "close")
            _set_state(job, SandboxBulkJob.UPLOAD_COMPLETE)
            transaction.on_commit(worker.schedule)
        elif wanted == SandboxBulkJob.ABORTED:
            if job.state not in (SandboxBulkJob.OPEN, SandboxBulkJob.UPLOAD_COMPLETE):
                raise _invalid_state(job, "abort")
            _set_state(job, SandboxBulkJob.ABORTED)
        else:
            raise ApiError.of(400, "INVALIDJOBSTATE", f"Invalid state: {wanted}")
    return json_response(_job_info(job))


@rest_endpoint("PUT")
def job_batches(api: ApiRequest, job_id: str) -> HttpResponse:
    """Upload the job's CSV (the header names the fields); 201 with no body."""
    job = _job(api, job_id)
    if job.state != SandboxBulkJob.OPEN:
        raise _invalid_state(job, "upload data to")
    # Read from the stream: ``request.body`` refuses more than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB),
    # where Salesforce takes up to 100 MB of CSV a job (simple-salesforce's MAX_INGEST_JOB_FILE_SIZE).
    text = api.request.read().decode("utf-8")
    if not text.strip():
        raise ApiError.of(400, "INVALIDJOB", "InvalidJob : No data was uploaded.")
    if job.data:  # later uploads add rows under the first header
        text = text.split(LINE_ENDINGS[job.line_ending], 1)[1] if LINE_ENDINGS[job.line_ending] in text else ""
    job.data += text
    job.modified_at = timezone.now()
    job.save(update_fields=["data", "modified_at"])
    return HttpResponse(status=201)


@rest_endpoint("GET")
def job_results(api: ApiRequest, job_id: str, kind: str) -> HttpResponse:
    """successfulResults, failedResults or unprocessedrecords (the guide's spelling;
    simple-salesforce asks for unprocessedRecords), as CSV."""
    job = _job(api, job_id)
    kind = kind if kind != "unprocessedRecords" else "unprocessedrecords"
    text = {"successfulResults": job.successful, "failedResults": job.failed, "unprocessedrecords": job.unprocessed}[kind]
    if not text and kind == "unprocessedrecords" and job.state in (SandboxBulkJob.OPEN, SandboxBulkJob.UPLOAD_COMPLETE,
                                                                   SandboxBulkJob.ABORTED):
        text = job.data  # nothing of it was processed (yet)
    return HttpResponse(text, content_type=CSV_CONTENT_TYPE)


def _set_state(job: SandboxBulkJob, state: str) -> None:
    job.state, job.modified_at = state, timezone.now()
    job.save(update_fields=["state", "modified_at"])


# --- processing -------------------------------------------------------------------------------
def jobs_process_pending() -> int:
    """Process every closed ingest job and then every query job not yet run, oldest first;
    returns how many. Each is claimed first."""
    from .bulk_query import query_jobs_process_pending  # it imports this module's worker

    return ingest_jobs_process_pending() + query_jobs_process_pending()


def ingest_jobs_process_pending() -> int:
    """Process every closed ingest job, oldest first; returns how many."""
    done = 0
    while True:
        job = SandboxBulkJob.objects.filter(state=SandboxBulkJob.UPLOAD_COMPLETE).order_by("id").first()
        if job is None:
            return done
        if SandboxBulkJob.objects.filter(pk=job.pk, state=SandboxBulkJob.UPLOAD_COMPLETE).update(
                state=SandboxBulkJob.IN_PROGRESS, modified_at=timezone.now()):
            job_process(job)
            done += 1


def job_process(job: SandboxBulkJob) -> None:
    """Write each row of a claimed job on its own and keep the results CSVs."""
    org = SandboxOrg.objects.get(pk=job.org_id)
    schema = OrgSchema.load(org)
    obj = schema.sobject(job.sobject)
    delimiter, ending = DELIMITERS[job.column_delimiter], LINE_ENDINGS[job.line_ending]
    reader = csv.reader(io.StringIO(job.data, newline=""), delimiter=delimiter)
    header = next(reader, [])
    rows = [row for row in reader if any(cell != "" for cell in row)]
    service = RecordService(org, schema, user_id=job.created_by, api_version=job.api_version)
    if job.operation in ("insert", "upsert"):
        service.reserve(2 * len(rows))
    ok, bad = io.StringIO(newline=""), io.StringIO(newline="")
    ok_writer = csv.writer(ok, delimiter=delimiter, lineterminator=ending)
    bad_writer = csv.writer(bad, delimiter=delimiter, lineterminator=ending)
    ok_writer.writerow(["sf__Id", "sf__Created", *header])
    bad_writer.writerow(["sf__Id", "sf__Error", *header])
    failed = 0
    for row in rows:
        values = dict(zip(header, row))
        try:
            with transaction.atomic():
                record_id, created = _write_row(job, service, obj, values)
        except MultipleMatches as error:
            failed += 1
            bad_writer.writerow(["", f"DUPLICATE_EXTERNAL_ID:{error}:{job.external_id_field} --", *row])
        except RecordError as error:
            failed += 1
            detail = error.detail
            bad_writer.writerow(["", f"{detail.code}:{detail.message}:{','.join(detail.fields or [])} --", *row])
        else:
            ok_writer.writerow([record_id, "true" if created else "false", *row])
    job.successful, job.failed, job.unprocessed = ok.getvalue(), bad.getvalue(), delimiter.join(header) + ending
    job.processed_count, job.failed_count = len(rows), failed
    job.state, job.modified_at = SandboxBulkJob.JOB_COMPLETE, timezone.now()
    job.save(update_fields=["successful", "failed", "unprocessed", "processed_count", "failed_count", "state", "modified_at"])


def _write_row(job: SandboxBulkJob, service: RecordService, obj, values: dict[str, str]) -> tuple[str, bool]:
    """One row's write: empty cells are left out, ``#N/A`` clears the field."""
    fields = {name: (None if value == NULL else value) for name, value in values.items() if value != ""}
    record_id = next((v for k, v in fields.items() if k.lower() == "id"), None)
    if job.operation == "insert":
        return service.create(obj, fields).record_id, True
    if job.operation == "update":
        if not record_id:
            raise RecordError(_detail("MISSING_ARGUMENT", "Id not specified in an update call"))
        rest = {k: v for k, v in fields.items() if k.lower() != "id"}
        return service.update(obj, record_id, rest).record_id, False
    if job.operation == "delete":
        service.delete(obj, record_id or "")
        return ids.to18(record_id or ""), False
    key = next((v for k, v in fields.items() if k.lower() == job.external_id_field.lower()), None)
    if not key:
        raise RecordError(_detail("MISSING_ARGUMENT", f"{job.external_id_field} not specified", [job.external_id_field]))
    row, created = service.upsert(obj, job.external_id_field, str(key), fields)
    return row.record_id, created


def _detail(code: str, message: str, fields: list[str] | None = None) -> ErrorDetail:
    return ErrorDetail(code, message, fields or [])


worker = Dispatcher("salesforce-bulk-jobs", jobs_process_pending)
