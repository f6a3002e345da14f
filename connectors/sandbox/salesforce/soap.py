"""The partner SOAP API at ``/services/Soap/u/NN.N``: login, merge and convertLead.

Requests are parsed by local element names, since clients qualify elements differently
(``urn:`` prefixes, unqualified children, ``xsi:type`` on sObjects). Answers use the
partner namespace; failures of a whole call are ``soapenv:Fault`` with
``sf:exceptionCode`` / ``sf:exceptionMessage`` (SOAP API guide, "Error Handling"), while
a failed merge or conversion is reported in its result's ``errors``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse

from connectors.sandbox import faults
from connectors.sandbox.models import SandboxOrg, SandboxRecord

from . import access, operations
from .api import SUPPORTED_VERSIONS, bearer_token, origin
from .errors import ApiError, ErrorDetail, RecordError
from .records import RecordService
from .schema import OrgSchema

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPE = "text/xml; charset=utf-8"
MAX_REQUESTS = 200
_SOBJECT_META = frozenset({"type", "Id", "fieldsToNull"})
_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_INVALID_SESSION = "Invalid Session ID found in SessionHeader: Illegal Session"


# --- reading ------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, *names: str) -> list[ET.Element]:
    return [child for child in element if not names or _local(child.tag) in names]


def _text(element: ET.Element | None, name: str) -> str | None:
    """Text of the first child ``name``; None when absent, empty or ``xsi:nil``."""
    if element is None:
        return None
    child = next(iter(_children(element, name)), None)
    if child is None or child.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    return (child.text or "").strip() or None


def _sobject(element: ET.Element) -> tuple[str | None, str | None, dict[str, Any], list[str]]:
    """(type, Id, field values, fieldsToNull) of a partner-API sObject element."""
    sobject = _text(element, "type") or (element.get(f"{{{XSI_NS}}}type") or "").rsplit(":", 1)[-1] or None
    record_id = next((child.text.strip() for child in _children(element, "Id") if (child.text or "").strip()), None)
    values = {
        _local(child.tag): None if child.get(f"{{{XSI_NS}}}nil") == "true" else (child.text or "")
        for child in element
        if _local(child.tag) not in _SOBJECT_META and len(child) == 0
    }
    return sobject, record_id, values, [(c.text or "").strip() for c in _children(element, "fieldsToNull")]


# --- writing ------------------------------------------------------------------------------
def _el(name: str, value: Any) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def _els(name: str, values: Iterable[Any]) -> str:
    return "".join(_el(name, value) for value in values)


def _errors(detail: ErrorDetail) -> str:
    return f"<errors>{_els('fields', detail.fields or [])}{_el('message', detail.message)}{_el('statusCode', detail.code)}</errors>"


def _envelope(body: str, *, usage: access.Usage | None = None, status: int = 200) -> HttpResponse:
    header = ""
    if usage is not None:
        header = (
            "<soapenv:Header><LimitInfoHeader><limitInfo>"
            f"{_el('current', usage.used)}{_el('limit', usage.allowed)}{_el('type', 'API REQUESTS')}"
            "</limitInfo></LimitInfoHeader></soapenv:Header>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE_NS}" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="{XSI_NS}">'
        f"{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    response = HttpResponse(xml, status=status, content_type=CONTENT_TYPE)
    if usage is not None:
        response["Sforce-Limit-Info"] = usage.header()
    return response


def fault(code: str, message: str, *, kind: str = "UnexpectedErrorFault", status: int = 500) -> HttpResponse:
    """A call-level failure, as ``soapenv:Fault`` with ``sf:exceptionCode``."""
    body = (
        f'<soapenv:Fault xmlns:sf="urn:fault.partner.soap.sforce.com">'
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:{kind} xsi:type="sf:{kind}"><sf:exceptionCode>{escape(code)}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{kind}></detail></soapenv:Fault>"
    )
    return _envelope(body, status=status)


# --- the endpoint -------------------------------------------------------------------------
def endpoint(request: HttpRequest, version: str, org_id: str | None = None) -> HttpResponse:
    """``POST /services/Soap/u/{version}[/{orgId}]``."""
    if request.method != "POST":
        return fault("INVALID_OPERATION", "The SOAP API only accepts POST.", status=405)
    if version not in SUPPORTED_VERSIONS:
        return fault("UNSUPPORTED_API_VERSION", f"Invalid Api version specified on URL: {version}")
    try:
        root = ET.fromstring(request.body)
    except ET.ParseError as error:
        return fault("INVALID_XML", f"The request is not well-formed XML: {error}", status=400)
    body = next(iter(_children(root, "Body")), None)
    operation = next(iter(body), None) if body is not None else None
    if operation is None:
        return fault("INVALID_OPERATION", "The SOAP body names no operation.")
    name = _local(operation.tag)
    if name == "login":
        return _login(request, operation, version)
    handler = _OPERATIONS.get(name)
    if handler is None:
        return fault("INVALID_OPERATION", f"No operation available for request {operation.tag}")
    token = access.token_resolve(_session_id(root) or bearer_token(request))
    if token is None:
        return fault("INVALID_SESSION_ID", _INVALID_SESSION)
    try:
        usage, hangs = access.api_call(token.org)
    except ApiError as error:
        detail = error.details[0]
        response = fault(detail.code, detail.message, status=503 if error.status == 503 else 500)
        response["Sforce-Limit-Info"] = access.usage(token.org).header()
        return response
    schema = OrgSchema.load(token.org)
    service = RecordService(token.org, schema, user_id=token.user_id, api_version=version)
    requests = list(operation)
    if len(requests) > MAX_REQUESTS:
        return fault("LIMIT_EXCEEDED", f"Too many requests: at most {MAX_REQUESTS} per call.")
    results = "".join(handler(service, element) for element in requests)
    if hangs:
        faults.hang(token.org)
    return _envelope(f"<{name}Response>{results}</{name}Response>", usage=usage)


def _session_id(root: ET.Element) -> str:
    """The ``SessionHeader``'s ``sessionId`` (clients may also send it as a Bearer token)."""
    for header in _children(root, "Header"):
        for element in header.iter():
            if _local(element.tag) == "sessionId" and element.text:
                return element.text.strip()
    return ""


