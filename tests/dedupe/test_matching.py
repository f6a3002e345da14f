"""The hard cases of HS-9/HS-10, one test each: same person despite appearances, and people who
merely share a surname, an address, a phone, a mailbox or a name."""
import pytest

from dedupe.matching import Matcher, MatchRules
from dedupe.normalize import normalize_person
from dedupe.scoring import Scorer


def score(a, b, rules=None):
    rules = rules or MatchRules()
    return Scorer(rules).explain(normalize_person(a, key_fields=rules.custom_keys), normalize_person(b, key_fields=rules.custom_keys))


def is_match(a, b, rules=None):
    return score(a, b, rules).score >= (rules or MatchRules()).threshold


def test_hs9_jane_francis_and_jane_f_with_another_email_are_one_person():
    a = {"first_name": "Jane", "last_name": "Francis", "email": "jane@acme.com", "phone": "+49 30 1234567", "company": "Acme GmbH"}
    b = {"first_name": "Jane F", "email": "j.francis@gmail.com", "phone": "030 1234567", "company": "ACME"}
    pair = score(a, b)
    assert pair.score >= 0.9
    assert pair.evidence["phone"] == ("exact", 1.0)
    assert pair.evidence["last_name"][0] == "initial"
    assert pair.evidence["email"][0] == "differs"


def test_bill_and_william_are_one_person():
    a = {"first_name": "Bill", "last_name": "Smith", "phone": "+1 415 555 0100"}
    b = {"first_name": "William", "last_name": "Smith", "phone": "(415) 555-0100", "country": "US"}
    pair = score(a, b)
    assert pair.score >= 0.9
    assert pair.evidence["first_name"][0] == "nickname"


def test_a_typo_in_the_name_does_not_hide_a_duplicate():
    a = {"first_name": "Katarzyna", "last_name": "Kowalska", "email": "k.kowalska@wp.pl"}
    b = {"first_name": "Katrzyna", "last_name": "KOWALSKA", "email": "K.Kowalska@wp.pl "}
    assert score(a, b).evidence["first_name"][0] == "typo"
    assert is_match(a, b)


def test_swapped_first_and_last_name_are_one_person():
    a = {"first_name": "Francis", "last_name": "Jane", "phone": "+49 30 1234567", "city": "Berlin"}
    b = {"first_name": "Jane", "last_name": "Francis", "phone": "030 1234567", "city": "Berlin"}
    pair = score(a, b)
    assert pair.evidence["first_name"][0] == "swapped"
    assert is_match(a, b)


def test_import_formats_do_not_hide_a_duplicate():
    a = {"first_name": "  PIOTR ", "last_name": "WIŚNIEWSKI", "email": "PIOTR.W@ONET.PL", "phone": "0048 22 123 45 67", "street": "UL. DŁUGA 5"}
    b = {"first_name": "Piotr", "last_name": "Wisniewski", "email": "piotr.w@onet.pl", "phone": "+48221234567", "street": "Długa 5"}
    assert score(a, b).score >= 0.99


def test_a_household_sharing_surname_address_landline_and_family_mailbox_is_not_one_person():
    home = {"last_name": "Müller", "email": "muellers@web.de", "phone": "030 555 1234", "street": "Hauptstr. 5", "city": "Berlin", "postcode": "10115"}
    assert not is_match({**home, "first_name": "Anna"}, {**home, "first_name": "Thomas", "last_name": "Mueller"})


def test_household_members_with_near_names_are_not_one_person():
    home = {"last_name": "Nowak", "phone": "22 555 12 34", "street": "ul. Polna 3", "city": "Kraków", "country": "PL"}
    for first, other in [("Paul", "Paula"), ("Jan", "Jana"), ("Maria", "Marta"), ("Anna", "Hanna")]:
        assert not is_match({**home, "first_name": first}, {**home, "first_name": other}), (first, other)


def test_colleagues_sharing_company_address_switchboard_and_info_mailbox_are_not_one_person():
    office = {"company": "Acme AG", "email": "info@acme.de", "phone": "+49 30 9999 0", "street": "Industriestraße 1", "city": "Berlin"}
    assert not is_match({**office, "first_name": "Anna", "last_name": "Schmidt"}, {**office, "first_name": "Jonas", "last_name": "Weber"})
    assert not is_match({**office, "first_name": "Anna", "last_name": "Schmidt"}, {**office, "first_name": "Anna", "last_name": "Meyer"})


