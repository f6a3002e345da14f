"""How alike two normalised people are: a score from 0 to 1 and the evidence behind it.

Each field comparison lands on a named level (exact, nickname, typo, differs …) that carries a
log-odds weight; the weights add up from a prior and a logistic curve turns the sum into the
score. The weights encode what sales ops know about false friends: a shared phone, address,
surname or family mailbox is what households and colleagues have in common too, so a first
name that is clearly another person's outweighs all of them together, while a different
email address counts for little (people have several).

Given the population's counts (``dedupe.frequencies``), a shared name counts for more when
it is rare and for less when it is common, and an email address many records carry for less
than one person's own; the group page shows this as ``name_frequency``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from dedupe.frequencies import NameFrequencies
from dedupe.normalize import KNOWN_FIELDS, NormalizedPerson, is_given_name, name_family, name_forms, street_parts

EXACT, PARTIAL, TYPO, INITIAL, SWAPPED = "exact", "partial", "typo", "initial", "swapped"
SIMILAR, DIFFERS, SHARED, SAME_CITY, OTHER_CITY = "similar", "differs", "shared mailbox", "same city", "other city"
OTHER_HOUSE = "other house number"
NEAR = "typo apart"
LOCAL_PART, NAME_MAILBOX = "same mailbox name", "same name as mailbox"
COMMON_ADDRESS = "address many records share"

PRIOR = -4.0
# (level, similarity) → log-odds weight, per field. Tuned on the synthetic benchmark's hard cases.
FIRST_NAME = {EXACT: 2.5, "nickname:direct": 2.0, "nickname:loose": 1.2, "nickname:typo": 1.0, PARTIAL: 1.5,
              TYPO: 1.5, INITIAL: 0.5, SWAPPED: 2.0, SIMILAR: -5.0, DIFFERS: -16.0}
LAST_NAME = {EXACT: 3.5, PARTIAL: 2.0, TYPO: 2.0, INITIAL: 0.5, SWAPPED: 3.0, SIMILAR: -3.0, DIFFERS: -8.0}
EMAIL = {EXACT: 5.0, COMMON_ADDRESS: 5.0, SHARED: 0.5, LOCAL_PART: 2.0, NAME_MAILBOX: 0.5, DIFFERS: -0.5}
EMAIL_NOT_KEY = {EXACT: 2.5, COMMON_ADDRESS: 2.5, SHARED: 0.3, LOCAL_PART: 1.5, NAME_MAILBOX: 0.3, DIFFERS: -0.3}
PHONE = {EXACT: 4.0, DIFFERS: -1.0}
COMPANY = {EXACT: 1.5, SIMILAR: 1.0, DIFFERS: -0.5}
ADDRESS = {EXACT: 2.0, SIMILAR: 1.5, SAME_CITY: 1.5, DIFFERS: -1.5, OTHER_HOUSE: -2.5, OTHER_CITY: -3.0}
CUSTOM_KEY = {EXACT: 8.0, DIFFERS: -8.0}
# A birth date a typo away (day and month swapped, one digit wrong or two swapped) is nearly
# as good as the same one; any other date is another person's.
BIRTH_DATE = {EXACT: 4.0, NEAR: 2.0, DIFFERS: -6.0}
# Two people with the same name and nothing else in common are namesakes until shown otherwise.
NOTHING_BUT_THE_NAME = -3.0

# Term-frequency adjustment (see dedupe/frequencies.py). A shared first name counts by its
# share of the population, a shared surname by how many records carry it: the more people
# there are, the more namesakes a surname has, so a large population asks for more than a
# shared name. The references sit near the median record's at 100k synthetic contacts, where
# the weights above were tuned (first-name share 0.005; surname count about 110, the
# reference set where a shared name with nothing else turns from evidence against to for); a
# small population is shrunk towards them (FREQUENCY_PRIOR records' worth), so a handful of
# records does not make every name look rare or common.
FIRST_NAME_SHARE_REF = 0.005
SURNAME_COUNT_REF = 170.0
FREQUENCY_PRIOR = 200
FIRST_NAME_FREQUENCY_WEIGHT = 0.5
SURNAME_FREQUENCY_WEIGHT = 0.8
FREQUENCY_DOWN, FREQUENCY_UP = -2.5, 3.0
# An email address carried by this many records or fewer is one person's (one person is often
# in a CRM three or four times, by import, form and hand); beyond, its weight
# drops by EMAIL_SHARED_STEP × ln(records − 1), down to the floor.
EMAIL_OWN_COUNT = 4
EMAIL_SHARED_STEP = 1.0
EMAIL_SHARED_FLOOR = 0.5


@dataclass(frozen=True)
class MatchRules:
    """Which fields decide that two records are one person, and how much each one counts.

    ``exact_keys``: fields that identify a person on their own when equal (email, and custom
    identifiers such as ``customer_id``; for those a different value also counts strongly
    against). ``birth_date``: the field holding a birth date, if any (equal or a typo apart
    counts for, any other date strongly against). ``fuzzy_fields``: which of name, phone,
    company, address to compare.
    ``weights``: a multiplier per field (first_name, last_name, email, phone, company, address
    or a custom key) on the built-in weights. Pairs scoring at least ``threshold`` are
    duplicates. ``max_block``: how many records sharing one blocking key (a switchboard phone,
    a very common name) are compared with each other before the key stops being used."""

    exact_keys: tuple[str, ...] = ("email",)
    fuzzy_fields: tuple[str, ...] = ("name", "phone", "company", "address")
    threshold: float = 0.5
    weights: dict = field(default_factory=dict)
    default_region: str = "DE"
    max_block: int = 50
    birth_date: str = ""

    def __post_init__(self):
        if not 0 < self.threshold < 1:
            raise ValueError("threshold must lie between 0 and 1")
        if self.max_block < 2:
            raise ValueError("max_block must be at least 2")
        unknown = set(self.fuzzy_fields) - {"name", "phone", "company", "address", "email"}
        if unknown:
            raise ValueError(f"unknown fuzzy fields: {', '.join(sorted(unknown))}")

    @property
    def custom_keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.exact_keys if k not in KNOWN_FIELDS)

    @property
    def threshold_logit(self) -> float:
        return math.log(self.threshold / (1 - self.threshold))


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two records, how likely they are one person (0–1), and per field ``(level, similarity)``,
    e.g. ``{"email": ("exact", 1.0), "first_name": ("nickname", 0.9), "phone": ("differs", 0.0)}``.
    Fields missing on either side are left out."""

    a_id: str
    b_id: str
    score: float
    evidence: dict
    a_source: str = ""
    b_source: str = ""
    # Per field, what it added to (or took from) the log-odds the score is made of, starting
    # from PRIOR; a name's rarity is counted with the name.
    counted: dict = field(default_factory=dict)


