"""State of the emulated HubSpot accounts (portals): contacts, contact properties, notes,
the account's webhook app (settings and subscriptions) and the events it delivers.

Ids are counted per account and kind (``next_ids``), as each portal numbers its own
objects; the API shows them as strings.
"""
from django.db import models
from django.db.models import Q


class HsAccount(models.Model):
    """One emulated HubSpot account with one private app (its token) and one developer app
    (its webhooks, signed with the app's client secret)."""

    slug = models.SlugField(
        "account name", max_length=60, unique=True,
        help_text="The account's name in its URLs: <sandbox>/hubspot/<name>/crm/v3/.",
    )
    name = models.CharField("display name", max_length=100)
    portal_id = models.PositiveBigIntegerField("portal id", unique=True, help_text="HubSpot's account number (Hub ID).")
    token = models.CharField(
        "private app token", max_length=80, unique=True, help_text="Sent as Authorization: Bearer <token>.",
    )
    app_id = models.PositiveBigIntegerField("app id", help_text="The webhook app's id, in /webhooks/v3/<app id>/.")
    client_secret = models.CharField(
        "client secret", max_length=80, help_text="Signs webhook deliveries (X-HubSpot-Signature-v3).",
    )
    rate_limit = models.PositiveIntegerField(
        "rate limit (per 10 s)", default=190,
        help_text="API requests per rolling ten seconds for the whole account (search excluded); more are answered 429.",
    )
    search_rate_limit = models.PositiveIntegerField(
        "search rate limit (per s)", default=5, help_text="Search requests per second; more are answered 429.",
    )
    daily_limit = models.PositiveIntegerField("daily limit", default=250_000, help_text="API requests per day.")
    search_result_cap = models.PositiveIntegerField(
        "search result cap", default=10_000,
        help_text="How far one search query can be paged; paging beyond is answered 400. Lower it to test the cap.",
    )
    error_rate = models.FloatField("server error share", default=0.0, help_text="Share of API calls answered 502 or 503 (0–1).")
    limit_rate = models.FloatField("429 share", default=0.0, help_text="Share of API calls answered 429, as when over the limit (0–1).")
    slow_rate = models.FloatField("slow share", default=0.0, help_text="Share of API calls delayed by the slow delay (0–1).")
    slow_ms = models.PositiveIntegerField("slow delay (ms)", default=2000)
    hang_rate = models.FloatField(
        "hang share", default=0.0,
        help_text="Share of API calls that do their work, then hold the answer back for the hang delay (0–1).",
    )
    hang_seconds = models.FloatField(
        "hang delay (s)", default=30.0, help_text="How long a hanging call waits; longer than a client's read timeout.",
    )
    fault_seed = models.IntegerField("fault seed", default=0, help_text="The same seed injects faults into the same calls.")
    faults_on_auth = models.BooleanField(
        "faults on set-up calls", default=False, help_text="Also inject faults into set-up calls (webhook settings and subscriptions, account details).",
    )
    fault_calls = models.PositiveBigIntegerField("calls seen by fault injection", default=0, editable=False)
    search_lag_seconds = models.FloatField(
        "search lag (s)", default=0.0,
        help_text="Most seconds a create or update takes to reach search (each draws a lag between 0 and this); "
                  "0 indexes at once. Reads by id see writes at once either way.",
    )
    search_lag_seed = models.IntegerField("search lag seed", default=0, help_text="The same seed lags the same writes alike.")
    search_lag_writes = models.PositiveBigIntegerField("writes seen by the search lag", default=0, editable=False)
    one_instant_per_request = models.BooleanField(
        "one instant per request", default=False,
        help_text="Stamp every contact one API call writes (a whole batch) with the same lastmodifieddate; "
                  "seeded contacts share one instant per hundred.",
    )
    webhook_url = models.URLField(
        "webhook target URL", max_length=1000, blank=True, help_text="Where the app's webhook events are posted.",
    )
    webhook_max_concurrent = models.PositiveSmallIntegerField("webhook concurrency", default=10)
    webhook_settings_at = models.DateTimeField("webhook settings changed", null=True, blank=True)
    next_ids = models.JSONField("next ids", default=dict, editable=False, help_text="The last id handed out per kind.")
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sandbox HubSpot account"

    def __str__(self):
        return f"{self.name} ({self.slug})"


class HsProperty(models.Model):
    """A contact property: HubSpot's own (``hubspot_defined``) or one the account added."""

    TYPES = ("string", "number", "date", "datetime", "enumeration", "bool")
    TYPE_CHOICES = [(t, t) for t in TYPES]

    account = models.ForeignKey(HsAccount, models.CASCADE, related_name="properties")
    name = models.CharField("internal name", max_length=100)
    label = models.CharField("label", max_length=255)
    type = models.CharField("type", max_length=20, choices=TYPE_CHOICES)
    field_type = models.CharField("field type", max_length=30, help_text="text, textarea, select, number, date, …")
    group_name = models.CharField("group", max_length=100, default="contactinformation")
    description = models.TextField("description", blank=True)
    options = models.JSONField(
        "options", default=list, blank=True, help_text="Choices of an enumeration: [{label, value, displayOrder, hidden}].",
    )
    display_order = models.IntegerField("display order", default=-1)
    has_unique_value = models.BooleanField("unique", default=False, help_text="Usable as idProperty to read and upsert.")
    hidden = models.BooleanField("hidden", default=False)
    calculated = models.BooleanField("calculated", default=False, help_text="HubSpot computes the value.")
    read_only_value = models.BooleanField("read-only value", default=False, help_text="The API refuses to write it.")
    hubspot_defined = models.BooleanField("HubSpot-defined", default=False, help_text="Cannot be archived.")
    archived = models.BooleanField("archived", default=False)
    created_at = models.DateTimeField("created")
    updated_at = models.DateTimeField("updated")

    class Meta:
        ordering = ["account", "display_order", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="sandbox_hs_property_name")]
        verbose_name = "sandbox HubSpot contact property"
        verbose_name_plural = "sandbox HubSpot contact properties"

    def __str__(self):
        return f"{self.name} ({self.type})"