def _login(request: HttpRequest, operation: ET.Element, version: str) -> HttpResponse:
    username, password = _text(operation, "username") or "", _text(operation, "password") or ""
    org = SandboxOrg.objects.filter(username=username).first()
    if org is None or password != org.password:
        return fault("INVALID_LOGIN", _INVALID_LOGIN, kind="LoginFault")
    token = access.token_issue(org)
    user = SandboxRecord.objects.get(record_id=token.user_id).data
    base = origin(request)
    org_id = org.org_id[:15]
    user_info = "".join(
        _el(name, value)
        for name, value in (
            ("accessibilityMode", False), ("currencySymbol", "€"), ("orgAttachmentFileSizeLimit", 5242880),
            ("orgDefaultCurrencyIsoCode", "EUR"), ("orgDisallowHtmlAttachments", False),
            ("orgHasPersonAccounts", org.person_accounts), ("organizationId", org.org_id),
            ("organizationMultiCurrency", False), ("organizationName", org.name), ("profileId", None),
            ("roleId", None), ("sessionSecondsValid", int(access.TOKEN_LIFETIME.total_seconds())),
            ("userDefaultCurrencyIsoCode", None), ("userEmail", user.get("Email")),
            ("userFullName", user.get("Name")), ("userId", token.user_id), ("userLanguage", "en_US"),
            ("userLocale", "de_DE"), ("userName", user.get("Username")), ("userTimeZone", "Europe/Berlin"),
            ("userType", "Standard"), ("userUiSkin", "Theme3"),
        )
    )
    result = (
        f"{_el('metadataServerUrl', f'{base}/services/Soap/m/{version}/{org_id}')}"
        f"{_el('passwordExpired', False)}{_el('sandbox', True)}"
        f"{_el('serverUrl', f'{base}/services/Soap/u/{version}/{org_id}')}"
        f"{_el('sessionId', token.key)}{_el('userId', token.user_id)}<userInfo>{user_info}</userInfo>"
    )
    return _envelope(f"<loginResponse><result>{result}</result></loginResponse>")


def _merge(service: RecordService, request: ET.Element) -> str:
    master = next(iter(_children(request, "masterRecord")), None)
    sobject, master_id, values, to_null = _sobject(master) if master is not None else (None, None, {}, [])
    loser_ids = [(e.text or "").strip() for e in _children(request, "recordToMergeIds")]
    try:
        outcome = operations.merge(
            service, sobject=sobject or "", master_id=master_id or "", loser_ids=loser_ids,
            master_values=values, fields_to_null=to_null,
        )
    except RecordError as error:
        return f"<result>{_errors(error.detail)}{_el('id', master_id)}{_el('success', False)}</result>"
    return (
        f"<result>{_el('id', outcome.id)}{_els('mergedRecordIds', outcome.merged_record_ids)}"
        f"{_el('success', True)}{_els('updatedRelatedIds', outcome.updated_related_ids)}</result>"
    )


def _convert_lead(service: RecordService, request: ET.Element) -> str:
    account_record = next(iter(_children(request, "accountRecord")), None)
    lead_id = _text(request, "leadId")
    try:
        outcome = operations.convert_lead(
            service,
            lead_id=lead_id or "",
            converted_status=_text(request, "convertedStatus") or "",
            account_id=_text(request, "accountId"),
            contact_id=_text(request, "contactId"),
            owner_id=_text(request, "ownerId"),
            overwrite_lead_source=(_text(request, "overwriteLeadSource") or "").lower() == "true",
            account_record_type_id=_text(account_record, "RecordTypeId"),
        )
    except RecordError as error:
        return (
            f"<result>{_el('accountId', None)}{_el('contactId', None)}{_errors(error.detail)}"
            f"{_el('leadId', lead_id)}{_el('opportunityId', None)}{_el('success', False)}</result>"
        )
    return (
        f"<result>{_el('accountId', outcome.account_id)}{_el('contactId', outcome.contact_id)}"
        f"{_el('leadId', outcome.lead_id)}{_el('opportunityId', None)}{_el('success', True)}</result>"
    )


_OPERATIONS: dict[str, Callable[[RecordService, ET.Element], str]] = {
    "merge": _merge,
    "convertLead": _convert_lead,
}
