from dedupe.matching import Matcher, MatchIndex, MatchRules, NameFrequencies, normalize_person

from bench.synthetic import generate

JANE = [
    {"id": "1", "source": "salesforce:Contact", "first_name": "Jane", "last_name": "Francis", "email": "jane@acme.com", "phone": "+49 30 1234567", "company": "Acme GmbH"},
    {"id": "2", "source": "hubspot:contacts", "first_name": "Jane F", "email": "j.francis@gmail.com", "phone": "030 1234567", "company": "ACME"},
    {"id": "3", "source": "salesforce:Lead", "first_name": "J.", "last_name": "Francis", "email": "j.francis@gmail.com", "city": "Berlin"},
]


def test_a_group_holds_its_members_sources_confidence_and_every_pair_explained():
    [group] = Matcher().groups(JANE + [{"id": "4", "first_name": "Tom", "last_name": "Baker"}])
    assert set(group.ids) == {"1", "2", "3"}
    assert dict(zip(group.ids, group.sources))["2"] == "hubspot:contacts"
    assert 0.5 <= group.confidence <= 1
    assert len(group.pairs) == 3
    assert all(p.evidence for p in group.pairs)


def test_an_initial_matching_two_family_members_does_not_glue_them_together():
    home = {"last_name": "Müller", "phone": "030 555 1234", "street": "Hauptstr. 5", "city": "Berlin", "postcode": "10115"}
    records = [
        {**home, "id": "jan", "first_name": "Jan", "email": "jan.m@web.de"},
        {**home, "id": "jan2", "first_name": "Jan", "email": "jan.m@web.de"},
        {**home, "id": "julia", "first_name": "Julia", "email": "julia.m@web.de"},
        {**home, "id": "j", "first_name": "J."},
    ]
    groups = Matcher().groups(records)
    assert not any({"jan", "julia"} <= set(g.ids) for g in groups)
    assert any({"jan", "jan2"} <= set(g.ids) for g in groups)


def test_the_incremental_index_finds_what_the_batch_finds():
    records, _ = generate(1500, seed=3)
    batch = [(p.a_id, p.b_id, p.score) for p in Matcher(workers=1).pairs(records)]
    # Name rarity is counted over the whole population, as the batch counts it.
    index = MatchIndex(MatchRules(), workers=1, frequencies=NameFrequencies.of(normalize_person(r) for r in records))
    incremental = []
    for start in range(0, len(records), 400):
        incremental += [(p.a_id, p.b_id, p.score) for p in index.add(records[start:start + 400])]
    assert incremental == batch
    assert len(batch) > 100


def test_the_index_matches_only_the_new_record_against_everything():
    index = MatchIndex()
    assert index.add(JANE[:1] + [{"id": "4", "first_name": "Tom", "last_name": "Baker"}]) == []
    [pair] = index.add(JANE[1:2])
    assert (pair.a_id, pair.b_id) == ("1", "2")


def test_a_changed_record_replaces_its_old_version():
    index = MatchIndex()
    index.add(JANE[:2])
    assert len(index.pairs()) == 1
    assert index.add([{**JANE[1], "first_name": "Margaret", "last_name": "Oduya", "phone": "", "company": ""}]) == []
    assert index.pairs() == [] and len(index) == 2


def test_groups_are_good_on_synthetic_contacts():
    from bench.matcher import pairs_of, scores
    from bench.synthetic import true_pairs

    records, truth = generate(1000, seed=7)
    index = MatchIndex(MatchRules(), workers=1)
    index.add(records)
    precision, recall, f1 = scores(pairs_of(index.cluster_positions()), true_pairs(truth))
    assert precision > 0.95 and recall > 0.85


def test_loaded_records_are_held_without_scoring_and_met_by_later_additions():
    index = MatchIndex()
    assert index.load(JANE[:2]) == 2
    assert index.pairs() == []
    pairs = index.add([{**JANE[0], "id": "5", "email": "JANE@acme.com"}])
    assert sorted((p.a_id, p.b_id) for p in pairs) == [("1", "5"), ("2", "5")]