class HsContact(models.Model):
    """A contact. Archived and merged contacts keep their rows: archived ones list with
    ``archived=true``; a merged one (``merged_into``) reads as the contact the merge made."""

    account = models.ForeignKey(HsAccount, models.CASCADE, related_name="contacts")
    number = models.PositiveBigIntegerField("id")
    properties = models.JSONField("properties", default=dict, help_text="Property name → value, all strings.")
    email_key = models.CharField("email (lower case)", max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField("created", help_text="Millisecond precision, as the vendor keeps it.")
    updated_at = models.DateTimeField("last modified", help_text="Millisecond precision; every change moves it.")
    archived = models.BooleanField("archived", default=False)
    archived_at = models.DateTimeField("archived at", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="merged_from",
        help_text="The contact a merge made of this one; reads of this id answer with that one.",
    )
    indexed_at = models.DateTimeField(
        "indexed for search at", null=True, blank=True,
        help_text="Set by the account's search lag: until then search sees the previously indexed state.",
    )
    indexed = models.JSONField(
        "indexed state", null=True, blank=True,
        help_text="What search shows until indexed_at: {properties, lastmodifieddate}; empty for a new contact.",
    )

    class Meta:
        ordering = ["account", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_hs_contact_number"),
            # One live contact per email (case-insensitive); a contact may have no email.
            models.UniqueConstraint(
                fields=["account", "email_key"], name="sandbox_hs_contact_email",
                condition=Q(archived=False, merged_into__isnull=True) & ~Q(email_key=""),
            ),
        ]
        indexes = [
            # Incremental reads: search on lastmodifieddate, sorted ascending.
            models.Index(fields=["account", "archived", "updated_at"], name="sandbox_hs_contact_modified"),
            models.Index(fields=["account", "email_key"], name="sandbox_hs_contact_email_key"),
        ]
        verbose_name = "sandbox HubSpot contact"

    def __str__(self):
        return f"{self.properties.get('email') or '(no email)'} ({self.number})"


class HsNote(models.Model):
    """A note (activity) associated with at most one contact. Archiving the contact leaves
    the note without one: HubSpot's history of that person is then lost."""

    account = models.ForeignKey(HsAccount, models.CASCADE, related_name="notes")
    number = models.PositiveBigIntegerField("id")
    body = models.TextField("body (hs_note_body)", blank=True)
    timestamp = models.DateTimeField("time (hs_timestamp)")
    contact = models.ForeignKey(HsContact, models.SET_NULL, null=True, blank=True, related_name="notes")
    created_at = models.DateTimeField("created")
    updated_at = models.DateTimeField("last modified")
    archived = models.BooleanField("archived", default=False)

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_hs_note_number")]
        verbose_name = "sandbox HubSpot note"

    def __str__(self):
        return f"note {self.number} on {self.contact_id or 'nobody'}"


class HsSubscription(models.Model):
    """A webhook subscription of the account's app: an event type (and, for property
    changes, the property)."""

    EVENT_TYPES = ("contact.creation", "contact.propertyChange", "contact.deletion", "contact.merge")
    EVENT_CHOICES = [(t, t) for t in EVENT_TYPES]

    account = models.ForeignKey(HsAccount, models.CASCADE, related_name="subscriptions")
    number = models.PositiveBigIntegerField("id")
    event_type = models.CharField("event type", max_length=40, choices=EVENT_CHOICES)
    property_name = models.CharField("property", max_length=100, blank=True, help_text="Only for contact.propertyChange.")
    active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("created")
    updated_at = models.DateTimeField("updated")

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_hs_subscription_number")]
        verbose_name = "sandbox HubSpot webhook subscription"

    def __str__(self):
        return f"{self.event_type} {self.property_name}".strip()


class HsWebhookEvent(models.Model):
    """One event to deliver to the app's target URL, recorded with the change that caused it.
    Pending events are posted in arrays of up to 100; a failed post is retried later
    (``not_before``) up to a fixed number of attempts: delivery is at least once."""

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATE_CHOICES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent"), (FAILED, "given up")]

    account = models.ForeignKey(HsAccount, models.CASCADE, related_name="webhook_events")
    event_id = models.PositiveBigIntegerField("event id")
    payload = models.JSONField("event", help_text="The event as posted, without attemptNumber.")
    state = models.CharField("state", max_length=10, choices=STATE_CHOICES, default=PENDING)
    attempts = models.PositiveSmallIntegerField("attempts", default=0)
    not_before = models.DateTimeField("next attempt", help_text="When the event may be (re)sent.")
    last_status = models.PositiveSmallIntegerField("last answer", null=True, blank=True)
    last_error = models.CharField("last error", max_length=255, blank=True)
    created_at = models.DateTimeField("recorded", auto_now_add=True)
    sent_at = models.DateTimeField("delivered", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The delivery worker's queue: due pending events, oldest first.
            models.Index(fields=["state", "not_before", "id"], name="sandbox_hs_event_queue"),
        ]
        verbose_name = "sandbox HubSpot webhook event"

    def __str__(self):
        return f"{self.payload.get('subscriptionType')} #{self.event_id} ({self.state})"
