"""Zoho Campaigns API v1.1: mailing lists, subscribing and unsubscribing one contact
(``json/listsubscribe``, ``json/listunsubscribe`` with ``contactinfo``, fields by display
name), adding up to ten addresses at once (``addlistsubscribersinbulk``), subscribers by
status with their count, segments and the contact fields. Every answer is an envelope
(see :mod:`.api`); paging is ``fromindex`` (1-based) and ``range``.

Subscribing an address already on the list updates its details (an upsert by email).
An address that unsubscribed from the list is not put back by the API: its details are
updated and Zoho sends it a confirmation email, and it stays unsubscribed until it
confirms. ``added_time`` is when the contact last joined, changed or left the list.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from connectors.sandbox.models.zoho import ZcContact, ZcList, ZcMembership, ZcSegment

from . import errors
from .api import CampaignsRequest, campaigns_endpoint
from .dates import epoch_ms, now_ms as now
from .ids import allocate_ids
from .schema import EMAIL

EMAIL_FIELD = "Contact Email"
# Display name → (field name, type, key in a subscriber listing or "").
FIELDS: dict[str, tuple[str, str, str]] = {
    "Contact Email": ("CONTACT_EMAIL", "email", "contact_email"),
    "First Name": ("FIRSTNAME", "text", "firstname"),
    "Last Name": ("LASTNAME", "text", "lastname"),
    "Company Name": ("COMPANY_NAME", "text", "companyname"),
    "Phone": ("PHONE", "phone", "phone"),
    "Mobile": ("MOBILE", "phone", ""),
    "Job Title": ("JOB_TITLE", "text", ""),
    "City": ("CITY", "text", ""),
    "Country": ("COUNTRY", "text", ""),
    "Lead Source": ("LEAD_SOURCE", "text", ""),
}
STATUSES = {"active": ZcMembership.ACTIVE, "unsub": ZcMembership.UNSUB, "bounce": ZcMembership.BOUNCE,
            "spam": ZcMembership.SPAM}
RANGE_MAX = 1000  # (emulator) the docs give no maximum
BULK_MAX = 10
RECENT, MOST_RECENT = timedelta(days=30), timedelta(days=1)  # (emulator) readings of "recent"/"mostrecent"


def _list(api: CampaignsRequest) -> ZcList:
    key = api.param("listkey").strip()
    if not key:
        raise errors.campaigns("903", "Mandatory parameter listkey missing.")
    found = ZcList.objects.filter(org=api.org, listkey=key).first()
    if found is None:
        raise errors.campaigns("2501")
    if found.deleted:
        raise errors.campaigns("2206")
    return found


def _contactinfo(api: CampaignsRequest) -> dict[str, str]:
    text = api.param("contactinfo").strip()
    if not text:
        raise errors.campaigns("903", "Mandatory parameter contactinfo missing.")
    try:
        info = json.loads(text)
    except ValueError:
        raise errors.campaigns("1005", "contactinfo is not valid JSON.") from None  # (emulator) wording
    if not isinstance(info, dict):
        raise errors.campaigns("1005", "contactinfo is not a JSON object.")
    unknown = [name for name in info if name not in FIELDS]
    if unknown:
        raise errors.campaigns("1005", f"Unknown contact field: {unknown[0]}.")  # (emulator) wording
    email = str(info.get(EMAIL_FIELD) or "").strip()
    if not email:
        raise errors.campaigns("903", "Mandatory parameter Contact Email missing.")
    if not EMAIL.match(email):
        raise errors.campaigns("1005", "Invalid email address.")  # (emulator) wording
    return {name: ("" if value is None else str(value)) for name, value in info.items()}


def _contact(api: CampaignsRequest, email: str, values: dict[str, str]) -> ZcContact:
    contact = ZcContact.objects.filter(org=api.org, email_key=email.lower()).first()
    if contact is None:
        return ZcContact.objects.create(org=api.org, zuid=allocate_ids(api.org, "zuid"), email_key=email.lower(),
                                        values=values, created_at=now())
    merged = {**contact.values, **{k: v for k, v in values.items() if k != EMAIL_FIELD}}
    if merged != contact.values:
        contact.values = merged
        contact.save(update_fields=["values"])
    return contact


@campaigns_endpoint("listsubscribe")
def listsubscribe(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    info = _contactinfo(api)
    email = info[EMAIL_FIELD].strip()
    contact = _contact(api, email, info)
    membership = ZcMembership.objects.filter(mailing_list=mailing_list, contact=contact).first()
    moment = now()
    if membership is None:
        ZcMembership.objects.create(mailing_list=mailing_list, contact=contact, status=ZcMembership.ACTIVE,
                                    changed_at=moment)
        message = "User successfully subscribed."  # (emulator) wording
    elif membership.status == ZcMembership.ACTIVE:
        membership.changed_at = moment
        membership.save(update_fields=["changed_at"])
        message = "Contact details updated successfully."  # (emulator) wording
    else:
        membership.changed_at = moment
        membership.save(update_fields=["changed_at"])
        message = "A confirmation email is sent to the user. User needs to confirm to successfully subscribe."
    _touch(mailing_list)
    return {"status": "success", "code": "0", "message": message}


@campaigns_endpoint("listunsubscribe")
def listunsubscribe(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    email = _contactinfo(api)[EMAIL_FIELD].strip().lower()
    membership = ZcMembership.objects.filter(mailing_list=mailing_list, contact__email_key=email).first()
    if membership is None:
        raise errors.campaigns("2103")
    if membership.status != ZcMembership.UNSUB:
        membership.status, membership.changed_at = ZcMembership.UNSUB, now()
        membership.save(update_fields=["status", "changed_at"])
        _touch(mailing_list)
    return {"status": "success", "code": "0", "message": "Contact unsubscribed successfully."}  # (emulator) wording


@campaigns_endpoint("addlistsubscribersinbulk")
def addlistsubscribersinbulk(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    emails = [e.strip() for e in api.required("emailids").split(",") if e.strip()]
    if len(emails) > BULK_MAX:
        raise errors.campaigns("1005", f"emailids takes at most {BULK_MAX} addresses.")  # (emulator) wording
    bad = [e for e in emails if not EMAIL.match(e)]
    if bad or not emails:
        raise errors.campaigns("1005", "Invalid email address.")
    moment = now()
    for email in dict.fromkeys(e.lower() for e in emails):
        contact = _contact(api, email, {EMAIL_FIELD: email})
        _, made = ZcMembership.objects.get_or_create(mailing_list=mailing_list, contact=contact,
                                                     defaults={"status": ZcMembership.ACTIVE, "changed_at": moment})
    _touch(mailing_list)
    return {"status": "success", "code": "0", "message": "Contacts added successfully."}  # (emulator) wording


def _touch(mailing_list: ZcList) -> None:
    ZcList.objects.filter(pk=mailing_list.pk).update(updated_at=now())


def _window(api: CampaignsRequest) -> tuple[int, int]:
    """(fromindex, range): 1-based start and count (20 by default)."""
    try:
        start = int(api.param("fromindex", "1"))
        count = int(api.param("range", "20"))
    except ValueError:
        raise errors.campaigns("1005", "fromindex and range are numbers.") from None
    if start < 1 or count < 1:
        raise errors.campaigns("1005", "fromindex and range start at 1.")
    return start, min(count, RANGE_MAX)


def _subscriber(membership: ZcMembership) -> dict[str, Any]:
    values = membership.contact.values
    row = {key: values.get(name, "") for name, (_, _, key) in FIELDS.items() if key}
    row["contact_email"] = values.get(EMAIL_FIELD) or membership.contact.email_key
    row.update(zuid=str(membership.contact.zuid), added_time=epoch_ms(membership.changed_at),
               contact_status=membership.status)
    return row


@campaigns_endpoint("getmailinglists")
def getmailinglists(api: CampaignsRequest) -> dict[str, Any]:
    start, count = _window(api)
    descending = api.param("sort", "asc").lower() == "desc"
    lists = ZcList.objects.filter(org=api.org, deleted=False).order_by("-created_at" if descending else "created_at", "id")
    details = []
    for item in lists[start - 1:start - 1 + count]:
        active = item.memberships.filter(status=ZcMembership.ACTIVE).count()
        details.append({
            "listkey": item.listkey, "listname": item.listname, "noofcontacts": str(active),
            "created_time_gmt": epoch_ms(item.created_at), "updated_time_gmt": epoch_ms(item.updated_at),
            "lockstatus": "unlocked", "listtype": "0",
            "segments": {str(s.segment_id): s.name for s in item.segments.all()},
        })
    return {"status": "success", "code": "0", "list_of_details": details}


@campaigns_endpoint("getlistsubscribers")
def getlistsubscribers(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    start, count = _window(api)
    status = api.param("status", "active").lower().replace(" ", "")
    rows = ZcMembership.objects.filter(mailing_list=mailing_list).select_related("contact")
    if status in STATUSES:
        rows = rows.filter(status=STATUSES[status])
    elif status in ("recent", "mostrecent"):
        rows = rows.filter(status=ZcMembership.ACTIVE, changed_at__gte=now() - (RECENT if status == "recent" else MOST_RECENT))
    else:
        raise errors.campaigns("1005", "status is one of active, recent, mostrecent, unsub, bounce.")
    descending = api.param("sort", "asc").lower() == "desc"
    rows = rows.order_by("-changed_at" if descending else "changed_at", "-id" if descending else "id")
    page = [_subscriber(m) for m in rows[start - 1:start - 1 + count]]
    active = mailing_list.memberships.filter(status=ZcMembership.ACTIVE).count()
    return {"status": "success", "code": "0", "sort": "desc" if descending else "asc", "range": str(count),
            "fromindex": str(start), "list_details": {"ispublic": "true", "noofcontacts": str(active),
                                                      "listname": mailing_list.listname},
            "list_of_details": page}


@campaigns_endpoint("listsubscriberscount")
def listsubscriberscount(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    status = api.param("status", "active").lower()
    if status not in STATUSES:
        raise errors.campaigns("1005", "status is one of active, unsub, bounce, spam.")
    total = mailing_list.memberships.filter(status=STATUSES[status]).count()
    return {"status": "success", "code": "0", "no_of_contacts": total}


@campaigns_endpoint("getlistsegments")
def getlistsegments(api: CampaignsRequest) -> dict[str, Any]:
    mailing_list = _list(api)
    segments = list(mailing_list.segments.all())
    if not segments:
        raise errors.campaigns("2602")
    return {"status": "success", "code": "0",
            "list_of_segments": [{"segment_id": str(s.segment_id), "segment_name": s.name} for s in segments]}


@campaigns_endpoint("getsegmentcontacts")
def getsegmentcontacts(api: CampaignsRequest) -> dict[str, Any]:
    segment_id = api.required("segmentid")
    segment = ZcSegment.objects.filter(mailing_list__org=api.org, segment_id=int(segment_id) if segment_id.isdigit() else -1
                                       ).select_related("mailing_list").first()
    if segment is None:
        raise errors.campaigns("2606")
    start, count = _window(api)
    members = [m for m in segment.mailing_list.memberships.filter(status=ZcMembership.ACTIVE)
               .select_related("contact").order_by("changed_at", "id")
               if str(m.contact.values.get(segment.field, "")).lower() == segment.value.lower()]
    if not members:
        raise errors.campaigns("2604")
    return {"status": "success", "code": "0", "segment_name": segment.name,
            "list_of_details": [_subscriber(m) for m in members[start - 1:start - 1 + count]]}


@campaigns_endpoint("allfields")
def allfields(api: CampaignsRequest) -> dict[str, Any]:
    fields = [{"DISPLAY_NAME": name, "FIELD_NAME": field_name, "IS_MANDATORY": name == EMAIL_FIELD,
               "TYPE": kind, "FIELD_ID": str(api.org.id_base + 500 + n)}
              for n, (name, (field_name, kind, _)) in enumerate(FIELDS.items())]
    return {"status": "success", "code": "0", "response": {"fieldnames": {"fieldname": fields}}}


def list_create(org, name: str) -> ZcList:
    """A new mailing list (as the app's "Create list" makes one)."""
    moment = now()
    return ZcList.objects.create(org=org, listkey=secrets.token_hex(32), listname=name, created_at=moment,
                                 updated_at=moment)
