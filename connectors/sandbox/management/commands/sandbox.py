"""`manage.py sandbox …`: serve the vendor sandboxes and set up their accounts.

    sandbox serve [--host 127.0.0.1] [--port 8001]
    sandbox create-org salesforce [--person-accounts] [--duplicate-rules] [--daily-limit N]
                                  [--records N] [--seed S] [--name NAME] [--base-url URL] [--json]
                                  [--commit-lag SECONDS] [--commit-lag-seed S] [--one-instant-per-request]
    sandbox add-field salesforce --org ID --object Contact --name Foo__c --type string [--label L]
                                 [--external-id] [--unique] [--required] [--length N]
                                 [--picklist-values a,b] [--reference-to Account]
    sandbox create-account activecampaign [--name NAME] [--records N] [--seed S] [--rate-limit 5]
                                          [--base-url URL] [--json]
    sandbox create-account hubspot [--name NAME] [--records N] [--seed S] [--rate-limit 190]
                                   [--search-rate-limit 5] [--search-cap 10000] [--base-url URL] [--json]
                                   [--search-lag SECONDS] [--search-lag-seed S] [--one-instant-per-request]
    sandbox create-account zoho [--name NAME] [--records N] [--seed S] [--token-lifetime 3600]
                                [--one-instant-per-request] [--base-url URL] [--json]
    sandbox revoke zoho --account NAME
    sandbox faults [salesforce] --org ID [--error-rate 0.2] [--limit-rate 0.1] [--slow-rate 0] [--slow-ms 2000]
                   [--hang-rate 0] [--hang-seconds 30] [--seed 1] [--include-auth]
    sandbox faults hubspot|activecampaign|zoho --account NAME [the same rates and delays] [--include-auth]
    sandbox produce-captures --connection N [--count 20] [--captured-by EMAIL] [--url PORTAL_URL]
                             [--seed S] [--create-as Lead|Contact] [--plain]
"""
from __future__ import annotations

import json
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.sandbox import lemontaps
from connectors.sandbox.activecampaign import accounts as activecampaign_accounts
from connectors.sandbox.hubspot import accounts as hubspot_accounts
from connectors.sandbox.models import SandboxOrg
from connectors.sandbox.models.activecampaign import AcAccount
from connectors.sandbox.models.hubspot import HsAccount
from connectors.sandbox.models.zoho import ZohoOrg
from connectors.sandbox.salesforce import orgs
from connectors.sandbox.salesforce.schema import CUSTOM_FIELD_TYPES
from connectors.sandbox.server import make_server
from connectors.sandbox.zoho import oauth as zoho_oauth
from connectors.sandbox.zoho import orgs as zoho_orgs

VENDORS = ("salesforce",)


