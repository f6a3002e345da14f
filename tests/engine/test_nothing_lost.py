"""Nothing lost, provably: reads that cannot skip records, whatever the vendors' timing, and
runs whose counts agree with what the target holds. End to end against the sandboxes over HTTP."""
import pytest

from syncconfig.models import RecordError, RecordLink, SyncRun
from tests.engine.test_hubspot_salesforce import hubspot, make_sync, run, salesforce

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org(name="Acme")


def sf_contact_count(sync) -> int:
    return sum(len(page) for page in salesforce(sync).changes("Contact", None, ["Id"]))


def test_a_one_way_hubspot_to_salesforce_sync_of_5000_seeded_contacts_brings_every_one(org, make_hubspot_account):
    """The seeded contacts share a few instants (hundreds of them the same millisecond), and the
    sync writes each contact's Salesforce id back onto it as it goes, which moves the contact
    out of that instant while the read is still paging through it."""
    hub = make_hubspot_account(name="Acme Hub", records=5000)
    sync = make_sync(org, hub)
    total = 5000

    first = run(sync)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert first.failed_count == 0
    links = RecordLink.objects.filter(sync=sync).count()
    assert links == total
    assert sf_contact_count(sync) == first.created_count + first.updated_count
    assert first.created_count == sf_contact_count(sync)
    assert not RecordError.objects.filter(sync=sync).exists()
