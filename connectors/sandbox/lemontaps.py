"""A producer of realistic captured contacts, posted to the portal's capture webhook as a
lead-capture app would (the portal's provisional contract, ``connectors/lemontaps.py``):
people met at a trade fair, with the odd one that duplicates a CRM record or lacks a company."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import requests

from connectors.lemontaps import SECRET_HEADER

_FIRST = ("Jana", "Piotr", "Lea", "Jonas", "Marta", "Felix", "Ewa", "Lukas", "Sofia", "Tomasz", "Nina", "Paul")
_LAST = ("Kowalska", "Schmidt", "Nowak", "Fischer", "Wójcik", "Weber", "Lewandowski", "Wagner", "Zielińska", "Becker")
_COMPANIES = (("Vistula Trading", "vistula.example", "Warszawa", "00-238", "Poland"),
              ("Elbe Logistik GmbH", "elbe-logistik.example", "Hamburg", "20457", "Germany"),
              ("Rheintal Energie AG", "rheintal.example", "Köln", "50667", "Germany"),
              ("Oder Maschinenbau", "oder-mb.example", "Frankfurt (Oder)", "15230", "Germany"))
_POSITIONS = ("Head of Purchasing", "Buyer", "CTO", "Operations Manager", "Sales Director")


_NICKNAMES = {"Jana": "Janka", "Piotr": "Piotrek", "Lukas": "Luke", "Sofia": "Sofie", "Tomasz": "Tomek", "Paul": "Paulchen"}


def captures_generate(count: int, *, captured_by: str, seed: int = 1, start: int = 1, create_as: str = "",
                      mixed: bool = False) -> list[dict]:
    """``count`` captures by ``captured_by`` (the field user's email), as the webhook takes them.
    ``mixed`` makes them as a fair's really are: every 7th without a company (a Lead then fails
    validation), every 5th the same person as an earlier one, met again and captured under a
    short name with a private email (a likely duplicate that only matching finds)."""
    rng = random.Random(seed)
    met = datetime(2025, 3, 1, 9, tzinfo=timezone.utc)
    made = []
    for n in range(start, start + count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company, domain, city, postcode, country = rng.choice(_COMPANIES)
        local = f"{first}.{last}".lower().replace("ó", "o").replace("ń", "n").replace("ś", "s")
        at = met + timedelta(minutes=7 * n)
        capture = {
            "id": f"lt-{seed}-{n}", "captured_by": captured_by, "captured_at": at.isoformat(), "first_name": first,
            "last_name": last, "company": company, "position": rng.choice(_POSITIONS), "email": f"{local}.{n}@{domain}",
            "phone_mobile": f"+49 151 {rng.randrange(1000000, 9999999)}", "city": city, "zip": postcode, "country": country,
            "met_on": at.date().isoformat(), "notes": "Met at the booth; asked for a quote.",
            **({"create_as": create_as} if create_as else {}),
        }
        if mixed and n % 5 == 0 and made:
            earlier = made[rng.randrange(len(made))]
            capture.update({key: earlier[key] for key in ("last_name", "company", "phone_mobile", "city", "zip", "country")
                            if key in earlier})
            capture["first_name"] = _NICKNAMES.get(earlier["first_name"], earlier["first_name"])
            capture["email"] = f"{capture['first_name'].lower()}.{n}@private.example"
            capture["notes"] = "Came back on the second day."
        elif mixed and n % 7 == 0:
            del capture["company"]
            capture["notes"] = "No business card; company unknown."
        made.append(capture)
    return made


def captures_post(url: str, secret: str, captures: list[dict], *, session: requests.Session | None = None) -> list[int]:
    """Post each capture to the portal's webhook ``url``; returns the HTTP status of each."""
    http = session or requests.Session()
    return [http.post(url, json=capture, headers={SECRET_HEADER: secret}, timeout=30).status_code for capture in captures]
