"""Person records in one compact, comparable form: the first step of duplicate matching.

Duplicates come from imports with inconsistent formats, many sources and manual entry by many
users (SPEC HS-10), so every field is brought to one spelling before anything is compared:
``normalize_person({"first_name": " DR. Bill ", "phone": "030 1234-567"})`` gives first name
``william``-compatible ``bill``, phone ``+49301234567`` and so on. Everything here is pure
Python and cached where values repeat (names, companies, cities), so that a million rows
normalise in well under a minute.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from nicknames import NickNamer
from unidecode import unidecode

KNOWN_FIELDS = ("id", "first_name", "last_name", "email", "phone", "company", "street", "city", "postcode", "country")
DEFAULT_REGION = "DE"

# German and Polish short forms the English nickname table does not know.
_EXTRA_NICKNAMES = {
    "johannes": {"hans", "jo", "johann"}, "johann": {"hans"}, "friedrich": {"fritz"}, "wolfgang": {"wolf"},
    "elisabeth": {"lisa", "liesel", "elli", "sabine"}, "katharina": {"kathi", "katja", "kati"},
    "margarete": {"grete", "gretel", "marga"}, "wilhelm": {"willi", "willy", "wim"}, "heinrich": {"heinz", "hinrich"},
    "stefanie": {"steffi"}, "susanne": {"susi", "sanne"}, "alexander": {"alex", "sascha", "olek"},
    "matthias": {"matze", "matthes"}, "andreas": {"andi"}, "christoph": {"chris"}, "jurgen": {"juergen"},
    "katarzyna": {"kasia", "kaska"}, "malgorzata": {"gosia", "malgosia"}, "aleksander": {"olek", "alek"},
    "tomasz": {"tomek"}, "piotr": {"piotrek"}, "krzysztof": {"krzysiek"}, "agnieszka": {"aga", "agnes"},
    "joanna": {"asia"}, "magdalena": {"magda", "lena"}, "wojciech": {"wojtek"}, "jozef": {"jozek", "jozio"},
    "stanislaw": {"stas", "staszek"}, "zofia": {"zosia"}, "aleksandra": {"ola"}, "michal": {"michalek"},
    "pawel": {"pawelek"}, "barbara": {"basia"}, "elzbieta": {"ela"}, "jakub": {"kuba"}, "maciej": {"maciek"},
}
# Common German and Polish given names, so that "Marta" vs "Maria" reads as two names rather
# than one typo (the English names come with the nickname table).
_EXTRA_GIVEN_NAMES = set("""
anke anja antje birgit bernd dieter dirk doris egon elke erika frank frauke gabriele gerd gerhard gisela gudrun gunter
guenter hanna hannah heike heiko helga helmut holger horst ilse ingrid jens jorg joerg jutta karin karl kerstin klaus
lars lukas lena lotte manfred maren marta maria marko marek mirek monika niklas nils olaf petra rainer ralf renate rolf
sabine sandra silke sonja sven tanja thorsten torsten ulrich ulrike ursula uwe volker werner wiebke wolfram
adam agata bartosz beata bozena dariusz dorota ewa grazyna grzegorz halina henryk hubert irena iwona jacek jadwiga jan
jana janina jaroslaw jerzy justyna kamil kamila karolina kazimierz krystyna leszek lucyna lukasz mariusz marcin
marzena mateusz michalina miroslaw monika natalia patrycja pawel przemyslaw rafal renata robert roman ryszard
sebastian slawomir stanislawa szymon tadeusz teresa urszula wanda weronika wieslaw witold zbigniew zdzislaw
""".split())

TITLES = frozenset("""
mr mrs ms miss mx dr prof professor sir dame herr frau fr hr pan pani ing dipl dipling mag rev
jr sr ii iii iv phd mba msc bsc esq dds llm
""".split())
# Mailboxes that belong to a team or a family, not to one person: equal addresses there are no
# evidence that two records are the same person.
ROLE_MAILBOXES = frozenset("""
info sales office contact kontakt admin administrator support hello hallo mail email team service marketing
buero buro biuro hr jobs career careers billing accounts accounting enquiries inquiries noreply no-reply
post empfang reception vertrieb zentrale sekretariat secretary webmaster help hilfe orders order bestellung
invoice rechnung finance press presse media news newsletter welcome home family familie rodzina
""".split())
_FAMILY_PREFIXES = ("family", "familie", "rodzina")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

LEGAL_FORMS = frozenset("""
gmbh mbh ag kg ohg ug gbr ev eg se kgaa haftungsbeschrankt inc incorporated ltd limited llc llp lp plc corp
corporation co company sa sas sarl srl spa bv nv ab as oy aps sro spzoo sc sj sk ska spk pllc pc gesmbh
""".split())
_CONNECTORS = frozenset({"and", "und", "i", "et", "the"})

COUNTRIES = {
    "de": "DE", "deu": "DE", "germany": "DE", "deutschland": "DE", "at": "AT", "aut": "AT", "austria": "AT",
    "oesterreich": "AT", "osterreich": "AT", "ch": "CH", "che": "CH", "switzerland": "CH", "schweiz": "CH",
    "pl": "PL", "pol": "PL", "poland": "PL", "polska": "PL", "polen": "PL", "us": "US", "usa": "US",
    "united states": "US", "united states of america": "US", "gb": "GB", "uk": "GB", "united kingdom": "GB",
    "great britain": "GB", "england": "GB", "fr": "FR", "france": "FR", "frankreich": "FR", "nl": "NL",
    "netherlands": "NL", "niederlande": "NL", "it": "IT", "italy": "IT", "italien": "IT", "es": "ES",
    "spain": "ES", "spanien": "ES", "ie": "IE", "ireland": "IE", "be": "BE", "belgium": "BE", "belgien": "BE",
    "cz": "CZ", "czechia": "CZ", "czech republic": "CZ", "dk": "DK", "denmark": "DK", "se": "SE", "sweden": "SE",
    "ca": "CA", "canada": "CA", "au": "AU", "australia": "AU",
}

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPZOO = re.compile(r"\bsp\.?\s*z\.?\s*o\.?\s*o\b\.?")
_STREET_WORDS = [
    (re.compile(r"(strasse|str\b\.?)"), "str "),
    (re.compile(r"\b(?:ulica|ul\.|ul\b)\s*"), ""),
    (re.compile(r"\b(?:aleja|aleje)\b"), "al"), (re.compile(r"\bplac\b"), "pl"),
    (re.compile(r"\bstreet\b"), "st"), (re.compile(r"\bavenue\b|\bav\b"), "ave"), (re.compile(r"\broad\b"), "rd"),
    (re.compile(r"\bdrive\b"), "dr"), (re.compile(r"\blane\b"), "ln"), (re.compile(r"\bboulevard\b"), "blvd"),
    (re.compile(r"\bplatz\b"), "pl"), (re.compile(r"\bweg\b"), "weg"),
    (re.compile(r"\b(?:nr|no|number|nummer)\b\.?\s*(?=\d)"), ""),
]
_HOUSE_NUMBER_LETTER = re.compile(r"(\d)\s+([a-z])\b")
_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?$")
_EXTENSION = re.compile(r"(?:ext\.?|extension|durchwahl|dw\.?|x|#)\s*\d+\s*$", re.IGNORECASE)


def ascii_fold(value: str) -> str:
    """Lower-case ASCII, with German umlauts spelt out (Müller and Mueller are one name)."""
    return unidecode(value.translate(_UMLAUTS)).lower()


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    lookup = NickNamer.default_lookup()
    for canonical, nicks in _EXTRA_NICKNAMES.items():
        lookup.setdefault(canonical, set()).update(nicks)
    return NickNamer(nickname_lookup=lookup)


@lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    nicknamer = _nicknamer()
    names = set(nicknamer.nickname_lookup) | set(nicknamer.canonical_lookup) | _EXTRA_GIVEN_NAMES
    return frozenset(n for n in names if len(n) > 1)


@lru_cache(maxsize=50_000)
def name_forms(token: str) -> frozenset[str]:
    """The name itself and every full name it is a short form of (``bill`` → william, will …)."""
    return frozenset({token, *_nicknamer().canonicals_of(token)})


@lru_cache(maxsize=50_000)
def name_family(token: str) -> frozenset[str]:
    """Every name of the nickname family ``token`` belongs to: the full names it is short for
    and all their short forms (``bobby`` → robert, bob, rob …)."""
    nicknamer = _nicknamer()
    forms = name_forms(token)
    return frozenset({*forms, *(nick for form in forms for nick in nicknamer.nicknames_of(form))})


def is_given_name(token: str) -> bool:
    """Whether ``token`` is a known given name (so one letter away from another one is a
    different name, not a typo)."""
    return token in _given_names()


@dataclass(slots=True)
class NormalizedPerson:
    """One record, normalised. Empty strings stand for missing values; ``keys`` holds custom
    identifiers such as a customer ID as ``(field, value)`` pairs."""

    id: str
    first: str = ""
    last: str = ""
    first_initial: bool = False
    last_initial: bool = False
    email: str = ""
    email_generic: bool = False
    phone: str = ""
    company: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    keys: tuple = ()
    source: str = ""
    birth_date: str = ""

    @property
    def first_forms(self) -> frozenset[str]:
        token = self.first.split(" ", 1)[0]
        return name_forms(token) if token else frozenset()

    @property
    def email_local(self) -> str:
        return self.email.split("@", 1)[0]


def _text(value) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


@lru_cache(maxsize=200_000)
def _name_tokens(value: str) -> tuple[str, ...]:
    tokens = _NON_ALNUM.sub(" ", ascii_fold(value)).split()
    return tuple(t for t in tokens if t not in TITLES) or ()


@lru_cache(maxsize=200_000)
def _name(value: str) -> tuple[str, bool]:
    """(normalised name, is it only an initial)."""
    tokens = _name_tokens(value)
    if not tokens:
        return "", False
    if all(len(t) == 1 for t in tokens):
        return tokens[0], True
    # A middle initial ("Jane M.") says too little to compare on.
    return _shared(" ".join(t for t in tokens if len(t) > 1)), False


def _shared(value: str) -> str:
    # Names, cities and companies repeat across rows; one shared string each keeps a million
    # records small.
    return _INTERNED.setdefault(value, value)


_INTERNED: dict[str, str] = {}


def normalize_names(first_name: str, last_name: str, full_name: str = "") -> tuple[str, bool, str, bool]:
    """(first, first is an initial, last, last is an initial) from whichever name fields exist.

    A full name alone is split as "Last, First" or "First … Last"; a first-name field holding
    "Jane F" gives first ``jane`` and the initial ``f`` as last name."""
    first_name, last_name = _text(first_name), _text(last_name)
    if not first_name and not last_name and full_name:
        full_name = _text(full_name)
        if "," in full_name:
            last_name, _, first_name = full_name.partition(",")
        else:
            tokens = _name_tokens(full_name)
            if len(tokens) > 1:
                first_name, last_name = " ".join(tokens[:-1]), tokens[-1]
            else:
                last_name = full_name
    elif first_name and not last_name:
        tokens = _name_tokens(first_name)
        if len(tokens) > 1:
            first_name, last_name = " ".join(tokens[:-1]), tokens[-1]
    first, first_initial = _name(first_name) if first_name else ("", False)
    last, last_initial = _name(last_name) if last_name else ("", False)
    return first, first_initial, last, last_initial


def normalize_email(value: str) -> tuple[str, bool]:
    """(address in one spelling, is it a team/role/family mailbox)."""
    value = _text(value).lower().replace(" ", "")
    if value.startswith("mailto:"):
        value = value[7:]
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or "@" in local:
        return "", False
    domain = domain.strip(".")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    if not local:
        return "", False
    generic = local in ROLE_MAILBOXES or local.startswith(_FAMILY_PREFIXES)
    return f"{local}@{domain}", generic


@lru_cache(maxsize=1000)
def normalize_country(value: str) -> str:
    """ISO 3166 alpha-2 code for the usual spellings, else the upper-cased input (or "")."""
    folded = " ".join(_NON_ALNUM.sub(" ", ascii_fold(_text(value))).split())
    if not folded:
        return ""
    code = COUNTRIES.get(folded)
    if code:
        return code
    return folded.upper() if len(folded) == 2 else ""


@lru_cache(maxsize=300)
def _region_facts(region: str) -> tuple[int, str | None] | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        return None
    return metadata.country_code, metadata.national_prefix


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+49301234567``) without extension, or "" when it is no phone number.

    Clean input ("+49 30 1234567", "030/1234567") takes a shortcut through the numbering
    metadata; anything unusual goes through the full parser."""
    raw = _text(value)
    if not raw:
        return ""
    raw = _EXTENSION.sub("", raw)
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) < 6 or len(digits) > 17:
        return ""
    simple = not any(c.isalpha() for c in raw) and "(0)" not in raw.replace(" ", "")
    if simple:
        if raw.startswith("+") or raw.startswith("00"):
            international = digits[2:] if raw.startswith("00") else digits
            for size in (1, 2, 3):
                code = int(international[:size])
                if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                    rest = international[size:]
                    if rest and rest[0] != "0" and 4 <= len(rest) <= 14:
                        return "+" + international
                    break
        else:
            facts = _region_facts(region)
            if facts is not None:
                code, trunk = facts
                if trunk and digits.startswith(trunk):
                    national = digits[len(trunk):]
                elif trunk == "1" and len(digits) == 10 or not trunk:
                    national = digits
                else:
                    national = ""
                if national and national[0] != "0" and 4 <= len(national) <= 14:
                    return f"+{code}{national}"
    return _parse_phone(raw, region)


