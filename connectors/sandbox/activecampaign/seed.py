"""Filling an account with realistic contacts, deterministically for a seed.

People get names, emails, phones and companies; some carry custom field values, list
subscriptions and marketing tags, and some the tags an ActiveCampaign ⇄ Salesforce
integration leaves (including contacts that carry both the Contact and the Person Account
tags, as after a migration). Rows are bulk-inserted: like the vendor's imports, filling
fires no webhook.
"""
from __future__ import annotations

import random
import unicodedata
from datetime import timedelta

from django.db import transaction

from connectors.sandbox.models.activecampaign import (
    AcAccount,
    AcContact,
    AcContactList,
    AcContactTag,
    AcField,
    AcFieldValue,
    AcList,
    AcTag,
)
from connectors.sandbox.salesforce.seed import (  # the people and companies of the Salesforce demo data
    COMPANY_FORMS,
    COMPANY_STEMS,
    COMPANY_TRADES,
    FIRST_NAMES,
    FREE_MAIL,
    LAST_NAMES,
)

from .dates import now
from .ids import allocate_ids

# The integration's own tags (share of contacts that carry each).
INTEGRATION_TAGS = (
    ("created-from-salesforce-contact", 0.10),
    ("created-from-salesforce-person-account", 0.08),
    ("salesforce-lead-converted-to-contact", 0.03),
    ("salesforce-lead-converted-to-person-account", 0.03),
    ("added-to-salesforce-contact", 0.03),
    ("added-to-salesforce-person-account", 0.03),
)
MARKETING_TAGS = (("newsletter", 0.30), ("webinar-2024", 0.12), ("trade-fair-lead", 0.08), ("vip", 0.04))
# Of the contacts synced as Contacts, this share was migrated to Person Accounts later and
# carries both tag sets.
MIGRATED_SHARE = 0.2
INDUSTRIES = ("Software", "Logistics", "Healthcare", "Retail", "Energy", "Consulting", "Media", "Manufacturing")
DIALS = ("+49 30", "+49 89", "+48 22", "+48 12", "+44 20", "+43 1", "+41 44")


def account_fill(account: AcAccount, count: int, *, seed_value: int = 1) -> list[int]:
    """Add ``count`` contacts to ``account``; returns their ids."""
    rng = random.Random(seed_value)
    moment = now()
    with transaction.atomic():
        tags = {name: _tag(account, name) for name, _ in (*INTEGRATION_TAGS, *MARKETING_TAGS)}
        first = allocate_ids(account, "contact", count)
        taken = set(AcContact.objects.filter(account=account, deleted=False).values_list("email_key", flat=True))
        people = []
        for n in range(count):
            person = _person(rng, taken)
            cdate = moment - timedelta(seconds=rng.randint(3600, 2 * 365 * 86400))
            udate = min(moment, cdate + timedelta(seconds=rng.randint(0, 180 * 86400)))
            people.append(AcContact(
                account=account, number=first + n, email=person["email"], email_key=person["email"].lower(),
                first_name=person["first"], last_name=person["last"], phone=person["phone"], orgname=person["company"],
                cdate=cdate, udate=udate,
            ))
        AcContact.objects.bulk_create(people, batch_size=500)
        rows = {c.number: c for c in AcContact.objects.filter(account=account, number__gte=first, number__lt=first + count)}
        contacts = [rows[first + n] for n in range(count)]
        _fill_values(account, contacts, rng)
        _fill_tags(account, contacts, tags, rng)
        _fill_lists(account, contacts, rng)
    return [c.number for c in contacts]


def ascii_name(text: str) -> str:
    """A name as it appears in an email address: ``Jürgen`` → ``Juergen``, ``Łukasz`` → ``Lukasz``."""
    for letter, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss"),
                            ("ł", "l"), ("Ł", "L")):
        text = text.replace(letter, spelled)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _person(rng: random.Random, taken: set[str]) -> dict[str, str]:
    """A person not yet in the account (by email)."""
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{ascii_name(first)}.{ascii_name(last)}".lower()
        company = ""
        if rng.random() < 0.6:
            stem, trade = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_TRADES)
            company = f"{stem} {trade} {rng.choice(COMPANY_FORMS)}"
            domain = f"{ascii_name(stem).lower()}-{ascii_name(trade).lower()}.example"
        else:
            domain = rng.choice(FREE_MAIL)
            local = f"{local}{rng.randint(1, 99)}"
        email = f"{local}@{domain}"
        if email not in taken:
            taken.add(email)
            phone = f"{rng.choice(DIALS)} {rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else ""
            return {"first": first, "last": last, "email": email, "phone": phone, "company": company}


def _tag(account: AcAccount, name: str) -> AcTag:
    existing = AcTag.objects.filter(account=account, tag=name).order_by("number").first()
    return existing or AcTag.objects.create(account=account, number=allocate_ids(account, "tag"), tag=name, cdate=now())


def _fill_values(account: AcAccount, contacts: list[AcContact], rng: random.Random) -> None:
    fields = {f.perstag: f for f in AcField.objects.filter(account=account).prefetch_related("options")}
    choices = {
        "COMPANY_SIZE": (0.5, lambda f: rng.choice([o.value for o in f.options.all()])),
        "INDUSTRY": (0.4, lambda f: rng.choice(INDUSTRIES)),
        "BIRTHDAY": (0.2, lambda f: f"{rng.randint(1950, 2002)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"),
        "INTERESTS": (0.3, lambda f: "||" + "||".join(rng.sample([o.value for o in f.options.all()], 2)) + "||"),
    }
    rows = []
    for contact in contacts:
        for perstag, (share, make) in choices.items():
            if perstag in fields and rng.random() < share:
                rows.append(AcFieldValue(
                    account=account, contact=contact, field=fields[perstag], value=make(fields[perstag]),
                    cdate=contact.cdate, udate=contact.udate,
                ))
    _number(account, "fieldValue", rows)
    AcFieldValue.objects.bulk_create(rows, batch_size=500)


def _fill_tags(account: AcAccount, contacts: list[AcContact], tags: dict[str, AcTag], rng: random.Random) -> None:
    rows = []
    for contact in contacts:
        names = [name for name, share in (*INTEGRATION_TAGS, *MARKETING_TAGS) if rng.random() < share]
        if "created-from-salesforce-contact" in names and rng.random() < MIGRATED_SHARE:
            names.append("created-from-salesforce-person-account")
        rows += [
            AcContactTag(account=account, contact=contact, tag=tags[name], cdate=contact.udate)
            for name in dict.fromkeys(names)
        ]
    _number(account, "contactTag", rows)
    AcContactTag.objects.bulk_create(rows, batch_size=500)


def _fill_lists(account: AcAccount, contacts: list[AcContact], rng: random.Random) -> None:
    lists = list(AcList.objects.filter(account=account).order_by("number"))
    rows = []
    for contact in contacts:
        for target, share in zip(lists, (0.85, 0.4), strict=False):  # the two standard lists
            if rng.random() < share:
                status = AcContactList.UNSUBSCRIBED if rng.random() < 0.08 else AcContactList.ACTIVE
                rows.append(AcContactList(
                    account=account, contact=contact, list=target, status=status, sdate=contact.cdate,
                    udate=contact.udate, unsubreason="No longer interested" if status == AcContactList.UNSUBSCRIBED else "",
                ))
    _number(account, "contactList", rows)
    AcContactList.objects.bulk_create(rows, batch_size=500)


def _number(account: AcAccount, kind: str, rows: list) -> None:
    first = allocate_ids(account, kind, len(rows)) if rows else 0
    for offset, row in enumerate(rows):
        row.number = first + offset
