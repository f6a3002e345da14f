"""An incremental matching pass finds a changed record's candidates and name counts through
the people index (PersonKey), reads only those, and groups as a pass over everyone would."""
import pytest

from bench.synthetic import generate
from dedupe import services
from dedupe.matching import MatchRules
from dedupe.models import DuplicateGroup, Person, PersonKey
from tests.factories import ConnectionFactory, PersonFactory

pytestmark = pytest.mark.django_db

FIELDS = ("first_name", "last_name", "email", "phone", "company", "street", "city", "postcode", "country")


def _store(records, connection):
    return [PersonFactory(connection=connection, record_id=f"003{k:015d}", fields={f: r.get(f, "") for f in FIELDS})
            for k, r in enumerate(records)]


def _groups():
    return sorted(tuple(sorted(m.record_id for m in g.members.all()))
                  for g in DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN).prefetch_related("members"))


@pytest.fixture
def population():
    connection = ConnectionFactory(kind="salesforce", base_url="https://login.salesforce.com")
    records, _ = generate(600, seed=11)
    people = _store(records, connection)
    services.groups_rebuild(changed_keys=[], rules=MatchRules(), everything=True)
    return people


def _no_full_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the incremental pass read everyone")
    monkeypatch.setattr(services, "_keys_store_all", refuse)


def test_a_full_pass_indexes_everyone_under_the_rules(population):
    fingerprint = services.keys_fingerprint(MatchRules())
    assert not Person.objects.exclude(keyed_for=fingerprint).exists()
    assert PersonKey.objects.values("person").distinct().count() == len(population)


def test_changed_records_are_grouped_through_the_index_as_a_full_pass_would(population, monkeypatch):
    # Three people change: one becomes Jane Francis's twin, two are edited in place.
    jane = population[0]
    twin = population[1]
    twin.fields = {**jane.fields, "first_name": jane.fields["first_name"].upper(), "email": ""}
    twin.save()
    for person in population[2:4]:
        person.fields = {**person.fields, "phone": "", "email": "new." + (person.fields.get("email") or "x@example.com")}
        person.save()
    _no_full_read(monkeypatch)
    services.groups_rebuild(changed_keys=[p.key for p in population[1:4]], rules=MatchRules())
    incremental = _groups()
    assert any({jane.record_id, twin.record_id} <= set(g) for g in incremental)

    monkeypatch.undo()
    services.groups_rebuild(changed_keys=[], rules=MatchRules(), everything=True)
    assert incremental == _groups()


def test_a_deleted_record_leaves_the_index(population, monkeypatch):
    gone = population[5]
    Person.objects.filter(pk=gone.pk).update(deleted=True)
    _no_full_read(monkeypatch)
    services.groups_rebuild(changed_keys=[gone.key], rules=MatchRules())
    assert not PersonKey.objects.filter(person=gone).exists()
    assert not any(gone.record_id in g for g in _groups())


def test_a_few_people_stored_outside_a_pass_are_indexed_on_the_way(population, monkeypatch):
    connection = population[0].connection
    newcomer = PersonFactory(connection=connection, record_id="003999999999999AAA", fields=dict(population[0].fields))
    changed = population[7]
    changed.fields = {**changed.fields, "city": "Elsewhere"}
    changed.save()
    _no_full_read(monkeypatch)
    services.groups_rebuild(changed_keys=[changed.key], rules=MatchRules())
    assert PersonKey.objects.filter(person=newcomer).exists()
    assert Person.objects.get(pk=newcomer.pk).keyed_for == services.keys_fingerprint(MatchRules())


def test_new_rules_index_everyone_again(population):
    rules = MatchRules(exact_keys=("email", "customer_id"))
    changed = population[9]
    services.groups_rebuild(changed_keys=[changed.key], rules=rules)
    assert not Person.objects.exclude(keyed_for=services.keys_fingerprint(rules)).exists()
