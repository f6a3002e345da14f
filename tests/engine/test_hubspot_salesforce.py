"""HubSpot ⇄ Salesforce with duplicates made explicit (SPEC HS-1 … HS-10), end to end against
both sandboxes over HTTP: the engine, the matcher and the merge procedure."""
from datetime import timedelta

import pytest

from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from dedupe import merging, services
from dedupe.models import DuplicateGroup, MatchSource, MergeJob, MergeStep
from syncconfig import engine
from syncconfig.integrations import hubspot_salesforce as hs
from syncconfig.models import RecordError, RecordLink, RecordLinkEvent, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, FieldMappingFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
MAPPINGS = [("email", "Email", True), ("firstname", "FirstName", False), ("lastname", "LastName", False), ("phone", "Phone", False)]


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org(name="Acme")


@pytest.fixture
def hub(make_hubspot_account):
    return make_hubspot_account(name="Acme Hub")


def hubspot_connection(facts, name="Acme Hub"):
    return ConnectionFactory(name=name, kind="hubspot", base_url=facts.base_url,
                             credentials={"token": facts.token, "app_id": str(facts.app_id), "client_secret": facts.client_secret})


def make_sync(org, hub, *, two_way=False, **options):
    sync = SyncFactory(source=hubspot_connection(hub), source_object="contacts", target=salesforce_connection(org, "Acme org"),
                       target_object="Contact", enabled=True,
                       direction=Sync.Direction.TWO_WAY if two_way else Sync.Direction.SOURCE_TO_TARGET)
    for position, (hs_field, sf_field, key) in enumerate(MAPPINGS):
        FieldMappingFactory(sync=sync, source_field=hs_field, target_field=sf_field, is_key=key, position=position)
    hs.hubspot_options_save(sync=sync, link_policy=options.get("link_policy", hs.LinkPolicy.STABLE),
                            on_salesforce_delete=options.get("on_salesforce_delete", hs.OnSalesforceDelete.DELETE))
    return Sync.objects.select_related("source", "target").get(pk=sync.pk)


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))


def sf_create(org, sobject, rows):
    return records_bulk_create(org_get(org.org_id), sobject, rows)


def settle(org, minutes=10):
    """Date the org's records back, as if they had been written a while ago (past the read lag)."""
    from django.db.models import F

    from connectors.sandbox.models import SandboxRecord

    SandboxRecord.objects.filter(org=org_get(org.org_id)).update(
        system_modstamp=F("system_modstamp") - timedelta(minutes=minutes),
        last_modified_date=F("last_modified_date") - timedelta(minutes=minutes))


def hubspot(sync):
    return connection_connector(sync.source)


def salesforce(sync):
    return connection_connector(sync.target)


def hs_create(sync, *rows):
    results = hubspot(sync).create("contacts", list(rows))
    assert all(r.ok for r in results), [r.error for r in results]
    return [r.id for r in results]


def watch(sync, *objects):
    """The matcher watches the sync's Salesforce objects and its HubSpot contacts."""
    for obj in objects or ("Contact",):
        MatchSource.objects.create(connection=sync.target, object_name=obj, exact_fields=["Email"])
    MatchSource.objects.create(connection=sync.source, object_name="contacts", exact_fields=["email"])


def jane(**extra):
    return {"FirstName": "Jane", "LastName": "Francis", "Email": "jane.francis@northwind.example", **extra}


def group_with(record_id):
    return DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN, members__record_id=record_id).get()


# --- HS-1 -------------------------------------------------------------------------------------------
def test_hs1_a_salesforce_matching_field_not_mapped_to_hubspot_is_flagged(org, hub, client):
    sync = make_sync(org, hub)
    MatchSource.objects.create(connection=sync.target, object_name="Contact", exact_fields=["Email", "Customer_ID__c"])
    warnings = hs.matching_warnings(sync)
    assert len(warnings) == 1 and "Contact.Customer_ID__c" in warnings[0]
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert "Customer_ID__c is used to match duplicates" in client.get(f"/syncs/{sync.pk}/hubspot/").content.decode()


