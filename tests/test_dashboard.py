"""The dashboard at / and the health endpoint."""
import pytest
from django.utils import timezone

from syncconfig import roles
from syncconfig.models import RecordError, SyncRun
from tests.factories import ConnectionFactory, RecordErrorFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_shows_connections_with_their_health(client):
    ConnectionFactory(name="Marketing AC", last_check_ok=True, last_checked_at=timezone.now(), last_check_message="Connected to acme")
    ConnectionFactory(name="Old org", kind="salesforce", last_check_ok=False, last_checked_at=timezone.now(), last_check_message="authentication failure")
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    page = client.get("/").content.decode()
    assert "Marketing AC" in page and "badge-ok" in page
    assert "Old org" in page and "badge-failing" in page and "authentication failure" in page


def test_it_shows_each_sync_with_its_latest_run_and_open_errors(client):
    sync = SyncFactory(name="AC to SF")
    SyncRunFactory(sync=sync, status=SyncRun.Status.SUCCEEDED, started_at=timezone.now() - timezone.timedelta(hours=2))
    latest = SyncRunFactory(sync=sync, status=SyncRun.Status.PARTIAL)
    RecordErrorFactory.create_batch(3, run=latest)
    RecordErrorFactory(run=latest, state=RecordError.State.RESOLVED)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    response = client.get("/")
    row = next(s for s in response.context["syncs"] if s.pk == sync.pk)
    assert row.latest_run == latest
    assert row.open_errors == 3
    assert "Finished with failed records" in response.content.decode()


def test_the_last_run_and_the_failed_records_tell_the_same_story(client):
    retried = SyncFactory(name="Retried")
    RecordErrorFactory.create_batch(2, run=SyncRunFactory(sync=retried, status=SyncRun.Status.PARTIAL),
                                    state=RecordError.State.RETRY_SCHEDULED)
    resolved = SyncFactory(name="Resolved")
    RecordErrorFactory(run=SyncRunFactory(sync=resolved, status=SyncRun.Status.PARTIAL), state=RecordError.State.RESOLVED)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))

    page = client.get("/").content.decode()

    assert "0 · 2 retried by itself" in page  # failed, and not forgotten
    assert page.count("its failed records are resolved since") == 1  # only where none is left


def test_it_counts_queries_independently_of_the_number_of_syncs(client, django_assert_max_num_queries):
    for _ in range(10):
        SyncRunFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.get("/")  # the first view of a day sums the days that are over for the charts, once
    with django_assert_max_num_queries(9):
        client.get("/")


def test_health_answers_ok_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_every_page_says_when_its_data_was_read(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    sync = SyncFactory()
    for url in ("/", f"/syncs/{sync.pk}/", "/duplicates/"):
        page = client.get(url).content.decode()
        assert 'class="refreshed">Data as of <time datetime="' in page, url


def test_a_sync_into_a_list_known_by_its_key_shows_the_lists_name(client):
    """A Zoho Campaigns list's API name is a 64-character key: the pages say the name it was
    chosen by."""
    key = "e622728f93201d220213302646e2b13f86b1d44bc7b08a9a3f2d87ef7d964cab"
    sync = SyncFactory(name="Contacts to the newsletter", target_object=key, options={"object_labels": {"target": "Newsletter"}})
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    for page in (client.get("/").content.decode(), client.get(f"/syncs/{sync.pk}/").content.decode()):
        assert "· Newsletter" in page or "<strong>Newsletter</strong>" in page
        assert key not in page
