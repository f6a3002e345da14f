"""The JSON the API answers with: every object as the vendor shows it — ids and numbers as
strings, dates in the account's zone, ``links`` to related resources — following the
examples of developers.activecampaign.com/reference."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.sandbox.models.activecampaign import (
    AcAccount,
    AcAutomation,
    AcContact,
    AcContactAutomation,
    AcContactList,
    AcContactTag,
    AcField,
    AcFieldOption,
    AcFieldRel,
    AcFieldValue,
    AcList,
    AcTag,
    AcWebhook,
)

from .dates import format_datetime, format_timestamp

CONTACT_LINKS = (
    "bounceLogs", "contactAutomations", "contactData", "contactGoals", "contactLists", "contactLogs", "contactTags",
    "contactDeals", "deals", "fieldValues", "geoIps", "notes", "organization", "plusAppend", "trackingLogs",
    "scoreValues", "accountContacts", "automationEntryCounts",
)


@dataclass(frozen=True)
class Shapes:
    """Renders objects of one account for an API reached at ``api_base`` (…/api/3)."""

    account: AcAccount
    api_base: str

    def date(self, moment: datetime | None) -> str | None:
        return format_datetime(moment, self.account.utc_offset_minutes)

    def contact(self, contact: AcContact, *, with_related: bool = False) -> dict[str, Any]:
        local, _, domain = contact.email.partition("@")
        body: dict[str, Any] = {
            "cdate": self.date(contact.cdate), "email": contact.email, "phone": contact.phone,
            "firstName": contact.first_name, "lastName": contact.last_name, "orgid": "0", "orgname": contact.orgname,
            "segmentio_id": "", "bounced_hard": "0", "bounced_soft": "0", "bounced_date": None, "ip": "0", "ua": None,
            "hash": hashlib.md5(contact.email_key.encode()).hexdigest(), "socialdata_lastcheck": None,
            "email_local": local, "email_domain": domain, "sentcnt": "0", "rating_tstamp": None, "gravatar": "1",
            "deleted": "1" if contact.deleted else "0", "anonymized": "0", "adate": None,
            "udate": self.date(contact.udate), "edate": None, "deleted_at": self.date(contact.deleted_at),
            "created_utc_timestamp": format_timestamp(contact.cdate),
            "updated_utc_timestamp": format_timestamp(contact.udate),
            "created_timestamp": format_timestamp(contact.cdate, self.account.utc_offset_minutes),
            "updated_timestamp": format_timestamp(contact.udate, self.account.utc_offset_minutes),
            "created_by": None, "updated_by": None, "email_empty": False, "mpp_tracking": "0",
            "scoreValues": [],
        }
        if with_related:
            body["fieldValues"] = [str(n) for n in contact.field_values.values_list("number", flat=True)]
        body["links"] = {name: f"{self.api_base}/contacts/{contact.number}/{name}" for name in CONTACT_LINKS}
        body["id"] = str(contact.number)
        body["organization"] = None
        return body

    def field_value(self, value: AcFieldValue) -> dict[str, Any]:
        link = f"{self.api_base}/fieldValues/{value.number}"
        return {
            "contact": str(value.contact.number), "field": str(value.field.number), "value": value.value,
            "cdate": self.date(value.cdate), "udate": self.date(value.udate), "created_by": None, "updated_by": None,
            "links": {"owner": f"{link}/owner", "field": f"{link}/field"}, "id": str(value.number),
            "owner": str(value.contact.number),
        }

    def field(self, field: AcField) -> dict[str, Any]:
        link = f"{self.api_base}/fields/{field.number}"
        return {
            "title": field.title, "descript": field.descript, "type": field.field_type,
            "isrequired": "1" if field.isrequired else "0", "perstag": field.perstag, "defval": field.defval,
            "show_in_list": "0", "rows": "0", "cols": "0", "visible": "1" if field.visible else "0", "service": "",
            "ordernum": str(field.ordernum), "cdate": self.date(field.cdate), "udate": self.date(field.udate),
            "options": [str(o.number) for o in field.options.all()],
            "relations": [str(r.number) for r in field.relations.all()],
            "links": {"options": f"{link}/options", "relations": f"{link}/relations"}, "id": str(field.number),
        }

    def field_option(self, option: AcFieldOption) -> dict[str, Any]:
        return {
            "field": str(option.field.number), "orderid": str(option.orderid), "value": option.value,
            "label": option.label, "isdefault": "1" if option.isdefault else "0",
            "links": {"field": f"{self.api_base}/fieldOptions/{option.number}/field"}, "id": str(option.number),
        }

    def field_rel(self, rel: AcFieldRel) -> dict[str, Any]:
        return {"field": str(rel.field.number), "relid": str(rel.relid), "dorder": "0", "links": [], "id": str(rel.number)}

    def tag(self, tag: AcTag) -> dict[str, Any]:
        link = f"{self.api_base}/tags/{tag.number}"
        return {
            "tagType": tag.tag_type, "tag": tag.tag, "description": tag.description, "cdate": self.date(tag.cdate),
            "links": {"contactGoalTags": f"{link}/contactGoalTags"}, "id": str(tag.number),
        }

    def contact_tag(self, applied: AcContactTag) -> dict[str, Any]:
        link = f"{self.api_base}/contactTags/{applied.number}"
        return {
            "cdate": self.date(applied.cdate), "contact": str(applied.contact.number), "tag": str(applied.tag.number),
            "links": {"contact": f"{link}/contact", "tag": f"{link}/tag"}, "id": str(applied.number),
        }

    def list(self, target: AcList) -> dict[str, Any]:
        return {
            "stringid": target.stringid, "userid": "1", "name": target.name, "cdate": self.date(target.cdate),
            "udate": self.date(target.udate), "sender_url": target.sender_url,
            "sender_reminder": target.sender_reminder, "links": {}, "id": str(target.number),
        }

    def contact_list(self, row: AcContactList) -> dict[str, Any]:
        link = f"{self.api_base}/contactLists/{row.number}"
        return {
            "contact": str(row.contact.number), "list": str(row.list.number), "form": None, "seriesid": "0",
            "sdate": self.date(row.sdate), "udate": self.date(row.udate), "status": str(row.status), "responder": "1",
            "sync": "0", "unsubreason": row.unsubreason or None, "campaign": None, "message": None,
            "first_name": row.contact.first_name, "last_name": row.contact.last_name, "ip4Sub": "0",
            "sourceid": "0", "autosyncLog": None, "ip4_last": "0", "ip4Unsub": "0", "unsubscribeAutomation": None,
            "links": {"list": f"{link}/list", "contact": f"{link}/contact"}, "id": str(row.number), "automation": None,
        }

    def automation(self, automation: AcAutomation, *, entered: int = 0, exited: int = 0) -> dict[str, Any]:
        return {
            "name": automation.name, "cdate": self.date(automation.cdate), "mdate": self.date(automation.mdate),
            "userid": "1", "status": str(automation.status), "entered": str(entered), "exited": str(exited),
            "hidden": "0", "defaultscreenshot": "", "links": {}, "id": str(automation.number),
        }

    def contact_automation(self, run: AcContactAutomation) -> dict[str, Any]:
        link = f"{self.api_base}/contactAutomations/{run.number}"
        return {
            "contact": str(run.contact.number), "seriesid": str(run.automation.number), "startid": "0",
            "status": str(run.status), "adddate": self.date(run.adddate), "remdate": self.date(run.remdate),
            "timespan": None, "lastblock": "0", "lastdate": self.date(run.adddate), "completedElements": "0",
            "totalElements": "0", "completed": 0, "completeValue": 100,
            "links": {"automation": f"{link}/automation", "contact": f"{link}/contact"},
            "id": str(run.number), "automation": str(run.automation.number),
        }

    def webhook(self, hook: AcWebhook) -> dict[str, Any]:
        return {
            "cdate": self.date(hook.cdate), "listid": str(hook.listid), "name": hook.name, "url": hook.url,
            "events": list(hook.events), "sources": list(hook.sources), "links": [], "id": str(hook.number),
        }