def probability(logit: float) -> float:
    if logit < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-logit))


@lru_cache(maxsize=100_000)
def _gender_pair(a: str, b: str) -> bool:
    """Paul/Paula, Jan/Jana, Christian/Christiane, Stanislaw/Stanislawa, Stefan/Stefanie,
    Andrea/Andreas: two people, not a typo."""
    short, long = (a, b) if len(a) < len(b) else (b, a)
    ending = long[len(short):]
    # Anna/Annaa and Nicol/Nicole are a letter typed twice or lost, not a second name.
    if not long.startswith(short) or not (is_given_name(short) or is_given_name(long)) or ending == short[-1]:
        return False
    return ending in ("a", "e", "ie", "ina", "ine", "o") or ending == "s" and short[-1] in "ae" and is_given_name(long)


@lru_cache(maxsize=200_000)
def first_name_level(fa: str, fb: str, a_initial: bool, b_initial: bool) -> tuple[str, float]:
    """How two first names relate: exact, nickname (Bill/William), typo, initial (J./Jane),
    partial (Hans-Peter/Hans), similar or differs."""
    if fa == fb:
        return (INITIAL, 0.6) if a_initial and b_initial else (EXACT, 1.0)
    if a_initial or b_initial:
        if a_initial and b_initial:
            return DIFFERS, 0.0
        initial, name = (fa, fb) if a_initial else (fb, fa)
        if name[0] == initial:
            return INITIAL, 0.6
        # "W. Oakton" for Billy Oakton: the initial of the full name a nickname stands for.
        token = name.partition(" ")[0]
        return (INITIAL, 0.5) if any(form[0] == initial for form in name_family(token)) else (DIFFERS, 0.0)
    ta, tb = fa.partition(" ")[0], fb.partition(" ")[0]
    if ta == tb:
        return PARTIAL, 0.9
    forms_a, forms_b = name_forms(ta), name_forms(tb)
    if ta in forms_b or tb in forms_a:
        return "nickname:direct", 0.9
    if _gender_pair(ta, tb):
        return DIFFERS, 0.0
    similarity = JaroWinkler.normalized_similarity(ta, tb)
    short, long = (ta, tb) if len(ta) < len(tb) else (tb, ta)
    # Jen/Jenny, Alex/Alexander, Max/Maximilian: a clipped name is the commonest short form.
    if forms_a & forms_b or len(short) >= 3 and long.startswith(short):
        return "nickname:loose", max(0.8, similarity)
    distance = OSA.distance(ta, tb, score_cutoff=2)
    known_a, known_b = is_given_name(ta), is_given_name(tb)
    if distance <= 1 or (distance == 2 and similarity >= 0.92 and min(len(ta), len(tb)) >= 7):
        # A letter swapped for another, or added in front, turning one real name into another
        # is another name (Maria/Marta, Anna/Hanna), not a typo; a letter lost at the end
        # (Lisa/Lis) usually is one.
        if (len(ta) == len(tb) or ta[0] != tb[0]) and known_a and known_b:
            return DIFFERS, similarity
        return TYPO, similarity
    if distance == 2 and not (known_a or known_b) and min(len(ta), len(tb)) >= 5:
        # Two misspellings of one name (Thoma/Thoams): neither is anybody's name.
        return TYPO, similarity
    # A misspelt nickname (Bobbby, Tomm for Thomas): a word that is nobody's name, a typo away
    # from a name of the other's nickname family.
    if not known_a and _typo_of_family(ta, tb) or not known_b and _typo_of_family(tb, ta):
        return "nickname:typo", max(0.7, similarity)
    if similarity >= 0.85:
        return SIMILAR, similarity
    return DIFFERS, similarity


