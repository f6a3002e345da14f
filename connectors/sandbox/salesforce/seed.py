"""Filling an org in bulk: realistic demo records, or whatever rows a test or benchmark brings.

``org_fill`` makes companies (Accounts), their Contacts, Leads and — with Person Accounts
— people, deterministically for a seed, including the duplicates real orgs have: a Lead
and a Contact with the same email, and the same person twice with differently written
emails. Rows go in through ``RecordService.bulk_create`` (one INSERT per thousand).
"""
from __future__ import annotations

import random
import unicodedata
from typing import Any

from connectors.sandbox.models import SandboxOrg, SandboxRecord

from .access import integration_user_id
from .records import RecordService
from .schema import LEAD_SOURCES, OrgSchema

FIRST_NAMES = (
    "Anna", "Jan", "Lukas", "Marie", "Piotr", "Katarzyna", "Emma", "Oliver", "Sophie", "Thomas", "Agnieszka",
    "Michael", "Laura", "Felix", "Julia", "Tomasz", "Sarah", "David", "Hannah", "Paul", "Magdalena", "Jonas",
    "Lea", "Krzysztof", "Emily", "James", "Mia", "Leon", "Zofia", "Daniel", "Małgorzata", "Jürgen",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Kowalski", "Nowak", "Wiśniewska", "Smith", "Johnson",
    "Brown", "Wagner", "Becker", "Hoffmann", "Lewandowski", "Wójcik", "Taylor", "Wilson", "Koch", "Richter",
    "Klein", "Zieliński", "Davies", "Evans", "Wolf", "Schröder", "Neumann", "Kamińska", "Walker", "Hall",
)
COMPANY_STEMS = (
    "Nordlicht", "Bergmann", "Vistula", "Rheintal", "Alpen", "Baltic", "Harbor", "Summit", "Lumen", "Quantum",
    "Silesia", "Hanse", "Evergreen", "Brightwater", "Kestrel", "Oder", "Elbe", "Tatra", "Isar", "Thames",
)
COMPANY_TRADES = ("Logistik", "Software", "Consulting", "Energie", "Medical", "Foods", "Systems", "Media", "Bau", "Analytics")
COMPANY_FORMS = ("GmbH", "AG", "Sp. z o.o.", "Ltd", "Inc.", "KG", "S.A.", "Group")
INDUSTRIES_BY_TRADE = {
    "Logistik": "Other", "Software": "Technology", "Consulting": "Consulting", "Energie": "Energy",
    "Medical": "Healthcare", "Foods": "Retail", "Systems": "Electronics", "Media": "Media", "Bau": "Manufacturing",
    "Analytics": "Technology",
}
CITIES = (
    ("Berlin", "10115", "Germany", "+49 30"), ("Hamburg", "20095", "Germany", "+49 40"),
    ("München", "80331", "Germany", "+49 89"), ("Köln", "50667", "Germany", "+49 221"),
    ("Warszawa", "00-001", "Poland", "+48 22"), ("Kraków", "30-001", "Poland", "+48 12"),
    ("Gdańsk", "80-001", "Poland", "+48 58"), ("London", "EC1A 1BB", "United Kingdom", "+44 20"),
    ("Manchester", "M1 1AE", "United Kingdom", "+44 161"), ("Wien", "1010", "Austria", "+43 1"),
    ("Zürich", "8001", "Switzerland", "+41 44"),
)
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Gartenweg", "ul. Marszałkowska", "ul. Długa", "High Street", "Station Road",
    "Lindenallee", "Schillerstraße", "ul. Floriańska",
)
TITLES = ("CEO", "Head of Marketing", "Sales Manager", "Buyer", "CTO", "Office Manager", "Event Manager", "Consultant")
DEPARTMENTS = ("Marketing", "Sales", "Purchasing", "IT", "Management", "Operations")
FREE_MAIL = ("gmail.example", "web.example", "wp.example", "outlook.example")


def records_bulk_create(org: SandboxOrg, sobject: str, rows: list[dict[str, Any]]) -> list[str]:
    """Create many ``sobject`` records in ``org`` at once, owned by the integration user;
    returns their ids. For trusted data (see ``RecordService.bulk_create``)."""
    schema = OrgSchema.load(org)
    service = RecordService(org, schema, user_id=integration_user_id(org))
    return service.bulk_create(schema.objects[sobject], rows)


