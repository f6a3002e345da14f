"""Filling an organisation with realistic demo data, deterministically for a seed.

CRM gets Contacts (about 60 %) and Leads with names, emails, phones, titles, lead sources
and countries; contacts work at some Accounts; about one in ten people opted out of email
(``Email_Opt_Out``). Records come in imports of a hundred that share one Modified_Time, as
a Zoho import stamps them (the second is all Zoho keeps). The Campaigns list gets every
contact with an address: opted-out ones as unsubscribed; a segment holds the list's
contacts in Germany. Rows are bulk-inserted: like an import, filling notifies no one.
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction

from connectors.sandbox.activecampaign.seed import ascii_name
from connectors.sandbox.models.zoho import ZcContact, ZcList, ZcMembership, ZcSegment, ZohoOrg, ZohoRecord
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
from .ids import allocate_ids, record_ids
from .schema import LEAD_SOURCES

COUNTRIES = (("Berlin", "Germany"), ("München", "Germany"), ("Warszawa", "Poland"), ("London", "United Kingdom"),
             ("Wien", "Austria"))
CONTACT_SHARE, OPT_OUT_SHARE, IMPORT = 0.6, 0.1, 100


def org_fill(org: ZohoOrg, count: int, mailing_list: ZcList, *, seed_value: int = 1) -> list[int]:
    """Add ``count`` people (Contacts and Leads), their Accounts and the list's members."""
    rng = random.Random(seed_value)
    moment = now()
    accounts_wanted = max(1, count // 8)
    with transaction.atomic():
        account_ids = record_ids(org, accounts_wanted)
        companies = []
        rows: list[ZohoRecord] = []
        for record_id in account_ids:
            stem, trade = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_TRADES)
            name = f"{stem} {trade} {rng.choice(COMPANY_FORMS)}"
            city, country = rng.choice(COUNTRIES)
            domain = f"{ascii_name(stem).lower()}-{ascii_name(trade).lower()}.example"
            companies.append((record_id, name, domain, city, country))
            created = moment - timedelta(days=rng.randint(200, 900))
            rows.append(ZohoRecord(org=org, module="Accounts", record_id=record_id, created_at=created, modified_at=created,
                                   values={"Account_Name": name, "Website": f"https://www.{domain}",
                                           "Billing_City": city, "Billing_Country": country}))
        taken: set[str] = set()
        people = record_ids(org, count)
        stamp = None
        for n, record_id in enumerate(people):
            if n % IMPORT == 0:  # each import of a hundred shares one Modified_Time
                stamp = moment - timedelta(seconds=rng.randint(3600, 365 * 86400))
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contact = rng.random() < CONTACT_SHARE
            company = rng.choice(companies) if rng.random() < 0.8 else None
            domain = company[2] if company else rng.choice(FREE_MAIL)
            email = f"{ascii_name(first)}.{ascii_name(last)}@{domain}".lower()
            while email in taken:
                email = f"{ascii_name(first)}.{ascii_name(last)}{rng.randint(2, 99)}@{domain}".lower()
            taken.add(email)
            city, country = (company[3], company[4]) if company else rng.choice(COUNTRIES)
            values = {"First_Name": first, "Last_Name": last, "Email": email,
                      "Phone": f"+49 30 {rng.randint(1000000, 9999999)}", "Lead_Source": rng.choice(LEAD_SOURCES),
                      "Email_Opt_Out": rng.random() < OPT_OUT_SHARE}
            if contact:
                values.update(Title=rng.choice(TITLES), Mailing_City=city, Mailing_Country=country)
                if company:
                    values["Account_Name"] = {"id": str(company[0])}
            else:
                values.update(Designation=rng.choice(TITLES), City=city, Country=country,
                              Company=company[1] if company else f"{last} Consulting", Lead_Status="Not Contacted")
            rows.append(ZohoRecord(org=org, module="Contacts" if contact else "Leads", record_id=record_id,
                                   values=values, email_key=email, created_at=stamp - timedelta(days=rng.randint(0, 30)),
                                   modified_at=stamp))
        ZohoRecord.objects.bulk_create(rows, batch_size=500)
        _fill_list(org, mailing_list, [r for r in rows if r.module == "Contacts"], rng)
    return people


def _fill_list(org: ZohoOrg, mailing_list: ZcList, contacts: list[ZohoRecord], rng: random.Random) -> None:
    first = allocate_ids(org, "zuid", len(contacts)) if contacts else 0
    made = ZcContact.objects.bulk_create([
        ZcContact(org=org, zuid=first + n, email_key=row.email_key, created_at=row.created_at, values={
            "Contact Email": row.values["Email"], "First Name": row.values.get("First_Name") or "",
            "Last Name": row.values.get("Last_Name") or "", "Country": row.values.get("Mailing_Country") or "",
        }) for n, row in enumerate(contacts)
    ], batch_size=500)
    saved = {c.email_key: c for c in ZcContact.objects.filter(org=org, email_key__in=[c.email_key for c in made])}
    ZcMembership.objects.bulk_create([
        ZcMembership(mailing_list=mailing_list, contact=saved[row.email_key], changed_at=row.created_at,
                     status=ZcMembership.UNSUB if row.values.get("Email_Opt_Out") else ZcMembership.ACTIVE)
        for row in contacts
    ], batch_size=500)
    ZcSegment.objects.create(mailing_list=mailing_list, segment_id=allocate_ids(org, "segment"),
                             name="Contacts in Germany", field="Country", value="Germany", created_at=now())