def _typo_of_family(typed: str, name: str) -> bool:
    return len(typed) >= 3 and any(len(form) >= 3 and OSA.distance(typed, form, score_cutoff=1) <= 1
                                   for form in name_family(name))


@lru_cache(maxsize=200_000)
def last_name_level(la: str, lb: str, a_initial: bool, b_initial: bool) -> tuple[str, float]:
    if la == lb:
        return (INITIAL, 0.6) if a_initial and b_initial else (EXACT, 1.0)
    if a_initial or b_initial:
        if a_initial and b_initial:
            return DIFFERS, 0.0
        initial, name = (la, lb) if a_initial else (lb, la)
        return (INITIAL, 0.6) if name[0] == initial else (DIFFERS, 0.0)
    if " " in la or " " in lb:
        tokens_a, tokens_b = set(la.split()), set(lb.split())
        if tokens_a <= tokens_b or tokens_b <= tokens_a:
            return PARTIAL, 0.85
    similarity = JaroWinkler.normalized_similarity(la, lb)
    distance = OSA.distance(la, lb, score_cutoff=2)
    if distance <= 1 or (distance == 2 and similarity >= 0.92 and min(len(la), len(lb)) >= 7):
        return TYPO, similarity
    if similarity >= 0.85:
        return SIMILAR, similarity
    return DIFFERS, similarity


def swapped_levels(a: NormalizedPerson, b: NormalizedPerson) -> tuple[str, float, str, float] | None:
    """(given-name level, similarity, surname level, similarity) of ``a`` and ``b`` read with
    one side's given name and surname swapped ("Albrecht Kathi" for Katharina Albrecht,
    "Gross Birgit" for Birgit G.), or None when that reading does not agree either. Of the
    two readings (either side swapped) the more telling one counts."""
    if not (a.first and a.last and b.first and b.last):
        return None
    best, best_weight = None, 0.0
    for x, y in ((a, b), (b, a)):
        # y is the swapped side: its surname column holds the given name.
        given = first_name_level(x.first, y.last, x.first_initial, y.last_initial)
        family = last_name_level(x.last, y.first, x.last_initial, y.first_initial)
        if (given[0] in _FIRST_AGREES or given[0] == INITIAL) and (family[0] in _LAST_AGREES or family[0] == INITIAL) \
                and not given[0] == family[0] == INITIAL:
            weight = FIRST_NAME[given[0]] + LAST_NAME[family[0]]
            if weight > best_weight:
                best, best_weight = (*given, *family), weight
    return best


