"""Fixtures that serve the vendor sandboxes over real HTTP for connector and browser tests.

- ``sandbox_url`` — base URL (``http://127.0.0.1:PORT``) of a sandbox server started in a
  background thread for the test. Its threads share the test database, hence
  ``transactional_db``; tests that touch only the sandbox can mark themselves
  ``django_db(transaction=True, available_apps=["connectors.sandbox"])`` to make the
  flush after each test cheap.
- ``make_salesforce_org(**options) -> LoginFacts`` — a fresh org (options of
  ``orgs.org_create``: ``person_accounts``, ``duplicate_rules``, ``daily_limit``,
  ``records``, ``name``) whose URLs point at ``sandbox_url``; ``salesforce_org`` is a
  default one.
- ``sandbox_session(base_url) -> requests.Session`` — a session that reaches the plain-HTTP
  sandbox where simple-salesforce insists on https.
- ``make_sf(facts) -> Salesforce`` — a real simple-salesforce client with a token from the
  org's OAuth endpoint; ``sf`` is one for ``salesforce_org``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from connectors.sandbox.salesforce.orgs import LoginFacts, login_facts, org_create
from connectors.sandbox.server import serve_in_background

API_VERSION = "59.0"


class PlainHTTPAdapter(HTTPAdapter):
    """Test-only: simple-salesforce always builds https:// URLs; the sandbox speaks http."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)


@pytest.fixture
def sandbox_url(transactional_db: None) -> Iterator[str]:
    server, thread = serve_in_background("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sandbox_session() -> Iterator[Callable[[str], requests.Session]]:
    sessions: list[requests.Session] = []

    def make(base_url: str) -> requests.Session:
        session = requests.Session()
        session.mount(f"https://{urlsplit(base_url).netloc}", PlainHTTPAdapter())
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()  # ends the server's keep-alive threads, and their database connections


@pytest.fixture
def make_salesforce_org(sandbox_url: str) -> Callable[..., LoginFacts]:
    def make(**options: Any) -> LoginFacts:
        return login_facts(org_create(**options), base_url=sandbox_url, api_version=API_VERSION)

    return make


@pytest.fixture
def salesforce_org(make_salesforce_org: Callable[..., LoginFacts]) -> LoginFacts:
    return make_salesforce_org()


def fetch_token(facts: LoginFacts, session: requests.Session | None = None) -> str:
    """An access token from the org's OAuth endpoint (password grant)."""
    response = (session or requests).post(
        facts.token_url,
        data={
            "grant_type": "password", "client_id": facts.client_id, "client_secret": facts.client_secret,
            "username": facts.username, "password": facts.password,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def make_sf(sandbox_session: Callable[[str], requests.Session]) -> Callable[[LoginFacts], Salesforce]:
    def make(facts: LoginFacts) -> Salesforce:
        session = sandbox_session(facts.instance_url)
        return Salesforce(
            instance_url=facts.instance_url, session_id=fetch_token(facts, session), version=API_VERSION, session=session,
        )

    return make


@pytest.fixture
def sf(make_sf: Callable[[LoginFacts], Salesforce], salesforce_org: LoginFacts) -> Salesforce:
    return make_sf(salesforce_org)
