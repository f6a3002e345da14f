"""The HubSpot sandbox's CRM API, driven over HTTP with the official client: contacts
CRUD, batches, the 409 duplicate body, properties, merge and notes."""
import json

import pytest
import requests
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.notes import AssociationSpec, PublicAssociationsForObject, PublicObjectId
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteInput
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate, PropertyUpdate

from connectors.sandbox.models.hubspot import HsContact

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def client(hubspot_client, hubspot_account):
    return hubspot_client(hubspot_account)


def create(client, **properties):
    return client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))


def body(error):
    return json.loads(error.body)


def test_a_contact_is_created_read_updated_and_archived(client):
    created = create(client, email="ada@example.com", firstname="Ada", lastname="Lovelace")

    read = client.crm.contacts.basic_api.get_by_id(created.id, properties=["email", "firstname", "phone"])
    client.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"phone": "+44 20 1234567"}))
    updated = client.crm.contacts.basic_api.get_by_id(created.id, properties=["phone"])
    client.crm.contacts.basic_api.archive(created.id)

    assert read.properties == {
        "email": "ada@example.com", "firstname": "Ada", "phone": None, "hs_object_id": created.id,
        "createdate": read.properties["createdate"], "lastmodifieddate": read.properties["lastmodifieddate"],
    }
    assert read.properties["createdate"].endswith("Z") and read.archived is False
    assert updated.properties["phone"] == "+44 20 1234567" and updated.updated_at >= read.updated_at
    with pytest.raises(ApiException) as missing:
        client.crm.contacts.basic_api.get_by_id(created.id)
    assert missing.value.status == 404 and body(missing.value)["category"] == "OBJECT_NOT_FOUND"
    archived = client.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True


def test_a_contact_reads_and_updates_by_email_in_any_case(client):
    created = create(client, email="Ada@Example.com")

    read = client.crm.contacts.basic_api.get_by_id("ada@example.COM", id_property="email")
    client.crm.contacts.basic_api.update("ADA@example.com", SimplePublicObjectInput(properties={"firstname": "Ada"}),
                                         id_property="email")

    assert read.id == created.id
    assert client.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname"]).properties["firstname"] == "Ada"


def test_the_list_pages_with_an_after_cursor_and_chosen_properties(client):
    ids = [create(client, email=f"p{n}@example.com", firstname=f"P{n}").id for n in range(5)]

    first = client.crm.contacts.basic_api.get_page(limit=2, properties=["firstname"])
    second = client.crm.contacts.basic_api.get_page(limit=2, after=first.paging.next.after)
    last = client.crm.contacts.basic_api.get_page(limit=2, after=second.paging.next.after)

    assert [c.id for c in first.results + second.results + last.results] == ids
    assert first.results[0].properties["firstname"] == "P0" and last.paging is None
    assert set(second.results[0].properties) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}


def test_a_taken_email_is_refused_with_the_vendors_409_body(client):
    existing = create(client, email="ada@example.com")

    with pytest.raises(ApiException) as refused:
        create(client, email="ADA@example.com")
    other = create(client, email="other@example.com")
    with pytest.raises(ApiException) as renamed:
        client.crm.contacts.basic_api.update(other.id, SimplePublicObjectInput(properties={"email": "ada@example.com"}))

    answer = body(refused.value)
    assert refused.value.status == 409 and renamed.value.status == 409
    assert {k: answer[k] for k in ("status", "message", "category")} == {
        "status": "error", "message": f"Contact already exists. Existing ID: {existing.id}", "category": "CONFLICT"}
    assert answer["correlationId"]


def test_an_unknown_or_read_only_property_is_refused_naming_it(client):
    with pytest.raises(ApiException) as unknown:
        create(client, email="ada@example.com", favourite_colour="blue")
    with pytest.raises(ApiException) as read_only:
        create(client, email="ada@example.com", num_notes="3")

    answer = body(unknown.value)
    assert unknown.value.status == 400 and answer["category"] == "VALIDATION_ERROR"
    assert answer["message"].startswith('Property values were not valid: [{"isValid":false,"message":"Property \\"favourite_colour\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"favourite_colour"')
    assert answer["errors"][0]["context"] == {"propertyName": ["favourite_colour"]}
    assert body(read_only.value)["errors"][0]["code"] == "READ_ONLY_VALUE"
    assert HsContact.objects.count() == 0


