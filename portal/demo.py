"""The demo set-up `make run` creates once: sandbox accounts with realistic data, and
connections to them, so that a newcomer can click through a working portal at once."""
from __future__ import annotations

from django.db import transaction

from connectors.sandbox.activecampaign.accounts import account_create
from connectors.sandbox.activecampaign.accounts import login_facts as activecampaign_login_facts
from connectors.sandbox.salesforce.orgs import login_facts, org_create
from syncconfig.models import Connection
from syncconfig.services import connection_set_credentials

DEMO_SALESFORCE = "Demo Salesforce org (sandbox)"
DEMO_ACTIVECAMPAIGN = "Demo ActiveCampaign account (sandbox)"


@transaction.atomic
def demo_setup(*, sandbox_url: str, records: int = 400) -> list[Connection]:
    """Create the demo sandbox accounts and their connections, unless they exist; returns
    the connections created."""
    if Connection.objects.filter(name=DEMO_SALESFORCE).exists():
        return []
    org = org_create(name="Acme Demo", person_accounts=True, duplicate_rules=True, records=records)
    facts = login_facts(org, base_url=sandbox_url)
    salesforce = Connection(name=DEMO_SALESFORCE, kind="salesforce", base_url=facts.instance_url)
    connection_set_credentials(connection=salesforce, values={
        "client_id": facts.client_id, "client_secret": facts.client_secret,
        "username": facts.username, "password": facts.password,
    })
    salesforce.save()
    account = activecampaign_login_facts(account_create(name="Acme Marketing", records=records // 4), base_url=sandbox_url)
    activecampaign = Connection(name=DEMO_ACTIVECAMPAIGN, kind="activecampaign", base_url=account.api_url)
    connection_set_credentials(connection=activecampaign, values={"api_key": account.api_key})
    activecampaign.save()
    return [salesforce, activecampaign]
