"""The HubSpot sandbox's vendor app (search, edit, note, merge, archive — each firing the
webhooks the API would) and `manage.py sandbox create-account hubspot`."""
import json
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from connectors.sandbox.hubspot.contacts import contact_create
from connectors.sandbox.hubspot.webhooks import EventLog
from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote, HsSubscription

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def account(hubspot_account):
    return HsAccount.objects.get(token=hubspot_account.token)


@pytest.fixture
def app(hubspot_account):
    with requests.Session() as session:
        yield lambda method, path, **kw: session.request(method, f"{hubspot_account.app_url}{path}", timeout=10, **kw)


def person(account, **values):
    return contact_create(account, values, EventLog(account, "IMPORT"))


def listen(account, url):
    account.webhook_url = url
    account.save(update_fields=["webhook_url"])
    for n, (event_type, name) in enumerate((("contact.merge", ""), ("contact.deletion", ""), ("contact.propertyChange", "city")), 1):
        HsSubscription.objects.create(account=account, number=n, event_type=event_type, property_name=name,
                                      created_at=account.created_at, updated_at=account.created_at)


def test_the_list_searches_and_links_to_each_contact(account, app):
    ada = person(account, email="ada@example.com", firstname="Ada", lastname="Lovelace")
    person(account, email="grace@example.com", firstname="Grace")

    page = app("GET", "", params={"q": "lovelace"}).text

    assert "1 contact" in page and f"/contacts/{ada.number}" in page and "grace@example.com" not in page


def test_editing_a_property_in_the_app_fires_a_property_change(account, app, hubspot_webhooks):
    ada = person(account, email="ada@example.com", firstname="Ada")
    listen(account, hubspot_webhooks.url)

    saved = app("POST", f"/{ada.number}", data={"firstname": "Ada", "city": "London"})
    refused = app("POST", f"/{ada.number}", data={"lifecyclestage": "royalty"})

    assert saved.status_code == 200 and "Contact saved." in saved.text
    assert refused.status_code == 400 and "allowed options" in refused.text
    assert HsContact.objects.get(pk=ada.pk).properties["city"] == "London"
    (event,) = hubspot_webhooks.events()
    assert (event["propertyName"], event["propertyValue"], event["changeSource"]) == ("city", "London", "CRM_UI")


def test_notes_merge_and_archive_from_the_app(account, app, hubspot_webhooks):
    jane = person(account, email="jane.francis@example.com", firstname="Jane")
    twin = person(account, email="jane.f@example.com", firstname="Jane", phone="+49 30 5550101")
    listen(account, hubspot_webhooks.url)

    noted = app("POST", f"/{twin.number}/notes", data={"body": "Met at the fair."})
    merged = app("POST", f"/{jane.number}/merge", data={"other": "jane.f@example.com"})
    new = HsContact.objects.get(merged_into__isnull=True)
    old_page = app("GET", f"/{jane.number}")
    archived = app("POST", f"/{new.number}/archive")

    assert "Note added." in noted.text and f"Merged contacts {jane.number},{twin.number} into this new contact." in merged.text
    assert new.number not in (jane.number, twin.number) and f"/{new.number}" in merged.url and f"/{new.number}" in old_page.url
    assert new.properties["hs_merged_object_ids"] == f"{jane.number};{twin.number}"
    assert "Contact archived." in archived.text
    survivor = HsContact.objects.get(pk=new.pk)
    assert survivor.archived and survivor.properties["phone"] == "+49 30 5550101"
    assert HsNote.objects.get().contact_id is None  # archived with its contact: history lost
    assert [e["subscriptionType"] for e in hubspot_webhooks.events()] == ["contact.merge", "contact.deletion"]


def sandbox(*args):
    out = StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def test_create_account_prints_facts_that_work(sandbox_url, hubspot_client):
    facts = json.loads(sandbox("create-account", "hubspot", "--json", "--base-url", sandbox_url, "--name", "Acme Hub",
                               "--records", "30", "--seed", "7", "--rate-limit", "100", "--search-cap", "50"))

    answer = requests.get(f"{facts['base_url']}/crm/v3/objects/contacts", params={"limit": 100},
                          headers={"Authorization": f"Bearer {facts['token']}"}, timeout=10)

    assert {"base_url", "token", "app_id", "client_secret", "portal_id", "app_url"} <= set(facts)
    assert facts["base_url"].startswith(f"{sandbox_url}/hubspot/acme-hub-") and facts["token"].startswith("pat-")
    assert answer.status_code == 200 and len(answer.json()["results"]) == 30
    account = HsAccount.objects.get(token=facts["token"])
    assert (account.rate_limit, account.search_result_cap, account.app_id, account.portal_id) == (
        100, 50, facts["app_id"], facts["portal_id"])
    linked = HsContact.objects.filter(account=account).exclude(properties__salesforcecontactid=None).count()
    assert 0 < linked < 30 and HsNote.objects.filter(account=account).exists()


def test_seeding_is_deterministic_for_a_seed():
    sandbox("create-account", "hubspot", "--records", "10", "--seed", "3")
    sandbox("create-account", "hubspot", "--records", "10", "--seed", "3")

    first, second = (list(HsContact.objects.filter(account=a).order_by("number").values_list("properties__email", flat=True))
                     for a in HsAccount.objects.order_by("id"))
    assert first == second and len(set(first)) == 10


def test_create_account_still_makes_activecampaign_accounts():
    facts = json.loads(sandbox("create-account", "activecampaign", "--json"))

    assert {"api_url", "api_key"} <= set(facts)