def _swapped_words(level: str) -> str:
    level = level.partition(":")[0]
    return SWAPPED if level == EXACT else f"{SWAPPED}, {level}"


def _local(email: str) -> str:
    return email.partition("@")[0].replace(".", "").replace("_", "").replace("-", "")


class Scorer:
    """Compares normalised people under one set of ``MatchRules``."""

    def __init__(self, rules: MatchRules, frequencies: NameFrequencies | None = None):
        """``frequencies``: name and email counts of the population being matched; without
        them every name and address counts the same (no term-frequency adjustment)."""
        self.rules = rules
        self.frequencies = frequencies
        self._counted = -1
        self._first_values: dict[str, float] = {}
        self._last_values: dict[str, float] = {}
        multiplier = rules.weights.get
        fuzzy = set(rules.fuzzy_fields)

        def table(name, weights, enabled=True):
            factor = multiplier(name, 1.0) if enabled else 0.0
            return {level: w * factor for level, w in weights.items()}

        self.use_name = "name" in fuzzy
        self.first = table("first_name", FIRST_NAME, self.use_name)
        self.last = table("last_name", LAST_NAME, self.use_name)
        email_is_key = "email" in rules.exact_keys
        self.use_email = email_is_key or "email" in fuzzy
        self.email = table("email", EMAIL if email_is_key else EMAIL_NOT_KEY, self.use_email)
        self.use_phone = "phone" in fuzzy or "phone" in rules.exact_keys
        self.phone = table("phone", PHONE, self.use_phone)
        self.use_company = "company" in fuzzy
        self.company = table("company", COMPANY, self.use_company)
        self.use_address = "address" in fuzzy
        self.address = table("address", ADDRESS, self.use_address)
        self.custom = {key: table(key, CUSTOM_KEY) for key in rules.custom_keys}
        self.birth = table("birth_date", BIRTH_DATE, bool(rules.birth_date))
        self.threshold_logit = rules.threshold_logit
        # The most the fields after the first name can add: lets a pair whose first names
        # already rule it out stop early.
        self.best_after_last = (max(self.email.values(), default=0) + max(self.phone.values(), default=0)
                                + max(self.company.values(), default=0) + max(self.address.values(), default=0)
                                + sum(max(t.values()) for t in self.custom.values()) + max(self.birth.values())
                                + (2 * FREQUENCY_UP if frequencies is not None and self.use_name else 0.0))
        self.best_rest = max(self.last.values(), default=0) + self.best_after_last

    def logit(self, a: NormalizedPerson, b: NormalizedPerson, evidence: dict | None = None,
              counted: dict | None = None) -> float:
        """Log-odds that ``a`` and ``b`` are one person; fills ``evidence`` when given one, and
        ``counted`` (with ``evidence``) with what each field added to the log-odds."""
        if evidence is not None and counted is None:
            counted = {}
        if self.frequencies is not None:
            self._fresh()
        total = PRIOR
        corroborated = False
        names_only = True
        first_level = last_level = None
        if self.use_name:
            if a.first and b.first:
                first_level, first_sim = first_name_level(a.first, b.first, a.first_initial, b.first_initial)
            if a.last and b.last:
                last_level, last_sim = last_name_level(a.last, b.last, a.last_initial, b.last_initial)
            first_weight = self.first.get(first_level, 0.0)
            last_weight = self.last.get(last_level, 0.0)
            swapped = None
            if first_level in (DIFFERS, SIMILAR) and last_level not in _LAST_AGREES:
                swapped = swapped_levels(a, b)
            if swapped:
                # Read with one side's given name and surname swapped, a little less sure than
                # the same names in their places.
                given, first_sim, family, last_sim = swapped
                first_weight = self.first[given] * FIRST_NAME[SWAPPED] / FIRST_NAME[EXACT]
                last_weight = self.last[family] * LAST_NAME[SWAPPED] / LAST_NAME[EXACT]
                first_level = last_level = SWAPPED
            if first_level is not None:
                total += first_weight
                if evidence is None and total + self.best_rest < self.threshold_logit:
                    return total + self.best_rest
                if evidence is not None:
                    how = first_level.partition(":")[0] if not swapped else _swapped_words(given)
                    evidence["first_name"] = (how, round(first_sim, 3))
                    counted["first_name"] = first_weight
            if last_level is not None:
                total += last_weight
                if evidence is None and total + self.best_after_last < self.threshold_logit:
                    return total + self.best_after_last
                if evidence is not None:
                    evidence["last_name"] = (last_level if not swapped else _swapped_words(family), round(last_sim, 3))
                    counted["last_name"] = last_weight
        if self.use_email and a.email and b.email:
            email_adjustment = 0.0
            if a.email == b.email:
                level = SHARED if a.email_generic or b.email_generic else EXACT
                sim = 1.0
                if level == EXACT and self.frequencies is not None:
                    email_adjustment = self._email_adjustment(a.email)
                    # A mailbox has one owner, whatever name it is made of ("thomas.mueller@"
                    # is one Thomas Müller's); only an address many records carry (a
                    # placeholder, a shared inbox) counts for less.
                    if email_adjustment:
                        level = COMMON_ADDRESS
                corroborated |= level == EXACT
            elif not (a.email_generic or b.email_generic) and len(la := _local(a.email)) >= 5 and la == _local(b.email):
                # "jane.francis@" at two providers is what every Jane Francis would pick; a
                # mailbox name that is not made of the name says more.
                if _made_of_name(la, a) or _made_of_name(la, b):
                    level, sim = NAME_MAILBOX, 0.6
                else:
                    level, sim, corroborated = LOCAL_PART, 0.8, True
            else:
                level, sim = DIFFERS, 0.0
            total += self.email[level] + email_adjustment
            names_only = False
            if evidence is not None:
                evidence["email"] = (level, sim)
                counted["email"] = self.email[level] + email_adjustment
        if self.use_phone and a.phone and b.phone:
            level = EXACT if a.phone == b.phone else DIFFERS
            corroborated |= level == EXACT
            total += self.phone[level]
            names_only = False
            if evidence is not None:
                evidence["phone"] = (level, 1.0 if level == EXACT else 0.0)
                counted["phone"] = self.phone[level]
        for key, weights in self.custom.items():
            va, vb = _custom(a, key), _custom(b, key)
            if va and vb:
                level = EXACT if va == vb else DIFFERS
                corroborated |= level == EXACT
                total += weights[level]
                names_only = False
                if evidence is not None:
                    evidence[key] = (level, 1.0 if level == EXACT else 0.0)
                    counted[key] = weights[level]
        if a.birth_date and b.birth_date and self.rules.birth_date:
            level = birth_date_level(a.birth_date, b.birth_date)
            corroborated |= level != DIFFERS
            total += self.birth[level]
            names_only = False
            if evidence is not None:
                evidence["birth_date"] = (level, {EXACT: 1.0, NEAR: 0.8}.get(level, 0.0))
                counted["birth_date"] = self.birth[level]
        if self.use_company and a.company and b.company:
            if a.company == b.company:
                level, sim = EXACT, 1.0
            else:
                sim = fuzz.token_set_ratio(a.company, b.company) / 100
                level = SIMILAR if sim >= 0.9 else DIFFERS
            corroborated |= level != DIFFERS
            total += self.company[level]
            names_only = False
            if evidence is not None:
                evidence["company"] = (level, round(sim, 3))
                counted["company"] = self.company[level]
        same_home = bool(self.use_phone and a.phone and a.phone == b.phone)
        if self.use_address:
            level, sim = _address_level(a, b)
            if level is not None:
                corroborated |= level in (EXACT, SIMILAR)
                same_home |= level in (EXACT, SIMILAR)
                total += self.address[level]
                names_only = False
                if evidence is not None:
                    evidence["address"] = (level, round(sim, 3))
                    counted["address"] = self.address[level]
        if self.frequencies is not None and (first_level is not None or last_level is not None):
            first_part, last_part, how = self._name_adjustment(a, b, first_level, last_level, same_home, evidence is not None)
            total += first_part + last_part
            if evidence is not None:
                # What a name's rarity adds or takes is counted with the name itself.
                for name, part in (("first_name", first_part), ("last_name", last_part)):
                    if part and name in counted:
                        counted[name] += part
                if how:
                    evidence["name_frequency"] = (how, None)
        if not corroborated and first_level is not None and last_level is not None:
            total += NOTHING_BUT_THE_NAME
            if evidence is not None:
                evidence["other_fields"] = ("none agree" if not names_only else "none to compare", 0.0)
                counted["other_fields"] = NOTHING_BUT_THE_NAME
        return total

    def _email_adjustment(self, email: str) -> float:
        """Weight taken off an equal address that more records than one person's carry."""
        count = self.frequencies.email_count(email)
        if count <= EMAIL_OWN_COUNT:
            return 0.0
        cut = EMAIL_SHARED_STEP * math.log((count - 1) / (EMAIL_OWN_COUNT - 1))
        return -min(cut, max(0.0, self.email[EXACT] - EMAIL_SHARED_FLOOR))

    def _name_adjustment(self, a: NormalizedPerson, b: NormalizedPerson, first_level, last_level,
                         same_home: bool, explain: bool) -> tuple[float, float, str]:
        """(log-odds for the first name, for the surname, explanation when asked) for how rare
        the shared names are: positive for
        a rare name, negative for a common one; of two spellings the commoner counts. A
        surname shared at one address or phone is what a household has in common, whatever
        its rarity, so it is not adjusted there."""
        first = last = None
        if first_level == SWAPPED:
            # One side holds the given name in its surname column. Read each side as written
            # and keep the lesser: the side written the right way round gives the true counts,
            # while the other makes both names look rare in the wrong column.
            readings = [(self._first_value(x.first.partition(" ")[0]), None if same_home else self._last_value(x.last))
                        for x in (a, b) if not (x.first_initial or x.last_initial)]
            if readings:
                first, last = min(readings, key=lambda r: r[0] + (r[1] or 0.0))
        if first_level in _FIRST_AGREES and not (a.first_initial or b.first_initial):
            first = min(self._first_value(a.first.partition(" ")[0]), self._first_value(b.first.partition(" ")[0]))
        if last_level in _LAST_AGREES and not (a.last_initial or b.last_initial or same_home):
            last = min(self._last_value(a.last), self._last_value(b.last))
        if not explain:
            return first or 0.0, last or 0.0, ""
        words = [_frequency_words(what, value) for what, value in (("first name", first), ("surname", last)) if value is not None]
        return first or 0.0, last or 0.0, ", ".join(w for w in words if w)

    def _shrink(self) -> float:
        total = self.frequencies.total
        return total / (total + FREQUENCY_PRIOR) if total > 0 else 0.0

    def _fresh(self) -> None:
        if self._counted != self.frequencies.version:
            # Counts are fixed during a matching pass; per-name values are worked out once.
            self._first_values.clear()
            self._last_values.clear()
            self._counted = self.frequencies.version

    def _first_value(self, token: str) -> float:
        value = self._first_values.get(token)
        if value is None:
            shrink = self._shrink()
            share = shrink * self.frequencies.first_share(token) + (1 - shrink) * FIRST_NAME_SHARE_REF
            value = _clip(FIRST_NAME_FREQUENCY_WEIGHT * math.log(FIRST_NAME_SHARE_REF / max(share, 1e-9)))
            value = self._first_values[token] = value * self.first[EXACT] / FIRST_NAME[EXACT]
        return value

    def _last_value(self, name: str) -> float:
        value = self._last_values.get(name)
        if value is None:
            shrink = self._shrink()
            count = shrink * self.frequencies.surname_count(name) + (1 - shrink) * SURNAME_COUNT_REF
            value = _clip(SURNAME_FREQUENCY_WEIGHT * math.log(SURNAME_COUNT_REF / max(count, 1.0)))
            value = self._last_values[name] = value * self.last[EXACT] / LAST_NAME[EXACT]
        return value

    def conflicts(self, a: NormalizedPerson, b: NormalizedPerson) -> bool:
        """Whether ``a`` and ``b`` are positively two people (other first name, other surname,
        another customer ID or birth date, a shared name and nothing else in two cities)
        rather than merely short of evidence: such a pair must never end
        up in one group, whatever records link them."""
        for key in self.custom:
            va, vb = _custom(a, key), _custom(b, key)
            if va and vb and va != vb:
                return True
        if self.rules.birth_date and a.birth_date and b.birth_date and birth_date_level(a.birth_date, b.birth_date) == DIFFERS:
            return True
        if not self.use_name:
            return False
        if self.use_address and _address_level(a, b)[0] == OTHER_CITY:
            # Namesakes in two cities: a chain through a record without an address must not
            # join them.
            evidence: dict = {}
            self.logit(a, b, evidence)
            if "other_fields" in evidence:
                return True
        first = first_name_level(a.first, b.first, a.first_initial, b.first_initial)[0] if a.first and b.first else None
        last = last_name_level(a.last, b.last, a.last_initial, b.last_initial)[0] if a.last and b.last else None
        if first in (DIFFERS, SIMILAR) or last == DIFFERS:
            return swapped_levels(a, b) is None
        return False

    def score(self, a: NormalizedPerson, b: NormalizedPerson) -> float:
        return probability(self.logit(a, b))

    def explain(self, a: NormalizedPerson, b: NormalizedPerson) -> ScoredPair:
        evidence: dict = {}
        counted: dict = {}
        logit = self.logit(a, b, evidence, counted)
        return ScoredPair(a.id, b.id, round(probability(logit), 4), evidence, a.source, b.source,
                          {name: round(weight, 2) for name, weight in counted.items()})


