"""Completeness checks end to end: two Salesforce sandbox orgs over HTTP, Contact → Contact.

A check compares the records in scope with the links and the target's records and lists what
is missing, failed, not linked yet or orphaned, with why; "sync the missing now" brings the
missing across and a second check is clean.
"""
import pytest
from django.utils import timezone

from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.salesforce.orgs import org_add_field, org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import completeness, engine
from syncconfig.models import CompletenessCheck, Connection, RecordError, RecordLink, Sync, SyncRule, SyncRun
from syncconfig.services import connection_connector
from tests.factories import FieldMappingFactory, SyncFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS = ["Email", "FirstName", "LastName", "Nickname__c"]


@pytest.fixture
def orgs(make_salesforce_org):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")
    # The target keeps nicknames short; the source does not: a way to make a record fail.
    org_add_field(org_get(source.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=80)
    org_add_field(org_get(target.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=5)
    return source, target


@pytest.fixture
def sync(orgs):
    source, target = orgs
    sync = SyncFactory(source=salesforce_connection(source, "Source"), source_object="Contact",
                       target=salesforce_connection(target, "Target"), target_object="Contact",
                       target_id_field="External_Id__c", enabled=True)
    for position, name in enumerate(FIELDS):
        FieldMappingFactory(sync=sync, source_field=name, target_field=name, position=position, is_key=name == "Email")
    SyncRule.objects.create(sync=sync, kind=SyncRule.Kind.MARKER, field="Sync_To_Marketing__c", operator=SyncRule.Operator.IS_SET)
    return sync


def seed(facts, rows):
    return records_bulk_create(org_get(facts.org_id), "Contact", rows)


def settle(facts, minutes=10):
    """Date an org's records back, as written a while ago: past Salesforce's read lag, a run
    does not read them again."""
    from datetime import timedelta

    from django.db.models import F

    SandboxRecord.objects.filter(org=org_get(facts.org_id)).update(
        system_modstamp=F("system_modstamp") - timedelta(minutes=minutes),
        last_modified_date=F("last_modified_date") - timedelta(minutes=minutes))


def people(n, start=0, in_scope=True):
    return [{"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com", "Sync_To_Marketing__c": in_scope}
            for i in range(start, start + n)]


def target_emails(facts):
    return sorted(r.data["Email"] for r in SandboxRecord.objects.filter(org__org_id=facts.org_id, sobject="Contact", is_deleted=False))


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))


def check(sync, trigger=CompletenessCheck.Trigger.MANUAL):
    made = CompletenessCheck.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=trigger)
    return completeness.completeness_check_execute(made)


def findings(result):
    return {(i.category, i.record_id): i for i in result.items.all()}


def test_a_fully_synced_sync_checks_complete_and_leaves_out_what_is_out_of_scope(orgs, sync):
    source, target = orgs
    seed(source, people(4) + people(2, start=4, in_scope=False))
    run(sync)
    result = check(sync)
    assert (result.status, result.summary) == ("complete", "Complete")
    assert (result.source_read, result.target_read, result.in_scope, result.out_of_scope, result.links_count) == (6, 4, 4, 2, 4)
    assert result.items.count() == 0
    assert result.source_api_calls >= 1 and result.target_api_calls >= 1


