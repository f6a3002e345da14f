"""`manage.py sandbox`: serve, create-org, add-field, faults."""
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from connectors.sandbox.models import SandboxOrg, SandboxRecord
from connectors.sandbox.salesforce.orgs import org_get

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])
MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def sandbox(*args):
    out = StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def test_create_org_prints_login_facts_that_log_in(sandbox_url):
    facts = json.loads(sandbox("create-org", "salesforce", "--json", "--base-url", sandbox_url, "--name", "Demo"))

    token = requests.post(facts["token_url"], data={
        "grant_type": "password", "client_id": facts["client_id"], "client_secret": facts["client_secret"],
        "username": facts["username"], "password": facts["password"]}, timeout=10).json()

    assert {"token_url", "instance_url", "client_id", "client_secret", "username", "password", "org_id"} <= set(facts)
    assert facts["instance_url"] == sandbox_url and token["instance_url"] == sandbox_url
    assert SandboxOrg.objects.get(org_id=facts["org_id"]).name == "Demo"


def test_create_org_defaults_to_the_configured_sandbox_url(settings):
    settings.SANDBOX_URL = "http://sandbox.test:8001"

    facts = json.loads(sandbox("create-org", "salesforce", "--json"))

    assert facts["token_url"] == "http://sandbox.test:8001/services/oauth2/token"


def test_create_org_with_records_fills_it_with_realistic_people_and_duplicates():
    facts = json.loads(sandbox("create-org", "salesforce", "--json", "--records", "400", "--person-accounts", "--seed", "3"))
    org = org_get(facts["org_id"])
    rows = SandboxRecord.objects.filter(org=org)

    counts = Counter(rows.values_list("sobject", flat=True))
    emails = {(row.sobject, row.data["Email"].lower()) for row in rows.filter(sobject__in=["Contact", "Lead"])}
    contact_emails = {e for s, e in emails if s == "Contact"}
    lead_emails = {e for s, e in emails if s == "Lead"}
    names = Counter((r.data["FirstName"], r.data["LastName"], r.data.get("AccountId"))
                    for r in rows.filter(sobject="Contact", data__IsPersonAccount=False))
    assert counts["Account"] >= 100 and counts["Lead"] == 120 and counts["Contact"] >= 200
    assert rows.filter(sobject="Account", data__IsPersonAccount=True).count() == 60
    assert contact_emails & lead_emails, "a Lead shares its email with a Contact"
    assert max(names.values()) >= 2, "the same person was entered twice"


def test_the_same_seed_makes_the_same_people():
    def people(seed):
        org = org_get(json.loads(sandbox("create-org", "salesforce", "--json", "--records", "50", "--seed", seed))["org_id"])
        return sorted(SandboxRecord.objects.filter(org=org, sobject="Lead").values_list("data__Email", flat=True))

    assert people("5") == people("5") != people("6")


def test_add_field_adds_a_custom_field_to_describe():
    org_id = json.loads(sandbox("create-org", "salesforce", "--json"))["org_id"]

    output = sandbox("add-field", "salesforce", "--org", org_id, "--object", "Contact", "--name", "Badge__c",
                     "--type", "string", "--label", "Badge", "--external-id", "--unique", "--length", "20")

    assert output.strip() == "Added Contact.Badge__c (string)."
    field = org_get(org_id).custom_fields.get(name="Badge__c")
    assert (field.label, field.length, field.external_id, field.unique) == ("Badge", 20, True, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--object", "Contact", "--name", "Badge", "--type", "string"], "is not a custom field API name"),
        (["--object", "Contact", "--name", "Email__c", "--type", "reference"], "needs --reference-to"),
        (["--object", "Opportunity", "--name", "X__c", "--type", "string"], "Custom fields can be added to"),
        (["--object", "Contact", "--name", "External_Id__c", "--type", "string"], "already has a field"),
    ],
)
def test_add_field_refuses_what_salesforce_would_refuse(args, message):
    org_id = json.loads(sandbox("create-org", "salesforce", "--json"))["org_id"]

    with pytest.raises(CommandError, match=message):
        sandbox("add-field", "salesforce", "--org", org_id, *args)


def test_faults_sets_the_orgs_fault_injection():
    org_id = json.loads(sandbox("create-org", "salesforce", "--json"))["org_id"]

    sandbox("faults", "--org", org_id, "--error-rate", "0.2", "--limit-rate", "0.1", "--slow-rate", "0", "--seed", "1")

    org = org_get(org_id)
    assert (org.error_rate, org.limit_rate, org.slow_rate, org.fault_seed) == (0.2, 0.1, 0.0, 1)
    with pytest.raises(CommandError, match="between 0 and 1"):
        sandbox("faults", "--org", org_id, "--error-rate", "1.5")
    with pytest.raises(CommandError, match="No sandbox org"):
        sandbox("faults", "--org", "00D5b0000000000AAA", "--error-rate", "0.1")


def test_serve_answers_http_until_stopped():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.test_settings"}
    server = subprocess.Popen([sys.executable, str(MANAGE), "sandbox", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        versions = None
        for _ in range(100):
            try:
                versions = requests.get(f"http://127.0.0.1:{port}/services/data/", timeout=1).json()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert versions and versions[-1]["url"] == "/services/data/v62.0"
    finally:
        server.terminate()
        server.wait(timeout=10)
