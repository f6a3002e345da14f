"""Synthetic contacts with known truth, for the matcher benchmark and its tests.

People from Germany, Poland, the US and the UK work at companies (sharing an address, a
switchboard number and sometimes an info@ mailbox with their colleagues) or live in
households (sharing a surname, an address, a landline and sometimes a family mailbox).
Some share a full name with a stranger elsewhere. Some appear more than once, the way
imports and manual entry produce duplicates: nicknames, typos, initials ("Jane F"), swapped
names, another email, other phone formats, upper case, stray spaces, missing fields.

    records, truth = generate(2000, seed=1)   # truth[i]: the person behind records[i]
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

FIRST = {
    "DE": ("Thomas Michael Andreas Stefan Christian Peter Frank Markus Klaus Jürgen Wolfgang Martin Tobias Sebastian "
           "Daniel Jan Matthias Alexander Florian Uwe Dieter Holger Ralf Sven Lukas Felix Jonas Niklas Paul Johannes "
           "Heinrich Friedrich Wilhelm Karl Bernd Jörg Torsten Maximilian Moritz Philipp",
           "Sabine Petra Monika Andrea Claudia Susanne Stefanie Nicole Katharina Julia Anna Lena Laura Sarah Christine "
           "Birgit Heike Karin Ursula Renate Elisabeth Margarete Ingrid Jana Paula Hanna Marie Sophie Lea Johanna "
           "Tanja Sandra Melanie Kerstin Silke Anke Jutta Gabriele Daniela Franziska"),
    "PL": ("Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Jakub Adam Łukasz Grzegorz Mateusz Wojciech Mariusz "
           "Dariusz Marek Maciej Kamil Rafał Jan Józef Stanisław Aleksander Szymon Bartosz Przemysław Jacek Sebastian",
           "Anna Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Elżbieta Joanna Aleksandra Monika "
           "Zofia Teresa Danuta Natalia Karolina Marta Beata Dorota Justyna Halina Jadwiga Weronika Patrycja Iwona "
           "Stanisława Janina Urszula"),
    "EN": ("James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony "
           "Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan "
           "Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Benjamin Samuel Patrick Alexander Oliver Harry",
           "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Margaret Betty Sandra "
           "Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah Stephanie Rebecca Sharon Laura "
           "Cynthia Kathleen Amy Angela Shirley Anna Emma Olivia Sophia Charlotte Amelia Jane Catherine Victoria Rachel"),
}
LAST = {
    "DE": ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
           "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause "
           "Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
           "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
           "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto "
           "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn "
           "Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Großmann Ullrich Dörfler Lindemann Brückner"),
    "PL": ("Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski "
           "Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski Grabowski Zając Pawłowski "
           "Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski Olszewski Stępień Malinowski Jaworski Adamczyk "
           "Dudek Nowicki Pawlak Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski "
           "Pietrzak Zalewski Wróblewski Marciniak Jasiński Zawadzki Bąk Jakubowski Sadowski Duda Włodarczyk Wilk "
           "Chmielewski Borkowski Sokołowski Szczepański Sawicki Lis Kucharski Kalinowski Wysocki Mazurek Kubiak"),
    "EN": ("Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin "
           "Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker "
           "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Rogers "
           "Reed Cook Morgan Bell Murphy Bailey Cooper Richardson Cox Howard Ward Peterson Gray James Watson Brooks "
           "Kelly Sanders Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes "
           "Flores Washington Butler Simmons Foster Bryant Russell Griffin Hayes Myers Ford Hamilton Graham Sullivan "
           "Wallace Woods Cole West Jordan Owens Reynolds Fisher Ellis Harrison Gibson Francis Marshall Wells Palmer"),
}
NICKNAMES = {
    "William": ["Bill", "Will", "Billy"], "Robert": ["Bob", "Rob", "Bobby"], "Richard": ["Rick", "Dick"],
    "James": ["Jim", "Jimmy"], "John": ["Jack", "Johnny"], "Michael": ["Mike"], "Thomas": ["Tom", "Tommy"],
    "Joseph": ["Joe"], "Charles": ["Charlie", "Chuck"], "Christopher": ["Chris"], "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"], "Anthony": ["Tony"], "Steven": ["Steve"], "Andrew": ["Andy", "Drew"], "Kenneth": ["Ken"],
    "Timothy": ["Tim"], "Edward": ["Ed", "Eddie"], "Nicholas": ["Nick"], "Jonathan": ["Jon"], "Benjamin": ["Ben"],
    "Samuel": ["Sam"], "Patrick": ["Pat"], "Alexander": ["Alex"], "Elizabeth": ["Liz", "Beth", "Betty"],
    "Patricia": ["Pat", "Patty"], "Jennifer": ["Jen", "Jenny"], "Margaret": ["Maggie", "Peggy"], "Susan": ["Sue"],
    "Jessica": ["Jess"], "Kimberly": ["Kim"], "Deborah": ["Debbie"], "Rebecca": ["Becky"], "Katharina": ["Kathi"],
    "Catherine": ["Kate", "Cathy"], "Victoria": ["Vicky"], "Johannes": ["Hans"], "Friedrich": ["Fritz"],
    "Stefanie": ["Steffi"], "Katarzyna": ["Kasia"], "Małgorzata": ["Gosia"], "Aleksander": ["Olek"],
    "Tomasz": ["Tomek"], "Jakub": ["Kuba"], "Wojciech": ["Wojtek"], "Zofia": ["Zosia"], "Aleksandra": ["Ola"],
    "Barbara": ["Basia"], "Magdalena": ["Magda"], "Maximilian": ["Max"], "Matthias": ["Matze"],
}
CITIES = {
    "DE": [("Berlin", "10115", "30"), ("Hamburg", "20095", "40"), ("München", "80331", "89"), ("Köln", "50667", "221"),
           ("Frankfurt am Main", "60311", "69"), ("Stuttgart", "70173", "711"), ("Düsseldorf", "40213", "211"),
           ("Leipzig", "04109", "341"), ("Dortmund", "44135", "231"), ("Bremen", "28195", "421"),
           ("Dresden", "01067", "351"), ("Hannover", "30159", "511"), ("Nürnberg", "90402", "911")],
    "PL": [("Warszawa", "00-950", "22"), ("Kraków", "30-001", "12"), ("Łódź", "90-001", "42"), ("Wrocław", "50-001", "71"),
           ("Poznań", "60-001", "61"), ("Gdańsk", "80-001", "58"), ("Szczecin", "70-001", "91"), ("Lublin", "20-001", "81")],
    "US": [("New York", "10001", "212"), ("San Francisco", "94103", "415"), ("Chicago", "60601", "312"),
           ("Boston", "02108", "617"), ("Seattle", "98101", "206"), ("Austin", "73301", "512"), ("Denver", "80202", "303")],
    "GB": [("London", "SW1A 1AA", "20"), ("Manchester", "M1 1AE", "161"), ("Birmingham", "B1 1AA", "121"),
           ("Leeds", "LS1 1AA", "113"), ("Bristol", "BS1 1AA", "117")],
}
STREETS = {
    "DE": "Haupt Bahnhof Schiller Goethe Garten Berg Kirch Linden Mozart Schul Wald Ring Park Rosen Birken Eichen Feld Dorf Mühlen Post Markt Friedhof Tal Sonnen Am-Hang".split(),
    "PL": "Długa Krótka Polna Leśna Słoneczna Ogrodowa Lipowa Mickiewicza Kościuszki Sienkiewicza Piłsudskiego Szkolna Kwiatowa Parkowa Wiejska".split(),
    "US": "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Sunset Lincoln Jackson River Church".split(),
    "GB": "High Station Church Victoria Green Manor Park Queen's King's Mill School Kings Albert".split(),
}
# Surnames beyond the common ones are built from parts, to give the long tail real data has.
SURNAME_PARTS = {
    "DE": ("Acker Adler Bach Baum Blum Brand Eich Eisen Feld Fried Gold Grün Hart Hein Hirsch Hof Holz Kessel Kirch "
           "Lichten Lind Mittel Neu Ober Ried Rosen Salz Schön Stein Stroh Wald Wein Wester Wies Wolf Zeller",
           "bach berg brand bauer feld hofer mann meier müller reiter schmidt stätter thaler wald wein"),
    "PL": ("Bor Brzez Chmiel Dąb Gór Grab Jabłon Kali Kowal Krzyw Las Lip Mal Nowo Olsz Pol Rud Sad Sos Star Wierzb "
           "Wol Zaw Zielin Żab Koz Wil Sob Ryb Głow",
           "owski ewski ski cki czyk iak ak ek ik owicz ewicz niak"),
    "EN": ("Ash Black Brad Brook Clay Crane Dal Fair Fox Glen Green Hart Hay Kings Lang Mill Moor New North Oak "
           "Pem Red Rock Shel Stan Stock Thorn Water Wes White Wood Wyn",
           "ton ford ley field well wood worth by son ham ridge more land bury stone"),
}
COMPANY_WORDS = ("Acme Nord Süd Alpha Beta Delta Omega Vector Nova Terra Aqua Solar Blue Green Red Silver Gold Prime "
                 "Apex Vertex Nexus Orbit Pixel Quantum Rapid Smart Swift Titan Unity Vista Zenit Kappa Orion Atlas "
                 "Falcon Phoenix Polar Baltic Rhein Elbe Wisła Oder Hansa Bavaria Saxonia Mazovia Silesia Thames "
                 "Hudson Pacific Summit Harbor Pioneer Liberty Crown Royal Anchor").split()
COMPANY_KINDS = {"DE": ["Logistik", "Software", "Bau", "Technik", "Consulting", "Handel", "Medien", "Energie"],
                 "PL": ["Logistyka", "Systemy", "Budownictwo", "Technika", "Handel", "Media", "Energia"],
                 "US": ["Logistics", "Software", "Systems", "Consulting", "Industries", "Media", "Energy"],
                 "GB": ["Logistics", "Software", "Systems", "Consulting", "Trading", "Media", "Energy"]}
LEGAL = {"DE": ["GmbH", "AG", "GmbH & Co. KG", "KG", "SE"], "PL": ["Sp. z o.o.", "S.A.", "sp. z o.o."],
         "US": ["Inc.", "LLC", "Corp.", "Inc"], "GB": ["Ltd", "Ltd.", "PLC", "Limited"]}
PROVIDERS = {"DE": ["web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de"], "PL": ["wp.pl", "onet.pl", "o2.pl", "gmail.com", "interia.pl"],
             "US": ["gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com"], "GB": ["gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com"]}
COUNTRY_CODES = {"DE": "49", "PL": "48", "US": "1", "GB": "44"}
COUNTRY_NAMES = {"DE": ["DE", "Germany", "Deutschland"], "PL": ["PL", "Poland", "Polska"], "US": ["US", "USA", "United States"],
                 "GB": ["GB", "UK", "United Kingdom"]}
SOURCES = ["salesforce:Lead", "salesforce:Contact", "hubspot:contacts", "import:csv"]
KEYBOARD_NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqeryutoipsadgfhkjlxzvcnbm"))
_ASCII = str.maketrans("äöüßąćęłńóśźżÄÖÜĄĆĘŁŃÓŚŹŻ", "aousacelnoszzAOUACELNOSZZ")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


@dataclass
class Company:
    name: str
    legal: str
    domain: str
    country: str
    address: tuple
    switchboard: str


@dataclass
class Person:
    first: str
    last: str
    email: str
    phone: str
    country: str
    company: Company | None
    address: tuple  # (street, city, postcode)


def _name_pool(country: str):
    return "EN" if country in ("US", "GB") else country


def _ascii(value: str) -> str:
    return value.translate(_ASCII)


def _slug(value: str) -> str:
    return "".join(c for c in _ascii(value.translate(_GERMAN)).lower() if c.isalnum())


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.first = {k: (v[0].split(), v[1].split()) for k, v in FIRST.items()}
        self.last = {k: v.split() for k, v in LAST.items()}
        self.tail = {k: [a + b for a in v[0].split() for b in v[1].split()] for k, v in SURNAME_PARTS.items()}
        self.taken: set[tuple[str, str]] = set()

    def choice_zipf(self, items):
        # Names are not equally common: the first entries come up far more often.
        rng = self.rng
        return items[min(int(len(items) * rng.random() ** 1.4), len(items) - 1)]

    def country(self):
        return self.rng.choices(["DE", "PL", "US", "GB"], [50, 25, 15, 10])[0]

    def address(self, country):
        rng = self.rng
        city, postcode, area = rng.choice(CITIES[country])
        stem = rng.choice(STREETS[country])
        number = f"{rng.randint(1, 180)}{rng.choice(['', '', '', '', 'a', 'b'])}"
        if country == "DE":
            street = f"{stem}{rng.choice(['straße', 'straße', 'weg', 'allee'])} {number}" if stem != "Am-Hang" else f"Am Hang {number}"
        elif country == "PL":
            street = f"ul. {stem} {number}"
        else:
            street = f"{number} {stem} {rng.choice(['Street', 'Road', 'Avenue', 'Lane'])}"
        return street, city, postcode, area

    def phone(self, country, area=None, mobile=False):
        rng = self.rng
        if country == "US":
            return "+1" + (area or rng.choice(["212", "415", "312"])) + str(rng.randint(2000000, 9999999))
        if mobile:
            prefix = {"DE": rng.choice(["151", "160", "170", "176"]), "PL": rng.choice(["501", "602", "783"]), "GB": "7" + str(rng.randint(400, 999))}[country]
            return "+" + COUNTRY_CODES[country] + prefix + str(rng.randint(1000000, 9999999))
        return "+" + COUNTRY_CODES[country] + area + str(rng.randint(1000000, 9999999))[: 10 - len(area)]

    def company(self):
        rng = self.rng
        country = self.country()
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS[country])}"
        street, city, postcode, area = self.address(country)
        domain = _slug(name.split()[0]) + _slug(name.split()[1])[:4] + rng.choice([".de", ".com", ".pl", ".co.uk", ".eu"])
        return Company(name, rng.choice(LEGAL[country]), domain, country, (street, city, postcode), self.phone(country, area))

    def given_name(self, country, gender=None):
        pools = self.first[_name_pool(country)]
        gender = self.rng.randrange(2) if gender is None else gender
        return self.choice_zipf(pools[gender])

    def surname(self, country):
        pool = _name_pool(country)
        last = self.choice_zipf(self.last[pool]) if self.rng.random() < 0.6 else self.rng.choice(self.tail[pool])
        if country == "PL" and last.endswith("ski") and self.rng.random() < 0.5:
            last = last[:-1] + "a"  # the feminine form
        return last

    def email_for(self, first, last, domain):
        rng = self.rng
        f, l = _slug(first), _slug(last)
        local = rng.choice([f"{f}.{l}", f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l}", f"{f}_{l}", f"{l}.{f}"])
        if domain in sum(PROVIDERS.values(), []) and rng.random() < 0.5:
            local += str(rng.randint(1, 99))
        # A mailbox has one owner: an address already given to someone (another Thomas Müller)
        # is offered with a number added, as providers and mail admins do. Shared mailboxes
        # (info@, a family's) are handed out on purpose elsewhere.
        stem = local
        while self._own_key(local, domain) in self.taken:
            local = f"{stem}{rng.randint(1, 999)}"
        self.taken.add(self._own_key(local, domain))
        return f"{local}@{domain}"

    @staticmethod
    def _own_key(local: str, domain: str) -> tuple[str, str]:
        return (local.replace(".", "") if domain == "gmail.com" else local), domain


def _typo(rng, value: str) -> str:
    if len(value) < 3:
        return value
    i = rng.randrange(1, len(value)) if rng.random() < 0.9 else 0
    kind = rng.randrange(4)
    c = value[i]
    if kind == 0:
        return value[:i] + KEYBOARD_NEIGHBOURS.get(c.lower(), c) + value[i + 1:]
    if kind == 1 and len(value) > 3:
        return value[:i] + value[i + 1:]
    if kind == 2:
        return value[:i] + c + value[i:]
    if i + 1 < len(value):
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    return value[:i] + value[i:] + value[-1]


def format_phone(rng, e164: str, country: str, *, national_ok: bool) -> str:
    code = COUNTRY_CODES[country]
    nsn = e164[1 + len(code):]
    if country == "US":
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        styles = [f"+1 {a} {b} {c}", f"+1-{a}-{b}-{c}"] + ([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"1-{a}-{b}-{c}", f"{a}.{b}.{c}"] if national_ok else [])
    else:
        split = 2 if country == "PL" else (3 if nsn[0] in "17" else len(nsn) - 7)
        area, rest = nsn[:split], nsn[split:]
        spaced = " ".join(rest[i:i + 2] for i in range(0, len(rest), 2))
        styles = [f"+{code} {area} {rest}", f"00{code} {area} {rest}", f"+{code}{nsn}", f"+{code} {area} {spaced}"]
        if country in ("DE", "GB"):
            styles.append(f"+{code} (0){area} {rest}")
        if national_ok:
            trunk = "" if country == "PL" else "0"
            styles += [f"{trunk}{area} {rest}", f"({trunk}{area}) {spaced}", f"{trunk}{area}/{rest}", f"{trunk}{area}-{rest}"]
    return rng.choice(styles)


def _vary_street(rng, street: str) -> str:
    options = [street, street.upper(), street.lower()]
    if "straße" in street:
        options += [street.replace("straße", "str."), street.replace("straße", "strasse"), street.replace("straße", "str. ").replace("  ", " ")]
    if street.startswith("ul. "):
        options += [street[4:], _ascii(street), "ul." + street[4:]]
    for long, short in (("Street", "St."), ("Road", "Rd"), ("Avenue", "Ave"), ("Street", "St")):
        if long in street:
            options.append(street.replace(long, short))
    return rng.choice(options)


class Dataset:
    def __init__(self):
        self.records: list[dict] = []
        self.truth: list[int] = []
        self.kind: list[str] = []


def generate(n: int, *, seed: int = 0, duplicate_share: float = 0.3, no_contact_share: float = 0.0) -> tuple[list[dict], list[int]]:
    """``n`` contact records and, for each, the id of the person behind it."""
    data = generate_dataset(n, seed=seed, duplicate_share=duplicate_share, no_contact_share=no_contact_share)
    return data.records, data.truth


def generate_dataset(n: int, *, seed: int = 0, duplicate_share: float = 0.3, no_contact_share: float = 0.0) -> Dataset:
    """``no_contact_share``: the share of people known without email or phone (trade-show
    leads, imports from systems that keep neither); their records are told apart by name,
    company and address alone."""
    g = Generator(seed)
    rng = g.rng
    companies = [g.company() for _ in range(max(3, n // 30))]
    data = Dataset()
    people: list[Person] = []

    def emit(person: Person, entity: int, kind: str):
        if no_contact_share and rng.random() < no_contact_share:
            person = replace(person, email="", phone="")
        for record in _records_for(g, person, duplicate_share):
            record["id"] = f"R{len(data.records) + 1}"
            data.records.append(record)
            data.truth.append(entity)
            data.kind.append(kind)

    while len(data.records) < n:
        roll = rng.random()
        if roll < 0.45:
            company = rng.choice(companies)
            country = company.country if rng.random() < 0.85 else g.country()
            first, last = g.given_name(country), g.surname(country)
            street, city, postcode = company.address
            r = rng.random()
            if r < 0.45:
                phone = company.switchboard[:-3] + str(rng.randint(100, 999))  # a direct line
            elif r < 0.75:
                phone = company.switchboard
            else:
                phone = g.phone(company.country, mobile=True)
            email = f"info@{company.domain}" if rng.random() < 0.06 else g.email_for(first, last, company.domain)
            person = Person(first, last, email, phone, company.country, company, (street, city, postcode))
            emit(person, len(people), "colleague")
            people.append(person)
        elif roll < 0.93:
            country = g.country()
            last = g.surname(country)
            street, city, postcode, area = g.address(country)
            size = rng.choices([1, 2, 3, 4], [55, 30, 10, 5])[0]
            landline = g.phone(country, area)
            family_mail = None
            if size > 1 and rng.random() < 0.35:
                slug = _slug(last)
                family_mail = rng.choice([f"familie.{slug}", f"{slug}s", f"{slug}.family", f"the{slug}s", f"{slug}.home"]) + "@" + rng.choice(PROVIDERS[country])
            used = set()
            for _ in range(size):
                first = g.given_name(country)
                while first in used:
                    first = g.given_name(country)
                used.add(first)
                member_last = last
                if country == "PL" and last.endswith(("ski", "ska")):
                    member_last = last[:-1] + rng.choice("ia")
                phone = landline if size > 1 and rng.random() < 0.6 else g.phone(country, mobile=True)
                email = family_mail if family_mail and rng.random() < 0.6 else g.email_for(first, member_last, rng.choice(PROVIDERS[country]))
                person = Person(first, member_last, email, phone, country, None, (street, city, postcode))
                emit(person, len(people), "household" if size > 1 else "private")
                people.append(person)
        else:
            # A namesake: someone else's full name, nothing else in common.
            model = rng.choice(people) if people else None
            country = g.country()
            street, city, postcode, area = g.address(country)
            first = model.first if model else g.given_name(country)
            last = model.last if model else g.surname(country)
            email = g.email_for(first, last, rng.choice(PROVIDERS[country]))
            person = Person(first, last, email, g.phone(country, mobile=True), country, None, (street, city, postcode))
            emit(person, len(people), "namesake")
            people.append(person)
    del data.records[n:], data.truth[n:], data.kind[n:]
    return data


def _base_record(g: Generator, p: Person) -> dict:
    street, city, postcode = p.address
    return {"first_name": p.first, "last_name": p.last, "email": p.email,
            "phone": format_phone(g.rng, p.phone, p.country, national_ok=True) if p.phone else "", "company": f"{p.company.name} {p.company.legal}" if p.company else "",
            "street": street, "city": city, "postcode": postcode, "country": COUNTRY_NAMES[p.country][0], "source": g.rng.choice(SOURCES)}


def _records_for(g: Generator, p: Person, duplicate_share: float) -> list[dict]:
    rng = g.rng
    records = [_base_record(g, p)]
    if rng.random() < duplicate_share:
        copies = rng.choices([1, 2, 3], [75, 20, 5])[0]
        records += [_duplicate(g, p) for _ in range(copies)]
    return records


def _duplicate(g: Generator, p: Person) -> dict:
    """Another record of the same person, as a different import or a colleague's typing would give it."""
    rng = g.rng
    first, last = p.first, p.last
    street, city, postcode = p.address
    if first in NICKNAMES and rng.random() < 0.35:
        first = rng.choice(NICKNAMES[first])
    if rng.random() < 0.25:
        first = _ascii(first.translate(_GERMAN)) if rng.random() < 0.5 else _ascii(first)
        last = _ascii(last.translate(_GERMAN)) if rng.random() < 0.5 else _ascii(last)
    r = rng.random()
    if r < 0.12:
        first = _typo(rng, first)
    elif r < 0.24:
        last = _typo(rng, last)
    elif r < 0.30:
        first = first[0] + "."
    elif r < 0.38:
        last = last[0]  # "Jane F"
    elif r < 0.42:
        first, last = last, first
    if rng.random() < 0.04:
        first = rng.choice(["Dr. ", "Prof. ", "Mr. ", "Frau "]) + first
    # What identifies the person besides the name: the dup keeps at least one of those the
    # person has (someone without a company, or known without email and phone, keeps one of
    # the others).
    held = [name for name, has in (("email", p.email), ("phone", p.phone), ("company", p.company), ("address", True)) if has]
    keep = set(rng.sample(held, min(len(held), rng.choice([1, 2, 2, 3, 3, 4]))))
    email = p.email
    if "email" not in keep and p.email:
        roll = rng.random()
        if roll < 0.5:
            email = g.email_for(p.first, p.last, rng.choice(PROVIDERS[p.country]))
        elif roll < 0.7 and p.company:
            email = g.email_for(p.first, p.last, p.company.domain)
        else:
            email = ""
    elif email.endswith("@gmail.com") and rng.random() < 0.4:
        local = email.split("@")[0]
        email = (local.replace(".", "") if "." in local else local[:2] + "." + local[2:]) + rng.choice(["", "+crm"]) + "@gmail.com"
    elif rng.random() < 0.2:
        email = email.upper() if rng.random() < 0.5 else "  " + email
    has_country = rng.random() < 0.8
    phone = p.phone
    if "phone" not in keep and p.phone:
        phone = g.phone(p.country, mobile=True) if rng.random() < 0.4 else ""
    phone_text = format_phone(rng, phone, p.country, national_ok=has_country) if phone else ""
    if phone_text and p.company and rng.random() < 0.1:
        phone_text += rng.choice([" ext. 12", " x305", " Durchwahl 17"])
    company = ""
    if p.company and ("company" in keep or rng.random() < 0.3):
        name = p.company.name
        company = rng.choice([f"{name} {p.company.legal}", name, name.upper(), f"{name} {rng.choice(LEGAL[p.company.country])}", f"{name}, {p.company.legal}"])
    if "address" in keep:
        street = _vary_street(rng, street)
        postcode = postcode.replace("-", "") if rng.random() < 0.3 else postcode
        city = city.upper() if rng.random() < 0.2 else city
    elif rng.random() < 0.15:
        street, city, postcode, _ = g.address(p.country)  # moved house
    else:
        street, postcode = "", ""
        city = city if rng.random() < 0.5 else ""
    record = {"first_name": first, "last_name": last, "email": email, "phone": phone_text, "company": company,
              "street": street, "city": city, "postcode": postcode,
              "country": rng.choice(COUNTRY_NAMES[p.country]) if has_country else "", "source": rng.choice(SOURCES)}
    if rng.random() < 0.15:
        record["first_name"], record["last_name"] = record["first_name"].upper(), record["last_name"].upper()
    if rng.random() < 0.1:
        record["first_name"] = " " + record["first_name"] + "  "
        record["last_name"] = record["last_name"].replace(" ", "  ") + " "
    return record


def true_pairs(truth: list[int]) -> set[tuple[int, int]]:
    """Position pairs (i < j) of records of the same person."""
    by_entity: dict[int, list[int]] = {}
    for position, entity in enumerate(truth):
        by_entity.setdefault(entity, []).append(position)
    return {(a, b) for members in by_entity.values() for i, a in enumerate(members) for b in members[i + 1:]}
