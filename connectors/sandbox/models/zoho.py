"""State of the emulated Zoho organisations: one OAuth client and grant (refresh token) per
organisation, its access tokens, Zoho CRM records and notification channels, and Zoho
Campaigns mailing lists, contacts, list memberships and segments.

Ids are counted per organisation and kind (``next_ids``) from a large per-organisation
base, as Zoho's ids are long numeric strings (``4150868000000224005``).
"""
from django.db import models


class ZohoOrg(models.Model):
    """One emulated Zoho organisation with its CRM and Campaigns accounts, one OAuth client
    and one grant (the refresh token) covering both."""

    slug = models.SlugField(
        "organisation name", max_length=60, unique=True,
        help_text="The organisation's name in its URLs: <sandbox>/zoho/<name>/accounts|crm|campaigns/….",
    )
    name = models.CharField("display name", max_length=100)
    org_id = models.PositiveBigIntegerField("organisation id", unique=True, help_text="Zoho's org id (zgid).")
    id_base = models.PositiveBigIntegerField("id base", help_text="Record ids are this plus a running number.")
    client_id = models.CharField("client id", max_length=80, unique=True, help_text="The OAuth client (1000.XXXX).")
    client_secret = models.CharField("client secret", max_length=80)
    refresh_token = models.CharField(
        "refresh token", max_length=120, unique=True, help_text="The grant; exchanged for access tokens at /oauth/v2/token.",
    )
    refresh_revoked = models.BooleanField(
        "grant revoked", default=False, help_text="A revoked grant is refused (invalid_code) until a new one is issued.",
    )
    token_lifetime = models.PositiveIntegerField(
        "access token lifetime (s)", default=3600, help_text="Zoho's access tokens last an hour; shorten it to test refresh.",
    )
    token_rate_limit = models.PositiveIntegerField(
        "token requests per 10 min", default=10,
        help_text="Access tokens one grant may be given per ten minutes; more are refused with Access Denied.",
    )
    crm_daily_credits = models.PositiveIntegerField(
        "CRM API credits per day", default=50_000, help_text="CRM calls per rolling 24 hours; more are answered 429.",
    )
    campaigns_limits = models.JSONField(
        "Campaigns method limits", default=dict, blank=True,
        help_text="Overrides per Campaigns API method: {method: [calls, duration s, lock s]}.",
    )
    utc_offset_minutes = models.IntegerField(
        "time zone offset (min)", default=330,
        help_text="The organisation's time zone: CRM shows times with this offset (Zoho's examples use +05:30).",
    )
    one_instant_per_request = models.BooleanField(
        "one instant per request", default=False,
        help_text="Stamp every record one CRM call writes with the same Modified_Time (Zoho keeps whole seconds).",
    )
    error_rate = models.FloatField("server error share", default=0.0, help_text="Share of API calls answered 500 or 503 (0–1).")
    limit_rate = models.FloatField("429 share", default=0.0, help_text="Share of API calls refused as over the limit (0–1).")
    slow_rate = models.FloatField("slow share", default=0.0, help_text="Share of API calls delayed by the slow delay (0–1).")
    slow_ms = models.PositiveIntegerField("slow delay (ms)", default=2000)
    hang_rate = models.FloatField(
        "hang share", default=0.0, help_text="Share of API calls that do their work, then hold the answer back (0–1).",
    )
    hang_seconds = models.FloatField("hang delay (s)", default=30.0, help_text="How long a hanging call waits.")
    fault_seed = models.IntegerField("fault seed", default=0, help_text="The same seed injects faults into the same calls.")
    faults_on_auth = models.BooleanField(
        "faults on the token endpoint", default=False, help_text="Also inject faults into OAuth token requests.",
    )
    fault_calls = models.PositiveBigIntegerField("calls seen by fault injection", default=0, editable=False)
    next_ids = models.JSONField("next ids", default=dict, editable=False, help_text="The last number handed out per kind.")
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sandbox Zoho organisation"

    def __str__(self):
        return f"{self.name} ({self.slug})"