# --- HS-2 -------------------------------------------------------------------------------------------
def test_hs2_an_email_matching_several_salesforce_records_is_linked_explicitly_and_flagged(org, hub):
    sync = make_sync(org, hub)
    ids = sf_create(org, "Contact", [jane(), jane(Phone="030 5550101"), jane(Title="Head of Purchasing"),
                                     {"LastName": "Other", "Email": "other@example.com"}])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis"})
    result = run(sync)
    assert result.status == "succeeded", result.message
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    assert link.target_id in ids[:3]
    event = link.events.get()
    assert "3 Contacts share this email" in event.reason and all(i in event.reason for i in ids[:3] if i != link.target_id)
    group = group_with(ids[0])
    assert {m.record_id for m in group.members.all()} == set(ids[:3]) and group.kind == DuplicateGroup.Kind.SAME_EMAIL
    # HubSpot now names its Salesforce record, as HubSpot's own integration does (HS-4).
    assert hubspot(sync).fetch("contacts", [contact], ["salesforcecontactid"])[0].fields["salesforcecontactid"] == link.target_id


def test_hs2_the_recent_policy_follows_the_last_updated_record_unless_the_link_is_pinned(org, hub):
    sync = make_sync(org, hub, link_policy=hs.LinkPolicy.RECENT)
    first, second = sf_create(org, "Contact", [jane(), jane()])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis"})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    other = second if link.target_id == first else first
    assert salesforce(sync).update("Contact", [{"Id": other, "Title": "Buyer"}])[0].ok
    hubspot(sync).update("contacts", [{"Id": contact, "firstname": "Janet"}])
    run(sync)
    link.refresh_from_db()
    assert link.target_id == other
    moved = link.events.get(action=RecordLinkEvent.Action.MOVED)
    assert moved.reason.startswith("Moved: 2 Contacts share this email") and moved.new_target_id == other

    hs.link_pin(link=link, user=None, pinned=True)
    back = first if other == second else second
    assert salesforce(sync).update("Contact", [{"Id": back, "Title": "Buyer"}])[0].ok
    hubspot(sync).update("contacts", [{"Id": contact, "firstname": "Jane"}])
    run(sync)
    link.refresh_from_db()
    assert link.target_id == other  # pinned: the policy no longer moves it


def test_hs2_the_id_hubspot_stores_on_the_contact_wins_over_the_policy(org, hub):
    sync = make_sync(org, hub)
    older, newer = sf_create(org, "Contact", [jane(), jane()])
    salesforce(sync).update("Contact", [{"Id": newer, "Title": "Buyer"}])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "lastname": "Francis", "salesforcecontactid": older})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    assert link.target_id == older and "Salesforce ID property" in link.events.get().reason


# --- HS-3, HS-4, HS-5, HS-7: the merge procedure ------------------------------------------------------
def test_hs4_the_proposed_master_is_the_salesforce_record_the_hubspot_contact_names(org, hub):
    sync = make_sync(org, hub)
    a, b, c = sf_create(org, "Contact", [jane(), jane(), jane()])
    hs_create(sync, {"email": "jane.francis@northwind.example", "lastname": "Francis", "salesforcecontactid": b})
    watch(sync)
    assert services.matching_run(full=True).status == "succeeded"
    group = group_with(a)
    assert group.proposed_master.record_id == b
    assert {m.connection.kind for m in group.members.all()} == {"salesforce", "hubspot"} and group.size == 4


def test_hs5_a_group_of_four_is_merged_in_salesforce_in_two_steps_with_the_chosen_values(org, hub):
    sync = make_sync(org, hub)
    ids = sf_create(org, "Contact", [jane(Phone="+49 30 5550101"), jane(Phone="030 5550101"), jane(Phone="+49 30 5550199", Title="Head of Purchasing"),
                                     jane(Email="jane.f@gmail.com", FirstName="Jane", LastName="F", Phone="+49 30 5550101")])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis",
                                 "salesforcecontactid": ids[0]})
    watch(sync)
    services.matching_run(full=True)
    group = group_with(ids[0])
    assert {m.record_id for m in group.members.all() if m.connection.kind == "salesforce"} == set(ids)
    keys = {m.record_id: m.key for m in group.members.all()}
    view = merging.comparison(group)
    phone = next(row for row in view.rows if row.name == "phone")
    assert phone.differs and phone.chosen == keys[ids[0]]
    job = merging.merge_request(group=group, user=UserFactory(), choices={"phone": keys[ids[2]]})
    job = merging.merge_execute(job)
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    sf_steps = job.steps.filter(system="Salesforce", action="merge")
    assert sf_steps.count() == 2 and all(1 + len(s.merged_ids) <= 3 for s in sf_steps)
    assert {i for s in sf_steps for i in s.merged_ids} == set(ids[1:])
    first = sf_steps.first()
    assert set(first.before) == {ids[0], *first.merged_ids} and first.after[ids[0]]["Phone"] == "+49 30 5550199"
    remaining = salesforce(sync).fetch("Contact", ids, ["Phone"])
    assert [(r.id, r.fields["Phone"]) for r in remaining] == [(ids[0], "+49 30 5550199")]
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.MERGED and job.steps_done == job.steps.count()
    # HubSpot follows: its contact carries the chosen phone and names the master.
    values = hubspot(sync).fetch("contacts", [contact], ["phone", "salesforcecontactid"])[0].fields
    assert (values["phone"], values["salesforcecontactid"]) == ("+49 30 5550199", ids[0])