class Command(BaseCommand):
    help = "Serve the vendor sandboxes, create sandbox accounts, add custom fields, inject faults, produce captures."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, parser_class=CommandParser)

        serve = commands.add_parser("serve", help="Serve every sandbox over HTTP.")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8001)

        create = commands.add_parser("create-org", help="Create a sandbox org and print its login facts.")
        create.add_argument("vendor", choices=VENDORS)
        create.add_argument("--name", default="Sandbox org")
        create.add_argument("--person-accounts", action="store_true", help="Enable Person Accounts.")
        create.add_argument("--duplicate-rules", action="store_true", help="Block duplicate Contacts/Leads by email.")
        create.add_argument("--daily-limit", type=int, default=15000, help="API requests per 24 hours.")
        create.add_argument("--records", type=int, default=0, help="Fill the org with about N demo records.")
        create.add_argument("--seed", type=int, default=1, help="Seed of the demo records.")
        create.add_argument("--base-url", default="", help="Where the sandbox is served (default: SANDBOX_URL).")
        create.add_argument("--json", action="store_true", dest="as_json", help="Print the login facts as JSON.")
        create.add_argument(
            "--commit-lag", type=float, default=0.0, dest="commit_lag_seconds",
            help="Keep each write out of SOQL for a random 0..N seconds after its SystemModstamp (default 0: off).",
        )
        create.add_argument("--commit-lag-seed", type=int, default=0, help="Same seed, same lags.")
        create.add_argument(
            "--one-instant-per-request", action="store_true",
            help="Stamp every record of one API call (a whole sObject Collection) with the same SystemModstamp.",
        )

        account = commands.add_parser("create-account", help="Create a sandbox account and print how to reach it.")
        account.add_argument("vendor", choices=("activecampaign", "hubspot", "zoho"))
        account.add_argument("--name", default="", help="Display name (default: Sandbox account / Sandbox portal).")
        account.add_argument("--records", type=int, default=0, help="Fill the account with N demo contacts.")
        account.add_argument("--seed", type=int, default=1, help="Seed of the demo contacts.")
        account.add_argument(
            "--rate-limit", type=int, default=None,
            help="ActiveCampaign: API requests per second (default 5); HubSpot: per rolling 10 seconds (default 190).",
        )
        account.add_argument("--search-rate-limit", type=int, default=5, help="HubSpot: search requests per second.")
        account.add_argument("--search-cap", type=int, default=10_000, help="HubSpot: results one search can page through.")
        account.add_argument(
            "--search-lag", type=float, default=0.0, dest="search_lag_seconds",
            help="HubSpot: search finds each write only after a random 0..N seconds (default 0: at once).",
        )
        account.add_argument("--search-lag-seed", type=int, default=0, help="HubSpot: same seed, same lags.")
        account.add_argument(
            "--one-instant-per-request", action="store_true",
            help="HubSpot: stamp every contact of one batch (and each hundred seeded ones) with the same lastmodifieddate; "
                 "Zoho: every CRM record of one call with the same Modified_Time.",
        )
        account.add_argument(
            "--token-lifetime", type=int, default=3600,
            help="Zoho: seconds an access token lasts (default 3600, as Zoho's); shorten it to test refreshing.",
        )
        account.add_argument("--base-url", default="", help="Where the sandbox is served (default: SANDBOX_URL).")
        account.add_argument("--json", action="store_true", dest="as_json", help="Print the login facts as JSON.")

        revoke = commands.add_parser("revoke", help="Revoke an organisation's OAuth grant (its refresh token).")
        revoke.add_argument("vendor", choices=("zoho",))
        revoke.add_argument("--account", required=True, help="The organisation's name in its URLs.")

        field = commands.add_parser("add-field", help="Add a custom field to an object of an org.")
        field.add_argument("vendor", choices=VENDORS)
        field.add_argument("--org", required=True, help="Org ID (00D…).")
        field.add_argument("--object", required=True, dest="sobject")
        field.add_argument("--name", required=True, help="API name, ending in __c.")
        field.add_argument("--type", required=True, dest="field_type", choices=sorted(CUSTOM_FIELD_TYPES))
        field.add_argument("--label", default="")
        field.add_argument("--external-id", action="store_true")
        field.add_argument("--unique", action="store_true")
        field.add_argument("--required", action="store_true")
        field.add_argument("--length", type=int, default=0)
        field.add_argument("--picklist-values", default="", help="Comma-separated values of a picklist.")
        field.add_argument("--reference-to", default="", help="Target object of a reference (lookup) field.")

        faults = commands.add_parser("faults", help="Make a share of an org's or account's API calls fail, slow down or hang.")
        faults.add_argument("vendor", nargs="?", default="salesforce", choices=("salesforce", "hubspot", "activecampaign", "zoho"))
        faults.add_argument("--org", default="", help="Salesforce: org ID (00D…).")
        faults.add_argument("--account", default="", help="HubSpot, ActiveCampaign: the account's name in its URLs.")
        faults.add_argument(
            "--error-rate", type=float, default=0.0,
            help="Share answered 503 SERVER_UNAVAILABLE (Salesforce) or 502/503 (HubSpot, ActiveCampaign).",
        )
        faults.add_argument(
            "--limit-rate", type=float, default=0.0,
            help="Share answered 403 REQUEST_LIMIT_EXCEEDED (Salesforce) or 429 (HubSpot, ActiveCampaign).",
        )
        faults.add_argument("--slow-rate", type=float, default=0.0, help="Share delayed by --slow-ms.")
        faults.add_argument("--slow-ms", type=int, default=2000)
        faults.add_argument("--hang-rate", type=float, default=0.0, help="Share that do their work, then hang.")
        faults.add_argument("--hang-seconds", type=float, default=30.0, help="How long a hanging call holds its answer.")
        faults.add_argument("--seed", type=int, default=0, help="Same seed, same calls fail.")
        faults.add_argument(
            "--include-auth", action="store_true",
            help="Also fault the OAuth token endpoint (Salesforce) or the set-up calls (webhooks, account details).",
        )

        produce = commands.add_parser(
            "produce-captures", help="Post realistic captured contacts to a Lemontaps connection's capture webhook over HTTP.")
        produce.add_argument("--connection", type=int, required=True, help="The portal's Lemontaps connection (its id).")
        produce.add_argument("--count", type=int, default=20)
        produce.add_argument("--captured-by", default="",
                             help="The capturing user's email (default: whoever captured the connection's latest contact).")
        produce.add_argument("--url", default="", help="Where the portal answers (default: PORTAL_URL).")
        produce.add_argument("--seed", type=int, default=1, help="Same seed, same people.")
        produce.add_argument("--create-as", default="", choices=("", "Lead", "Contact"), help="The choice made at capture.")
        produce.add_argument("--plain", action="store_true",
                             help="Every capture valid and a new person (default: some lack a company, some are met twice).")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            {
                "serve": self.serve, "create-org": self.create_org, "create-account": self.create_account,
                "add-field": self.add_field, "faults": self.faults, "revoke": self.revoke,
                "produce-captures": self.produce_captures,
            }[subcommand](**options)
        except ValueError as error:
            raise CommandError(str(error)) from error
        except SandboxOrg.DoesNotExist:
            raise CommandError(f"No sandbox org {options.get('org')!r}.") from None
        except (HsAccount.DoesNotExist, AcAccount.DoesNotExist, ZohoOrg.DoesNotExist):
            raise CommandError(f"No sandbox {options.get('vendor')} account {options.get('account')!r}.") from None

    def serve(self, *, host: str, port: int, **_: Any) -> None:
        server = make_server(host, port)
        self.stdout.write(f"Sandboxes at http://{host}:{server.server_port}/ (Salesforce at the root). Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def create_org(self, *, name: str, person_accounts: bool, duplicate_rules: bool, daily_limit: int, records: int,
                   seed: int, base_url: str, as_json: bool, commit_lag_seconds: float, commit_lag_seed: int,
                   one_instant_per_request: bool, **_: Any) -> None:
        org = orgs.org_create(
            name=name, person_accounts=person_accounts, duplicate_rules=duplicate_rules, daily_limit=daily_limit,
            records=records, seed_value=seed, commit_lag_seconds=commit_lag_seconds, commit_lag_seed=commit_lag_seed,
            one_instant_per_request=one_instant_per_request,
        )
        facts = orgs.login_facts(org, base_url=base_url or settings.SANDBOX_URL).as_dict()
        if as_json:
            self.stdout.write(json.dumps(facts, indent=2))
            return
        self.stdout.write(f"Created Salesforce sandbox org {org.name} ({org.org_id}).")
        for key, value in facts.items():
            self.stdout.write(f"  {key}: {value}")

    def create_account(self, *, vendor: str, name: str, records: int, seed: int, rate_limit: int | None,
                       search_rate_limit: int, search_cap: int, base_url: str, as_json: bool, search_lag_seconds: float,
                       search_lag_seed: int, one_instant_per_request: bool, token_lifetime: int = 3600, **_: Any) -> None:
        if vendor == "zoho":
            org = zoho_orgs.org_create(name=name or "Sandbox organisation", records=records, seed_value=seed,
                                       token_lifetime=token_lifetime, one_instant_per_request=one_instant_per_request)
            facts = zoho_orgs.login_facts(org, base_url=base_url or settings.SANDBOX_URL).as_dict()
            facts.pop("name")
            if as_json:
                self.stdout.write(json.dumps(facts, indent=2))
                return
            self.stdout.write(f"Created Zoho sandbox organisation {org.name} ({org.slug}).")
            for key, value in facts.items():
                self.stdout.write(f"  {key}: {value}")
            return
        if vendor == "hubspot":
            account = hubspot_accounts.account_create(
                name=name or "Sandbox portal", records=records, seed_value=seed, rate_limit=190 if rate_limit is None else rate_limit,
                search_rate_limit=search_rate_limit, search_result_cap=search_cap, search_lag_seconds=search_lag_seconds,
                search_lag_seed=search_lag_seed, one_instant_per_request=one_instant_per_request,
            )
            facts = hubspot_accounts.login_facts(account, base_url=base_url or settings.SANDBOX_URL).as_dict()
            label = "HubSpot"
        else:
            account = activecampaign_accounts.account_create(
                name=name or "Sandbox account", records=records, seed_value=seed, rate_limit=5 if rate_limit is None else rate_limit,
            )
            facts = activecampaign_accounts.login_facts(account, base_url=base_url or settings.SANDBOX_URL).as_dict()
            label = "ActiveCampaign"
        if as_json:
            self.stdout.write(json.dumps(facts, indent=2))
            return
        self.stdout.write(f"Created {label} sandbox account {account.name} ({account.slug}).")
        for key, value in facts.items():
            self.stdout.write(f"  {key}: {value}")

    def revoke(self, *, account: str, **_: Any) -> None:
        org = zoho_orgs.org_get(account)
        zoho_oauth.grant_revoke(org)
        self.stdout.write(f"{org.slug}: the refresh token is revoked; its access tokens no longer work.")

    def add_field(self, *, org: str, sobject: str, name: str, field_type: str, label: str, external_id: bool,
                  unique: bool, required: bool, length: int, picklist_values: str, reference_to: str, **_: Any) -> None:
        added = orgs.org_add_field(
            orgs.org_get(org), sobject=sobject, name=name, field_type=field_type, label=label,
            external_id=external_id, unique=unique, required=required, length=length,
            picklist_values=tuple(v.strip() for v in picklist_values.split(",") if v.strip()),
            reference_to=reference_to,
        )
        self.stdout.write(f"Added {added.sobject}.{added.name} ({added.field_type}).")

    def faults(self, *, vendor: str, org: str, account: str, error_rate: float, limit_rate: float, slow_rate: float,
               slow_ms: int, hang_rate: float, hang_seconds: float, seed: int, include_auth: bool, **_: Any) -> None:
        settings_ = {"error_rate": error_rate, "limit_rate": limit_rate, "slow_rate": slow_rate, "slow_ms": slow_ms,
                     "hang_rate": hang_rate, "hang_seconds": hang_seconds, "seed_value": seed}
        if vendor == "salesforce":
            if not org:
                raise CommandError("Name the org: --org 00D….")
            target = orgs.org_set_faults(orgs.org_get(org), **settings_, include_auth=include_auth)
            name, refusals = target.org_id, f"{error_rate:.0%} 503, {limit_rate:.0%} REQUEST_LIMIT_EXCEEDED"
        else:
            if not account:
                raise CommandError("Name the account: --account NAME (as in its URLs).")
            if vendor == "zoho":
                target = zoho_orgs.org_set_faults(zoho_orgs.org_get(account), **settings_, include_auth=include_auth)
                name, refusals = target.slug, f"{error_rate:.0%} 500/503, {limit_rate:.0%} TOO_MANY_REQUESTS"
            else:
                module = hubspot_accounts if vendor == "hubspot" else activecampaign_accounts
                target = module.account_set_faults(module.account_get(account), **settings_, include_setup=include_auth)
                name, refusals = target.slug, f"{error_rate:.0%} 502/503, {limit_rate:.0%} 429"
        self.stdout.write(
            f"{name}: {refusals}, {slow_rate:.0%} slow by {slow_ms} ms, {hang_rate:.0%} hanging for {hang_seconds:g} s "
            f"(seed {seed})."
        )

    def produce_captures(self, *, connection: int, count: int, captured_by: str, url: str, seed: int, create_as: str,
                         plain: bool, **_: Any) -> None:
        """Play the capturing app: post captures to the portal's webhook, as the demo's and the
        benches' producer. The portal's own connection tells the secret and the numbering."""
        from syncconfig.captures import capture_secret
        from syncconfig.models import CapturedContact, Connection

        target = Connection.objects.filter(pk=connection, kind="lemontaps").first()
        if target is None:
            raise CommandError(f"No Lemontaps connection {connection}.")
        captured = CapturedContact.objects.filter(connection=target)
        captured_by = captured_by or next(iter(captured.order_by("-received_at", "-pk").values_list("captured_by_email", flat=True)), "")
        if not captured_by:
            raise CommandError("Name the capturing user: --captured-by EMAIL.")
        start = captured.filter(capture_id__startswith=f"lt-{seed}-").count() + 1  # never the same capture twice
        bodies = lemontaps.captures_generate(count, captured_by=captured_by, seed=seed, start=start, create_as=create_as,
                                             mixed=not plain)
        endpoint = f"{(url or settings.PORTAL_URL).rstrip('/')}/captures/{target.pk}/"
        try:
            statuses = lemontaps.captures_post(endpoint, capture_secret(target), bodies)
        except requests.RequestException as error:
            raise CommandError(f"The portal at {endpoint} could not be reached: {error.__class__.__name__}.") from None
        accepted = sum(status in (200, 201) for status in statuses)
        self.stdout.write(f"Posted {len(bodies)} captures by {captured_by} to {endpoint}: {accepted} accepted"
                          + (f", {len(bodies) - accepted} refused ({', '.join(sorted({str(s) for s in statuses if s not in (200, 201)}))})."
                             if accepted < len(bodies) else "."))