def test_batch_create_read_update_and_archive(client):
    batch = client.crm.contacts.batch_api
    created = batch.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": f"b{n}@example.com"}, object_write_trace_id=str(n))
        for n in range(3)]))
    ids = [r.id for r in sorted(created.results, key=lambda r: int(r.object_write_trace_id))]

    batch.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id=ids[0], properties={"firstname": "Bea"})]))
    partial = batch.read(BatchReadInputSimplePublicObjectId(
        properties=["firstname"], properties_with_history=[], inputs=[SimplePublicObjectId(id=i) for i in (ids[0], "999")]))
    batch.archive(BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=ids[1]), SimplePublicObjectId(id="999")]))

    assert created.status == "COMPLETE" and len(ids) == 3
    assert [r.properties["firstname"] for r in partial.results] == ["Bea"]
    assert partial.num_errors == 1 and partial.errors[0].category == "OBJECT_NOT_FOUND" and partial.errors[0].context == {"ids": ["999"]}
    assert sorted(HsContact.objects.filter(archived=False).values_list("number", flat=True)) == [int(ids[0]), int(ids[2])]


def test_batch_read_by_email_leaves_out_unknown_emails(client):
    ada = create(client, email="ada@example.com")

    answer = client.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        properties=["email"], properties_with_history=[], id_property="email",
        inputs=[SimplePublicObjectId(id="ADA@example.com"), SimplePublicObjectId(id="nobody@example.com")]))

    assert [r.id for r in answer.results] == [ada.id] and answer.errors[0].context == {"ids": ["nobody@example.com"]}


def test_a_duplicate_email_fails_the_whole_batch_create_with_the_409_body(client):
    existing = create(client, email="taken@example.com")

    with pytest.raises(ApiException) as refused:
        client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": "new@example.com"}),
            SimplePublicObjectBatchInputForCreate(properties={"email": "TAKEN@example.com"})]))

    assert refused.value.status == 409
    assert body(refused.value)["message"] == f"Contact already exists. Existing ID: {existing.id}"
    assert HsContact.objects.count() == 1


def test_batch_update_of_unknown_ids_is_a_207_partial_failure(client):
    ada = create(client, email="ada@example.com")

    answer = client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id=ada.id, properties={"city": "London"}),
        SimplePublicObjectBatchInput(id="12345", properties={"city": "Paris"})]))

    assert [r.id for r in answer.results] == [ada.id] and answer.num_errors == 1
    assert answer.errors[0].context == {"ids": ["12345"]}


def test_batch_upsert_creates_or_updates_by_email_and_says_which(client):
    ada = create(client, email="ada@example.com", firstname="A")

    answer = client.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id_property="email", id="ADA@example.com", properties={"firstname": "Ada"}),
        SimplePublicObjectBatchInputUpsert(id_property="email", id="bob@example.com", properties={"firstname": "Bob"})]))
    again = client.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id_property="email", id="bob@example.com", properties={"firstname": "Bob"})]))

    by_email = {r.properties["email"]: r for r in answer.results}
    assert (by_email["ada@example.com"].id, by_email["ada@example.com"].new) == (ada.id, False)
    assert by_email["bob@example.com"].new is True and by_email["bob@example.com"].properties["firstname"] == "Bob"
    assert again.results[0].new is False and again.results[0].id == by_email["bob@example.com"].id
    assert HsContact.objects.count() == 2


def test_batches_take_at_most_100_inputs(client):
    with pytest.raises(ApiException) as refused:
        client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": f"x{n}@example.com"}) for n in range(101)]))

    assert refused.value.status == 400 and body(refused.value)["category"] == "VALIDATION_ERROR"
    assert HsContact.objects.count() == 0