def _ascii(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class _People:
    """Deterministic fake people, companies and addresses for one seed."""

    def __init__(self, seed_value: int, owners: list[str]):
        self.random = random.Random(seed_value)
        self.owners = owners
        self.external = 0

    def pick(self, options: tuple[Any, ...]) -> Any:
        return self.random.choice(options)

    def external_id(self) -> str | None:
        if self.random.random() < 0.5:
            return None
        self.external += 1
        return f"EXT-{self.external:06d}"

    def address(self) -> dict[str, str]:
        city, postal_code, country, dial = self.pick(CITIES)
        street = f"{self.pick(STREETS)} {self.random.randint(1, 180)}"
        return {"street": street, "city": city, "postal": postal_code, "country": country, "dial": dial}

    def phone(self, dial: str) -> str:
        return f"{dial} {self.random.randint(1000000, 9999999)}"

    def company(self) -> dict[str, Any]:
        trade = self.pick(COMPANY_TRADES)
        stem = self.pick(COMPANY_STEMS)
        name = f"{stem} {trade} {self.pick(COMPANY_FORMS)}"
        domain = f"{_ascii(stem).lower()}-{_ascii(trade).lower()}.example"
        return {"name": name, "domain": domain, "industry": INDUSTRIES_BY_TRADE[trade], **self.address()}

    def person(self, domain: str | None) -> dict[str, Any]:
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        local = f"{_ascii(first)}.{_ascii(last)}".lower()
        email = f"{local}{self.random.randint(1, 99)}@{self.pick(FREE_MAIL)}" if domain is None else f"{local}@{domain}"
        return {
            "FirstName": first, "LastName": last, "Email": email, "Title": self.pick(TITLES),
            "Salutation": self.pick(("Mr.", "Ms.", "Dr.")), "LeadSource": self.pick(LEAD_SOURCES),
            "OwnerId": self.pick(tuple(self.owners)), "Sync_To_Marketing__c": self.random.random() < 0.4,
            "Customer_Id__c": f"C-{self.random.randint(10000, 99999)}" if self.random.random() < 0.3 else None,
            "External_Id__c": self.external_id(),
        }


def _variant_email(email: str) -> str:
    """The same mailbox written differently: initial instead of first name, upper case."""
    local, domain = email.split("@")
    first, _, last = local.partition(".")
    return f"{first[:1]}.{last}@{domain}".upper() if last else email.upper()


def org_fill(org: SandboxOrg, count: int, *, seed_value: int = 1) -> dict[str, int]:
    """Add about ``count`` demo records to ``org``; returns how many of each object."""
    schema = OrgSchema.load(org)
    owners = _user_ids(org)
    people = _People(seed_value, owners)
    service = RecordService(org, schema, user_id=owners[0])
    n_accounts = max(1, count // 10)
    n_leads = count * 3 // 10
    n_person = count * 15 // 100 if org.person_accounts else 0
    n_contacts = max(0, count - n_accounts - n_leads - n_person)

    companies = [people.company() for _ in range(n_accounts)]
    account_ids = service.bulk_create(
        schema.objects["Account"],
        [
            {
                "Name": c["name"], "Website": f"https://www.{c['domain']}", "Phone": people.phone(c["dial"]),
                "Industry": c["industry"], "BillingStreet": c["street"], "BillingCity": c["city"],
                "BillingPostalCode": c["postal"], "BillingCountry": c["country"], "OwnerId": people.pick(tuple(owners)),
                "External_Id__c": people.external_id(),
            }
            for c in companies
        ],
    )
    contacts = []
    for _ in range(n_contacts):
        index = people.random.randrange(n_accounts)
        company = companies[index]
        contact = {
            **people.person(company["domain"]), "AccountId": account_ids[index], "Department": people.pick(DEPARTMENTS),
            "Phone": people.phone(company["dial"]), "MailingStreet": company["street"], "MailingCity": company["city"],
            "MailingPostalCode": company["postal"], "MailingCountry": company["country"],
        }
        if contacts and people.random.random() < 0.03:  # the same person entered twice
            twin = people.pick(tuple(contacts))
            contact.update({k: twin[k] for k in ("FirstName", "LastName", "AccountId")})
            contact.update(Email=_variant_email(twin["Email"]), External_Id__c=None)
        contacts.append(contact)
    service.bulk_create(schema.objects["Contact"], contacts)

    leads = []
    for _ in range(n_leads):
        company = people.company()
        lead = {
            **people.person(company["domain"]), "Company": company["name"], "Phone": people.phone(company["dial"]),
            "Street": company["street"], "City": company["city"], "PostalCode": company["postal"],
            "Country": company["country"], "Website": f"https://www.{company['domain']}", "Industry": company["industry"],
        }
        if contacts and people.random.random() < 0.05:  # already a Contact: same email on a Lead
            twin = people.pick(tuple(contacts))
            lead.update({k: twin[k] for k in ("FirstName", "LastName", "Email")}, External_Id__c=None)
        leads.append(lead)
    service.bulk_create(schema.objects["Lead"], leads)

    if n_person:
        person_type = schema.objects["Account"].person_record_type.id
        persons = []
        for _ in range(n_person):
            person = people.person(None)
            address = people.address()
            persons.append(
                {
                    "RecordTypeId": person_type, "FirstName": person["FirstName"], "LastName": person["LastName"],
                    "Salutation": person["Salutation"], "PersonEmail": person["Email"],
                    "PersonMobilePhone": people.phone(address["dial"]), "PersonMailingStreet": address["street"],
                    "PersonMailingCity": address["city"], "PersonMailingPostalCode": address["postal"],
                    "PersonMailingCountry": address["country"], "PersonLeadSource": person["LeadSource"],
                    "OwnerId": person["OwnerId"], "External_Id__pc": person["External_Id__c"],
                    "Sync_To_Marketing__pc": person["Sync_To_Marketing__c"],
                }
            )
        service.bulk_create(schema.objects["Account"], persons)
    return {"Account": n_accounts + n_person, "Contact": n_contacts + n_person, "Lead": n_leads}



def _user_ids(org: SandboxOrg) -> list[str]:
    """Ids of the org's active users, the integration user first."""
    return list(
        SandboxRecord.objects.filter(org=org, sobject="User", is_deleted=False)
        .order_by("number").values_list("record_id", flat=True)
    )
