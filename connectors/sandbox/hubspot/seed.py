"""Filling an account with realistic contacts, deterministically for a seed.

People get names, emails, phones, companies, job titles and lifecycle stages; about half
are linked to a Salesforce Contact or Lead (the ids HubSpot's integration stores), some
have notes, and some people are there twice under different emails ("Jane Francis" at
work and "Jane F" at a free mail address) — the duplicates HubSpot does not see itself.
Rows are bulk-inserted: like the vendor's imports, filling fires no webhook.
"""
from __future__ import annotations

import random
import string
from datetime import timedelta

from django.db import transaction

from connectors.sandbox.activecampaign.seed import DIALS, ascii_name
from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote
from connectors.sandbox.salesforce.seed import (  # the people and companies of the Salesforce demo data
    COMPANY_FORMS,
    COMPANY_STEMS,
    COMPANY_TRADES,
    FIRST_NAMES,
    FREE_MAIL,
    LAST_NAMES,
    TITLES,
)

from .dates import now
from .ids import allocate_ids

STAGES = (("subscriber", 0.3), ("lead", 0.35), ("marketingqualifiedlead", 0.15), ("customer", 0.15), ("other", 0.05))
CITIES = (("Berlin", "10115", "Germany"), ("München", "80331", "Germany"), ("Warszawa", "00-001", "Poland"),
          ("Kraków", "30-001", "Poland"), ("London", "EC1A 1BB", "United Kingdom"), ("Wien", "1010", "Austria"))
NOTE_TEXTS = ("Called, interested in a demo.", "Met at the trade fair.", "Sent the price list.",
              "Asked for a follow-up next quarter.", "Renewal discussed.")
LINKED_SHARE, LEAD_SHARE, NOTES_SHARE, TWIN_SHARE = 0.5, 0.3, 0.3, 0.05
BATCH = 100  # contacts a batch call writes; with one instant per request, one lastmodifieddate each


def account_fill(account: HsAccount, count: int, *, seed_value: int = 1) -> list[int]:
    """Add ``count`` contacts (a few of them second records of the same person) to
    ``account``; returns their ids. With the account's ``one_instant_per_request`` every
    hundred contacts (one batch) share one ``lastmodifieddate``, as a batch import stamps them."""
    rng = random.Random(seed_value)
    moment = now()
    with transaction.atomic():
        first = allocate_ids(account, "contact", count)
        taken = set(HsContact.objects.filter(account=account).exclude(email_key="").values_list("email_key", flat=True))
        rows: list[HsContact] = []
        for n in range(count):
            twin = rows[-1] if rows and rng.random() < TWIN_SHARE else None
            values = _twin(rng, twin.properties, taken) if twin else _person(rng, taken)
            created = moment - timedelta(seconds=rng.randint(3600, 2 * 365 * 86400))
            modified = min(moment, created + timedelta(seconds=rng.randint(0, 180 * 86400)))
            created, modified = (m.replace(microsecond=m.microsecond // 1000 * 1000) for m in (created, modified))
            if account.one_instant_per_request and n % BATCH:
                created, modified = min(created, rows[n - 1].updated_at), rows[n - 1].updated_at
            rows.append(HsContact(account=account, number=first + n, properties=values, email_key=values["email"].lower(),
                                  created_at=created, updated_at=modified))
        HsContact.objects.bulk_create(rows, batch_size=500)
        _fill_notes(account, {c.number: c for c in HsContact.objects.filter(account=account, number__gte=first)}, rng)
    return [c.number for c in rows]


def _salesforce_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(15))


def _person(rng: random.Random, taken: set[str]) -> dict[str, str]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{ascii_name(first)}.{ascii_name(last)}".lower()
        values = {"firstname": first, "lastname": last}
        if rng.random() < 0.7:
            stem, trade = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_TRADES)
            values["company"] = f"{stem} {trade} {rng.choice(COMPANY_FORMS)}"
            values["jobtitle"] = rng.choice(TITLES)
            domain = f"{ascii_name(stem).lower()}-{ascii_name(trade).lower()}.example"
        else:
            domain, local = rng.choice(FREE_MAIL), f"{local}{rng.randint(1, 99)}"
        email = f"{local}@{domain}"
        if email in taken:
            continue
        taken.add(email)
        values["email"] = email
        if rng.random() < 0.7:
            values["phone"] = f"{rng.choice(DIALS)} {rng.randint(1000000, 9999999)}"
        if rng.random() < 0.5:
            values["city"], values["zip"], values["country"] = rng.choice(CITIES)
        values["lifecyclestage"] = rng.choices([s for s, _ in STAGES], [w for _, w in STAGES])[0]
        if rng.random() < LINKED_SHARE:
            if rng.random() < LEAD_SHARE:
                values["salesforceleadid"], values["salesforceobjecttype"] = _salesforce_id(rng, "00Q"), "LEAD"
            else:
                values["salesforcecontactid"], values["salesforceobjecttype"] = _salesforce_id(rng, "003"), "CONTACT"
        return values


def _twin(rng: random.Random, original: dict[str, str], taken: set[str]) -> dict[str, str]:
    """The same person again, written differently, at a free mail address."""
    first, last = original.get("firstname", ""), original.get("lastname", "")
    for n in range(1, 1000):
        email = f"{ascii_name(first).lower()}{ascii_name(last)[:1].lower()}{n}@{rng.choice(FREE_MAIL)}"
        if email not in taken:
            taken.add(email)
            break
    values = {"firstname": first, "lastname": f"{last[:1]}." if rng.random() < 0.5 else last, "email": email,
              "lifecyclestage": "subscriber"}
    if original.get("phone") and rng.random() < 0.5:
        values["phone"] = original["phone"].replace(" ", "")
    return values


def _fill_notes(account: HsAccount, contacts: dict[int, HsContact], rng: random.Random) -> None:
    notes: list[HsNote] = []
    counts: dict[int, int] = {}
    for number, contact in contacts.items():
        if rng.random() < NOTES_SHARE:
            for _ in range(rng.randint(1, 3)):
                notes.append(HsNote(account=account, body=rng.choice(NOTE_TEXTS), contact=contact,
                                    timestamp=contact.updated_at, created_at=contact.updated_at,
                                    updated_at=contact.updated_at))
                counts[number] = counts.get(number, 0) + 1
    if notes:
        first = allocate_ids(account, "note", len(notes))
        for offset, note in enumerate(notes):
            note.number = first + offset
        HsNote.objects.bulk_create(notes, batch_size=500)
    for number, count in counts.items():
        contacts[number].properties["num_notes"] = str(count)
    HsContact.objects.bulk_update([contacts[n] for n in counts], ["properties"], batch_size=500)
