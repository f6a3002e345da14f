"""Duplicate rules: a new Contact or Lead whose email an existing Contact or Lead has.

Orgs created with duplicate rules behave like the standard Contact and Lead duplicate
rules set to *block*, matching on email only. The error carries a ``duplicateResult``
naming the matches (REST API guide, "Duplicate Management"; the
``Sforce-Duplicate-Rule-Header: allowSave=true`` request header lets the save through).
"""
from __future__ import annotations

from typing import Any

from connectors.sandbox.models import SandboxOrg, SandboxRecord

from .errors import ErrorDetail, RecordError
from .store import key_value

CHECKED_OBJECTS = ("Contact", "Lead")
_RULES = {
    "Contact": ("Standard_Contact_Duplicate_Rule", "Standard_Contact_Match_Rule_v1_1"),
    "Lead": ("Standard_Lead_Duplicate_Rule", "Standard_Lead_Match_Rule_v1_0"),
}
MESSAGE = "Use one of these records?"


def matches(org: SandboxOrg, email: str, *, exclude_id: str | None = None) -> list[SandboxRecord]:
    """Live Contacts and unconverted Leads with this email (any case)."""
    rows = (
        SandboxRecord.objects.filter(
            org=org, is_deleted=False, sobject__in=CHECKED_OBJECTS,
            keys__org=org, keys__field="Email", keys__value=key_value(email),
        )
        .exclude(record_id=exclude_id or "")
        .order_by("number")
    )
    return [row for row in rows if not (row.sobject == "Lead" and row.data.get("IsConverted"))]


def check(org: SandboxOrg, sobject: str, data: dict[str, Any], *, exclude_id: str | None, api_version: str) -> None:
    """Raise DUPLICATES_DETECTED if the org blocks duplicates and ``data``'s email is taken."""
    if not org.duplicate_rules or sobject not in CHECKED_OBJECTS or not data.get("Email"):
        return
    found = matches(org, data["Email"], exclude_id=exclude_id)
    if found:
        raise RecordError(detected(sobject, found, api_version))


def detected(sobject: str, found: list[SandboxRecord], api_version: str) -> ErrorDetail:
    """The DUPLICATES_DETECTED error with its duplicateResult, grouped by matched object."""
    rule, _ = _RULES[sobject]
    match_results = []
    for entity in CHECKED_OBJECTS:
        rows = [row for row in found if row.sobject == entity]
        if not rows:
            continue
        match_results.append(
            {
                "entityType": entity,
                "matchEngine": "FuzzyMatchEngine",
                "rule": _RULES[entity][1],
                "size": len(rows),
                "success": True,
                "errors": [],
                "matchRecords": [
                    {
                        "additionalInformation": [],
                        "fieldDiffs": [],
                        "matchConfidence": 100.0,
                        "record": {
                            "attributes": {
                                "type": entity,
                                "url": f"/services/data/v{api_version}/sobjects/{entity}/{row.record_id}",
                            },
                            "Id": row.record_id,
                        },
                    }
                    for row in rows
                ],
            }
        )
    result = {
        "allowSave": False,
        "duplicateRule": rule,
        "duplicateRuleEntityType": sobject,
        "errorMessage": MESSAGE,
        "matchResults": match_results,
    }
    return ErrorDetail("DUPLICATES_DETECTED", MESSAGE, [], {"duplicateResult": result})
