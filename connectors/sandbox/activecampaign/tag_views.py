"""Tags: ``/tags`` (with ``search``) and ``/contactTags``."""
from __future__ import annotations

from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import AcContactTag, AcTag

from . import contacts, errors, schema
from .api import ApiRequest, api_endpoint, json_response


def _tag(api: ApiRequest, number: object) -> AcTag:
    tag = AcTag.objects.filter(account=api.account, number=int(number)).first() if str(number).isdigit() else None
    if tag is None:
        raise errors.not_found("Tag", number)
    return tag


@api_endpoint("GET", "POST")
def tag_list(api: ApiRequest) -> HttpResponse:
    """GET: tags whose name contains ``search`` (any case); POST creates one (names need
    not be unique: look a tag up before creating it)."""
    if api.request.method == "POST":
        data = api.body_object("tag")
        tag = schema.tag_create(
            api.account, name=str(data.get("tag") or ""), tag_type=str(data.get("tagType") or "contact"),
            description=str(data.get("description") or ""),
        )
        return json_response({"tag": api.shapes.tag(tag)}, 201)
    rows = AcTag.objects.filter(account=api.account)
    search = api.params.get("search") or api.params.get("filters[search]")
    if search:
        rows = rows.filter(tag__icontains=search.strip())
    page, total = api.page(rows.order_by("number"))
    return json_response({"tags": [api.shapes.tag(t) for t in page], "meta": {"total": str(total)}})


@api_endpoint("GET", "PUT", "DELETE")
def tag_detail(api: ApiRequest, number: str) -> HttpResponse:
    tag = _tag(api, number)
    if api.request.method == "DELETE":
        tag.delete()
        return json_response({})
    if api.request.method == "PUT":
        data = api.body_object("tag")
        tag.tag = str(data.get("tag") or tag.tag).strip()
        tag.description = str(data.get("description", tag.description) or "")
        tag.save(update_fields=["tag", "description"])
    return json_response({"tag": api.shapes.tag(tag)})


@api_endpoint("POST")
def contact_tag_create(api: ApiRequest) -> HttpResponse:
    """``{"contactTag": {"contact", "tag"}}``; applying a tag twice returns the first contactTag."""
    data = api.body_object("contactTag")
    contact = contacts.contact_get(api.account, data.get("contact"))
    applied, _ = contacts.tag_add(api.account, contact, _tag(api, data.get("tag")), source="api")
    return json_response({"contacts": [api.shapes.contact(contact)], "contactTag": api.shapes.contact_tag(applied)}, 201)


@api_endpoint("GET", "DELETE")
def contact_tag_detail(api: ApiRequest, number: str) -> HttpResponse:
    applied = (
        AcContactTag.objects.filter(account=api.account, number=int(number), contact__deleted=False)
        .select_related("contact", "tag").first() if number.isdigit() else None
    )
    if applied is None:
        raise errors.not_found("ContactTag", number)
    if api.request.method == "DELETE":
        contacts.tag_remove(api.account, applied, source="api")
        return json_response({})
    return json_response({"contactTag": api.shapes.contact_tag(applied)})
