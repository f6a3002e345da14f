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
def make_salesforce_org(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LoginFacts]:
    from connectors.sandbox.salesforce.bulk import worker

    if worker.mode == worker.BACKGROUND:  # a closed Bulk API 2.0 job is processed before the close is answered
        monkeypatch.setattr(worker, "mode", worker.SYNCHRONOUS)

    def make(**options: Any) -> LoginFacts:
        return login_facts(org_create(**options), base_url=sandbox_url, api_version=API_VERSION)

    return make


@pytest.fixture
def salesforce_bulk_jobs_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closed Bulk API 2.0 ingest jobs, and new query jobs, wait until the test calls
    ``jobs_process_pending()``."""
    from connectors.sandbox.salesforce.bulk import worker

    monkeypatch.setattr(worker, "mode", worker.MANUAL)


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


# --- ActiveCampaign ------------------------------------------------------------------------
# - ``make_activecampaign_account(**options) -> activecampaign LoginFacts`` (``api_url``,
#   ``api_key``, ``app_url``) — a fresh account served by ``sandbox_url``; options of
#   ``account_create`` (``name``, ``records``, ``seed_value``, ``utc_offset_minutes``,
#   ``rate_limit``: 1000 a second unless a test asks for the vendor's 5).
#   ``activecampaign_account`` is a default one.
# - ``activecampaign_webhooks`` — a receiver (``.url``, ``.forms``: the form posts received,
#   as lists of (key, value) pairs; ``.status``: what it answers) with webhook delivery made
#   synchronous, so a delivery has arrived when the API call that caused it has answered.
# - ``activecampaign_clock`` — freezes the rate limiter's clock; ``.advance(seconds)`` moves it.
# - Bulk imports run when the request that queued them commits (before its answer leaves),
#   so that a test never waits for them; ``activecampaign_imports_later`` keeps them queued
#   until the test calls ``imports_process_pending()``.
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

from connectors.sandbox.activecampaign import accounts as activecampaign_accounts  # noqa: E402
from connectors.sandbox.activecampaign.imports import importer as activecampaign_importer  # noqa: E402
from connectors.sandbox.activecampaign.ratelimit import limiter as activecampaign_limiter  # noqa: E402
from connectors.sandbox.activecampaign.webhooks import dispatcher as activecampaign_dispatcher  # noqa: E402


@pytest.fixture
def make_activecampaign_account(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., activecampaign_accounts.LoginFacts]:
    if activecampaign_importer.mode == activecampaign_importer.BACKGROUND:
        monkeypatch.setattr(activecampaign_importer, "mode", activecampaign_importer.SYNCHRONOUS)

    def make(**options: Any) -> activecampaign_accounts.LoginFacts:
        options.setdefault("rate_limit", 1000)
        account = activecampaign_accounts.account_create(**options)
        return activecampaign_accounts.login_facts(account, base_url=sandbox_url)

    return make


@pytest.fixture
def activecampaign_imports_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activecampaign_importer, "mode", activecampaign_importer.MANUAL)


@pytest.fixture
def activecampaign_account(make_activecampaign_account: Callable[..., Any]) -> activecampaign_accounts.LoginFacts:
    return make_activecampaign_account(name="Acme Marketing")


class PostReceiver:
    """An HTTP endpoint on a free local port that records every POST (headers, raw body) and
    answers ``status``; ``wait_for`` blocks until enough have arrived from another thread."""

    path = "/hooks"

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    receiver.posts.append(({k: v for k, v in self.headers.items()}, body))
                    receiver.arrived.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class WebhookReceiver(PostReceiver):
    """ActiveCampaign's form posts."""

    path = "/hooks/activecampaign"

    @property
    def forms(self) -> list[list[tuple[str, str]]]:
        return [parse_qsl(body.decode(), keep_blank_values=True) for _, body in self.posts]

    @property
    def content_types(self) -> list[str]:
        return [headers.get("Content-Type", "") for headers, _ in self.posts]

    def last(self) -> dict[str, str]:
        """The last form received, as a dict."""
        return dict(self.forms[-1])

    def types(self) -> list[str]:
        return [dict(form)["type"] for form in self.forms]


@pytest.fixture
def activecampaign_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    monkeypatch.setattr(activecampaign_dispatcher, "mode", activecampaign_dispatcher.SYNCHRONOUS)
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def activecampaign_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    clock = FrozenClock()
    monkeypatch.setattr(activecampaign_limiter, "clock", clock)
    activecampaign_limiter.reset()
    return clock


class ActiveCampaignApi:
    """Test-side client of one sandbox account: ``api.get("contacts", params=...)`` →
    ``requests.Response``, with the account's ``Api-Token``."""

    def __init__(self, facts: activecampaign_accounts.LoginFacts, api_key: str | None = None) -> None:
        self.base = f"{facts.api_url}/api/3"
        self.session = requests.Session()
        self.session.headers["Api-Token"] = facts.api_key if api_key is None else api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}/{path}", timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create_contact(self, email: str, **fields: Any) -> dict[str, Any]:
        response = self.post("contacts", {"contact": {"email": email, **fields}})
        assert response.status_code == 201, response.text
        return response.json()["contact"]