@lru_cache(maxsize=100_000)
def _parse_phone(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return ""
    if not number.national_number:
        return ""
    return f"+{number.country_code}{number.national_number}"


@lru_cache(maxsize=200_000)
def normalize_company(value: str) -> str:
    """Company name without legal form and punctuation: "ACME GmbH & Co. KG" → ``acme``."""
    text = ascii_fold(_text(value))
    if not text:
        return ""
    text = _SPZOO.sub(" spzoo ", text)
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # S.A. / e.V. / B.V. → sa / ev / bv
    text = re.sub(r"\b([a-z])\.([a-z])\.?", r"\1\2", text)
    tokens = _NON_ALNUM.sub(" ", text).split()
    while len(tokens) > 1 and (tokens[-1] in LEGAL_FORMS or tokens[-1] in _CONNECTORS):
        tokens.pop()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens.pop(0)
    return _shared(" ".join(tokens))


@lru_cache(maxsize=200_000)
def normalize_street(value: str) -> str:
    """Street and house number in one spelling: "Hauptstraße 5 a" and "Hauptstr. 5a" → ``hauptstr 5a``."""
    text = ascii_fold(_text(value))
    if not text:
        return ""
    for pattern, replacement in _STREET_WORDS:
        text = pattern.sub(replacement, text)
    text = " ".join(_NON_ALNUM.sub(" ", text).split())
    return _shared(_HOUSE_NUMBER_LETTER.sub(r"\1\2", text))


@lru_cache(maxsize=200_000)
def street_parts(street: str) -> tuple[str, str]:
    """(street name without spaces, house number) of a normalised street: ``hauptstr 5a`` →
    ("hauptstr", "5a"), ``12 main st`` → ("mainst", "12"). The number is "" when there is none."""
    name, number = [], ""
    for token in street.split():
        if not number and _HOUSE_NUMBER.match(token):
            number = token
        elif not token.isdigit():
            name.append(token)
    return "".join(name), number


@lru_cache(maxsize=100_000)
def normalize_city(value: str) -> str:
    return _shared(" ".join(_NON_ALNUM.sub(" ", ascii_fold(_text(value))).split()))


def normalize_postcode(value: str) -> str:
    return "".join(c for c in _text(value).upper() if c.isalnum())


_DATE_PARTS = re.compile(r"\d+")


@lru_cache(maxsize=100_000)
def normalize_birth_date(value: str) -> str:
    """``YYYYMMDD`` from the usual ways of writing a date ("1980-05-17", "17.05.1980",
    "17/05/1980", "05/17/1980", "19800517"), or "" when it is none. Day and month written
    "a/b" are read day first unless that cannot be (b > 12)."""
    parts = _DATE_PARTS.findall(_text(value))
    if len(parts) == 1 and len(parts[0]) == 8:
        year, month, day = parts[0][:4], parts[0][4:6], parts[0][6:]
    elif len(parts) >= 3:
        if len(parts[0]) == 4:
            year, month, day = parts[0], parts[1], parts[2]
        elif len(parts[2]) == 4:
            day, month, year = parts[0], parts[1], parts[2]
            if int(month) > 12 >= int(day):
                day, month = month, day
        else:
            return ""
    else:
        return ""
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31 and 1800 <= int(year) <= 2200):
        return ""
    return f"{int(year):04d}{int(month):02d}{int(day):02d}"


