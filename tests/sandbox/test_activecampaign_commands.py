"""`manage.py sandbox create-account activecampaign`."""
import json
from collections import Counter
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command

from connectors.sandbox.activecampaign.seed import INTEGRATION_TAGS
from connectors.sandbox.models.activecampaign import AcAccount, AcContact, AcContactTag, AcFieldValue

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def sandbox(*args):
    out = StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def test_create_account_prints_an_api_url_and_key_that_work(sandbox_url):
    facts = json.loads(sandbox("create-account", "activecampaign", "--json", "--base-url", sandbox_url, "--name", "Acme"))

    with requests.Session() as session:
        answer = session.get(f"{facts['api_url']}/api/3/contacts", headers={"Api-Token": facts["api_key"]}, timeout=10)

    assert facts["api_url"].startswith(f"{sandbox_url}/activecampaign/acme-") and not facts["api_url"].endswith("/api/3")
    assert answer.status_code == 200 and answer.json()["meta"]["total"] == "0"
    assert AcAccount.objects.get(api_key=facts["api_key"]).rate_limit == 5


def test_create_account_defaults_to_the_configured_sandbox_url_and_takes_a_rate_limit(settings):
    settings.SANDBOX_URL = "http://sandbox.test:8001"

    facts = json.loads(sandbox("create-account", "activecampaign", "--json", "--rate-limit", "50"))

    assert facts["api_url"].startswith("http://sandbox.test:8001/activecampaign/")
    assert AcAccount.objects.get(api_key=facts["api_key"]).rate_limit == 50


def test_records_are_realistic_tagged_and_the_same_for_the_same_seed():
    def fill(seed):
        facts = json.loads(sandbox("create-account", "activecampaign", "--json", "--records", "300", "--seed", seed))
        account = AcAccount.objects.get(api_key=facts["api_key"])
        people = list(AcContact.objects.filter(account=account).order_by("number").values_list("email", "first_name", "orgname"))
        tags = Counter(AcContactTag.objects.filter(account=account).values_list("tag__tag", flat=True))
        return account, people, tags

    account, people, tags = fill("7")
    _, same_people, same_tags = fill("7")
    _, other_people, _ = fill("8")

    assert len(people) == 300 and len({email.lower() for email, _, _ in people}) == 300
    assert people == same_people and tags == same_tags and people != other_people
    assert {name for name, _ in INTEGRATION_TAGS} <= set(tags)
    both = AcContact.objects.filter(account=account, contact_tags__tag__tag="created-from-salesforce-contact").filter(
        contact_tags__tag__tag="created-from-salesforce-person-account")
    assert both.exists()  # migrated contacts carry both tag sets (AC-10)
    assert AcFieldValue.objects.filter(account=account, field__perstag="COMPANY_SIZE").count() > 100


def test_a_bad_rate_limit_is_a_command_error():
    with pytest.raises(CommandError, match="at least 1"):
        sandbox("create-account", "activecampaign", "--rate-limit", "0")
