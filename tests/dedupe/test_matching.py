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


def test_a_misspelt_nickname_is_still_the_person():
    home = {"last_name": "Adams", "email": "robert.adams@web.de", "phone": "030 555 1234", "street": "Hauptstr. 5", "city": "Berlin"}
    pair = score({**home, "first_name": "Robert"}, {**home, "first_name": "Bobbby"})
    assert pair.evidence["first_name"][0] == "nickname"
    assert pair.score >= 0.5


def test_two_real_names_a_letter_apart_in_one_household_stay_two_people():
    """Tim is a name of its own, not a misspelt Tom (Thomas): a typo is a word that is nobody's name."""
    home = {"last_name": "Adams", "email": "adams.home@web.de", "phone": "030 555 1234", "street": "Hauptstr. 5", "city": "Berlin"}
    assert not is_match({**home, "first_name": "Thomas"}, {**home, "first_name": "Tim"})


@pytest.mark.parametrize("male, female", [("Andreas", "Andrea"), ("Stefan", "Stefanie"), ("Paul", "Paula")])
def test_a_name_and_its_other_gender_form_at_one_address_are_two_people(male, female):
    home = {"last_name": "Arnold", "phone": "030 555 1234", "street": "Hauptstr. 5", "city": "Berlin"}
    assert not is_match({**home, "first_name": male}, {**home, "first_name": female})


def test_swapped_names_with_a_nickname_or_an_initial_are_one_person():
    a = {"first_name": "Katharina", "last_name": "Albrecht", "phone": "+49 421 5392237", "street": "Schulstraße 134", "city": "Bremen"}
    swapped = score(a, {**a, "first_name": "Albrecht", "last_name": "Kathi", "phone": "0421 5392237"})
    assert swapped.evidence["first_name"][0] == "swapped, nickname" and swapped.score >= 0.5
    initial = score(a, {**a, "first_name": "Albrecht", "last_name": "K."})
    assert initial.evidence["first_name"][0] == "swapped, initial" and initial.score >= 0.5


def test_an_initial_may_stand_for_the_full_name_of_a_nickname():
    a = {"first_name": "Billy", "last_name": "Oakton", "phone": "+44 20 7946 0958", "street": "12 High Street", "city": "London"}
    pair = score(a, {**a, "first_name": "W."})
    assert pair.evidence["first_name"][0] == "initial" and pair.score >= 0.5


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
    monkeypatch.setattr(Scorer, "logit", lambda self, a, b, *args: compared.append(1) or original(self, a, b, *args))
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


# --- how common a shared name is -----------------------------------------------------------------
def _population(people, filler=5000):
    """Normalised ``people`` among ``filler`` records of unrelated strangers, and the counts
    over all of them."""
    from dedupe.frequencies import NameFrequencies

    strangers = [normalize_person({"first_name": f"Given{k % 700}", "last_name": f"Family{k}"}) for k in range(filler)]
    normalized = [normalize_person(p) for p in people]
    return normalized, NameFrequencies.of(normalized + strangers)


def test_a_shared_rare_surname_counts_for_more_than_a_shared_common_one():
    smiths = [{"first_name": "Olga", "last_name": "Smith", "company": "Acme"} for _ in range(400)]
    rare = [{"first_name": "Olga", "last_name": "Quintanilla", "company": "Acme"} for _ in range(2)]
    people, frequencies = _population(smiths + rare)
    scorer, plain = Scorer(MatchRules(), frequencies), Scorer(MatchRules())
    common_pair, rare_pair = (people[0], people[1]), (people[-2], people[-1])
    assert scorer.logit(*rare_pair) > plain.logit(*rare_pair) == plain.logit(*common_pair) > scorer.logit(*common_pair)


def test_a_shared_common_first_name_counts_for_less_than_a_rare_one():
    johns = [{"first_name": "John", "last_name": f"Surname{k}"} for k in range(600)]
    pair = [{"first_name": name, "last_name": "Rowntree", "city": "York"} for name in ("John", "John", "Xiomara", "Xiomara")]
    people, frequencies = _population(johns + pair)
    scorer = Scorer(MatchRules(), frequencies)
    assert scorer.logit(people[-2], people[-1]) > scorer.logit(people[-4], people[-3])


