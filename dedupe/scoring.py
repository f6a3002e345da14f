"""How alike two normalised people are: a score from 0 to 1 and the evidence behind it.

Each field comparison lands on a named level (exact, nickname, typo, differs …) that carries a
log-odds weight; the weights add up from a prior and a logistic curve turns the sum into the
score. The weights encode what sales ops know about false friends: a shared phone, address,
surname or family mailbox is what households and colleagues have in common too, so a first
name that is clearly another person's outweighs all of them together, while a different
email address counts for little (people have several).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from dedupe.normalize import KNOWN_FIELDS, NormalizedPerson, is_given_name, name_forms

EXACT, PARTIAL, TYPO, INITIAL, SWAPPED = "exact", "partial", "typo", "initial", "swapped"
SIMILAR, DIFFERS, SHARED, SAME_CITY, OTHER_CITY = "similar", "differs", "shared mailbox", "same city", "other city"
LOCAL_PART, NAME_MAILBOX = "same mailbox name", "same name as mailbox"

PRIOR = -4.0
# (level, similarity) → log-odds weight, per field. Tuned on the synthetic benchmark's hard cases.
FIRST_NAME = {EXACT: 2.5, "nickname:direct": 2.0, "nickname:loose": 1.2, PARTIAL: 1.5, TYPO: 1.5, INITIAL: 0.5,
              SWAPPED: 2.0, SIMILAR: -5.0, DIFFERS: -16.0}
LAST_NAME = {EXACT: 3.5, PARTIAL: 2.0, TYPO: 2.0, INITIAL: 0.5, SWAPPED: 3.0, SIMILAR: -3.0, DIFFERS: -8.0}
EMAIL = {EXACT: 5.0, SHARED: 0.5, LOCAL_PART: 2.0, NAME_MAILBOX: 0.5, DIFFERS: -0.5}
EMAIL_NOT_KEY = {EXACT: 2.5, SHARED: 0.3, LOCAL_PART: 1.5, NAME_MAILBOX: 0.3, DIFFERS: -0.3}
PHONE = {EXACT: 4.0, DIFFERS: -1.0}
COMPANY = {EXACT: 1.5, SIMILAR: 1.0, DIFFERS: -0.5}
ADDRESS = {EXACT: 2.0, SIMILAR: 1.5, SAME_CITY: 0.3, DIFFERS: -0.5, OTHER_CITY: -3.0}
CUSTOM_KEY = {EXACT: 8.0, DIFFERS: -8.0}
# Two people with the same name and nothing else in common are namesakes until shown otherwise.
NOTHING_BUT_THE_NAME = -3.0


@dataclass(frozen=True)
class MatchRules:
    """Which fields decide that two records are one person, and how much each one counts.

    ``exact_keys``: fields that identify a person on their own when equal (email, and custom
    identifiers such as ``customer_id``; for those a different value also counts strongly
    against). ``fuzzy_fields``: which of name, phone, company, address to compare.
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


def probability(logit: float) -> float:
    if logit < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-logit))


@lru_cache(maxsize=100_000)
def _gender_pair(a: str, b: str) -> bool:
    """Paul/Paula, Jan/Jana, Christian/Christiane, Stanislaw/Stanislawa: two people, not a typo."""
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long.startswith(short) and long[len(short):] in ("a", "e", "ina", "ine", "o")


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
        return (INITIAL, 0.6) if name[0] == initial else (DIFFERS, 0.0)
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
    if distance <= 1 or (distance == 2 and similarity >= 0.92 and min(len(ta), len(tb)) >= 7):
        # A letter swapped for another, or added in front, turning one real name into another
        # is another name (Maria/Marta, Anna/Hanna), not a typo; a letter lost at the end
        # (Lisa/Lis) usually is one.
        if (len(ta) == len(tb) or ta[0] != tb[0]) and is_given_name(ta) and is_given_name(tb):
            return DIFFERS, similarity
        return TYPO, similarity
    if similarity >= 0.85:
        return SIMILAR, similarity
    return DIFFERS, similarity


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


def _close(x: str, y: str) -> bool:
    return x == y or OSA.distance(x, y, score_cutoff=1) <= 1 and min(len(x), len(y)) >= 4


def _local(email: str) -> str:
    return email.partition("@")[0].replace(".", "").replace("_", "").replace("-", "")