# Levels at which a name is shared and its rarity says something (swapped names are read
# apart, see Scorer._name_adjustment).
_FIRST_AGREES = frozenset({EXACT, PARTIAL, TYPO, "nickname:direct", "nickname:loose", "nickname:typo"})
_LAST_AGREES = frozenset({EXACT, PARTIAL, TYPO})


def _clip(value: float) -> float:
    return min(FREQUENCY_UP, max(FREQUENCY_DOWN, value))


def _frequency_words(what: str, value: float) -> str:
    if abs(value) < 0.1:
        return ""
    return f"{'rare' if value > 0 else 'common'} {what} ({value:+.1f})"


@lru_cache(maxsize=100_000)
def birth_date_level(a: str, b: str) -> str:
    """exact, typo apart or differs, for two ``YYYYMMDD`` dates."""
    if a == b:
        return EXACT
    if a[:4] == b[:4] and a[4:6] == b[6:] and a[6:] == b[4:6]:
        return NEAR  # day and month swapped
    if OSA.distance(a, b, score_cutoff=1) <= 1:
        return NEAR  # one digit wrong, or two neighbours swapped
    return DIFFERS


def _made_of_name(local: str, person: NormalizedPerson) -> bool:
    return bool(person.last) and not person.last_initial and person.last.replace(" ", "") in local