def test_hs5_a_lead_duplicating_a_contact_is_converted_into_it(org, hub):
    sync = make_sync(org, hub)
    [account_id] = sf_create(org, "Account", [{"Name": "Elbe Logistik GmbH"}])
    [contact_id] = sf_create(org, "Contact", [{"FirstName": "Tom", "LastName": "Becker", "Email": "thomas.becker@elbe.example",
                                               "AccountId": account_id}])
    [lead_id] = sf_create(org, "Lead", [{"FirstName": "Thomas", "LastName": "Becker", "Email": "thomas.becker@elbe.example",
                                         "Company": "Elbe Logistik GmbH", "Status": "Open - Not Contacted"}])
    watch(sync, "Contact", "Lead")
    services.matching_run(full=True)
    group = group_with(lead_id)
    assert group.kind == DuplicateGroup.Kind.LEAD_CONTACT and group.proposed_master.record_id == contact_id
    job = merging.merge_execute(merging.merge_request(group=group, user=UserFactory()))
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    lead = salesforce(sync).fetch("Lead", [lead_id], ["IsConverted", "ConvertedContactId"])[0].fields
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == contact_id


def test_hs5_a_lead_cannot_be_the_master_of_a_contact(org, hub):
    sync = make_sync(org, hub)
    sf_create(org, "Contact", [{"LastName": "Becker", "Email": "tb@elbe.example"}])
    [lead_id] = sf_create(org, "Lead", [{"LastName": "Becker", "Email": "tb@elbe.example", "Company": "Elbe", "Status": "Open - Not Contacted"}])
    watch(sync, "Contact", "Lead")
    services.matching_run(full=True)
    group = group_with(lead_id)
    lead_key = next(m.key for m in group.members.all() if m.record_id == lead_id)
    with pytest.raises(merging.MergeRefused, match="A Lead cannot absorb a Contact"):
        merging.merge_request(group=group, user=UserFactory(), master_key=lead_key)
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.OPEN and not MergeJob.objects.exists()