def test_properties_list_and_describe_the_defaults(client):
    listed = {p.name: p for p in client.crm.properties.core_api.get_all("contacts").results}

    assert {"email", "firstname", "lastname", "phone", "company", "jobtitle", "address", "city", "zip", "country",
            "lifecyclestage", "hs_object_id", "createdate", "lastmodifieddate", "hs_merged_object_ids", "num_notes",
            "salesforceleadid", "salesforcecontactid", "salesforceobjecttype"} <= set(listed)
    assert listed["num_notes"].calculated and listed["num_notes"].modification_metadata.read_only_value
    assert not listed["salesforcecontactid"].modification_metadata.read_only_value
    assert "customer" in [o.value for o in listed["lifecyclestage"].options]


def test_a_custom_property_is_created_used_changed_and_archived(client):
    core = client.crm.properties.core_api
    made = core.create("contacts", PropertyCreate(name="customer_id", label="Customer ID", type="string", field_type="text",
                                                  group_name="contactinformation", has_unique_value=True))
    contact = create(client, email="ada@example.com", customer_id="C-1")
    by_customer_id = client.crm.contacts.basic_api.get_by_id("C-1", id_property="customer_id", properties=["customer_id"])
    core.update("contacts", "customer_id", PropertyUpdate(label="Customer number"))
    relabelled = core.get_by_name("contacts", "customer_id")
    with pytest.raises(PropertiesApiException) as twice:
        core.create("contacts", PropertyCreate(name="customer_id", label="x", type="string", field_type="text",
                                               group_name="contactinformation"))
    core.archive("contacts", "customer_id")

    assert made.name == "customer_id" and made.has_unique_value and not made.hubspot_defined
    assert by_customer_id.id == contact.id and by_customer_id.properties["customer_id"] == "C-1"
    assert relabelled.label == "Customer number" and twice.value.status == 409
    with pytest.raises(ApiException) as gone:
        create(client, email="bob@example.com", customer_id="C-2")
    assert json.loads(gone.value.body)["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    with pytest.raises(PropertiesApiException) as default:
        core.archive("contacts", "email")
    assert default.value.status == 400


def test_values_are_checked_by_the_propertys_type(client):
    with pytest.raises(ApiException) as stage:
        create(client, email="ada@example.com", lifecyclestage="royalty")
    with pytest.raises(ApiException) as email:
        create(client, email="not-an-email")
    with pytest.raises(ApiException) as long:
        create(client, email="ada@example.com", firstname="A" * 65_537)
    longest = create(client, email="ada@example.com", firstname="A" * 65_536)  # "limited to 65,536 characters"

    assert body(stage.value)["errors"][0]["code"] == "INVALID_OPTION"
    assert body(email.value)["errors"][0]["code"] == "INVALID_EMAIL"
    assert body(long.value)["errors"][0]["context"] == {"propertyName": ["firstname"]}
    assert len(longest.properties["firstname"]) == 65_536


def add_note(client, contact_id, text):
    return client.crm.objects.notes.basic_api.create(NoteInput(
        properties={"hs_note_body": text, "hs_timestamp": "2024-05-01T10:00:00.000Z"},
        associations=[PublicAssociationsForObject(
            to=PublicObjectId(id=contact_id),
            types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=202)])]))


def notes_of(contact_id):
    return HsContact.objects.get(number=int(contact_id)).properties.get("num_notes")


