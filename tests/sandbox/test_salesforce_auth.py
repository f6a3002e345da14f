"""Logging in: OAuth token endpoint, SOAP login, expired sessions, the identity URL."""
import base64
import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from connectors.sandbox.models import SandboxToken
from connectors.sandbox.salesforce.values import now

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


class RedirectAdapter(HTTPAdapter):
    """Test-only: sends every https URL (login.salesforce.com included) to the sandbox."""

    def __init__(self, netloc):
        super().__init__()
        self.netloc = netloc

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = parts._replace(scheme="http", netloc=self.netloc).geturl()
        return super().send(request, **kwargs)


@pytest.fixture
def redirected(sandbox_url):
    session = requests.Session()
    session.mount("https://", RedirectAdapter(urlsplit(sandbox_url).netloc))
    yield session
    session.close()


def token_request(facts, **overrides):
    data = {"grant_type": "password", "client_id": facts.client_id, "client_secret": facts.client_secret,
            "username": facts.username, "password": facts.password, **overrides}
    return requests.post(facts.token_url, data=data, timeout=10)


def test_the_password_grant_answers_a_signed_token_for_the_sandbox_instance(salesforce_org, sandbox_url):
    body = token_request(salesforce_org).json()

    assert body["instance_url"] == sandbox_url and body["token_type"] == "Bearer"
    assert body["access_token"].startswith(salesforce_org.org_id[:15] + "!")
    assert body["id"].startswith(f"{sandbox_url}/id/{salesforce_org.org_id}/005")
    expected = hmac.new(salesforce_org.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    assert body["signature"] == base64.b64encode(expected.digest()).decode()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"password": "wrong"}, {"error": "invalid_grant", "error_description": "authentication failure"}),
        ({"client_id": "unknown"}, {"error": "invalid_client_id", "error_description": "client identifier invalid"}),
        ({"client_secret": "wrong"}, {"error": "invalid_client", "error_description": "invalid client credentials"}),
        ({"grant_type": "implicit"}, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}),
    ],
)
def test_a_bad_token_request_gets_an_oauth_error(salesforce_org, overrides, expected):
    response = token_request(salesforce_org, **overrides)

    assert (response.status_code, response.json()) == (400, expected)


def test_simple_salesforce_logs_in_with_client_credentials(salesforce_org, redirected):
    sf = Salesforce(consumer_key=salesforce_org.client_id, consumer_secret=salesforce_org.client_secret,
                    domain="sandbox-org.my", session=redirected)

    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_an_expired_session_is_refreshed_by_a_client_that_can_log_in_again(salesforce_org, redirected):
    sf = Salesforce(username=salesforce_org.username, password=salesforce_org.password,
                    consumer_key=salesforce_org.client_id, consumer_secret=salesforce_org.client_secret,
                    session=redirected)
    first_session = sf.session_id
    SandboxToken.objects.update(expires_at=now() - timedelta(seconds=1))

    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert sf.session_id != first_session


def test_an_expired_session_is_an_invalid_session_id_error(sf):
    SandboxToken.objects.update(expires_at=now() - timedelta(seconds=1))

    with pytest.raises(SalesforceExpiredSession) as excinfo:
        sf.query("SELECT Id FROM Contact")

    assert excinfo.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_soap_login_answers_a_session_and_the_instance_with_its_port(salesforce_org, sandbox_url, sandbox_session):
    session_id, instance = SalesforceLogin(
        username=salesforce_org.username, password=salesforce_org.password, security_token="",
        scratch_url=sandbox_url, session=requests.Session(),
    )

    sf = Salesforce(session_id=session_id, instance=instance, session=sandbox_session(sandbox_url))
    assert instance == urlsplit(sandbox_url).netloc
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_soap_login_with_a_wrong_password_is_an_invalid_login(salesforce_org, sandbox_url):
    with pytest.raises(SalesforceAuthenticationFailed) as excinfo:
        SalesforceLogin(username=salesforce_org.username, password="wrong", security_token="", scratch_url=sandbox_url)

    assert excinfo.value.code == "INVALID_LOGIN"


def test_the_identity_url_names_the_integration_user(salesforce_org):
    body = token_request(salesforce_org).json()

    identity = requests.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10).json()

    assert (identity["username"], identity["organization_id"]) == (salesforce_org.username, salesforce_org.org_id)


def test_the_version_list_needs_no_login(sandbox_url):
    versions = requests.get(f"{sandbox_url}/services/data/", timeout=10).json()

    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