class Scorer:
    """Compares normalised people under one set of ``MatchRules``."""

    def __init__(self, rules: MatchRules):
        self.rules = rules
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
        self.threshold_logit = rules.threshold_logit
        # The most the fields after the first name can add: lets a pair whose first names
        # already rule it out stop early.
        self.best_after_last = (max(self.email.values(), default=0) + max(self.phone.values(), default=0)
                                + max(self.company.values(), default=0) + max(self.address.values(), default=0)
                                + sum(max(t.values()) for t in self.custom.values()))
        self.best_rest = max(self.last.values(), default=0) + self.best_after_last

    def logit(self, a: NormalizedPerson, b: NormalizedPerson, evidence: dict | None = None) -> float:
        """Log-odds that ``a`` and ``b`` are one person; fills ``evidence`` when given one."""
        total = PRIOR
        corroborated = False
        names_only = True
        first_level = last_level = None
        if self.use_name:
            if a.first and b.first:
                first_level, first_sim = first_name_level(a.first, b.first, a.first_initial, b.first_initial)
            if a.last and b.last:
                last_level, last_sim = last_name_level(a.last, b.last, a.last_initial, b.last_initial)
            if (first_level in (DIFFERS, SIMILAR) and last_level in (DIFFERS, SIMILAR, None)
                    and a.first and a.last and b.first and b.last and not (a.first_initial or b.first_initial)
                    and _close(a.first, b.last) and _close(a.last, b.first)):
                first_level, first_sim, last_level, last_sim = SWAPPED, 0.95, SWAPPED, 0.95
            if first_level is not None:
                total += self.first[first_level]
                if evidence is None and total + self.best_rest < self.threshold_logit:
                    return total + self.best_rest
                if evidence is not None:
                    evidence["first_name"] = (first_level.partition(":")[0], round(first_sim, 3))
            if last_level is not None:
                total += self.last[last_level]
                if evidence is None and total + self.best_after_last < self.threshold_logit:
                    return total + self.best_after_last
                if evidence is not None:
                    evidence["last_name"] = (last_level, round(last_sim, 3))
        if self.use_email and a.email and b.email:
            if a.email == b.email:
                level = SHARED if a.email_generic or b.email_generic else EXACT
                corroborated |= level == EXACT
                sim = 1.0
            elif not (a.email_generic or b.email_generic) and len(la := _local(a.email)) >= 5 and la == _local(b.email):
                # "jane.francis@" at two providers is what every Jane Francis would pick; a
                # mailbox name that is not made of the name says more.
                if _made_of_name(la, a) or _made_of_name(la, b):
                    level, sim = NAME_MAILBOX, 0.6
                else:
                    level, sim, corroborated = LOCAL_PART, 0.8, True
            else:
                level, sim = DIFFERS, 0.0
            total += self.email[level]
            names_only = False
            if evidence is not None:
                evidence["email"] = (level, sim)
        if self.use_phone and a.phone and b.phone:
            level = EXACT if a.phone == b.phone else DIFFERS
            corroborated |= level == EXACT
            total += self.phone[level]
            names_only = False
            if evidence is not None:
                evidence["phone"] = (level, 1.0 if level == EXACT else 0.0)
        for key, weights in self.custom.items():
            va, vb = _custom(a, key), _custom(b, key)
            if va and vb:
                level = EXACT if va == vb else DIFFERS
                corroborated |= level == EXACT
                total += weights[level]
                names_only = False
                if evidence is not None:
                    evidence[key] = (level, 1.0 if level == EXACT else 0.0)
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
        if self.use_address:
            level, sim = _address_level(a, b)
            if level is not None:
                corroborated |= level in (EXACT, SIMILAR)
                total += self.address[level]
                names_only = False
                if evidence is not None:
                    evidence["address"] = (level, round(sim, 3))
        if not corroborated and first_level is not None and last_level is not None:
            total += NOTHING_BUT_THE_NAME
            if evidence is not None:
                evidence["other_fields"] = ("none agree" if not names_only else "none to compare", 0.0)
        return total

    def conflicts(self, a: NormalizedPerson, b: NormalizedPerson) -> bool:
        """Whether ``a`` and ``b`` are positively two people (other first name, other surname,
        another customer ID) rather than merely short of evidence: such a pair must never end
        up in one group, whatever records link them."""
        for key in self.custom:
            va, vb = _custom(a, key), _custom(b, key)
            if va and vb and va != vb:
                return True
        if not self.use_name:
            return False
        first = first_name_level(a.first, b.first, a.first_initial, b.first_initial)[0] if a.first and b.first else None
        last = last_name_level(a.last, b.last, a.last_initial, b.last_initial)[0] if a.last and b.last else None
        if first in (DIFFERS, SIMILAR) or last == DIFFERS:
            if (a.first and a.last and b.first and b.last and not (a.first_initial or b.first_initial)
                    and _close(a.first, b.last) and _close(a.last, b.first)):
                return False
            return True
        return False

    def score(self, a: NormalizedPerson, b: NormalizedPerson) -> float:
        return probability(self.logit(a, b))

    def explain(self, a: NormalizedPerson, b: NormalizedPerson) -> ScoredPair:
        evidence: dict = {}
        logit = self.logit(a, b, evidence)
        return ScoredPair(a.id, b.id, round(probability(logit), 4), evidence, a.source, b.source)


def _made_of_name(local: str, person: NormalizedPerson) -> bool:
    return bool(person.last) and not person.last_initial and person.last.replace(" ", "") in local


def _custom(person: NormalizedPerson, key: str) -> str:
    for name, value in person.keys:
        if name == key:
            return value
    return ""


def _address_level(a: NormalizedPerson, b: NormalizedPerson) -> tuple[str | None, float]:
    same_postcode = a.postcode == b.postcode if a.postcode and b.postcode else None
    same_city = a.city == b.city if a.city and b.city else None
    if a.street and b.street:
        sim = 1.0 if a.street == b.street else fuzz.ratio(a.street, b.street) / 100
        if sim >= 0.9 and same_postcode is not False and (same_city is not False or same_postcode):
            return (EXACT if sim == 1.0 else SIMILAR), sim
    if same_postcode is False and same_city is not True or same_city is False and same_postcode is not True:
        return OTHER_CITY, 0.0
    if same_postcode or same_city:
        if a.street and b.street:
            return DIFFERS, 0.0
        return SAME_CITY, 0.5
    return None, 0.0
