"""``GET /contacts``: the filters, orders and paging of the contact list
(developers.activecampaign.com/reference/list-all-contacts)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from connectors.sandbox.models.activecampaign import AcAccount, AcContact

from .dates import parse_filter

# orders[<key>] → columns; the id always breaks ties last, so that offset paging is stable.
ORDERS = {
    "id": ("number",), "cdate": ("cdate",), "udate": ("udate",), "email": ("email_key",),
    "first_name": ("first_name",), "last_name": ("last_name",), "name": ("first_name", "last_name"),
}
DATE_FILTERS = {
    "created_before": "cdate__lt", "created_after": "cdate__gt", "updated_before": "udate__lt", "updated_after": "udate__gt",
}


def contact_query(account: AcAccount, params: QueryDict) -> QuerySet:
    """The account's live contacts matching ``params``, in the order they ask for."""
    rows = AcContact.objects.filter(account=account, deleted=False)
    if params.get("email"):
        rows = rows.filter(email_key=params["email"].strip().lower())
    if params.get("email_like"):
        rows = rows.filter(email_key__contains=params["email_like"].strip().lower())
    if params.get("phone"):
        rows = rows.filter(phone__startswith=params["phone"].strip())
    if params.get("search"):
        term = params["search"].strip()
        rows = rows.filter(
            Q(email_key__contains=term.lower()) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
            | Q(phone__contains=term) | Q(orgname__icontains=term)
        )
    ids = _ids(params)
    if ids is not None:
        rows = rows.filter(number__in=ids)
    for key, lookup in (("id_greater", "number__gt"), ("id_less", "number__lt")):
        if params.get(key, "").isdigit():
            rows = rows.filter(**{lookup: int(params[key])})
    if params.get("tagid", "").isdigit() and int(params["tagid"]):
        rows = rows.filter(contact_tags__tag__number=int(params["tagid"]))
    rows = _by_list(rows, params)
    for name, lookup in DATE_FILTERS.items():
        value = params.get(f"filters[{name}]")
        moment = parse_filter(value, account.utc_offset_minutes) if value else None
        if moment is not None:
            rows = rows.filter(**{lookup: moment})
    return rows.order_by(*_ordering(params)).distinct()


def _ids(params: QueryDict) -> list[int] | None:
    """``ids=1,2`` or ``ids[]=1&ids[]=2`` (the reference's form); None if not given."""
    raw = params.getlist("ids") + params.getlist("ids[]")
    if not raw:
        return None
    return [int(part) for value in raw for part in value.split(",") if part.strip().isdigit()]


def _by_list(rows: QuerySet, params: QueryDict) -> QuerySet:
    """``listid`` and ``status`` (-1 any, 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced)."""
    list_id = int(params["listid"]) if params.get("listid", "").isdigit() else 0
    status = params.get("status", "-1").strip()
    condition: dict[str, Any] = {}
    if list_id:
        condition["contact_lists__list__number"] = list_id
    if status.isdigit():
        condition["contact_lists__status"] = int(status)
    return rows.filter(**condition) if condition else rows


def _ordering(params: QueryDict) -> list[str]:
    columns: list[str] = []
    for key, direction in params.items():
        if key.startswith("orders[") and key.endswith("]"):
            sign = "-" if direction.strip().upper() == "DESC" else ""
            columns += [sign + column for column in ORDERS.get(key[7:-1], ())]
    if not any(column.lstrip("-") == "number" for column in columns):
        columns.append("number")
    return columns


def page_input(params: QueryDict, limit: int, offset: int) -> dict[str, Any]:
    """``meta.page_input``: the paging and filter values the answer used."""
    def number(key: str, default: int = 0) -> int:
        value = params.get(key, "")
        return int(value) if value.lstrip("-").isdigit() else default

    return {
        "segmentid": number("segmentid"), "formid": number("formid"), "listid": number("listid"),
        "tagid": number("tagid"), "limit": limit, "offset": offset, "search": params.get("search") or None,
        "sort": None, "seriesid": number("seriesid"), "waitid": number("waitid"), "status": number("status", -1),
        "forceQuery": number("forceQuery"), "cacheid": "",
    }
