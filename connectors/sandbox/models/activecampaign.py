"""State of the emulated ActiveCampaign accounts: contacts, custom fields, tags, lists,
automations, webhooks and the deliveries made to them.

Every object carries its account and a ``number``: the id the API shows (as a string),
counted per account as the vendor does (each account is its own database there).
"""
from django.db import models
from django.db.models import Q


class AcAccount(models.Model):
    """One emulated ActiveCampaign account: its API key, rate limit and time zone."""

    slug = models.SlugField(
        "account name", max_length=60, unique=True,
        help_text="The account's name in its URLs: <sandbox>/activecampaign/<name>/api/3/.",
    )
    name = models.CharField("display name", max_length=100)
    api_key = models.CharField("API key", max_length=80, unique=True, help_text="Sent as the Api-Token header.")
    rate_limit = models.PositiveIntegerField(
        "rate limit", default=5, help_text="API requests per second for the whole account; more are answered 429.",
    )
    utc_offset_minutes = models.SmallIntegerField(
        "UTC offset (minutes)", default=-300,
        help_text="The account's time zone; dates are shown with it, e.g. -300 gives 2018-09-28T13:50:41-05:00.",
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
    bulk_import_limit = models.PositiveIntegerField(
        "bulk imports a minute", default=100,
        help_text="Bulk import requests of several contacts per minute for the account; more are answered 429.",
    )
    bulk_import_single_limit = models.PositiveIntegerField(
        "single-contact bulk imports a minute", default=20,
        help_text="Bulk import requests of one contact per minute for the account; more are answered 429.",
    )
    fault_seed = models.IntegerField("fault seed", default=0, help_text="The same seed injects faults into the same calls.")
    faults_on_auth = models.BooleanField(
        "faults on set-up calls", default=False, help_text="Also inject faults into set-up calls (webhooks, users/me).",
    )
    fault_calls = models.PositiveBigIntegerField("calls seen by fault injection", default=0, editable=False)
    next_ids = models.JSONField(
        "next ids", default=dict, editable=False, help_text="The last id handed out per kind of object.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sandbox ActiveCampaign account"

    def __str__(self):
        return f"{self.name} ({self.slug})"


class AcContact(models.Model):
    """A contact. Deleting one keeps the row (``deleted``) so that its id is never reused."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="contacts")
    number = models.PositiveBigIntegerField("id")
    email = models.CharField("email", max_length=255)
    email_key = models.CharField("email (lower case)", max_length=255, editable=False)
    first_name = models.CharField("first name", max_length=255, blank=True)
    last_name = models.CharField("last name", max_length=255, blank=True)
    phone = models.CharField("phone", max_length=255, blank=True)
    orgname = models.CharField("organization name", max_length=255, blank=True)
    cdate = models.DateTimeField("created", help_text="Whole seconds, as the vendor keeps them.")
    udate = models.DateTimeField("updated", help_text="Whole seconds; changed by every edit of the contact.")
    deleted = models.BooleanField("deleted", default=False)
    deleted_at = models.DateTimeField("deleted at", null=True, blank=True)

    class Meta:
        ordering = ["account", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_contact_number"),
            # One live contact per email (case-insensitive); a deleted contact's email is free again.
            models.UniqueConstraint(
                fields=["account", "email_key"], condition=Q(deleted=False), name="sandbox_ac_contact_email",
            ),
        ]
        indexes = [
            # Incremental reads: filters[updated_after] with orders[udate].
            models.Index(fields=["account", "deleted", "udate", "number"], name="sandbox_ac_contact_udate"),
            models.Index(fields=["account", "deleted", "cdate"], name="sandbox_ac_contact_cdate"),
        ]
        verbose_name = "sandbox ActiveCampaign contact"

    def __str__(self):
        return f"{self.email} ({self.number})"


class AcField(models.Model):
    """A custom contact field, addressed by id and by its personalisation tag."""

    TYPES = ("text", "textarea", "date", "datetime", "dropdown", "multiselect", "radio", "checkbox", "listbox", "hidden")
    TYPE_CHOICES = [(t, t) for t in TYPES]

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="fields")
    number = models.PositiveBigIntegerField("id")
    title = models.CharField("title", max_length=255)
    descript = models.TextField("description", blank=True)
    field_type = models.CharField("type", max_length=20, choices=TYPE_CHOICES)
    perstag = models.CharField("personalisation tag", max_length=100, help_text="E.g. COMPANY_SIZE; unique per account.")
    isrequired = models.BooleanField("required", default=False)
    visible = models.BooleanField("visible", default=True)
    defval = models.CharField("default value", max_length=255, blank=True)
    ordernum = models.PositiveIntegerField("order", default=1)
    cdate = models.DateTimeField("created")
    udate = models.DateTimeField("updated")

    class Meta:
        ordering = ["account", "ordernum", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_field_number"),
            models.UniqueConstraint(fields=["account", "perstag"], name="sandbox_ac_field_perstag"),
        ]
        verbose_name = "sandbox ActiveCampaign custom field"

    def __str__(self):
        return f"{self.title} (%{self.perstag}%)"


class AcFieldOption(models.Model):
    """One choice of a dropdown, radio, checkbox, multiselect or listbox field."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    field = models.ForeignKey(AcField, models.CASCADE, related_name="options")
    number = models.PositiveBigIntegerField("id")
    label = models.CharField("label", max_length=255)
    value = models.CharField("value", max_length=255)
    orderid = models.PositiveIntegerField("order", default=0)
    isdefault = models.BooleanField("default", default=False)

    class Meta:
        ordering = ["field", "orderid", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_option_number")]
        verbose_name = "sandbox ActiveCampaign field option"

    def __str__(self):
        return f"{self.field.perstag}: {self.value}"


class AcFieldRel(models.Model):
    """Which lists show a custom field; ``relid`` 0 means all lists."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    field = models.ForeignKey(AcField, models.CASCADE, related_name="relations")
    number = models.PositiveBigIntegerField("id")
    relid = models.PositiveBigIntegerField("list id", default=0)

    class Meta:
        ordering = ["field", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_fieldrel_number")]
        verbose_name = "sandbox ActiveCampaign field relation"

    def __str__(self):
        return f"{self.field.perstag} → list {self.relid}"


class AcFieldValue(models.Model):
    """A contact's value of one custom field (multi-value fields as ``||A||B||``)."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    contact = models.ForeignKey(AcContact, models.CASCADE, related_name="field_values")
    field = models.ForeignKey(AcField, models.CASCADE, related_name="values")
    number = models.PositiveBigIntegerField("id")
    value = models.TextField("value", blank=True)
    cdate = models.DateTimeField("created")
    udate = models.DateTimeField("updated")

    class Meta:
        ordering = ["contact", "field"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_fieldvalue_number"),
            models.UniqueConstraint(fields=["contact", "field"], name="sandbox_ac_fieldvalue_once"),
        ]
        verbose_name = "sandbox ActiveCampaign field value"

    def __str__(self):
        return f"{self.contact_id}.{self.field.perstag}={self.value}"


class AcTag(models.Model):
    """A tag. The vendor does not keep tag names unique, so neither do we."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="tags")
    number = models.PositiveBigIntegerField("id")
    tag = models.CharField("name", max_length=255)
    tag_type = models.CharField("type", max_length=20, default="contact")
    description = models.CharField("description", max_length=255, blank=True)
    cdate = models.DateTimeField("created")

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_tag_number")]
        verbose_name = "sandbox ActiveCampaign tag"

    def __str__(self):
        return self.tag


class AcContactTag(models.Model):
    """A tag applied to a contact."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    contact = models.ForeignKey(AcContact, models.CASCADE, related_name="contact_tags")
    tag = models.ForeignKey(AcTag, models.CASCADE, related_name="contact_tags")
    number = models.PositiveBigIntegerField("id")
    cdate = models.DateTimeField("added")

    class Meta:
        ordering = ["contact", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_contacttag_number"),
            models.UniqueConstraint(fields=["contact", "tag"], name="sandbox_ac_contacttag_once"),
        ]
        verbose_name = "sandbox ActiveCampaign contact tag"

    def __str__(self):
        return f"{self.contact_id} #{self.tag.tag}"


class AcList(models.Model):
    """A mailing list."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="lists")
    number = models.PositiveBigIntegerField("id")
    name = models.CharField("name", max_length=255)
    stringid = models.SlugField("string id", max_length=255)
    sender_url = models.CharField("sender URL", max_length=255, blank=True)
    sender_reminder = models.TextField("sender reminder", blank=True)
    cdate = models.DateTimeField("created")
    udate = models.DateTimeField("updated")

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_list_number")]
        verbose_name = "sandbox ActiveCampaign list"

    def __str__(self):
        return self.name


class AcContactList(models.Model):
    """A contact's subscription status on one list."""

    UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED = 0, 1, 2, 3
    STATUS_CHOICES = [(UNCONFIRMED, "unconfirmed"), (ACTIVE, "active"), (UNSUBSCRIBED, "unsubscribed"), (BOUNCED, "bounced")]

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    contact = models.ForeignKey(AcContact, models.CASCADE, related_name="contact_lists")
    list = models.ForeignKey(AcList, models.CASCADE, related_name="contact_lists")
    number = models.PositiveBigIntegerField("id")
    status = models.PositiveSmallIntegerField("status", choices=STATUS_CHOICES, default=ACTIVE)
    sdate = models.DateTimeField("subscribed", null=True, blank=True)
    udate = models.DateTimeField("updated")
    unsubreason = models.CharField("unsubscribe reason", max_length=255, blank=True)

    class Meta:
        ordering = ["contact", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_contactlist_number"),
            models.UniqueConstraint(fields=["contact", "list"], name="sandbox_ac_contactlist_once"),
        ]
        verbose_name = "sandbox ActiveCampaign subscription"

    def __str__(self):
        return f"{self.contact_id} on {self.list_id}: {self.get_status_display()}"


class AcAutomation(models.Model):
    """An automation (made in the vendor's UI; the API only lists them and enrols contacts)."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="automations")
    number = models.PositiveBigIntegerField("id")
    name = models.CharField("name", max_length=255)
    status = models.PositiveSmallIntegerField("status", default=1, help_text="1 active, 2 inactive.")
    cdate = models.DateTimeField("created")
    mdate = models.DateTimeField("modified")

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_automation_number")]
        verbose_name = "sandbox ActiveCampaign automation"

    def __str__(self):
        return self.name


class AcContactAutomation(models.Model):
    """A contact's run through an automation."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="+")
    contact = models.ForeignKey(AcContact, models.CASCADE, related_name="contact_automations")
    automation = models.ForeignKey(AcAutomation, models.CASCADE, related_name="contact_automations")
    number = models.PositiveBigIntegerField("id")
    status = models.PositiveSmallIntegerField("status", default=1, help_text="1 running, 2 completed.")
    adddate = models.DateTimeField("entered")
    remdate = models.DateTimeField("left", null=True, blank=True)

    class Meta:
        ordering = ["contact", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_contactauto_number")]
        verbose_name = "sandbox ActiveCampaign automation run"

    def __str__(self):
        return f"{self.contact_id} in {self.automation_id}"


class AcWebhook(models.Model):
    """A registered webhook; a 410 answer turns it inactive for good (it still lists)."""

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="webhooks")
    number = models.PositiveBigIntegerField("id")
    name = models.CharField("name", max_length=255)
    url = models.URLField("URL", max_length=1000)
    events = models.JSONField("events", default=list, help_text="Event types, e.g. update, contact_tag_added.")
    sources = models.JSONField("sources", default=list, help_text="Initiators: public, admin, api, system.")
    listid = models.PositiveBigIntegerField("list id", default=0, help_text="0: events of any list.")
    active = models.BooleanField("active", default=True, help_text="Off once the receiver answered 410 Gone.")
    cdate = models.DateTimeField("created")
    last_status = models.PositiveSmallIntegerField("last answer", null=True, blank=True)
    last_error = models.CharField("last error", max_length=255, blank=True)

    class Meta:
        ordering = ["account", "number"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="sandbox_ac_webhook_number")]
        verbose_name = "sandbox ActiveCampaign webhook"

    def __str__(self):
        return f"{self.name} → {self.url}"


class AcWebhookDelivery(models.Model):
    """One POST of one event to one webhook, recorded when the change is saved and sent
    after its transaction commits."""

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATE_CHOICES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent"), (FAILED, "failed")]

    webhook = models.ForeignKey(AcWebhook, models.CASCADE, related_name="deliveries")
    event_type = models.CharField("type", max_length=40)
    url = models.URLField("URL", max_length=1000)
    payload = models.JSONField("form", help_text="The form fields posted, as [key, value] pairs in order.")
    state = models.CharField("state", max_length=10, choices=STATE_CHOICES, default=PENDING)
    status_code = models.PositiveSmallIntegerField("answer", null=True, blank=True)
    error = models.CharField("error", max_length=255, blank=True)
    created_at = models.DateTimeField("recorded", auto_now_add=True)
    sent_at = models.DateTimeField("sent", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The delivery worker's queue: pending rows, oldest first.
            models.Index(fields=["state", "id"], name="sandbox_ac_delivery_queue"),
        ]
        verbose_name = "sandbox ActiveCampaign webhook delivery"
        verbose_name_plural = "sandbox ActiveCampaign webhook deliveries"

    def __str__(self):
        return f"{self.event_type} → {self.url} ({self.status_code or self.state})"


class AcImport(models.Model):
    """One bulk import request: queued by ``POST /import/bulk_import`` and carried out after
    the answer; ``GET /import/info`` reports its state, the ids it created and the emails
    that failed."""

    QUEUED, CLAIMED, ACTIVE, COMPLETED, FAILED, INTERRUPTED = "queued", "claimed", "active", "completed", "failed", "interrupted"
    STATE_CHOICES = [
        (QUEUED, "queued (status not yet known)"), (CLAIMED, "claimed"), (ACTIVE, "active"),
        (COMPLETED, "completed"), (FAILED, "failed"), (INTERRUPTED, "interrupted"),
    ]

    account = models.ForeignKey(AcAccount, models.CASCADE, related_name="imports")
    batch_id = models.CharField("batch id", max_length=40, unique=True)
    state = models.CharField("state", max_length=12, choices=STATE_CHOICES, default=QUEUED)
    contacts = models.JSONField("contacts", help_text="The contacts as posted, in order.")
    exclude_automations = models.BooleanField("exclude automations", default=False)
    callback = models.JSONField("callback", null=True, blank=True, help_text="Where to report the outcome, as posted.")
    created_ids = models.JSONField("created contact ids", default=list)
    failed_emails = models.JSONField("failed emails", default=list)
    created_at = models.DateTimeField("queued")
    completed_at = models.DateTimeField("completed", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The import worker's queue: queued imports, oldest first.
            models.Index(fields=["state", "id"], name="sandbox_ac_import_queue"),
        ]
        verbose_name = "sandbox ActiveCampaign bulk import"

    def __str__(self):
        return f"{self.batch_id} ({len(self.contacts)} contacts, {self.state})"