def _custom(person: NormalizedPerson, key: str) -> str:
    for name, value in person.keys:
        if name == key:
            return value
    return ""


def _same_place(x: str, y: str) -> bool | None:
    """Whether two cities (or postcodes) are one, a typo apart counting as one; None when
    either is missing."""
    if not x or not y:
        return None
    return x == y or len(x) >= 5 and OSA.distance(x, y, score_cutoff=1) <= 1


def _address_level(a: NormalizedPerson, b: NormalizedPerson) -> tuple[str | None, float]:
    """How two addresses relate: exact, similar (a typo or abbreviation in the street name),
    other house (same street, another house number: two homes), differs (another street in
    the same place), same city (one side has no street), other city, or None when there is
    nothing to compare."""
    same_postcode = a.postcode == b.postcode if a.postcode and b.postcode else None
    same_city = _same_place(a.city, b.city)
    if a.street and b.street and same_postcode is not False and (same_city is not False or same_postcode):
        name_a, number_a = street_parts(a.street)
        name_b, number_b = street_parts(b.street)
        if name_a == name_b:
            sim = 1.0
        else:
            sim = fuzz.ratio(name_a, name_b) / 100 if name_a and name_b else 0.0
        if sim >= 0.85:
            if number_a and number_b and number_a != number_b:
                # "5" and "5a" may be one house written two ways; "5" and "7" are two.
                if number_a.rstrip("abcdefgh") != number_b.rstrip("abcdefgh") or number_a[-1].isalpha() and number_b[-1].isalpha():
                    return OTHER_HOUSE, sim
                sim = min(sim, 0.95)
            return (EXACT if sim == 1.0 else SIMILAR), sim
    if same_postcode is False and same_city is not True or same_city is False and same_postcode is not True:
        return OTHER_CITY, 0.0
    if same_postcode or same_city:
        if a.street and b.street:
            return DIFFERS, 0.0
        return SAME_CITY, 0.5
    return None, 0.0
