"""The Bulk Contact Importer: ``/import/bulk_import`` and ``/import/info``."""
from __future__ import annotations

from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import AcImport

from . import errors, imports
from .api import ApiRequest, api_endpoint, json_response
from .ratelimit import limiter

MINUTE = 60.0


@api_endpoint("GET", "POST")
def bulk_import(api: ApiRequest) -> HttpResponse:
    """POST queues an import (its own limits a minute: one for requests of several
    contacts, a lower one for single-contact requests, on top of the per-second limit);
    GET gives the daily aggregates."""
    if api.request.method == "GET":
        return json_response(imports.imports_by_day(api.account))
    body = api.json()
    items = body.get("contacts") if isinstance(body, dict) else None
    single = isinstance(items, list) and len(items) == 1
    account = api.account
    key, limit = ((f"{account.slug}:import-single", account.bulk_import_single_limit) if single
                  else (f"{account.slug}:import", account.bulk_import_limit))
    wait = limiter.admit(key, limit, MINUTE)
    if wait is not None:
        raise errors.rate_limited(wait)
    batch = imports.import_queue(account, body)
    return json_response({"success": 1, "queued_contacts": len(batch.contacts), "batchId": batch.batch_id,
                          "message": "Contact import queued"})


@api_endpoint("GET")
def import_info(api: ApiRequest) -> HttpResponse:
    batch_id = api.params.get("batchId") or ""
    batch = AcImport.objects.filter(account=api.account, batch_id=batch_id).first()
    if batch is None:
        raise errors.not_found("Import", batch_id)
    return json_response(imports.import_status(batch))
