"""The account's set-up objects: custom fields (with options and list relations), tags,
lists and automations. Creating them fires no webhook."""
from __future__ import annotations

import re

from django.db import transaction
from django.utils.text import slugify

from connectors.sandbox.models.activecampaign import (
    AcAccount,
    AcAutomation,
    AcField,
    AcFieldOption,
    AcFieldRel,
    AcList,
    AcTag,
)

from . import errors
from .dates import now
from .ids import allocate_ids

CHOICE_TYPES = ("dropdown", "radio", "checkbox", "multiselect", "listbox")
MULTI_VALUE_TYPES = ("checkbox", "multiselect", "listbox")


def perstag_from(title: str) -> str:
    """The personalisation tag the vendor derives from a title: ``Company size`` → ``COMPANY_SIZE``."""
    return re.sub(r"[^A-Z0-9]+", "_", title.upper()).strip("_")[:100]


def field_create(
    account: AcAccount,
    *,
    title: str,
    field_type: str,
    perstag: str = "",
    descript: str = "",
    isrequired: bool = False,
    visible: bool = True,
    defval: str = "",
    ordernum: int | None = None,
) -> AcField:
    """A custom field; raises ApiError 422 for a bad type or a personalisation tag in use."""
    if not title.strip():
        raise errors.validation("Field title is required.", code="field_missing", pointer="/data/attributes/title")
    if field_type not in AcField.TYPES:
        raise errors.validation(
            f"Field type must be one of {', '.join(AcField.TYPES)}.", code="field_invalid", pointer="/data/attributes/type",
        )
    perstag = perstag_from(perstag or title)
    with transaction.atomic():
        if AcField.objects.filter(account=account, perstag=perstag).exists():
            # (emulator) wording: personalisation tags are unique within an account.
            raise errors.validation(
                "Personalization tag is already in use.", code="duplicate", pointer="/data/attributes/perstag",
            )
        moment = now()
        if ordernum is None:
            ordernum = AcField.objects.filter(account=account).count() + 1
        return AcField.objects.create(
            account=account, number=allocate_ids(account, "field"), title=title.strip(), field_type=field_type,
            perstag=perstag, descript=descript, isrequired=isrequired, visible=visible, defval=defval,
            ordernum=ordernum, cdate=moment, udate=moment,
        )


def field_rel_create(account: AcAccount, field: AcField, relid: int = 0) -> AcFieldRel:
    """Show ``field`` on list ``relid`` (0: all lists)."""
    return AcFieldRel.objects.create(account=account, field=field, number=allocate_ids(account, "fieldRel"), relid=relid)


def field_options_create(account: AcAccount, field: AcField, choices: list[tuple[str, str]]) -> list[AcFieldOption]:
    """Add (label, value) choices to a choice field, after the ones it has."""
    start = field.options.count()
    first = allocate_ids(account, "fieldOption", len(choices))
    return AcFieldOption.objects.bulk_create(
        AcFieldOption(account=account, field=field, number=first + n, label=label, value=value, orderid=start + n + 1)
        for n, (label, value) in enumerate(choices)
    )


def field_add(account: AcAccount, *, title: str, perstag: str, field_type: str, options: tuple[str, ...] = ()) -> AcField:
    """A custom field shown on all lists, with its options: the set-up the vendor's UI does
    in one step and the API in three (fields, fieldRels, fieldOption/bulk)."""
    with transaction.atomic():
        field = field_create(account, title=title, perstag=perstag, field_type=field_type)
        field_rel_create(account, field)
        if options:
            field_options_create(account, field, [(value, value) for value in options])
    return field


def tag_create(account: AcAccount, *, name: str, tag_type: str = "contact", description: str = "") -> AcTag:
    """A tag; names are not unique at the vendor, so a second tag of the same name is made."""
    if not name.strip():
        raise errors.validation("Tag name is required.", code="field_missing", pointer="/data/attributes/tag")
    return AcTag.objects.create(
        account=account, number=allocate_ids(account, "tag"), tag=name.strip(), tag_type=tag_type or "contact",
        description=description, cdate=now(),
    )


def list_create(account: AcAccount, *, name: str, stringid: str = "", sender_url: str = "", sender_reminder: str = "") -> AcList:
    if not name.strip():
        raise errors.validation("List name is required.", code="field_missing", pointer="/data/attributes/name")
    moment = now()
    return AcList.objects.create(
        account=account, number=allocate_ids(account, "list"), name=name.strip(), stringid=stringid or slugify(name),
        sender_url=sender_url, sender_reminder=sender_reminder, cdate=moment, udate=moment,
    )


def automation_create(account: AcAccount, *, name: str) -> AcAutomation:
    """An automation (the API cannot make one; the vendor's UI can)."""
    moment = now()
    return AcAutomation.objects.create(
        account=account, number=allocate_ids(account, "automation"), name=name, cdate=moment, mdate=moment,
    )