def test_hs7_the_hubspot_contacts_are_merged_too_so_their_history_is_kept(org, hub):
    sync = make_sync(org, hub)
    a, b = sf_create(org, "Contact", [jane(Phone="+49 30 5550101"), jane(Email="jane.f@gmail.com", LastName="F", Phone="+49 30 5550101")])
    work, private = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis",
                                     "phone": "+49 30 5550101", "salesforcecontactid": a},
                              {"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "F", "phone": "+49 30 5550101",
                               "salesforcecontactid": b})
    hub_connector = hubspot(sync)
    for contact, count in ((work, 1), (private, 2)):
        for n in range(count):
            hub_connector._raw("POST", "/crm/v3/objects/notes", json={
                "properties": {"hs_note_body": f"Note {n}", "hs_timestamp": "2026-01-01T00:00:00Z"},
                "associations": [{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]})
    watch(sync)
    services.matching_run(full=True)
    group = group_with(a)
    assert group.kind == DuplicateGroup.Kind.DIFFERENT_EMAIL  # HS-9 as well
    assert "activity history" in merging.history_warning(group, merging.HubSpotAction.DELETE)
    assert merging.history_warning(group, merging.HubSpotAction.MERGE) == ""
    job = merging.merge_execute(merging.merge_request(group=group, user=UserFactory()))
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    assert job.steps.filter(system="HubSpot", action="merge").count() == 1
    # The contact that stays is the one linked to the Salesforce master, with both histories.
    master = group.proposed_master.record_id
    # HubSpot gives the merged contact a new id: both old ids read as it, and its link followed it.
    [survivor] = {r.id for r in hubspot(sync).fetch("contacts", [work, private], [])}
    assert survivor not in (work, private)
    assert hubspot(sync).activity_counts([survivor]) == {survivor: 3}
    links = RecordLink.objects.filter(sync=sync)
    assert [(l.source_id, l.target_id) for l in links] == [(survivor, master)]


def test_hs3_a_hubspot_only_merge_leaves_only_the_primary_synced(org, hub):
    sync = make_sync(org, hub)
    first, second = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis", "phone": "+49 30 5550101"},
                              {"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "Francis", "phone": "+49 30 5550101"})
    run(sync)  # each creates its own Salesforce Contact
    assert RecordLink.objects.filter(sync=sync).count() == 2
    MatchSource.objects.create(connection=sync.source, object_name="contacts", exact_fields=["email"])
    services.matching_run(full=True)
    group = group_with(first)
    master = group.proposed_master
    job = merging.merge_execute(merging.merge_request(group=group, user=UserFactory()))
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    # The primary's link followed the merged contact to its new id; the other's is gone.
    [survivor] = {r.id for r in hubspot(sync).fetch("contacts", [first, second], [])}
    assert list(RecordLink.objects.filter(sync=sync).values_list("source_id", flat=True)) == [survivor]
    assert survivor not in (first, second) and master.record_id in (first, second)


# --- HS-6 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("two_way", [True, False], ids=["two-way", "one-way"])
@pytest.mark.parametrize("setting", [hs.OnSalesforceDelete.DELETE, hs.OnSalesforceDelete.KEEP])
def test_hs6_a_salesforce_deletion_deletes_or_keeps_the_hubspot_contact(org, hub, setting, two_way, monkeypatch):
    monkeypatch.setattr(hs, "DELETIONS_EVERY", timedelta(0))  # every run looks for deletions
    sync = make_sync(org, hub, two_way=two_way, on_salesforce_delete=setting)
    [contact] = hs_create(sync, {"email": "gone@example.com", "lastname": "Gone"})
    run(sync)
    sf_id = RecordLink.objects.get(sync=sync, source_id=contact).target_id
    assert salesforce(sync).delete([sf_id])[0].ok
    run(sync)
    left = hubspot(sync).fetch("contacts", [contact], ["email"])
    assert (left == []) == (setting == hs.OnSalesforceDelete.DELETE)
    event = RecordLinkEvent.objects.get(link__sync=sync, action=RecordLinkEvent.Action.UNLINKED)
    assert f"Salesforce deleted {sf_id}" in event.reason and "(HS-6)" in event.reason


# --- HS-8 -------------------------------------------------------------------------------------------------
def test_hs8_contacts_whose_salesforce_record_was_merged_away_are_held_back_and_resynced_at_once(org, hub):
    sync = make_sync(org, hub)
    first, second = hs_create(sync, {"email": "a@example.com", "lastname": "A"}, {"email": "b@example.com", "lastname": "B"})
    run(sync)
    links_before = {link.source_id: link.target_id for link in RecordLink.objects.filter(sync=sync)}
    [master] = sf_create(org, "Contact", [{"LastName": "Master", "Email": "master@example.com"}])
    salesforce(sync).merge("Contact", master, [links_before[first], links_before[second]])  # outside the portal
    hubspot(sync).update("contacts", [{"Id": first, "firstname": "Ann"}, {"Id": second, "firstname": "Bea"}])
    result = run(sync)
    errors = RecordError.objects.filter(sync=sync, code="PARTNER_GONE", state=RecordError.State.OPEN)
    assert result.failed_count == 2 and errors.count() == 2
    assert "no longer exists" in errors.first().message
    runs = hs.resync(errors=list(errors), user=None)
    assert runs and all(r.status == "succeeded" for r in SyncRun.objects.filter(pk__in=[r.pk for r in runs]))
    # Both were merged into one record: one contact follows it, the other is paired anew by email.
    links = {link.source_id: link for link in RecordLink.objects.filter(sync=sync)}
    follower = next(link for link in links.values() if link.target_id == master)
    assert follower.events.filter(action=RecordLinkEvent.Action.MOVED, reason__contains="merged into").exists()
    other = links[second if follower.source_id == first else first]
    assert other.target_id not in (master, *links_before.values())
    assert [e.action for e in other.events.all()] == [RecordLinkEvent.Action.LINKED]
    assert not RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN).exists()
    names = {r.id: r.fields["FirstName"] for r in salesforce(sync).fetch("Contact", [master, other.target_id], ["FirstName"])}
    assert sorted(names.values()) == ["Ann", "Bea"]


def test_hs8_a_merge_in_the_portal_leaves_no_sync_error(org, hub):
    sync = make_sync(org, hub, two_way=True)
    a, b = sf_create(org, "Contact", [jane(), jane()])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis", "salesforcecontactid": b})
    run(sync)
    watch(sync)
    services.matching_run(full=True)
    job = merging.merge_execute(merging.merge_request(group=group_with(a), user=UserFactory()))
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    run(sync)
    assert not RecordError.objects.filter(sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).exists()
    assert [(l.source_id, l.target_id) for l in RecordLink.objects.filter(sync=sync)] == [(contact, b)]
    assert MergeStep.objects.filter(job=job, system="Portal", action="resync").get().status == MergeStep.Status.DONE


# --- HS-9, HS-10: matching ---------------------------------------------------------------------------------
def test_hs9_people_with_different_emails_are_found_and_queued(org, hub):
    sync = make_sync(org, hub)
    sf_create(org, "Contact", [{"FirstName": "Jane", "LastName": "Francis", "Email": "jane.francis@northwind.example", "Phone": "+49 30 5550101"}])
    hs_create(sync, {"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "F", "phone": "030 5550101"})
    watch(sync)
    services.matching_run(full=True)
    group = DuplicateGroup.objects.get(status=DuplicateGroup.Status.OPEN)
    assert group.kind == DuplicateGroup.Kind.DIFFERENT_EMAIL and group.systems == "HubSpot, Salesforce"
    assert all(m.why for m in group.members.all())


def test_hs10_inconsistent_formats_are_normalised_and_households_are_not_grouped(org, hub):
    sync = make_sync(org, hub)
    sf_create(org, "Lead", [{"FirstName": "ANNA", "LastName": "MUELLER", "Email": "ANNA.MUELLER@RHEINTAL.EXAMPLE", "Company": "RHEINTAL ENERGIE AG",
                             "Phone": "0049 221 555 0199", "City": "KOELN", "Status": "Open - Not Contacted"}])
    sf_create(org, "Contact", [
        {"FirstName": "Anna", "LastName": "Müller", "Email": "anna.mueller@rheintal.example", "Phone": "+49 221 5550199", "MailingCity": "Köln"},
        {"FirstName": "Piotr", "LastName": "Nowak", "Email": "piotr@vistula.example", "Phone": "+48 22 5550123", "MailingStreet": "ul. Długa 5", "MailingCity": "Warszawa"},
        {"FirstName": "Zofia", "LastName": "Nowak", "Email": "zofia@vistula.example", "Phone": "+48 22 5550123", "MailingStreet": "ul. Długa 5", "MailingCity": "Warszawa"},
    ])
    watch(sync, "Contact", "Lead")
    services.matching_run(full=True)
    [group] = DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN)
    assert sorted(m.object_name for m in group.members.all()) == ["Contact", "Lead"]


def test_matching_is_incremental_and_remembers_not_a_duplicate(org, hub):
    sync = make_sync(org, hub)
    sf_create(org, "Contact", [{"LastName": f"Other{i}", "Email": f"other{i}@example.com"} for i in range(20)])
    a, b = sf_create(org, "Contact", [jane(), jane()])
    settle(org)
    watch(sync)
    first = services.matching_run(full=True)
    group = group_with(a)
    services.group_reject(group=group, user=UserFactory())
    [c] = sf_create(org, "Contact", [jane()])
    second = services.matching_run()
    # Only what changed since the watermark is read (what is younger than Salesforce's read lag
    # is read again, and so is the watermark's own second).
    assert first.records_read == 22 and second.records_read <= 3
    new = group_with(c)
    # a and b are two people (remembered); c joins one of them, never both together.
    keys = {m.record_id for m in new.members.all()}
    assert c in keys and not {a, b} <= keys


def test_a_salesforce_record_and_the_hubspot_contact_synced_with_it_are_not_queued(org, hub):
    sync = make_sync(org, hub, two_way=True)
    sf_create(org, "Contact", [{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "Phone": "+44 20 5550100"}])
    hs_create(sync, {"email": "grace@example.com", "firstname": "Grace", "lastname": "Hopper"})
    run(sync)  # each now has its twin on the other side
    assert RecordLink.objects.filter(sync=sync).count() == 2
    watch(sync)
    services.matching_run(full=True)
    assert not DuplicateGroup.objects.exists()


# --- a merge decision is carried out once, with what the reviewer chose, and can be resumed --------
def matched_janes(org, hub, n=2, **extra):
    sync = make_sync(org, hub)
    ids = sf_create(org, "Contact", [jane(MailingCity="Berlin", Phone=f"+49 30 555010{i}", **extra) for i in range(n)])
    watch(sync)
    services.matching_run(full=True)
    return sync, ids, group_with(ids[0])


def test_matching_never_reopens_a_group_being_merged(org, hub):
    sync, ids, group = matched_janes(org, hub)
    merging.merge_request(group=group, user=UserFactory())
    services.matching_run(full=True)
    sf_create(org, "Contact", [jane()])
    services.matching_run()
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.MERGING and MergeJob.objects.filter(group=group).count() == 1
    with pytest.raises(merging.MergeRefused, match="merging already"):
        merging.merge_request(group=group, user=UserFactory())
    # The records being merged wait for that decision; they are in no other group.
    assert not DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN, members__record_id__in=ids).exists()


def test_a_merge_writes_only_what_the_reviewer_chose_from_the_records_as_they_are_now(org, hub):
    sync, ids, group = matched_janes(org, hub)
    master = group.proposed_master.record_id
    other = next(i for i in ids if i != master)
    keys = {m.record_id: m.key for m in group.members.all()}
    # Edits made in Salesforce after matching: the master's city, the other record's phone.
    salesforce(sync).update("Contact", [{"Id": master, "MailingCity": "Potsdam"}, {"Id": other, "Phone": "+49 30 5559999"}])
    job = merging.merge_request(group=group, user=UserFactory(), choices={"phone": keys[other]})
    assert merging.merge_execute(job).status == MergeJob.Status.SUCCEEDED, job.message
    values = salesforce(sync).fetch("Contact", [master], ["Phone", "MailingCity", "Email"])[0].fields
    assert (values["Phone"], values["MailingCity"], values["Email"]) == ("+49 30 5559999", "Potsdam", "jane.francis@northwind.example")


def test_a_merge_that_fails_half_way_unlinks_what_is_gone_and_resumes_where_it_stopped(org, hub, monkeypatch):
    from connectors.base import Unavailable
    from connectors.hubspot import HubSpotConnector

    sync = make_sync(org, hub, two_way=True)
    a, b = sf_create(org, "Contact", [jane(), jane(Email="jane.f@gmail.com", LastName="F")])
    work, private = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis", "salesforcecontactid": a},
                              {"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "F", "salesforcecontactid": b})
    for contact, phone in ((work, "+49 30 5550101"), (private, "+49 30 5550101")):
        hubspot(sync).update("contacts", [{"Id": contact, "phone": phone}])
    run(sync)
    watch(sync)
    services.matching_run(full=True)
    group = group_with(a)
    master = group.proposed_master.record_id
    monkeypatch.setattr(HubSpotConnector, "merge", lambda *args, **kwargs: (_ for _ in ()).throw(Unavailable("HubSpot is down.")))
    job = merging.merge_execute(merging.merge_request(group=group, user=UserFactory()))
    assert job.status == MergeJob.Status.FAILED and job.message == "HubSpot is down."
    assert job.steps.get(system="HubSpot", action="merge").status == MergeStep.Status.FAILED
    merged_away = next(i for i in (a, b) if i != master)
    # The record merged away in Salesforce is linked no more: HS-6 will not delete its contact.
    assert not RecordLink.objects.filter(sync=sync, target_id=merged_away).exists()
    monkeypatch.undo()
    group.refresh_from_db()
    again = merging.merge_execute(merging.merge_request(group=group, user=UserFactory()))
    assert again.status == MergeJob.Status.SUCCEEDED, again.message
    assert not again.steps.filter(system="Salesforce").exists()  # not merged twice
    assert len({r.id for r in hubspot(sync).fetch("contacts", [work, private], ["email"])}) == 1


def test_records_deleted_in_salesforce_leave_their_groups(org, hub):
    sync, ids, group = matched_janes(org, hub, n=3)
    assert salesforce(sync).delete([ids[2]])[0].ok
    services.matching_run(full=True)
    assert {m.record_id for m in group_with(ids[0]).members.all()} == set(ids[:2])


def test_a_failed_matching_pass_reads_its_changes_again(org, hub, monkeypatch):
    from connectors.base import Unavailable
    from connectors.hubspot import HubSpotConnector

    sync, ids, group = matched_janes(org, hub)
    [new] = sf_create(org, "Contact", [jane()])
    real = HubSpotConnector.changes
    monkeypatch.setattr(HubSpotConnector, "changes", lambda *a, **k: (_ for _ in ()).throw(Unavailable("HubSpot is down.")))
    assert services.matching_run().status == "failed"
    monkeypatch.setattr(HubSpotConnector, "changes", real)
    services.matching_run()
    assert new in {m.record_id for m in group_with(ids[0]).members.all()}


def test_a_merge_leaves_the_links_of_another_orgs_sync_alone(org, hub, make_salesforce_org):
    sync = make_sync(org, hub)
    other_org = make_salesforce_org(name="Other")
    other = SyncFactory(source=sync.source, source_object="contacts", target=salesforce_connection(other_org, "Other org"),
                        target_object="Contact", enabled=False)
    for position, (hs_field, sf_field, key) in enumerate(MAPPINGS):
        FieldMappingFactory(sync=other, source_field=hs_field, target_field=sf_field, is_key=key, position=position)
    a, b = sf_create(org, "Contact", [jane(), jane()])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "lastname": "Francis", "salesforcecontactid": a})
    run(sync)
    run(other)
    elsewhere = RecordLink.objects.get(sync=other, source_id=contact).target_id
    watch(sync)
    services.matching_run(full=True)
    assert merging.merge_execute(merging.merge_request(group=group_with(a), user=UserFactory())).status == "succeeded"
    assert RecordLink.objects.get(sync=other, source_id=contact).target_id == elsewhere


