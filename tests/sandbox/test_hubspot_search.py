"""The HubSpot sandbox's search, over HTTP with the official client: filters, operators,
sorting, paging, the result cap and the vendor's limits."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
)

from connectors.sandbox.models.hubspot import HsContact

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

PEOPLE = [
    {"email": "ada@analytical.example", "firstname": "Ada", "lastname": "Lovelace", "city": "London", "lifecyclestage": "customer"},
    {"email": "grace@navy.example", "firstname": "Grace", "lastname": "Hopper", "lifecyclestage": "lead"},
    {"email": "alan@bletchley.example", "firstname": "Alan", "lastname": "Turing", "city": "London"},
    {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis", "city": "Berlin"},
]


@pytest.fixture
def client(hubspot_client, hubspot_account):
    return hubspot_client(hubspot_account)


@pytest.fixture
def people(client):
    answer = client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties=p) for p in PEOPLE]))
    return {r.properties["email"]: r.id for r in answer.results}


def find(client, *groups, **options):
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(**f) for f in group]) for group in groups], **options)
    return client.crm.contacts.search_api.do_search(request)


def emails(answer):
    return [r.properties["email"] for r in answer.results]


def test_groups_are_ored_and_filters_within_a_group_anded(client, people):
    answer = find(client, [{"property_name": "city", "operator": "EQ", "value": "london"},
                           {"property_name": "lifecyclestage", "operator": "EQ", "value": "customer"}],
                  [{"property_name": "firstname", "operator": "EQ", "value": "Grace"}], properties=["email"])

    assert sorted(emails(answer)) == ["ada@analytical.example", "grace@navy.example"] and answer.total == 2


@pytest.mark.parametrize(("spec", "expected"), [
    ({"operator": "NEQ", "property_name": "city", "value": "London"}, ["grace@navy.example", "jane.francis@northwind.example"]),
    ({"operator": "IN", "property_name": "city", "values": ["berlin", "london"]},
     ["ada@analytical.example", "alan@bletchley.example", "jane.francis@northwind.example"]),
    ({"operator": "NOT_IN", "property_name": "lifecyclestage", "values": ["lead"]},
     ["ada@analytical.example", "alan@bletchley.example", "jane.francis@northwind.example"]),
    ({"operator": "HAS_PROPERTY", "property_name": "lifecyclestage"}, ["ada@analytical.example", "grace@navy.example"]),
    ({"operator": "NOT_HAS_PROPERTY", "property_name": "city"}, ["grace@navy.example"]),
    ({"operator": "CONTAINS_TOKEN", "property_name": "email", "value": "northwind"}, ["jane.francis@northwind.example"]),
    ({"operator": "CONTAINS_TOKEN", "property_name": "lastname", "value": "Hop*"}, ["grace@navy.example"]),
    ({"operator": "NOT_CONTAINS_TOKEN", "property_name": "email", "value": "*example"}, []),
    ({"operator": "LT", "property_name": "firstname", "value": "B"}, ["ada@analytical.example", "alan@bletchley.example"]),
])
def test_operators(client, people, spec, expected):
    assert sorted(emails(find(client, [spec], properties=["email"]))) == expected


def test_numbers_compare_as_numbers_and_dates_as_milliseconds(client, people):
    first_id = int(people["ada@analytical.example"])
    created = datetime.now(timezone.utc) - timedelta(days=3)
    HsContact.objects.filter(number=first_id).update(created_at=created)

    by_id = find(client, [{"property_name": "hs_object_id", "operator": "GT", "value": str(first_id + 1)}], properties=["email"])
    old = find(client, [{"property_name": "createdate", "operator": "LT",
                         "value": str(int((created + timedelta(days=1)).timestamp() * 1000))}], properties=["email"])
    between = find(client, [{"property_name": "createdate", "operator": "BETWEEN",
                             "value": (created - timedelta(hours=1)).isoformat(), "high_value": (created + timedelta(hours=1)).isoformat()}],
                   properties=["email"])

    assert by_id.total == 2 and emails(old) == ["ada@analytical.example"] and emails(between) == ["ada@analytical.example"]


def test_one_sort_and_free_text_query(client, people):
    descending = find(client, sorts=[{"propertyName": "firstname", "direction": "DESCENDING"}], properties=["firstname"])
    query = find(client, query="london", properties=["email"])
    text = find(client, query="hopper")

    assert [r.properties["firstname"] for r in descending.results] == ["Jane", "Grace", "Alan", "Ada"]
    assert query.total == 0 and emails(text) == ["grace@navy.example"]
    assert set(text.results[0].properties) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}


def test_paging_by_after_with_a_total_and_limits(client, people):
    first = find(client, limit=3, properties=["email"])
    second = find(client, limit=3, after=first.paging.next.after, properties=["email"])

    assert first.total == 4 and len(first.results) == 3 and first.paging.next.after == "3"
    assert len(second.results) == 1 and second.paging is None
    with pytest.raises(ApiException) as too_many:
        find(client, limit=201)
    assert too_many.value.status == 400


def test_the_result_cap_stops_paging_and_refuses_beyond(make_hubspot_account, hubspot_client):
    client = hubspot_client(make_hubspot_account(search_result_cap=5, records=8))

    pages, after = [], None
    while True:
        answer = find(client, limit=2, after=after, properties=["email"])
        pages.append(len(answer.results))
        if answer.paging is None:
            break
        after = answer.paging.next.after
    with pytest.raises(ApiException) as beyond:
        find(client, limit=2, after="5")

    assert answer.total == 8 and pages == [2, 2, 1]
    assert beyond.value.status == 400 and json.loads(beyond.value.body)["category"] == "VALIDATION_ERROR"


def test_filter_counts_are_limited(client):
    one = {"property_name": "firstname", "operator": "HAS_PROPERTY"}
    with pytest.raises(ApiException) as groups:
        find(client, *([[one]] * 6))
    with pytest.raises(ApiException) as per_group:
        find(client, [one] * 7)
    with pytest.raises(ApiException) as in_all:
        find(client, [one] * 6, [one] * 6, [one] * 6, [one])

    assert (groups.value.status, per_group.value.status, in_all.value.status) == (400, 400, 400)
    assert find(client, [one] * 6, [one] * 6, [one] * 6).total == 0


def test_archived_and_merged_away_contacts_are_not_found(client, people):
    from hubspot.crm.contacts import PublicMergeInput

    client.crm.contacts.basic_api.archive(people["grace@navy.example"])
    client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=people["ada@analytical.example"],
                                                         object_id_to_merge=people["alan@bletchley.example"]))

    assert sorted(emails(find(client, properties=["email"]))) == ["ada@analytical.example", "jane.francis@northwind.example"]
