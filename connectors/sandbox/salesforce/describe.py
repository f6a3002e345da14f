"""Describe results: the global object list and one object's fields and record types.

Shapes follow the REST API guide's "Describe Global" and "sObject Describe" resources
(``DescribeGlobalResult``, ``DescribeSObjectResult``, ``Field`` in the SOAP guide).
"""
from __future__ import annotations

from typing import Any

from . import ids
from .schema import NUMBER_TYPES, TEXT_TYPES, FieldSpec, OrgSchema, SObjectSchema

# Child relationship names Salesforce gives the standard lookups (Account.Contacts, ...).
_CHILD_RELATIONSHIPS = {
    ("Contact", "AccountId"): "Contacts",
    ("Account", "ParentId"): "ChildAccounts",
    ("Account", "MasterRecordId"): None,
    ("Contact", "MasterRecordId"): None,
    ("Lead", "MasterRecordId"): None,
}


def _urls(sobject: str, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{sobject}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def _object_summary(obj: SObjectSchema, version: str) -> dict[str, Any]:
    spec = obj.spec
    return {
        "activateable": False,
        "createable": spec.createable,
        "custom": False,
        "customSetting": False,
        "deletable": spec.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": spec.mergeable,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": spec.label,
        "labelPlural": spec.label_plural,
        "layoutable": True,
        "mergeable": spec.mergeable,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": spec.name != "RecordType",
        "triggerable": True,
        "undeletable": spec.deletable,
        "updateable": spec.updateable,
        "urls": _urls(obj.name, version),
    }


def describe_global(schema: OrgSchema, version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [_object_summary(obj, version) for obj in schema.objects.values()],
    }


def sobject_basic(obj: SObjectSchema, version: str) -> dict[str, Any]:
    """``GET /sobjects/X/``: the summary and recently viewed items (none are tracked)."""
    return {"objectDescribe": _object_summary(obj, version), "recentItems": []}


def describe_field(spec: FieldSpec) -> dict[str, Any]:
    text = spec.type in TEXT_TYPES or spec.type in ("id", "reference")
    return {
        "aggregatable": spec.type not in ("textarea",),
        "autoNumber": False,
        "byteLength": spec.length * 3 if text else 0,
        "calculated": spec.calculated,
        "caseSensitive": False,
        "createable": spec.createable,
        "custom": spec.custom,
        "defaultValue": spec.default if spec.type == "boolean" else None,
        "defaultedOnCreate": spec.defaulted_on_create,
        "dependentPicklist": False,
        "digits": 9 if spec.type == "int" else 0,
        "externalId": spec.external_id,
        "filterable": spec.type != "textarea" or spec.length <= 255,
        "groupable": spec.type not in ("textarea", "datetime", *NUMBER_TYPES - {"int"}),
        "htmlFormatted": False,
        "idLookup": spec.id_lookup,
        "label": spec.label,
        "length": spec.length if text else 0,
        "name": spec.name,
        "nameField": spec.name_field,
        "namePointing": False,
        "nillable": spec.nillable,
        "permissionable": spec.custom or (spec.nillable and spec.updateable),
        "picklistValues": [
            {"active": True, "defaultValue": value == spec.default, "label": value, "validFor": None, "value": value}
            for value in spec.picklist
        ],
        "polymorphicForeignKey": False,
        "precision": 18 if spec.type in ("currency", "double", "percent") else 0,
        "referenceTargetField": None,
        "referenceTo": list(spec.reference_to),
        "relationshipName": spec.relationship_name,
        "relationshipOrder": None,
        "restrictedPicklist": spec.restricted,
        "scale": 2 if spec.type == "currency" else 0,
        "soapType": spec.soap_type,
        "sortable": spec.type != "textarea" or spec.length <= 255,
        "type": spec.type,
        "unique": spec.unique,
        "updateable": spec.updateable,
    }


def _record_type_infos(obj: SObjectSchema, version: str) -> list[dict[str, Any]]:
    default = obj.default_record_type
    infos = [
        {
            "active": rt.active,
            "available": rt.active,
            "defaultRecordTypeMapping": rt is default,
            "developerName": rt.developer_name,
            "master": False,
            "name": rt.name,
            "recordTypeId": rt.id,
            "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/{rt.id}"},
        }
        for rt in obj.record_types
    ]
    infos.append(
        {
            "active": True,
            "available": not obj.record_types,
            "defaultRecordTypeMapping": not obj.record_types,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": ids.MASTER_RECORD_TYPE_ID,
            "urls": {},
        }
    )
    return infos


def _child_relationships(schema: OrgSchema, obj: SObjectSchema) -> list[dict[str, Any]]:
    return [
        {
            "cascadeDelete": (child.name, spec.name) == ("Contact", "AccountId"),
            "childSObject": child.name,
            "deprecatedAndHidden": False,
            "field": spec.name,
            "relationshipName": _CHILD_RELATIONSHIPS.get((child.name, spec.name)),
            "restrictedDelete": False,
        }
        for child in schema.objects.values()
        for spec in child.fields
        if obj.name in spec.reference_to and spec.name not in ("CreatedById", "LastModifiedById")
    ]


def describe_sobject(schema: OrgSchema, obj: SObjectSchema, version: str) -> dict[str, Any]:
    return {
        **_object_summary(obj, version),
        "childRelationships": _child_relationships(schema, obj),
        "fields": [describe_field(spec) for spec in obj.fields],
        "recordTypeInfos": _record_type_infos(obj, version),
        "supportedScopes": [{"label": "All", "name": "everything"}, {"label": "My", "name": "mine"}],
    }