def test_namesakes_in_different_cities_are_not_one_person():
    a = {"first_name": "Thomas", "last_name": "Müller", "email": "thomas.mueller@web.de", "city": "Berlin", "postcode": "10115"}
    b = {"first_name": "Thomas", "last_name": "Mueller", "email": "thomas.mueller@gmx.de", "city": "Hamburg", "postcode": "20095"}
    assert not is_match(a, b)


def test_a_shared_name_alone_is_not_enough():
    assert not is_match({"first_name": "Thomas", "last_name": "Müller"}, {"first_name": "Thomas", "last_name": "Müller", "city": "Köln"})


def test_a_custom_id_decides_both_ways():
    rules = MatchRules(exact_keys=("email", "customer_id"))
    same = {"first_name": "Jane", "last_name": "Francis"}
    assert is_match({**same, "customer_id": "C-1"}, {**same, "customer_id": "c-1", "city": "Bonn"}, rules)
    assert not is_match({**same, "customer_id": "C-1", "phone": "030 1"}, {**same, "customer_id": "C-2", "phone": "030 1"}, rules)


def test_pairs_carry_ids_sources_and_evidence():
    records = [
        {"id": "sf-1", "source": "salesforce:Lead", "first_name": "Jane", "last_name": "Francis", "email": "jane@acme.com"},
        {"id": "hs-1", "source": "hubspot:contacts", "first_name": "JANE", "last_name": "Francis", "email": "Jane@Acme.com"},
        {"id": "sf-2", "source": "salesforce:Lead", "first_name": "Tom", "last_name": "Baker", "email": "tom@baker.com"},
    ]
    [pair] = list(Matcher().pairs(records))
    assert (pair.a_id, pair.b_id, pair.a_source, pair.b_source) == ("sf-1", "hs-1", "salesforce:Lead", "hubspot:contacts")
    assert pair.evidence["email"] == ("exact", 1.0) and pair.evidence["first_name"] == ("exact", 1.0)


def test_a_switchboard_phone_shared_by_a_crowd_does_not_compare_everyone(monkeypatch):
    compared = []
    original = Scorer.logit
    monkeypatch.setattr(Scorer, "logit", lambda self, a, b, evidence=None: compared.append(1) or original(self, a, b, evidence))
    firsts = "Anna Bernd Carla Dieter Emil Frieda Gustav Heike Ingo Jutta Kurt Lotte Malte Nora Otto Petra Quirin Rita Sven Tilda".split()
    lasts = "Adler Brandt Cordes Dahl Ebert Funke Gerke Hahn Ilgner Jost Kunze Lutz Mohr Nagel Opitz Pohl Quast Rudolph Seidel Thiel Ulbrich Vogt Wendt Zorn Yilmaz".split()
    crowd = [{"id": f"{f}.{l}", "first_name": f, "last_name": l, "phone": "+49 30 9999 0"} for f in firsts for l in lasts]
    crowd.append({"id": "dup", "first_name": "Tilda", "last_name": "Yilmaz", "phone": "+49 30 9999 0", "email": "x@y.de"})
    pairs = list(Matcher(MatchRules(max_block=10)).pairs(crowd))
    assert [(p.a_id, p.b_id) for p in pairs] == [("Tilda.Yilmaz", "dup")]
    assert len(compared) < 5_000  # rather than 125,000


@pytest.mark.parametrize("threshold", [0, 1, 1.5])
def test_rules_refuse_a_threshold_outside_0_1(threshold):
    with pytest.raises(ValueError):
        MatchRules(threshold=threshold)


def test_matching_inside_a_daemonic_worker_process_scores_in_that_process(monkeypatch):
    """A Celery worker's pool process is daemonic and may not start a pool of its own."""
    import multiprocessing

    from dedupe import matching

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert matching._workers(None, 50_000) == 1
    assert matching._workers(2, 50_000) == 1