def normalize_person(record: dict, *, default_region: str = DEFAULT_REGION, key_fields=(), record_id=None,
                     birth_date_field: str = "") -> NormalizedPerson:
    """Normalise one person record (a dict with any of ``KNOWN_FIELDS``, a ``name`` fallback,
    an optional ``source``, the custom identifier fields named in ``key_fields`` and the
    birth date in ``birth_date_field``).

    Missing values become ""; the record's own ``id`` wins over ``record_id``."""
    get = record.get
    first, first_initial, last, last_initial = normalize_names(get("first_name"), get("last_name"), get("name"))
    email, email_generic = normalize_email(get("email"))
    country = normalize_country(get("country"))
    phone = normalize_phone(get("phone"), country or default_region)
    keys = []
    for field in key_fields:
        value = _text(get(field)).lower()
        if value:
            keys.append((field, value))
    identifier = _text(get("id")) or ("" if record_id is None else str(record_id))
    return NormalizedPerson(
        id=identifier, first=first, last=last, first_initial=first_initial, last_initial=last_initial,
        email=email, email_generic=email_generic, phone=phone, company=normalize_company(_text(get("company"))),
        street=normalize_street(_text(get("street"))), postcode=normalize_postcode(get("postcode")),
        city=normalize_city(_text(get("city"))), country=country, keys=tuple(keys), source=_text(get("source")),
        birth_date=normalize_birth_date(_text(get(birth_date_field))) if birth_date_field else "",
    )