def test_a_check_lists_each_lost_record_with_why_and_syncing_the_missing_makes_a_second_check_clean(orgs, sync):
    source, target = orgs
    ids = seed(source, people(6) + people(1, start=10, in_scope=False))
    settle(source)
    run(sync)
    links = {link.source_id: link for link in RecordLink.objects.filter(sync=sync)}
    sf_target, sf_source = connection_connector(sync.target), connection_connector(sync.source)
    # 0: the partner and the link are gone (never synced, as far as anyone can tell).
    sf_target.delete([links[ids[0]].target_id])
    links[ids[0]].delete()
    # 1: the partner is gone, the link is left pointing at nothing.
    sf_target.delete([links[ids[1]].target_id])
    # 2: the link is gone; the partner is still there with the same email.
    partner_2 = links[ids[2]].target_id
    links[ids[2]].delete()
    # 3: the source record is deleted: its link is an orphan.
    sf_source.delete([ids[3]])
    # 6: a record created since, and one that fails for a reason already known.
    [new_id] = seed(source, people(1, start=6))
    [bad_id] = seed(source, [{**people(1, start=7)[0], "Nickname__c": "The Enchantress of Numbers"}])
    run_with_failure = run(sync)
    assert run_with_failure.failed_count == 1
    [new_link] = RecordLink.objects.filter(sync=sync, source_id=new_id)
    sf_target.delete([new_link.target_id])
    new_link.delete()
    # Out of scope and never synced: not expected in the target.
    seed(source, people(1, start=11, in_scope=False))

    result = check(sync)

    assert result.status == "incomplete"
    assert (result.missing_in_target, result.failed_count, result.unlinked_count, result.orphaned_count) == (3, 1, 1, 1)
    assert result.summary == "3 missing in Target, 1 failed, 1 not linked yet, 1 orphaned link"
    found = findings(result)
    assert set(found) == {("missing", ids[0]), ("missing", ids[1]), ("missing", new_id), ("failed", bad_id),
                          ("unlinked", ids[2]), ("orphaned", ids[3])}
    assert found[("missing", ids[0])].reason == "Never synced: not linked, and no Contact in Target has its Email (ada0@example.com)."
    assert found[("missing", ids[1])].reason == f"Linked to Contact {links[ids[1]].target_id}, which no longer exists in Target."
    assert found[("unlinked", ids[2])].partner_id == partner_2
    assert "has the same Email" in found[("unlinked", ids[2])].reason
    assert found[("failed", bad_id)].reason.startswith("A run failed on it:") and "the field takes at most 5" in found[("failed", bad_id)].reason
    assert found[("orphaned", ids[3])].reason.startswith(f"Contact {ids[3]} no longer exists in Source")
    assert found[("missing", ids[0])].side == "source" and found[("missing", ids[0])].key_value == "ada0@example.com"

    # The failing record is fixed at its source; then the missing records are synced.
    sf_source.update("Contact", [{"Id": bad_id, "Nickname__c": "Ada"}])
    missing_run = completeness.completeness_sync_missing(check=result)
    missing_run.refresh_from_db()
    assert (missing_run.trigger, missing_run.status, missing_run.read_count, missing_run.failed_count) == ("completeness", "succeeded", 5, 0)
    assert missing_run.created_count == 4
    assert target_emails(target) == sorted(f"ada{i}@example.com" for i in (0, 1, 2, 3, 4, 5, 6, 7))
    assert RecordLink.objects.get(sync=sync, source_id=ids[2]).target_id == partner_2
    assert RecordError.objects.get(sync=sync, record_id=bad_id).state == "resolved"

    second = check(sync)
    assert (second.status, second.missing_in_target, second.failed_count, second.unlinked_count) == ("complete", 0, 0, 0)
    assert second.orphaned_count == 1  # a deleted source record is not brought back
    assert second.summary == "1 orphaned link"


def test_a_two_way_check_finds_what_is_missing_on_each_side(orgs, sync):
    source, target = orgs
    Sync.objects.filter(pk=sync.pk).update(direction=Sync.Direction.TWO_WAY, source_id_field="External_Id__c")
    SyncRule.objects.create(sync=sync, kind=SyncRule.Kind.MARKER, side="target", field="Sync_To_Marketing__c",
                            operator=SyncRule.Operator.IS_SET)
    seed(source, people(2))
    run(sync)
    [only_in_target] = seed(target, people(1, start=5))
    seed(target, people(1, start=6, in_scope=False))
    [only_in_source] = seed(source, people(1, start=8))
    result = check(sync)
    assert (result.missing_in_target, result.missing_in_source) == (1, 1)
    assert result.summary == "1 missing in Target, 1 missing in Source"
    found = findings(result)
    assert found[("missing", only_in_target)].side == "target"
    assert found[("missing", only_in_source)].side == "source"
    completeness.completeness_sync_missing(check=result)
    assert check(sync).status == "complete"
    assert "ada5@example.com" in {r.data["Email"] for r in SandboxRecord.objects.filter(org__org_id=source.org_id, sobject="Contact", is_deleted=False)}
    assert "ada8@example.com" in target_emails(target)


def test_co5_a_check_pauses_at_the_api_budget_and_lists_nothing_half_read(orgs, sync):
    source, target = orgs
    seed(source, people(3))
    run(sync)
    org = org_get(target.org_id)
    org.daily_limit = 100
    org.save()
    for _ in range(60):  # another integration has been busy on the target org today
        connection_connector(sync.target).describe("Contact")
    Connection.objects.filter(pk=sync.target_id).update(api_budget_percent=50)
    result = check(sync)
    assert result.status == "paused" and "past its budget of 50%" in result.message
    assert result.items.count() == 0 and result.summary == "Paused (API budget)"
    # Before a single call, the next check sees the usage the org reported.
    again = check(sync)
    assert again.status == "paused" and again.message.startswith("Not checked:")
    assert (again.source_api_calls, again.target_api_calls) == (0, 0)


def test_checks_are_queued_when_their_interval_has_passed_and_only_then(orgs, sync):
    Sync.objects.filter(pk=sync.pk).update(completeness_every_hours=6)
    [first] = completeness.completeness_checks_due()
    first.refresh_from_db()
    assert (first.trigger, first.status) == ("scheduled", "complete")
    assert completeness.completeness_checks_due() == []
    later = timezone.now() + timezone.timedelta(hours=7)
    assert len(completeness.completeness_checks_due(now=later)) == 1
    Sync.objects.filter(pk=sync.pk).update(completeness_every_hours=None)
    assert completeness.completeness_checks_due(now=later + timezone.timedelta(days=2)) == []