class ZohoToken(models.Model):
    """An access token handed out for the organisation's grant."""

    org = models.ForeignKey(ZohoOrg, models.CASCADE, related_name="tokens")
    token = models.CharField("access token", max_length=120, unique=True)
    expires_at = models.DateTimeField("expires")
    created_at = models.DateTimeField("issued", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Token requests per grant in the last ten minutes (the token rate limit).
            models.Index(fields=["org", "created_at"], name="sandbox_zoho_token_issued"),
        ]
        verbose_name = "sandbox Zoho access token"

    def __str__(self):
        return f"token of {self.org_id} until {self.expires_at:%H:%M:%S}"


class ZohoRecord(models.Model):
    """A CRM record of a module (Leads, Contacts, Accounts). A deleted record keeps its row
    (``deleted_at``) for the deleted-records listing: in the recycle bin, or gone for good."""

    RECYCLE, PERMANENT = "recycle", "permanent"
    DELETED_CHOICES = [(RECYCLE, "recycle bin"), (PERMANENT, "permanently deleted")]

    org = models.ForeignKey(ZohoOrg, models.CASCADE, related_name="records")
    module = models.CharField("module", max_length=40)
    record_id = models.PositiveBigIntegerField("id")
    values = models.JSONField("field values", default=dict, help_text="Field API name → value, as the API shows it.")
    email_key = models.CharField("email (lower case)", max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField("created", help_text="Whole seconds, as Zoho keeps them.")
    modified_at = models.DateTimeField("modified", help_text="Whole seconds; every change moves it.")
    deleted_at = models.DateTimeField("deleted", null=True, blank=True)
    deleted_type = models.CharField("deletion", max_length=10, choices=DELETED_CHOICES, blank=True)

    class Meta:
        ordering = ["org", "module", "record_id"]
        constraints = [models.UniqueConstraint(fields=["org", "record_id"], name="sandbox_zoho_record_id")]
        indexes = [
            # Incremental reads: If-Modified-Since, sorted by Modified_Time then id.
            models.Index(fields=["org", "module", "modified_at", "record_id"], name="sandbox_zoho_record_modified"),
            # Upsert and search by email.
            models.Index(fields=["org", "module", "email_key"], name="sandbox_zoho_record_email"),
        ]
        verbose_name = "sandbox Zoho CRM record"

    def __str__(self):
        return f"{self.module} {self.record_id}"


class ZohoWatch(models.Model):
    """A notification channel (``actions/watch``): the events it covers, where to post
    them, the token echoed back for verification, and when it runs out."""

    org = models.ForeignKey(ZohoOrg, models.CASCADE, related_name="watches")
    channel_id = models.CharField("channel id", max_length=40)
    events = models.JSONField("events", default=list, help_text='["Contacts.all", "Leads.create", …]')
    notify_url = models.URLField("notify URL", max_length=1000)
    token = models.CharField("verification token", max_length=50, blank=True)
    channel_expiry = models.DateTimeField("expires")
    return_affected_field_values = models.BooleanField("send changed values", default=False)
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["org", "channel_id"]
        constraints = [models.UniqueConstraint(fields=["org", "channel_id"], name="sandbox_zoho_watch_channel")]
        verbose_name = "sandbox Zoho notification channel"

    def __str__(self):
        return f"channel {self.channel_id}"


class ZohoNotification(models.Model):
    """One notification to post, recorded with the change that caused it; posted once after
    the change commits (Zoho documents no retries)."""

    PENDING, SENT, FAILED = "pending", "sent", "failed"
    STATE_CHOICES = [(PENDING, "pending"), (SENT, "sent"), (FAILED, "failed")]

    watch = models.ForeignKey(ZohoWatch, models.CASCADE, related_name="notifications")
    payload = models.JSONField("body")
    state = models.CharField("state", max_length=10, choices=STATE_CHOICES, default=PENDING)
    last_error = models.CharField("last error", max_length=255, blank=True)
    created_at = models.DateTimeField("recorded", auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The delivery thread's queue: pending notifications, oldest first.
            models.Index(fields=["state", "id"], name="sandbox_zoho_notify_queue"),
        ]
        verbose_name = "sandbox Zoho notification"

    def __str__(self):
        return f"{self.payload.get('operation')} on {self.payload.get('module')} ({self.state})"


class ZcList(models.Model):
    """A Zoho Campaigns mailing list."""

    org = models.ForeignKey(ZohoOrg, models.CASCADE, related_name="mailing_lists")
    listkey = models.CharField("list key", max_length=120, unique=True)
    listname = models.CharField("list name", max_length=200)
    deleted = models.BooleanField("deleted", default=False)
    created_at = models.DateTimeField("created")
    updated_at = models.DateTimeField("updated")

    class Meta:
        ordering = ["org", "created_at"]
        verbose_name = "sandbox Zoho Campaigns list"

    def __str__(self):
        return self.listname


class ZcContact(models.Model):
    """A Campaigns contact of the organisation: its values by field display name
    (``Contact Email``, ``First Name``, …), shared by every list it is on."""

    org = models.ForeignKey(ZohoOrg, models.CASCADE, related_name="campaign_contacts")
    zuid = models.PositiveBigIntegerField("contact id")
    email_key = models.CharField("email (lower case)", max_length=255)
    values = models.JSONField("values", default=dict, help_text="Field display name → value.")
    created_at = models.DateTimeField("created")

    class Meta:
        ordering = ["org", "zuid"]
        constraints = [models.UniqueConstraint(fields=["org", "email_key"], name="sandbox_zc_contact_email")]
        verbose_name = "sandbox Zoho Campaigns contact"

    def __str__(self):
        return self.email_key


class ZcMembership(models.Model):
    """A contact on a list, with its status there. ``changed_at`` is what the API shows as
    ``added_time``: when the contact was last (re)subscribed, updated or unsubscribed."""

    ACTIVE, UNSUB, BOUNCE, SPAM = "active", "unsub", "bounce", "spam"
    STATUS_CHOICES = [(ACTIVE, "active"), (UNSUB, "unsubscribed"), (BOUNCE, "bounced"), (SPAM, "marked spam")]

    mailing_list = models.ForeignKey(ZcList, models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(ZcContact, models.CASCADE, related_name="memberships")
    status = models.CharField("status", max_length=10, choices=STATUS_CHOICES, default=ACTIVE)
    changed_at = models.DateTimeField("added or changed")

    class Meta:
        ordering = ["mailing_list", "changed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["mailing_list", "contact"], name="sandbox_zc_membership")]
        indexes = [
            # getlistsubscribers: one status of a list, sorted by added_time.
            models.Index(fields=["mailing_list", "status", "changed_at"], name="sandbox_zc_membership_status"),
        ]
        verbose_name = "sandbox Zoho Campaigns list membership"

    def __str__(self):
        return f"{self.contact_id} on {self.mailing_list_id} ({self.status})"


class ZcSegment(models.Model):
    """A segment of a list: its active contacts whose ``field`` (display name) equals ``value``."""

    mailing_list = models.ForeignKey(ZcList, models.CASCADE, related_name="segments")
    segment_id = models.PositiveBigIntegerField("segment id", unique=True)
    name = models.CharField("name", max_length=200)
    field = models.CharField("field", max_length=100, help_text="A contact field's display name.")
    value = models.CharField("value", max_length=255)
    created_at = models.DateTimeField("created")

    class Meta:
        ordering = ["mailing_list", "segment_id"]
        verbose_name = "sandbox Zoho Campaigns segment"

    def __str__(self):
        return self.name