def test_hs8_the_links_page_pins_a_link_and_resyncs_every_held_back_contact(org, hub, client):
    sync = make_sync(org, hub)
    first, second = hs_create(sync, {"email": "a@example.com", "lastname": "A"}, {"email": "b@example.com", "lastname": "B"})
    run(sync)
    links = {link.source_id: link for link in RecordLink.objects.filter(sync=sync)}
    [master] = sf_create(org, "Contact", [{"LastName": "Master", "Email": "master@example.com"}])
    salesforce(sync).merge("Contact", master, [links[first].target_id])
    hubspot(sync).update("contacts", [{"Id": first, "firstname": "Ann"}])
    run(sync)
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    page = client.get(f"/syncs/{sync.pk}/hubspot/").content.decode()
    assert "Held back: their Salesforce record no longer exists (1)" in page and "no longer exists" in page
    response = client.post(f"/syncs/{sync.pk}/hubspot/links/{links[second].pk}/pin/", {"pinned": "1"})
    assert response.status_code == 302 and RecordLink.objects.get(pk=links[second].pk).pinned
    response = client.post(f"/syncs/{sync.pk}/hubspot/resync/", {"all": "1"})
    assert response.status_code == 302 and "/runs/" in response["Location"]
    assert RecordLink.objects.get(sync=sync, source_id=first).target_id == master
    assert not RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN).exists()
    page = client.get(f"/syncs/{sync.pk}/hubspot/").content.decode()
    assert "Resync: " in page and "pinned" in page


