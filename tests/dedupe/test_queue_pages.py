"""The duplicate-review pages: queue, merge screen, merges, bulk batches (HS-4, HS-5, HS-7, HS-9)."""
import re

import pytest
from django.contrib.auth.models import Permission

from dedupe import selectors, services
from dedupe.models import DuplicateGroup, MatchRun, MatchSource, MergeJob, MergeStep, NotDuplicate
from syncconfig import roles
from tests.factories import (
    ConnectionFactory,
    DuplicateGroupFactory,
    DuplicateMemberFactory,
    FieldMappingFactory,
    MatchRunFactory,
    MatchSourceFactory,
    MergeJobFactory,
    MergeStepFactory,
    PersonFactory,
    SyncFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SALESFORCE = {"kind": "salesforce", "base_url": "https://login.salesforce.com",
              "credentials": {"client_id": "cid", "client_secret": "csecret", "username": "u@example.com", "password": "pw"}}


@pytest.fixture
def ops(client):
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    return client


@pytest.fixture
def no_vendor_calls(monkeypatch):
    """Tasks run eagerly in tests; record what would be queued instead of calling the vendors."""
    queued = []
    monkeypatch.setattr("dedupe.tasks.merge_run.delay", lambda job_id: queued.append(("merge", job_id)))
    monkeypatch.setattr("dedupe.tasks.merge_batch_run.delay", lambda batch: queued.append(("batch", batch)))
    monkeypatch.setattr("dedupe.tasks.match_people.delay", lambda **kw: queued.append(("match", kw)))
    return queued


@pytest.fixture
def jane():
    """Jane Francis twice in Salesforce and once in HubSpot, the HubSpot contact linked to the
    first Salesforce Contact (HS-4), stored as a group the way matching stores one."""
    org = ConnectionFactory(name="Org", **SALESFORCE)
    portal = ConnectionFactory(name="Portal", kind="hubspot", base_url="https://api.hubapi.com", credentials={"access_token": "t"})
    master = PersonFactory(connection=org, record_id="003000000000000AAA", fields={
        "first_name": "Jane", "last_name": "Francis", "email": "jane@example.com", "phone": "+49 30 1234", "company": "Acme"})
    other = PersonFactory(connection=org, record_id="003000000000000BBB", fields={
        "first_name": "Jane", "last_name": "F", "email": "jane@example.com", "company": "Acme GmbH"})
    contact = PersonFactory(connection=portal, object_name="contacts", record_id="501", linked_to=master.record_id, fields={
        "first_name": "Jane", "last_name": "Francis", "email": "jane@example.com"})
    a, b = sorted([master.key, other.key])
    evidence = [
        {"a": a, "b": b, "score": 0.93, "fields": {"email": ["exact", 1.0], "last_name": ["initial", 0.7]}},
        {"a": min(master.key, contact.key), "b": max(master.key, contact.key), "score": 1.0, "fields": {"email": ["exact", 1.0]}},
    ]
    group = services.group_store(members=[master, other, contact], evidence=evidence)
    return {"group": group, "master": master, "other": other, "contact": contact}


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the queue -----------------------------------------------------------------------------------
def test_the_queue_lists_open_groups_with_size_confidence_kind_and_systems(ops):
    DuplicateGroupFactory(title="Jane Francis", size=3, confidence=0.934, kind=DuplicateGroup.Kind.LEAD_CONTACT, systems="HubSpot, Salesforce")
    DuplicateGroupFactory(title="Already merged", status=DuplicateGroup.Status.MERGED)
    page = _page(ops, "/duplicates/")
    assert "Jane Francis" in page and ">3<" in page and "93 %" in page
    assert "Lead and Contact" in page and "HubSpot, Salesforce" in page
    assert "Already merged" not in page
    assert "(1 match)" in page


def test_the_queue_filters_by_status_kind_system_confidence_and_search(ops):
    DuplicateGroupFactory(title="Jane Francis", confidence=0.95, kind="same_email", systems="HubSpot, Salesforce", search_text="jane francis jane@acme.com acme")
    DuplicateGroupFactory(title="Bob Miller", confidence=0.85, kind="different_email", systems="Salesforce", search_text="bob miller bob@globex.com globex")
    DuplicateGroupFactory(title="Ann Lee", confidence=0.6, kind="different_email", systems="Salesforce", search_text="ann lee ann@initech.com initech")
    DuplicateGroupFactory(title="Old Decision", status=DuplicateGroup.Status.NOT_DUPLICATE)

    def titles(query):
        return [g.title for g in ops.get(f"/duplicates/?{query}").context["page"].groups]

    assert titles("") == ["Jane Francis", "Bob Miller", "Ann Lee"]
    assert titles("kind=different_email") == ["Bob Miller", "Ann Lee"]
    assert titles("system=HubSpot") == ["Jane Francis"]
    assert titles("min_confidence=80") == ["Jane Francis", "Bob Miller"]
    assert titles("q=GLOBEX") == ["Bob Miller"]
    assert titles("q=ann%40initech") == ["Ann Lee"]
    assert titles("status=not_duplicate") == ["Old Decision"]
    response = ops.get("/duplicates/?kind=different_email&min_confidence=high")
    assert [g.title for g in response.context["page"].groups] == ["Bob Miller", "Ann Lee"]
    assert "Enter a whole number." in response.content.decode()


def test_the_queue_pages_by_key_forward_and_back_without_losing_or_repeating_a_group(ops, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for confidence in (0.9, 0.9, 0.8, 0.7, 0.7):
        DuplicateGroupFactory(confidence=confidence)
    expected = list(DuplicateGroup.objects.order_by("-confidence", "-pk").values_list("pk", flat=True))
    seen, url, first_pages = [], "/duplicates/", []
    while url:
        response = ops.get(url)
        page = response.context["page"]
        first_pages.append([g.pk for g in page.groups])
        seen += [g.pk for g in page.groups]
        link = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', response.content.decode())
        url = "/duplicates/" + link.group(1).replace("&amp;", "&") if link else ""
    assert seen == expected and len(first_pages) == 3
    back = re.search(r'href="(\?[^"]*before=[^"]+)" rel="prev"', response.content.decode()).group(1).replace("&amp;", "&")
    assert [g.pk for g in ops.get("/duplicates/" + back).context["page"].groups] == first_pages[1]


def test_a_garbled_page_position_shows_the_first_page(ops):
    group = DuplicateGroupFactory()
    assert [g.pk for g in ops.get("/duplicates/?after=nonsense").context["page"].groups] == [group.pk]


def test_the_queue_costs_the_same_number_of_queries_for_many_groups(ops, django_assert_max_num_queries):
    DuplicateGroupFactory.create_batch(60)
    with django_assert_max_num_queries(10):
        response = ops.get("/duplicates/")
    assert len(response.context["page"].groups) == selectors.PAGE_SIZE
    assert 'rel="next"' in response.content.decode()


def test_the_count_stops_at_its_cap():
    DuplicateGroupFactory.create_batch(4)
    assert str(selectors.groups_to_review_count(cap=3)) == "3+"
    assert str(selectors.groups_to_review_count(cap=10)) == "4"


def test_the_queue_shows_the_last_matching_pass_and_run_now_queues_one(ops, no_vendor_calls):
    MatchRunFactory(records_read=120, groups_found=7, trigger="periodic")
    page = _page(ops, "/duplicates/")
    assert "120 records read" in page and "7 groups new or changed" in page
    response = ops.post("/duplicates/match/")
    assert response.status_code == 302 and response.url == "/duplicates/"
    assert no_vendor_calls == [("match", {"trigger": "manual"})]


def test_run_now_does_not_start_a_second_pass_while_one_is_running(ops, no_vendor_calls):
    MatchRunFactory(status=MatchRun.Status.RUNNING)
    page = ops.post("/duplicates/match/", follow=True).content.decode()
    assert no_vendor_calls == [] and "already under way" in page


# --- the merge screen ----------------------------------------------------------------------------
def test_the_group_page_shows_the_records_side_by_side_with_the_proposed_master_and_why(ops, jane):
    page = _page(ops, f"/duplicates/{jane['group'].pk}/")
    table = page[page.index('class="merge-screen"'):]
    assert table.count("proposed master") == 1
    assert table.index("003000000000000AAA") < table.index("proposed master") < table.index("003000000000000BBB")  # HS-4
    assert re.search(r'name="master" value="%s" id="master-1" checked' % re.escape(jane["master"].key), page)
    assert "like another record" in page  # why it is here
    assert "Email: exact, 100 %" in page and "Last name: initial, 70 %" in page  # pairwise evidence


def test_differing_fields_get_a_radio_per_record_and_agreeing_ones_are_collapsed(ops, jane):
    response = ops.get(f"/duplicates/{jane['group'].pk}/")
    page = response.content.decode()
    screen = response.context["screen"]
    assert {r.name for r in screen.differing} == {"last_name", "phone", "company"}
    assert {r.name for r in screen.agreeing} == {"first_name", "email"}
    assert page.count('name="field-phone"') == 2 and 'name="field-email"' not in page  # the synced twin is its record's column
    checked = re.search(r'name="field-phone" value="([^"]+)" id="[^"]+" checked', page).group(1)
    assert checked == jane["master"].key  # the master keeps its own value unless told otherwise
    # A Contact's company is its Account's name: shown, but not something a merge can set.
    assert 'name="field-company"' not in page and "Kept: the master's comes from its Account." in page
    assert "2 fields that agree" in page


def test_the_hubspot_choice_shows_the_history_warning(ops, jane):
    page = _page(ops, f"/duplicates/{jane['group'].pk}/")
    assert 'name="hubspot_action" value="merge" id="hubspot-merge" checked' in page
    assert "will be deleted" not in page  # one HubSpot contact: nothing to lose
    second = PersonFactory(connection=jane["contact"].connection, object_name="contacts", record_id="502",
                           fields={"first_name": "Jane", "last_name": "Francis", "email": "jane@example.com"})
    DuplicateMemberFactory(group=jane["group"], person=second)
    page = _page(ops, f"/duplicates/{jane['group'].pk}/")
    assert "activity history (emails, notes, page views) is lost" in page


def test_merge_records_the_chosen_master_and_values_and_shows_the_job(ops, jane, no_vendor_calls, django_capture_on_commit_callbacks):
    group, master, other = jane["group"], jane["master"], jane["other"]
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post(f"/duplicates/{group.pk}/", {
            "action": "merge", "master": master.key, "field-last_name": other.key, "field-phone": master.key,
            "hubspot_action": "merge",
        })
    job = MergeJob.objects.get(group=group)
    assert response.status_code == 302 and response.url == f"/duplicates/merges/{job.pk}/"
    assert job.master_key == master.key and job.hubspot_action == "merge"
    assert job.choices["last_name"] == other.key and job.choices["phone"] == master.key
    assert no_vendor_calls == [("merge", job.pk)]
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.MERGING
    page = _page(ops, response.url)
    assert "Queued" in page and 'http-equiv="refresh"' in page


def test_a_refused_merge_is_explained_and_keeps_the_choices(ops, jane, no_vendor_calls):
    group = jane["group"]
    response = ops.post(f"/duplicates/{group.pk}/", {
        "action": "merge", "master": jane["contact"].key, "field-company": jane["other"].key, "hubspot_action": "merge",
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert "Not merged: The master must be a Salesforce record" in page
    assert re.search(r'name="field-company" value="%s" id="[^"]+" checked' % re.escape(jane["other"].key), page)
    assert re.search(r'name="master" value="%s" id="[^"]+" checked' % re.escape(jane["contact"].key), page)
    assert not MergeJob.objects.exists() and no_vendor_calls == []


def test_an_unknown_hubspot_action_is_refused(ops, jane, no_vendor_calls):
    response = ops.post(f"/duplicates/{jane['group'].pk}/", {"action": "merge", "master": jane["master"].key, "hubspot_action": "shred"})
    assert "Choose what happens to the HubSpot contacts." in response.content.decode()
    assert not MergeJob.objects.exists()


def test_not_a_duplicate_is_remembered_for_every_pair(ops, jane):
    group = jane["group"]
    response = ops.post(f"/duplicates/{group.pk}/", {"action": "not_duplicate"})
    assert response.status_code == 302 and response.url == "/duplicates/"
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.NOT_DUPLICATE and group.decided_by is not None
    keys = sorted(p.key for p in (jane["master"], jane["other"], jane["contact"]))
    assert set(NotDuplicate.objects.values_list("key_a", "key_b")) == {(keys[0], keys[1]), (keys[0], keys[2]), (keys[1], keys[2])}
    assert group.pk not in [g.pk for g in ops.get("/duplicates/").context["page"].groups]


def test_the_decision_comes_first_and_a_synced_twin_is_one_person_with_its_record(ops, jane):
    response = ops.get(f"/duplicates/{jane['group'].pk}/")
    page = response.content.decode()
    screen = response.context["screen"]
    # The HubSpot contact the sync keeps in step with the master is not its "duplicate":
    # it is named in the master's column, which holds the choice for both.
    assert [c.member.record_id for c in screen.columns] == ["003000000000000AAA", "003000000000000BBB"]
    assert [t.record_id for t in screen.columns[0].twins] == ["501"]
    assert "synced with HubSpot contacts <code>501</code>: one person" in page
    assert screen.hubspot_choices  # its fate in HubSpot is still asked
    assert page.index('class="merge-screen"') < page.index('id="evidence-title"')  # decide first


def test_not_a_duplicate_can_be_taken_back_from_the_group(ops, jane):
    group = jane["group"]
    ops.post(f"/duplicates/{group.pk}/", {"action": "not_duplicate"})
    assert "Undo" in _page(ops, f"/duplicates/{group.pk}/")

    response = ops.post(f"/duplicates/{group.pk}/", {"action": "undo_not_duplicate"})

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.status == DuplicateGroup.Status.OPEN and group.decided_by is None
    assert not NotDuplicate.objects.exists()  # may be grouped again
    assert group.pk in [g.pk for g in ops.get("/duplicates/").context["page"].groups]


def test_a_decided_group_shows_its_merges_instead_of_the_form(ops, jane):
    group = jane["group"]
    MergeJobFactory(group=group, status=MergeJob.Status.SUCCEEDED, master_key=jane["master"].key, message="Merged 2 record(s).")
    DuplicateGroup.objects.filter(pk=group.pk).update(status=DuplicateGroup.Status.MERGED)
    page = _page(ops, f"/duplicates/{group.pk}/")
    assert "Merged 2 record(s)." in page
    assert 'value="merge">Merge</button>' not in page and 'name="master"' not in page
    assert ops.post(f"/duplicates/{group.pk}/", {"action": "not_duplicate"}).status_code == 302
    assert not NotDuplicate.objects.exists()


def test_a_group_whose_records_are_gone_says_so_and_cannot_be_merged(ops, no_vendor_calls):
    group = DuplicateGroupFactory(title="Orphan")
    page = _page(ops, f"/duplicates/{group.pk}/")
    assert "no records left" in page and 'name="master"' not in page
    page = ops.post(f"/duplicates/{group.pk}/", {"action": "merge"}).content.decode()
    assert "Not merged: This group has no records left to compare." in page and not MergeJob.objects.exists()


# --- merges and batches --------------------------------------------------------------------------
def test_the_merge_page_shows_each_step_with_before_and_after(ops, jane):
    job = MergeJobFactory(group=jane["group"], status=MergeJob.Status.SUCCEEDED, master_key=jane["master"].key, steps_total=2, steps_done=2)
    MergeStepFactory(job=job, position=1, master_id="003000000000000AAA", merged_ids=["003000000000000BBB"], status=MergeStep.Status.DONE,
                     before={"003000000000000AAA": {"LastName": "Francis", "Company": "Acme"}, "003000000000000BBB": {"LastName": "F"}},
                     after={"003000000000000AAA": {"LastName": "Francis", "Company": "Acme GmbH"}},
                     message="Merged 003000000000000BBB into 003000000000000AAA.")
    MergeStepFactory(job=job, position=2, system="Portal", action="resync", object_name="links", status=MergeStep.Status.DONE,
                     after={"links_moved": 1})
    response = ops.get(f"/duplicates/merges/{job.pk}/")
    page = response.content.decode()
    assert "2 of 2 steps done" in page and 'http-equiv="refresh"' not in page
    assert "<del>Acme</del>" in page and "<ins>Acme GmbH</ins>" in page
    assert "(merged away)" in page and "Values before (1)" in page
    assert "links_moved: 1" in page and "Merged 003000000000000BBB into 003000000000000AAA." in page
    assert "Jane Francis</strong> (Contact 003000000000000AAA)" in page


def test_bulk_merge_queues_one_batch_and_its_page_shows_progress(ops, no_vendor_calls, django_capture_on_commit_callbacks):
    org = ConnectionFactory(**SALESFORCE)
    groups = []
    for n in range(2):
        group = DuplicateGroupFactory(title=f"Person {n}")
        DuplicateMemberFactory(group=group, person=PersonFactory(connection=org), proposed_master=True)
        DuplicateMemberFactory(group=group, person=PersonFactory(connection=org))
        groups.append(group)
    untouched = DuplicateGroupFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post("/duplicates/merge-selected/", {"group": [g.pk for g in groups]})
    batches = set(MergeJob.objects.values_list("batch", flat=True))
    assert len(batches) == 1 and MergeJob.objects.count() == 2
    batch = batches.pop()
    assert response.url == f"/duplicates/batches/{batch}/" and no_vendor_calls == [("batch", batch)]
    assert DuplicateGroup.objects.get(pk=untouched.pk).status == DuplicateGroup.Status.OPEN
    page = _page(ops, response.url)
    assert "0 of 2 merges finished" in page and 'http-equiv="refresh"' in page and "Person 0" in page
    MergeJob.objects.filter(group=groups[0]).update(status=MergeJob.Status.SUCCEEDED)
    MergeJob.objects.filter(group=groups[1]).update(status=MergeJob.Status.FAILED)
    page = _page(ops, response.url)
    assert "2 of 2 merges finished: 1 merged, 1 failed. Done." in page and 'http-equiv="refresh"' not in page


def test_bulk_merge_with_nothing_ticked_says_so(ops, no_vendor_calls):
    page = ops.post("/duplicates/merge-selected/", {}, follow=True).content.decode()
    assert "Nothing to merge" in page and not MergeJob.objects.exists()


def test_bulk_merge_leaves_groups_that_cannot_be_merged_as_proposed(ops, no_vendor_calls, django_capture_on_commit_callbacks):
    group = DuplicateGroupFactory()
    DuplicateMemberFactory(group=group, proposed_master=True, person=PersonFactory(object_name="Lead"))
    DuplicateMemberFactory(group=group, person=PersonFactory(object_name="Contact"))  # another org, too
    with django_capture_on_commit_callbacks(execute=True):
        page = ops.post("/duplicates/merge-selected/", {"group": [group.pk]}, follow=True).content.decode()
    assert "cannot be merged with its proposed master" in page
    assert not MergeJob.objects.exists() and no_vendor_calls == []


def test_an_unknown_batch_is_not_found(ops):
    assert ops.get("/duplicates/batches/abc123/").status_code == 404


# --- who may do what -----------------------------------------------------------------------------
def test_only_people_allowed_to_see_duplicates_open_the_pages(client, jane):
    job = MergeJobFactory(group=jane["group"], batch="b1")
    urls = ["/duplicates/", f"/duplicates/{jane['group'].pk}/", f"/duplicates/merges/{job.pk}/", "/duplicates/batches/b1/"]
    assert all(client.get(u).status_code == 302 for u in urls)  # to the login page
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    assert [client.get(u).status_code for u in urls] == [403] * 4


def test_looking_is_not_deciding(client, jane, no_vendor_calls):
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_duplicategroup"))
    client.force_login(viewer)
    group = jane["group"]
    page = _page(client, f"/duplicates/{group.pk}/")
    assert 'value="merge">Merge</button>' not in page and "Merge selected" not in _page(client, "/duplicates/")
    assert client.post(f"/duplicates/{group.pk}/", {"action": "merge", "master": jane["master"].key}).status_code == 403
    assert client.post(f"/duplicates/{group.pk}/", {"action": "not_duplicate"}).status_code == 403
    assert client.post("/duplicates/merge-selected/", {"group": [group.pk]}).status_code == 403
    assert client.post("/duplicates/match/").status_code == 403
    assert not MergeJob.objects.exists() and not NotDuplicate.objects.exists() and no_vendor_calls == []


def test_the_dashboard_counts_groups_to_review_for_sales_ops_only(client):
    DuplicateGroupFactory.create_batch(3)
    DuplicateGroupFactory(status=DuplicateGroup.Status.MERGED)
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    page = _page(client, "/")
    assert "Duplicates to review: 3" in page and 'href="/duplicates/">Duplicates</a>' in page
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    page = _page(client, "/")
    assert "Duplicates to review" not in page and 'href="/duplicates/">Duplicates</a>' not in page


# --- admin ---------------------------------------------------------------------------------------
def test_hs1_a_salesforce_matching_key_not_mapped_to_hubspot_is_flagged():
    source = MatchSourceFactory(exact_fields=["Email", "Customer_ID__c", "Member_No__c"])
    sync = SyncFactory(source=source.connection, source_object="Contact",
                       target=ConnectionFactory(kind="hubspot", credentials={"access_token": "t"}), target_object="contacts")
    FieldMappingFactory(sync=sync, source_field="Customer_ID__c", target_field="customer_id")
    assert selectors.matchsource_unmapped_keys(source) == ["Member_No__c"]


def test_marketing_admins_set_matching_rules_but_not_for_objects_matching_cannot_read(client):
    org = ConnectionFactory(**SALESFORCE)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    form = {"connection": org.pk, "object_name": "Opportunity", "enabled": "on", "exact_fields": '["Email"]', "threshold": "0.8"}
    page = client.post("/admin/dedupe/matchsource/add/", form).content.decode()
    assert "People can be matched in" in page
    response = client.post("/admin/dedupe/matchsource/add/", {**form, "object_name": "Lead", "exact_fields": '["Email", "Customer_ID__c"]'})
    assert response.status_code == 302
    assert org.match_sources.get().exact_fields == ["Email", "Customer_ID__c"]


def test_changing_an_objects_matching_rules_makes_the_next_pass_read_it_again(client):
    org = ConnectionFactory(**SALESFORCE)
    source = MatchSourceFactory(connection=org, object_name="Contact", exact_fields=["Email"])
    MatchSource.objects.filter(pk=source.pk).update(watermark="2026-11-23T10:00:00.000+0000|003000000000001AAA")
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    form = {"connection": org.pk, "object_name": "Contact", "enabled": "on", "exact_fields": '["Email", "Customer_ID__c"]',
            "fuzzy_name": "on", "threshold": "0.5"}
    response = client.post(f"/admin/dedupe/matchsource/{source.pk}/change/", form, follow=True)
    assert "reads this object again" in response.content.decode()
    assert MatchSource.objects.get(pk=source.pk).watermark == ""


def test_sales_ops_read_groups_and_merges_in_the_admin_without_changing_them(ops, jane):
    job = MergeJobFactory(group=jane["group"], master_key=jane["master"].key)
    MergeStepFactory(job=job, before={"003000000000000AAA": {"LastName": "Francis"}}, message="Merged.")
    page = _page(ops, f"/admin/dedupe/mergejob/{job.pk}/change/")
    assert "Merged." in page and 'name="_save"' not in page
    page = _page(ops, f"/admin/dedupe/duplicategroup/{jane['group'].pk}/change/")
    assert "003000000000000BBB" in page and 'name="_save"' not in page
    assert f'/duplicates/{jane["group"].pk}/' in page  # view on site: the merge screen


def test_search_finds_names_written_without_their_accents(ops):
    org = ConnectionFactory(name="Org", **SALESFORCE)
    people = [PersonFactory(connection=org, record_id=f"00300000000000{i}AAA", fields={"first_name": "Anna", "last_name": "Müller"})
              for i in range(2)]
    services.group_store(members=people, evidence=[{"a": people[0].key, "b": people[1].key, "score": 0.9, "fields": {}}])
    for query in ("muller", "Müller"):
        assert "Anna Müller" in _page(ops, f"/duplicates/?q={query}")
    assert "Anna Müller" not in _page(ops, "/duplicates/?q=meyer")


def test_a_group_whose_merge_failed_can_be_merged_again_from_its_page(ops, jane, no_vendor_calls):
    group = jane["group"]
    MergeJobFactory(group=group, master_key=jane["master"].key, status=MergeJob.Status.FAILED, message="HubSpot is down.")
    DuplicateGroup.objects.filter(pk=group.pk).update(status=DuplicateGroup.Status.FAILED)
    page = _page(ops, f"/duplicates/{group.pk}/")
    assert "HubSpot is down." in page and 'value="merge">Merge</button>' in page
    response = ops.post(f"/duplicates/{group.pk}/", {"action": "merge", "master": jane["master"].key, "hubspot_action": "merge"})
    assert response.status_code == 302 and MergeJob.objects.filter(group=group, status=MergeJob.Status.QUEUED).count() == 1


def test_before_any_pass_the_queue_says_where_its_groups_came_from_and_the_start_runs_one(ops, jane, monkeypatch):
    from dedupe import tasks

    page = _page(ops, "/duplicates/")
    assert "No matching pass has run yet: the groups below were flagged by syncs" in page

    queued = []
    monkeypatch.setattr(tasks.match_people, "apply_async", lambda **kwargs: queued.append(kwargs))
    MatchSourceFactory(connection=jane["master"].connection)
    tasks._first_pass_at_start()
    assert queued == [{"kwargs": {"full": True, "trigger": "start"}, "countdown": tasks.FIRST_PASS_DELAY}]
    MatchRunFactory()
    tasks._first_pass_at_start()
    assert len(queued) == 1  # only a new installation's first


def test_the_group_page_says_how_much_each_field_counted(ops):
    """Stored by a real matching pass: each compared field shows its points, agreeing ones for
    and differing ones against, strongest first."""
    from dedupe.matching import MatchRules

    org = ConnectionFactory(name="Org", **SALESFORCE)
    for record_id, fields in (("003000000000000AAA", {"first_name": "Xiomara", "last_name": "Quintanilla", "email": "xq@acme.com",
                                                      "phone": "+49 30 1234567", "company": "Acme GmbH"}),
                              ("003000000000000BBB", {"first_name": "Xiomara", "last_name": "Quintanilla", "email": "xiomara@gmail.com",
                                                      "phone": "+49 30 1234567", "company": "ACME"})):
        PersonFactory(connection=org, record_id=record_id, fields=fields)
    assert services.groups_rebuild(changed_keys=[], rules=MatchRules(), everything=True) == 1
    group = DuplicateGroup.objects.get()
    page = _page(ops, f"/duplicates/{group.pk}/")
    evidence = page[page.index('id="evidence-title"'):]
    assert re.search(r"Phone: exact, 100 % <span class=\"counted\">counted \+4\.0</span>", evidence)
    assert re.search(r"Email: differs, 0 % <span class=\"counted\">counted \u22120\.5</span>", evidence)
    assert evidence.index("Phone: exact") < evidence.index("Email: differs")  # for first, against last
    assert "added up from a start of \u22124.0" in evidence
