"""The ActiveCampaign connector's large writes through the Bulk Contact Importer, against the
sandbox over HTTP: one import per 250 contacts, tags riding along, ids learnt, failures by
email, and an import whose answer was lost never sent again."""
import pytest
import requests
from requests.adapters import HTTPAdapter

from connectors.activecampaign import ActiveCampaignConnector
from connectors.base import ANSWER_LOST, TAGS_IF_CREATED, Unavailable, ValidationFailed
from connectors.sandbox.activecampaign.imports import imports_process_pending
from connectors.sandbox.models.activecampaign import AcContact, AcContactTag, AcImport

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def connect():
    made = []

    def make(facts, **options):
        options.setdefault("sleep", lambda seconds: None)
        made.append(ActiveCampaignConnector(base_url=facts.api_url, credentials={"api_key": facts.api_key}, **options))
        return made[-1]

    yield make
    for connector in made:
        connector.session.close()


@pytest.fixture
def facts(activecampaign_account):
    return activecampaign_account


@pytest.fixture
def ac(connect, facts):
    return connect(facts)


def people(n, start=0, **extra):
    return [{"email": f"person{i}@example.com", "firstName": f"First{i}", "lastName": f"Last{i}", **extra} for i in range(start, start + n)]


def tags_of(email):
    return sorted(AcContactTag.objects.filter(contact__email=email).values_list("tag__tag", flat=True))


def test_more_than_ten_contacts_go_in_one_import_per_250_with_their_ids_in_order(ac):
    results = ac.upsert("contact", people(600, COMPANY_SIZE="11-50", tags=["newsletter"]))

    stored = dict(AcContact.objects.values_list("email", "number"))
    assert [r.id for r in results] == [str(stored[f"person{i}@example.com"]) for i in range(600)]
    assert all(r.ok and r.created for r in results)
    assert AcImport.objects.count() == 3 and tags_of("person599@example.com") == ["newsletter"]
    # 3 imports, 3 status reads (the sandbox's importer is done at once here), 3 + 3 + 1 reads of new ids;
    # plus one read of the custom fields.
    assert ac.api_calls == 3 + 3 + 7 + 1


def test_every_import_of_a_write_is_sent_before_any_is_waited_for(connect, facts, activecampaign_imports_later, monkeypatch):
    """The importer works on the first imports while the next are sent: by the first status
    read, all three are queued, and each is read once when it is done."""
    calls = []
    real_call = ActiveCampaignConnector._call

    def noting(self, method, path, **kwargs):
        calls.append(f"{method} {path}")
        return real_call(self, method, path, **kwargs)

    def sleep(seconds):
        imports_process_pending()  # done while the connector waits

    monkeypatch.setattr(ActiveCampaignConnector, "_call", noting)
    results = connect(facts, sleep=sleep).upsert("contact", people(600))

    assert all(r.ok and r.created for r in results)
    writes_and_status = [c for c in calls if c.startswith(("POST import", "GET import"))]
    assert writes_and_status == ["POST import/bulk_import"] * 3 + ["GET import/info"] * 3


def test_ten_or_fewer_contacts_go_through_contact_sync(ac):
    results = ac.upsert("contact", people(10))

    assert all(r.ok and r.created for r in results) and ac.api_calls == 10
    assert AcImport.objects.count() == 0


def test_tags_owed_to_created_contacts_ride_along_and_leave_contacts_that_existed(ac):
    [existing] = ac.upsert("contact", [{"email": "person3@example.com", "firstName": "Old"}])

    results = ac.upsert("contact", [{**p, TAGS_IF_CREATED: ["created-from-salesforce-contact"]} for p in people(12)])

    assert [(r.created, r.tagged) for r in results[2:5]] == [(True, True), (False, False), (True, True)]
    assert results[3].id == existing.id
    assert tags_of("person0@example.com") == ["created-from-salesforce-contact"]
    assert tags_of("person3@example.com") == []  # it was not created by this write
    assert AcContact.objects.get(email="person3@example.com").first_name == "First3"


def test_contacts_the_import_refuses_fail_alone_by_email(ac):
    batch = people(12)
    batch[4]["COMPANY_SIZE"] = "enormous"  # not one of the field's options
    batch[7]["email"] = "not-an-email"

    results = ac.upsert("contact", batch)

    refused = [n for n, r in enumerate(results) if not r.ok]
    assert refused == [4, 7]
    assert all(isinstance(results[n].error, ValidationFailed) and not results[n].error.retriable for n in refused)
    assert AcContact.objects.count() == 10


def test_a_record_without_email_fails_before_anything_is_sent(ac):
    results = ac.upsert("contact", people(11) + [{"firstName": "Nobody"}])

    assert [r.ok for r in results] == [True] * 11 + [False] and results[11].error.field == "email"


def test_it_waits_for_the_import_reading_its_status_with_back_off(connect, facts, activecampaign_imports_later):
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 3:
            imports_process_pending()  # the importer gets to it while the connector waits

    ac = connect(facts, sleep=sleep)
    results = ac.upsert("contact", people(20))

    assert all(r.ok and r.created for r in results)
    # Two reads found it not yet known or under way; the time since it was sent counts as waited.
    assert slept[1:] == [2.0, 4.0] and 0.9 < slept[0] <= 1.0


def test_an_import_not_done_in_time_fails_its_records_retriably_and_is_not_sent_again(connect, facts, activecampaign_imports_later):
    ac = connect(facts)

    results = ac.upsert("contact", people(20))

    assert all(not r.ok and isinstance(r.error, Unavailable) and r.error.code == ANSWER_LOST for r in results)
    assert AcImport.objects.count() == 1


class LosingImportAnswers(HTTPAdapter):
    """Lets a bulk import through to the sandbox, then loses its answer (a read timeout)."""

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if request.method == "POST" and "import/bulk_import" in request.url:
            raise requests.ReadTimeout("read timed out")
        return response


def test_an_import_whose_answer_was_lost_is_never_sent_again_and_its_records_fail_retriably(connect, facts):
    ac = connect(facts, max_retries=4)
    ac.session.mount("http://", LosingImportAnswers())

    results = ac.upsert("contact", people(30))

    assert all(not r.ok and r.error.retriable and r.error.code == ANSWER_LOST for r in results)
    assert AcImport.objects.count() == 1 and AcContact.objects.count() == 30  # it landed, once


def test_the_importers_limit_a_minute_is_waited_out(connect, make_activecampaign_account, activecampaign_clock):
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        activecampaign_clock.advance(seconds)

    ac = connect(make_activecampaign_account(rate_limit=1000, bulk_import_limit=2), sleep=sleep)

    results = ac.upsert("contact", people(750))

    assert all(r.ok for r in results) and AcImport.objects.count() == 3
    assert any(s > 30 for s in slept)  # the third import waited for the minute to pass
