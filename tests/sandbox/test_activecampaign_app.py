"""The ActiveCampaign sandbox's vendor app: a person finds a contact and edits it."""
import re

import pytest
import requests

from connectors.sandbox.activecampaign.seed import INTEGRATION_TAGS

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def api(activecampaign_api, activecampaign_account):
    return activecampaign_api(activecampaign_account)


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def test_the_contact_list_searches_and_links_to_each_contact(api, activecampaign_account, browser):
    api.create_contact("ada@example.com", firstName="Ada")
    grace = api.create_contact("grace@navy.example", firstName="Grace")

    page = browser.get(activecampaign_account.app_url, params={"q": "grace"}).text

    assert "1 contact" in page and "ada@example.com" not in page
    assert 'href="/activecampaign/' in page and f'/app/contacts/{grace["id"]}">grace@navy.example' in page
    assert '<label for="search">Search contacts</label>' in page


def test_the_edit_form_labels_every_input(api, activecampaign_account, browser):
    contact = api.create_contact("ada@example.com", firstName="Ada")["id"]

    page = browser.get(f"{activecampaign_account.app_url}/{contact}").text

    inputs = set(re.findall(r'<(?:input|select|textarea) [^>]*id="([^"]+)"', page))
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert {"first_name", "last_name", "phone", "field-COMPANY_SIZE", "field-BIRTHDAY", "field-INTERESTS-1", "tag"} <= inputs
    assert inputs <= labelled


def test_saving_the_form_changes_the_contact_the_api_returns(api, activecampaign_account, browser):
    contact = api.create_contact("ada@example.com", firstName="Ada")
    url = f"{activecampaign_account.app_url}/{contact['id']}"

    saved = browser.post(url, data={
        "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 1234567", "field-COMPANY_SIZE": "1-10",
        "field-INTERESTS": ["Events", "Webinars"], "field-BIRTHDAY": "1815-12-10",
    })

    after = api.get(f"contacts/{contact['id']}").json()
    assert saved.status_code == 200 and "Contact saved." in saved.text
    assert (after["contact"]["lastName"], after["contact"]["phone"]) == ("Lovelace", "+44 20 1234567")
    assert {v["field"]: v["value"] for v in after["fieldValues"] if v["value"]} == {
        "1": "1-10", "3": "1815-12-10", "4": "||Events||Webinars||",
    }
    assert after["contact"]["udate"] >= contact["udate"]


def test_a_bad_value_is_shown_and_nothing_is_saved(api, activecampaign_account, browser):
    contact = api.create_contact("ada@example.com", firstName="Ada")["id"]

    answer = browser.post(f"{activecampaign_account.app_url}/{contact}", data={"first_name": "Augusta", "field-BIRTHDAY": "someday"})

    assert answer.status_code == 422 and "not a valid date" in answer.text
    assert api.get(f"contacts/{contact}").json()["contact"]["firstName"] == "Ada"


def test_tags_are_added_by_name_and_removed(api, activecampaign_account, browser):
    contact = api.create_contact("ada@example.com")["id"]
    url = f"{activecampaign_account.app_url}/{contact}"
    name = INTEGRATION_TAGS[5][0]

    page = browser.post(f"{url}/tags", data={"tag": name}).text
    applied = api.get(f"contacts/{contact}/contactTags").json()["contactTags"]
    removed = browser.post(f"{url}/tags/{applied[0]['id']}/remove").text

    assert f'aria-label="Remove tag {name}"' in page
    assert [t["tag"] for t in api.get("tags", params={"search": name}).json()["tags"]] == [name]
    assert "No tags." in removed and api.get(f"contacts/{contact}/contactTags").json()["contactTags"] == []


def test_the_webhooks_page_lists_hooks_and_deliveries(api, activecampaign_account, activecampaign_webhooks, browser):
    api.post("webhooks", {"webhook": {"name": "Portal", "url": activecampaign_webhooks.url, "events": ["subscribe"], "sources": ["api"]}})
    api.create_contact("ada@example.com")

    page = browser.get(activecampaign_account.app_url.replace("/contacts", "/webhooks")).text

    assert activecampaign_webhooks.url in page and "subscribe" in page and "sent" in page


def test_an_unknown_contact_or_account_is_404(activecampaign_account, browser):
    assert browser.get(f"{activecampaign_account.app_url}/999").status_code == 404
    assert browser.get(activecampaign_account.app_url.replace("acme-marketing", "nobody")).status_code == 404