def test_two_xiomara_quintanilla_at_one_company_are_one_person_two_john_smiths_in_a_crowd_are_not():
    crowd = [{"first_name": "John", "last_name": "Smith", "city": f"Town{k % 40}"} for k in range(500)]
    crowd += [{"first_name": "John", "last_name": f"Surname{k}"} for k in range(500)]
    pairs = [{"first_name": "Xiomara", "last_name": "Quintanilla", "company": "Nord Energie GmbH"},
             {"first_name": "Xiomara", "last_name": "Quintanilla", "company": "NORD ENERGIE"},
             {"first_name": "John", "last_name": "Smith", "company": "Nord Energie GmbH"},
             {"first_name": "John", "last_name": "Smith", "company": "Nord Energie"}]
    people, frequencies = _population(pairs + crowd)
    scorer = Scorer(MatchRules(), frequencies)
    assert scorer.score(people[0], people[1]) >= 0.5
    assert scorer.score(people[2], people[3]) < scorer.score(people[0], people[1])
    # The same two John Smiths with nothing but the name and a city in common stay apart.
    assert scorer.score(people[4], people[44]) < 0.5


def test_the_group_page_explains_how_rare_the_shared_surname_is():
    people, frequencies = _population([{"first_name": "Olga", "last_name": "Quintanilla", "company": "Acme"}] * 2)
    evidence = Scorer(MatchRules(), frequencies).explain(people[0], people[1]).evidence
    assert evidence["name_frequency"][0].startswith("rare")


def test_each_field_says_how_much_it_counted_and_a_rare_surname_counts_for_more():
    crowd = [{"first_name": f"Given{k}", "last_name": "Schmidt"} for k in range(400)]
    twins = [{"first_name": "Olga", "last_name": "Quintanilla", "company": "Acme"},
             {"first_name": "Olga", "last_name": "Quintanilla", "company": "ACME GmbH"},
             {"first_name": "Olga", "last_name": "Schmidt", "company": "Acme"},
             {"first_name": "Olga", "last_name": "Schmidt", "company": "ACME GmbH"}]
    people, frequencies = _population(twins + crowd)
    scorer = Scorer(MatchRules(), frequencies)
    rare, common = scorer.explain(people[0], people[1]), scorer.explain(people[2], people[3])
    assert rare.counted["last_name"] > common.counted["last_name"]
    assert rare.counted["company"] > 0 and set(rare.counted) <= set(rare.evidence)
    # The counts add up to the score: the prior plus every field gives the log-odds.
    from dedupe.scoring import PRIOR, probability
    assert probability(PRIOR + sum(rare.counted.values())) == pytest.approx(rare.score, abs=1e-3)


def test_a_surname_shared_at_one_address_is_not_made_rarer_for_it():
    """Household members share a rare surname because they are a family, not by chance."""
    home = {"last_name": "Quintanilla", "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin"}
    people, frequencies = _population([{**home, "first_name": "Jan"}, {**home, "first_name": "Jan"}])
    evidence = Scorer(MatchRules(), frequencies).explain(people[0], people[1]).evidence
    assert "surname" not in evidence.get("name_frequency", ("",))[0]


def test_an_email_address_many_records_share_counts_for_less():
    shared = [{"first_name": "Thomas", "last_name": "Müller", "email": "thomas.mueller@gmail.com", "city": f"C{k}"} for k in range(8)]
    own = [{"first_name": "Thomas", "last_name": "Müller", "email": "tm.1977@gmail.com", "city": f"D{k}"} for k in range(2)]
    people, frequencies = _population(shared + own)
    scorer = Scorer(MatchRules(), frequencies)
    assert scorer.logit(people[0], people[1]) < scorer.logit(people[-2], people[-1])
    assert scorer.explain(people[0], people[1]).evidence["email"][0] == "address many records share"


# --- records without email and phone ---------------------------------------------------------------
def test_without_email_and_phone_name_company_and_address_with_typos_are_one_person():
    a = {"first_name": "Marcin", "last_name": "Nowocki", "company": "Pixel Budownictwo sp. z o.o.", "street": "ul. Parkowa 104a",
         "postcode": "70-001", "city": "Szczecin"}
    b = {"first_name": "Marcin", "last_name": "Nowocki", "company": "PIXEL BUDOWNICTWO", "street": "Parkowa 104 A",
         "postcode": "70001", "city": "Szczecn"}
    assert is_match(a, b)


def test_street_abbreviations_are_the_same_address():
    for x, y in [("Hauptstraße 5", "Hauptstr. 5"), ("Haupt Str. 5", "Hauptstrasse 5"), ("12 Main Street", "12 Main St."),
                 ("ul. Długa 1b", "Dluga 1B"), ("44 Lincoln Avenue", "44 Lincoln Ave"), ("7 Hill Road", "7 Hill Rd")]:
        assert score({"street": x, "city": "X"}, {"street": y, "city": "X"}).evidence["address"] == ("exact", 1.0), (x, y)


def test_a_typo_in_the_street_name_is_a_similar_address():
    level, _ = score({"street": "Schillerstraße 12", "city": "Bonn"}, {"street": "Schilerstr. 12", "city": "Bonn"}).evidence["address"]
    assert level == "similar"