@pytest.fixture
def activecampaign_api() -> Iterator[Callable[..., ActiveCampaignApi]]:
    """``activecampaign_api(facts, api_key=None)``: a client, closed after the test (which ends
    the server's keep-alive threads and their database connections)."""
    clients: list[ActiveCampaignApi] = []

    def make(facts: activecampaign_accounts.LoginFacts, api_key: str | None = None) -> ActiveCampaignApi:
        clients.append(ActiveCampaignApi(facts, api_key))
        return clients[-1]

    yield make
    for client in clients:
        client.session.close()


# --- HubSpot -------------------------------------------------------------------------------
# - ``make_hubspot_account(**options) -> hubspot LoginFacts`` (``base_url``, ``token``,
#   ``app_id``, ``client_secret``, ``portal_id``, ``app_url``) — a fresh account served by
#   ``sandbox_url``; options of ``account_create`` (``name``, ``records``, ``seed_value``,
#   ``rate_limit``: 10,000 per ten seconds and ``search_rate_limit`` 1,000 a second unless
#   a test asks for the vendor's 190 and 5, ``search_result_cap``). ``hubspot_account`` is
#   a default one.
# - ``hubspot_client(facts, token=None) -> hubspot.HubSpot`` — the official client pointed
#   at the account's base URL; its connection pools are emptied after the test.
# - ``hubspot_webhooks`` — a receiver (``.url``, ``.posts``: (headers, raw body) pairs,
#   ``.events()``: every event received, ``.status``: what it answers) with delivery made
#   synchronous, so a delivery has arrived when the API call that caused it has answered.
# - ``hubspot_clock`` — freezes the rate limiter's clock; ``.advance(seconds)`` moves it.
import json as _json  # noqa: E402

import urllib3  # noqa: E402

from hubspot import HubSpot  # noqa: E402

from connectors.sandbox.hubspot import accounts as hubspot_accounts  # noqa: E402
from connectors.sandbox.hubspot.ratelimit import limiter as hubspot_limiter  # noqa: E402
from connectors.sandbox.hubspot.webhooks import dispatcher as hubspot_dispatcher  # noqa: E402


@pytest.fixture
def make_hubspot_account(sandbox_url: str) -> Callable[..., hubspot_accounts.LoginFacts]:
    def make(**options: Any) -> hubspot_accounts.LoginFacts:
        options.setdefault("rate_limit", 10_000)
        options.setdefault("search_rate_limit", 1_000)
        return hubspot_accounts.login_facts(hubspot_accounts.account_create(**options), base_url=sandbox_url)

    return make


@pytest.fixture
def hubspot_account(make_hubspot_account: Callable[..., Any]) -> hubspot_accounts.LoginFacts:
    return make_hubspot_account(name="Acme Hub")


@pytest.fixture
def hubspot_client() -> Iterator[Callable[..., HubSpot]]:
    made: list[Any] = []

    def factory(package: Any, api_name: str, config: dict) -> Any:
        configuration = package.Configuration()
        for key, value in config.items():
            setattr(configuration, "retries" if key == "retry" else key, value)
        made.append(getattr(package, api_name)(api_client=package.ApiClient(configuration=configuration)))
        return made[-1]

    def make(facts: hubspot_accounts.LoginFacts, token: str | None = None) -> HubSpot:
        # No retries inside the client: a test sees every 429 and 5xx as the sandbox sent it.
        return HubSpot(access_token=facts.token if token is None else token, host=facts.base_url, api_factory=factory,
                       retry=urllib3.Retry(total=0, respect_retry_after_header=False, raise_on_status=False))

    yield make
    for api in made:
        api.api_client.rest_client.pool_manager.clear()  # ends the server's keep-alive threads


class HubSpotWebhookReceiver(PostReceiver):
    """HubSpot's JSON arrays of events, with their signature headers."""

    path = "/hooks/hubspot?connection=1"

    def events(self) -> list[dict[str, Any]]:
        return [event for _, body in self.posts for event in _json.loads(body)]


@pytest.fixture
def hubspot_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotWebhookReceiver]:
    monkeypatch.setattr(hubspot_dispatcher, "mode", hubspot_dispatcher.SYNCHRONOUS)
    receiver = HubSpotWebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def hubspot_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    clock = FrozenClock()
    monkeypatch.setattr(hubspot_limiter, "clock", clock)
    hubspot_limiter.reset()
    return clock


# --- Lagging reads ---------------------------------------------------------------------------
# - ``visibility_clock`` — the clock Salesforce's commit lag and HubSpot's search-index lag
#   compare with (real time plus a skew); ``.advance(seconds)`` moves it ahead, so a test
#   need not sleep through a lag. Reset after the test.
from connectors.sandbox.lag import VisibilityClock, clock as _visibility_clock  # noqa: E402