def test_pinning_to_an_id_that_is_no_record_of_the_syncs_object_is_refused(org, hub, client):
    sync = make_sync(org, hub)
    [contact] = hs_create(sync, {"email": "a@example.com", "lastname": "A"})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    [lead] = sf_create(org, "Lead", [{"LastName": "A", "Company": "A", "Status": "Open - Not Contacted"}])
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    for wrong in ("xyz", lead):
        response = client.post(f"/syncs/{sync.pk}/hubspot/links/{link.pk}/pin/", {"pinned": "1", "salesforce_id": wrong}, follow=True)
        assert f"No Contact with the id “{wrong}”" in response.content.decode()
    link.refresh_from_db()
    assert not link.pinned and link.events.count() == 1


def test_an_immediate_run_that_finds_nothing_new_leaves_no_line_in_the_history(org, hub):
    sync = make_sync(org, hub)
    hs_create(sync, {"email": "a@example.com", "lastname": "A"})
    first = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    assert first.created_count == 1 and SyncRun.objects.filter(pk=first.pk).exists()
    quiet = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    assert quiet.created_count == quiet.updated_count == 0 and not SyncRun.objects.filter(pk=quiet.pk).exists()


def test_hs8_resync_links_to_the_record_with_the_contacts_email_and_keeps_the_history(org, hub):
    sync = make_sync(org, hub)
    [contact] = hs_create(sync, {"email": "pat@example.com", "lastname": "Pat"})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    gone = link.target_id
    [other] = sf_create(org, "Contact", [{"LastName": "Pat", "Email": "pat@example.com"}])
    assert salesforce(sync).delete([gone])[0].ok
    hubspot(sync).update("contacts", [{"Id": contact, "firstname": "Patricia"}])
    run(sync)
    hs.resync(errors=list(RecordError.objects.filter(sync=sync, code="PARTNER_GONE")), user=None)
    link.refresh_from_db()
    assert link.target_id == other
    assert [e.action for e in link.events.order_by("at", "pk")] == [RecordLinkEvent.Action.LINKED, RecordLinkEvent.Action.MOVED]
    assert "has the contact's email" in link.events.get(action=RecordLinkEvent.Action.MOVED).reason
    assert salesforce(sync).fetch("Contact", [other], ["FirstName"])[0].fields["FirstName"] == "Patricia"