def test_notes_count_on_their_contact(client, hubspot_account):
    ada = create(client, email="ada@example.com")

    note = add_note(client, ada.id, "Called, interested.")
    add_note(client, ada.id, "Sent the price list.")

    assert note.properties["hs_note_body"] == "Called, interested."
    read = client.crm.contacts.basic_api.get_by_id(ada.id, properties=["num_notes"])
    assert read.properties["num_notes"] == "2"
    headers = {"Authorization": f"Bearer {hubspot_account.token}"}
    associations = requests.get(f"{hubspot_account.base_url}/crm/v4/objects/contacts/{ada.id}/associations/notes",
                                headers=headers, timeout=10).json()["results"]
    assert [a["toObjectId"] for a in associations][0] == int(note.id)
    assert associations[0]["associationTypes"][0]["category"] == "HUBSPOT_DEFINED"
    client.crm.objects.notes.basic_api.archive(note.id)
    assert client.crm.contacts.basic_api.get_by_id(ada.id, properties=["num_notes"]).properties["num_notes"] == "1"


def test_a_merge_makes_a_new_contact_that_fills_the_primarys_gaps_and_takes_the_notes(client):
    primary = create(client, email="jane.francis@example.com", firstname="Jane", lastname="Francis")
    other = create(client, email="jane.f@example.com", firstname="J.", phone="+49 30 1234567")
    add_note(client, other.id, "Met at the fair.")
    add_note(client, primary.id, "Called.")

    merged = client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=primary.id, object_id_to_merge=other.id))
    after = client.crm.contacts.basic_api.get_by_id(merged.id, properties=[
        "email", "firstname", "phone", "hs_merged_object_ids", "hs_additional_emails", "num_notes"])
    listed = [c.id for c in client.crm.contacts.basic_api.get_page(limit=100).results]

    assert merged.id not in (primary.id, other.id)
    assert {k: after.properties[k] for k in ("email", "firstname", "phone", "hs_merged_object_ids", "hs_additional_emails", "num_notes")} == {
        "email": "jane.francis@example.com", "firstname": "Jane", "phone": "+49 30 1234567",
        "hs_merged_object_ids": f"{primary.id};{other.id}", "hs_additional_emails": "jane.f@example.com", "num_notes": "2",
    }
    assert listed == [merged.id]
    by_old_email = client.crm.contacts.basic_api.get_by_id("jane.f@example.com", id_property="email")
    with pytest.raises(ApiException) as taken:
        create(client, email="Jane.F@example.com")
    assert by_old_email.id == merged.id and body(taken.value)["message"] == f"Contact already exists. Existing ID: {merged.id}"


def test_both_old_ids_of_a_merge_read_as_the_new_contact(client):
    primary, other = create(client, email="a@example.com"), create(client, email="b@example.com")

    merged = client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=primary.id, object_id_to_merge=other.id))
    by_old_ids = [client.crm.contacts.basic_api.get_by_id(i).id for i in (primary.id, other.id)]
    batch = client.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=primary.id), SimplePublicObjectId(id=other.id)], properties=["email"],
        properties_with_history=[]))
    found = client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(filter_groups=[], limit=10))

    assert by_old_ids == [merged.id, merged.id]
    assert [r.id for r in batch.results] == [merged.id]
    assert [r.id for r in found.results] == [merged.id]


def test_archiving_a_contact_orphans_its_notes(client):
    ada = create(client, email="ada@example.com")
    note = add_note(client, ada.id, "History.")

    client.crm.contacts.basic_api.archive(ada.id)

    from connectors.sandbox.models.hubspot import HsNote
    assert HsNote.objects.get(number=int(note.id)).contact_id is None


def test_merging_a_contact_into_itself_or_a_missing_one_is_refused(client):
    ada = create(client, email="ada@example.com")

    with pytest.raises(ApiException) as itself:
        client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=ada.id, object_id_to_merge=ada.id))
    with pytest.raises(ApiException) as missing:
        client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=ada.id, object_id_to_merge="999"))

    assert itself.value.status == 400 and missing.value.status == 404


def test_a_wrong_token_is_refused_with_invalid_authentication(hubspot_client, hubspot_account):
    client = hubspot_client(hubspot_account, token="pat-eu1-wrong")

    with pytest.raises(ApiException) as refused:
        client.crm.contacts.basic_api.get_page()

    assert refused.value.status == 401 and body(refused.value)["category"] == "INVALID_AUTHENTICATION"