@pytest.fixture
def visibility_clock() -> Iterator[VisibilityClock]:
    _visibility_clock.reset()
    yield _visibility_clock
    _visibility_clock.reset()


# --- Zoho ----------------------------------------------------------------------------------
# - ``make_zoho_org(**options) -> zoho LoginFacts`` (``accounts_url``, ``api_domain``,
#   ``campaigns_url``, ``client_id``, ``client_secret``, ``refresh_token``) — a fresh
#   organisation served by ``sandbox_url``; options of ``org_create`` (``name``, ``records``,
#   ``seed_value``, ``token_lifetime``, ``token_rate_limit``: 1,000 per ten minutes unless a
#   test asks for Zoho's 10, ``crm_daily_credits``, ``campaigns_limits``,
#   ``one_instant_per_request``). ``zoho_org`` is a default one.
# - ``zoho_api(facts) -> ZohoApi`` — a test-side client with a fresh access token:
#   ``.crm(method, path, **kwargs)`` and ``.campaigns(method_path, **params)`` →
#   ``requests.Response``.
# - ``zoho_notifications`` — a receiver of notification posts (``.url``, ``.posts``,
#   ``.bodies()``) with delivery made synchronous.
# - ``zoho_clock`` — freezes the Zoho limiter's clock; ``.advance(seconds)`` moves it.
from connectors.sandbox.zoho import orgs as zoho_orgs  # noqa: E402
from connectors.sandbox.zoho.notify import dispatcher as zoho_dispatcher  # noqa: E402
from connectors.sandbox.zoho.ratelimit import limiter as zoho_limiter  # noqa: E402


@pytest.fixture
def make_zoho_org(sandbox_url: str) -> Callable[..., zoho_orgs.LoginFacts]:
    def make(**options: Any) -> zoho_orgs.LoginFacts:
        options.setdefault("token_rate_limit", 1000)
        return zoho_orgs.login_facts(zoho_orgs.org_create(**options), base_url=sandbox_url)

    return make


@pytest.fixture
def zoho_org(make_zoho_org: Callable[..., Any]) -> zoho_orgs.LoginFacts:
    return make_zoho_org(name="Acme Zoho")


def zoho_token(facts: zoho_orgs.LoginFacts, session: requests.Session | None = None) -> dict[str, Any]:
    """The token endpoint's answer to the organisation's refresh-token grant."""
    response = (session or requests).post(f"{facts.accounts_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": facts.client_id, "client_secret": facts.client_secret,
        "refresh_token": facts.refresh_token}, timeout=10)
    return response.json()


class ZohoApi:
    """Test-side client of one sandbox organisation, with an access token of its grant."""

    def __init__(self, facts: zoho_orgs.LoginFacts, token: str | None = None) -> None:
        self.facts = facts
        self.session = requests.Session()
        self.token = token or zoho_token(facts, self.session)["access_token"]
        self.session.headers["Authorization"] = f"Zoho-oauthtoken {self.token}"

    def crm(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.facts.api_domain}/crm/v2/{path}", timeout=10, **kwargs)

    def campaigns(self, method: str, http: str = "GET", **params: Any) -> requests.Response:
        url = f"{self.facts.campaigns_url}/api/v1.1/{method}"
        params.setdefault("resfmt", "JSON")
        if http == "POST":
            return self.session.post(url, data=params, timeout=10)
        return self.session.get(url, params=params, timeout=10)

    def insert(self, module: str, *records: dict[str, Any]) -> list[str]:
        response = self.crm("POST", module, json={"data": list(records)})
        assert response.status_code == 201, response.text
        return [entry["details"]["id"] for entry in response.json()["data"]]


@pytest.fixture
def zoho_api() -> Iterator[Callable[..., ZohoApi]]:
    clients: list[ZohoApi] = []

    def make(facts: zoho_orgs.LoginFacts, token: str | None = None) -> ZohoApi:
        clients.append(ZohoApi(facts, token))
        return clients[-1]

    yield make
    for client in clients:
        client.session.close()


class ZohoNotificationReceiver(PostReceiver):
    path = "/hooks/zoho?connection=1"

    def bodies(self) -> list[dict[str, Any]]:
        return [_json.loads(body) for _, body in self.posts]


@pytest.fixture
def zoho_notifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZohoNotificationReceiver]:
    monkeypatch.setattr(zoho_dispatcher, "mode", zoho_dispatcher.SYNCHRONOUS)
    receiver = ZohoNotificationReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def zoho_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    clock = FrozenClock()
    monkeypatch.setattr(zoho_limiter, "clock", clock)
    zoho_limiter.reset()
    return clock


@pytest.fixture
def sandbox_notifications_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandboxes record the notifications they owe but send none: for tests that register
    notifications without receiving them (no delivery thread outlives the test's database)."""
    for dispatcher in (activecampaign_dispatcher, hubspot_dispatcher, zoho_dispatcher):
        monkeypatch.setattr(dispatcher, "mode", dispatcher.MANUAL)