def test_a_runs_page_shows_what_changed_on_each_record(org, hub, client):
    sync = make_sync(org, hub)
    [contact] = hs_create(sync, {"email": "pat@example.com", "firstname": "Pat", "lastname": "Smith"})
    run(sync)
    hubspot(sync).update("contacts", [{"Id": contact, "firstname": "Patricia"}])
    second = run(sync)
    partner = RecordLink.objects.get(sync=sync, source_id=contact).target_id
    assert second.changes == [{"side": "Contact", "end": "target", "record": contact, "label": "Patricia Smith <pat@example.com>",
                               "partner": partner, "action": "update",
                               "fields": {"FirstName": ["Pat", "Patricia"]}}]
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    page = client.get(f"/runs/{second.pk}/").content.decode()
    assert "What changed" in page and "<del>Pat</del> → <ins>Patricia</ins>" in page


def test_runs_failed_records_and_links_show_who_each_record_is_and_the_search_finds_names(org, hub, client):
    sync = make_sync(org, hub)
    ada, _ = hs_create(sync, {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"},
                       {"email": "nobody@example.com", "firstname": "No"})  # refused: no last name
    first = run(sync)
    assert first.failed_count == 1
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))

    page = client.get(f"/runs/{first.pk}/").content.decode()
    assert "Ada Lovelace &lt;ada@example.com&gt;" in page  # what changed, by name
    assert "nobody@example.com" in page  # the failed record too
    link = RecordLink.objects.get(sync=sync, source_id=ada)
    assert link.label == "Ada Lovelace <ada@example.com>"
    assert f'href="{sync.target.base_url}/{link.target_id}"' in page  # opens in Salesforce
    assert f'href="{sync.source.base_url}/app/contacts/{ada}"' in page  # and in HubSpot
    found = client.get(f"/syncs/{sync.pk}/hubspot/", {"q": "lovelace"}).content.decode()
    assert f'id="link-{link.pk}"' in found
    assert f'id="link-{link.pk}"' not in client.get(f"/syncs/{sync.pk}/hubspot/", {"q": link.target_id[:6]}).content.decode()  # no id substrings
    assert f'id="link-{link.pk}"' in client.get(f"/syncs/{sync.pk}/hubspot/", {"q": ada}).content.decode()  # a whole id
