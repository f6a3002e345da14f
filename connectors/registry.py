"""Which vendors the portal knows, what credentials each needs, and its connector class."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string

from .base import Connector, CredentialField


@dataclass(frozen=True)
class Vendor:
    kind: str
    label: str
    default_base_url: str
    credential_fields: tuple[CredentialField, ...]
    base_url_help: str
    connector_path: str = ""  # dotted path of the Connector subclass, once one exists


_OAUTH_CLIENT = (
    CredentialField("client_id", "Client ID", secret=False, help_text="OAuth client (consumer) key."),
    CredentialField("client_secret", "Client secret", help_text="OAuth client (consumer) secret."),
)

# Zoho: one OAuth client and grant per organisation, refreshed at the data centre's accounts server.
_ZOHO_GRANT = _OAUTH_CLIENT + (
    CredentialField("accounts_url", "Accounts URL", secret=False,
                    help_text="Your data centre's accounts server (accounts_url), e.g. https://accounts.zoho.eu."),
    CredentialField("refresh_token", "Refresh token",
                    help_text="A grant of the client with the ZohoCRM and ZohoCampaigns scopes it needs."),
)

VENDORS: dict[str, Vendor] = {
    vendor.kind: vendor
    for vendor in (
        Vendor(
            "salesforce",
            "Salesforce",
            "https://login.salesforce.com",
            _OAUTH_CLIENT
            + (
                CredentialField("username", "Username", secret=False, help_text="The integration user's login."),
                CredentialField("password", "Password", help_text="Password, with the security token appended if the org needs one."),
            ),
            "Login URL (https://login.salesforce.com, https://test.salesforce.com for a sandbox org, or your My Domain).",
            "connectors.salesforce.SalesforceConnector",
        ),
        Vendor(
            "activecampaign",
            "ActiveCampaign",
            "https://youraccount.api-us1.com",
            (CredentialField("api_key", "API key", help_text="Settings → Developer → API key."),),
            "Your account's API URL (Settings → Developer), e.g. https://youraccount.api-us1.com.",
            "connectors.activecampaign.ActiveCampaignConnector",
        ),
        Vendor(
            "hubspot",
            "HubSpot",
            "https://api.hubapi.com",
            (
                CredentialField("token", "Private app access token", help_text="Settings → Integrations → Private apps."),
                CredentialField("app_id", "App ID", secret=False, required=False,
                                help_text="Optional: the app whose webhooks tell the portal of changes at once "
                                          "(without it, changes are polled)."),
                CredentialField("client_secret", "Client secret", required=False,
                                help_text="Optional: the same app's client secret, which signs its webhooks."),
            ),
            "API base URL; https://api.hubapi.com for HubSpot itself.",
            "connectors.hubspot.HubSpotConnector",
        ),
        Vendor(
            "zoho_crm",
            "Zoho CRM",
            "https://www.zohoapis.eu",
            _ZOHO_GRANT,
            "API domain of your data centre (api_domain), e.g. https://www.zohoapis.eu; the token's answer may "
            "name another, which is then used.",
            "connectors.zoho_crm.ZohoCrmConnector",
        ),
        Vendor(
            "zoho_campaigns",
            "Zoho Campaigns",
            "https://campaigns.zoho.eu",
            _ZOHO_GRANT,
            "Campaigns host of your data centre (campaigns_url), e.g. https://campaigns.zoho.eu. Syncs name a "
            "mailing list by its list key as the object.",
            "connectors.zoho_campaigns.ZohoCampaignsConnector",
        ),
        Vendor(
            "lemontaps",
            "Lemontaps",
            "https://app.lemontaps.com",
            (),
            "Not called yet: Lemontaps publishes no API, so captured contacts reach the portal through its own "
            "capture contract (the connection's capture endpoint and secret, or a CSV import).",
            "connectors.lemontaps.LemontapsConnector",
        ),
    )
}

KIND_CHOICES = [(vendor.kind, vendor.label) for vendor in VENDORS.values()]


def vendor(kind: str) -> Vendor:
    return VENDORS[kind]


def all_credential_fields() -> dict[str, CredentialField]:
    """Every credential field any vendor uses, by name (names mean the same for all vendors)."""
    fields: dict[str, CredentialField] = {}
    for v in VENDORS.values():
        for f in v.credential_fields:
            fields.setdefault(f.name, f)
    return fields


IMPATIENT_RETRIES = 2  # retries of a passing fault while a person waits on the answer


def record_url(kind: str, base_url: str, object_name: str, record_id: str) -> str | None:
    """The link into the vendor's app for one record of a connection, or None."""
    path = VENDORS[kind].connector_path if kind in VENDORS else ""
    if not path or not record_id:
        return None
    return import_string(path).app_record_url(base_url, object_name, str(record_id))


def connector_for(kind: str, *, base_url: str, credentials: dict, on_credentials_changed=None, patient: bool = True,
                  bulk_read_from: int | None = None) -> Connector:
    """Build the connector for ``kind``; a vendor without one yet gets the base class,
    whose operations raise ``NotSupported`` with a message an admin can read.

    A page someone waits on asks for an impatient connector (``patient=False``): a momentary
    refusal (a per-second limit, a 503) is retried twice with short back-off, and anything
    longer is reported at once instead of keeping the person waiting. ``bulk_read_from``
    (a connection's setting) goes to a connector with bulk reads; None keeps its default."""
    path = VENDORS[kind].connector_path
    if not path:
        cls = type(f"{kind}Connector", (Connector,), {"kind": kind, "label": VENDORS[kind].label})
        return cls(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed)
    cls = import_string(path)
    options: dict = {} if patient else {"max_retries": IMPATIENT_RETRIES}
    if bulk_read_from is not None and cls.bulk_read_from is not None:
        options["bulk_read_from"] = bulk_read_from
    return cls(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed, **options)