def test_another_house_number_in_the_same_street_is_evidence_against():
    person = {"first_name": "Anna", "last_name": "Berg", "postcode": "10115", "city": "Berlin"}
    same = score({**person, "street": "Gartenweg 12"}, {**person, "street": "Gartenweg 12"})
    other = score({**person, "street": "Gartenweg 12"}, {**person, "street": "Gartenweg 21"})
    street_only = score({**person, "street": "Gartenweg 12"}, {**person})
    assert other.evidence["address"][0] == "other house number"
    assert other.score < street_only.score < same.score


def test_a_house_number_with_and_without_its_letter_is_one_house():
    level, _ = score({"street": "Kirchweg 170a", "city": "Bonn"}, {"street": "Kirchweg 170", "city": "Bonn"}).evidence["address"]
    assert level == "similar"


def test_records_without_email_and_phone_meet_in_a_block_despite_a_typo_in_the_surnames_first_letter():
    records = [{"id": "a", "first_name": "Marcin", "last_name": "Nowocki", "street": "ul. Parkowa 104a", "postcode": "70-001"},
               {"id": "b", "first_name": "Marcin", "last_name": "bowocki", "street": "UL. PARKOWA 104A", "postcode": "70-001"},
               {"id": "c", "first_name": "Mary", "last_name": "Thornbury", "street": "151a Church Avenue", "postcode": "98101"},
               {"id": "d", "first_name": "Mary", "last_name": "T", "street": "151a church ave", "postcode": "98101"}]
    from dedupe.blocking import BlockIndex

    blocks = BlockIndex(50)
    people = [normalize_person(r) for r in records]
    for position, person in enumerate(people):
        blocks.add(position, person)
    assert 0 in blocks.earlier_candidates(1, people[1]) and 2 in blocks.earlier_candidates(3, people[3])


# --- birth dates ------------------------------------------------------------------------------------
def test_a_birth_date_a_typo_apart_nearly_agrees_and_another_one_counts_against():
    rules = MatchRules(birth_date="birthdate")
    jane = {"first_name": "Jane", "last_name": "Francis"}

    def compare(x, y):
        a = normalize_person({**jane, "birthdate": x}, birth_date_field="birthdate")
        b = normalize_person({**jane, "birthdate": y}, birth_date_field="birthdate")
        return Scorer(rules).explain(a, b)

    assert compare("1980-05-07", "07.05.1980").evidence["birth_date"][0] == "exact"
    for near in ("1980-07-05", "1980-05-08", "1908-05-07"):
        assert compare("1980-05-07", near).evidence["birth_date"][0] == "typo apart", near
    assert compare("1980-05-07", "1975-11-23").evidence["birth_date"][0] == "differs"
    assert compare("1980-05-07", "1980-05-07").score > compare("1980-05-07", "1980-07-05").score > 0.5
    assert compare("1980-05-07", "1975-11-23").score < 0.5


def test_a_letter_typed_twice_at_the_end_of_a_first_name_is_a_typo_not_a_second_name():
    person = {"last_name": "Kowalska", "email": "a.kowalska@wp.pl", "phone": "+48 22 1234567"}
    assert is_match({**person, "first_name": "Anna"}, {**person, "first_name": "Annaa"})
    assert not is_match({**person, "first_name": "Jan"}, {**person, "first_name": "Jana", "email": "jana.k@wp.pl"})


def test_swapped_names_are_judged_by_the_side_written_the_right_way_round():
    """The swapped record's "first name" is a surname, rare as a first name; it must not make
    the pair look rarer than the names are."""
    common = [{"first_name": "Sandra", "last_name": "Butler"} for _ in range(300)]
    pair = [{"first_name": "Sandra", "last_name": "Butler", "city": "Leeds"}, {"first_name": "Butler", "last_name": "Sandra", "city": "Leeds"}]
    people, frequencies = _population(common + pair)
    explained = Scorer(MatchRules(), frequencies).explain(people[-2], people[-1])
    assert explained.evidence["first_name"][0] == "swapped"
    assert "common surname" in explained.evidence["name_frequency"][0]


def test_an_address_two_records_share_is_one_persons_however_common_the_name_it_is_made_of():
    """A mailbox has one owner: thomas.mueller@gmail.com is one Thomas Müller's, who moved
    from Berlin to Hamburg, among 1,500 other Müllers."""
    muellers = [{"first_name": f"Given{k}", "last_name": "Müller"} for k in range(1500)]
    pair = [{"first_name": "Thomas", "last_name": "Müller", "email": "thomas.mueller@gmail.com", "city": city}
            for city in ("Berlin", "Hamburg")]
    people, frequencies = _population(pair + muellers)
    scorer = Scorer(MatchRules(), frequencies)
    assert scorer.score(people[0], people[1]) >= 0.5
    assert not scorer.conflicts(people[0], people[1])
