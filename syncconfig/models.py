"""Configuration (connections, syncs, mappings, rules) and the record of what syncs did."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.registry import KIND_CHOICES, vendor

from . import credentials as crypto


class Connection(models.Model):
    """One vendor account the portal talks to, with its credentials encrypted at rest."""

    name = models.CharField("name", max_length=100, unique=True, help_text="How this account is called in the portal, e.g. “Production org”.")
    kind = models.CharField("system", max_length=30, choices=KIND_CHOICES, help_text="Which vendor this account belongs to.")
    base_url = models.URLField("base URL", max_length=300, help_text="Where the vendor's API answers: the live vendor URL or a sandbox.")
    credentials_encrypted = models.TextField("credentials (encrypted)", blank=True, editable=False)
    webhook_secret = models.CharField(
        "webhook secret", max_length=64, blank=True, editable=False,
        help_text="Shared secret that protects this connection's change-notification endpoint.",
    )
    is_active = models.BooleanField("active", default=True, help_text="Inactive connections are never called; their syncs pause.")
    api_budget_percent = models.PositiveSmallIntegerField(
        "API budget (% of the daily limit)", default=80,
        help_text="Syncs using this account pause once its daily API usage passes this share of the vendor's limit, "
                  "so that other integrations of the account keep working. Shared by every sync that uses it.",
    )
    bulk_read_from = models.PositiveIntegerField(
        "bulk reads above (records)", default=10_000, blank=True,
        help_text="A sync read with more changed records than this goes as one bulk export where the system has one "
                  "(Salesforce: a Bulk API 2.0 query job, about ten API calls for 100,000 records instead of fifty); "
                  "smaller reads page through the query API, which starts at once. Left empty: 10,000.",
    )
    api_used = models.PositiveIntegerField("API calls used", null=True, blank=True, editable=False, help_text="As the vendor last reported it.")
    api_limit = models.PositiveIntegerField("API daily limit", null=True, blank=True, editable=False)
    api_reported_at = models.DateTimeField("API usage as of", null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField("last tested", null=True, blank=True, editable=False)
    last_check_ok = models.BooleanField("last test passed", null=True, editable=False)
    last_check_message = models.TextField("last test result", blank=True, editable=False)
    webhook_registered_at = models.DateTimeField(
        "notifications registered", null=True, blank=True, editable=False,
        help_text="When the vendor last accepted the portal's notification URL; immediate syncs wait for the poll without it.")
    blocked_at = models.DateTimeField("stopped since", null=True, blank=True, editable=False)
    blocked_reason = models.TextField(
        "why its syncs stopped", blank=True, editable=False,
        help_text="A failure no retry can mend (a revoked key): the syncs using this connection stop running by "
                  "themselves until the connection is tested again and passes.")
    echoes_day = models.DateField(
        "own writes notified on", null=True, blank=True, editable=False,
        help_text="The day that “notifications of own writes ignored” counts.")
    echoes_ignored = models.PositiveIntegerField(
        "notifications of own writes ignored", default=0, editable=False,
        help_text="Notifications the vendor sent that day of nothing but the portal's own writes: they started no run.")
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "connection"

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def credentials(self) -> dict[str, str]:
        return crypto.decrypt(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, values: dict[str, str]):
        self.credentials_encrypted = crypto.encrypt({k: v for k, v in values.items() if v})

    @property
    def vendor(self):
        return vendor(self.kind)

    @property
    def api_budget(self) -> int | None:
        """Calls this account's syncs may use per day, or None while the limit is unknown."""
        return self.api_limit * self.api_budget_percent // 100 if self.api_limit else None

    @property
    def echoes_ignored_today(self) -> int:
        """Notifications of nothing but the portal's own writes ignored today (local day)."""
        return self.echoes_ignored if self.echoes_day == timezone.localdate() else 0

    @property
    def health(self) -> str:
        """"ok", "failing", "stopped", "untested" or "inactive", for lists and the dashboard."""
        if not self.is_active:
            return "inactive"
        if self.blocked_at:
            return "stopped"
        if self.last_check_ok is None:
            return "untested"
        return "ok" if self.last_check_ok else "failing"


class Sync(models.Model):
    """Records of one object flowing between two connections, and how."""

    class Direction(models.TextChoices):
        SOURCE_TO_TARGET = "source_to_target", "One way: source → target"
        TWO_WAY = "two_way", "Two way"

    class Trigger(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate (on each change)"
        PERIODIC = "periodic", "Periodic (on a schedule)"
        MANUAL = "manual", "Manual (only “Run now”)"

    name = models.CharField("name", max_length=100, unique=True)
    source = models.ForeignKey(Connection, models.PROTECT, related_name="syncs_out", verbose_name="source connection")
    source_object = models.CharField("source object", max_length=100, help_text="Object name in the source system, e.g. Contact or contact.")
    target = models.ForeignKey(Connection, models.PROTECT, related_name="syncs_in", verbose_name="target connection")
    target_object = models.CharField("target object", max_length=100, help_text="Object name in the target system, e.g. Account for Person Accounts.")
    direction = models.CharField("direction", max_length=20, choices=Direction.choices, default=Direction.SOURCE_TO_TARGET)
    trigger = models.CharField("trigger", max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", models.SET_NULL, null=True, blank=True, editable=False,
        related_name="sync", help_text="The beat schedule that runs a periodic sync; edited on the sync's page.",
    )
    enabled = models.BooleanField("enabled", default=False, help_text="Preview a sync before you switch it on; disabled syncs never run by themselves.")
    source_watermark = models.CharField(
        "source watermark", max_length=100, blank=True,
        help_text="Changes up to here have been applied (a vendor timestamp or cursor). Clear it to re-read everything.",
    )
    target_watermark = models.CharField("target watermark", max_length=100, blank=True, help_text="The same, for the way back of a two-way sync.")
    notified_at = models.DateTimeField(
        "last change notification", null=True, blank=True, editable=False,
        help_text="When a system this sync reads last notified a change. A run that was under way by then is "
                  "followed by another at once, as it may have read that system before the change.",
    )
    target_id_field = models.CharField(
        "idempotency field on the target", max_length=100, blank=True,
        help_text="An external-id field of the target that receives the source record's id, so that a replayed "
                  "create updates instead of creating twice (e.g. External_Id__c). Blank: match by the key mapping.",
    )
    source_id_field = models.CharField(
        "idempotency field on the source", max_length=100, blank=True,
        help_text="The same, for the way back of a two-way sync.",
    )
    integration = models.CharField(
        "integration", max_length=40, blank=True,
        help_text="What the sync does beyond mapping fields (e.g. Person Accounts and tags, HubSpot's links). "
                  "Left blank, the integration made for the two systems is chosen.")
    options = models.JSONField("integration options", default=dict, blank=True, help_text="Settings of the integration this sync belongs to.")
    blocked_at = models.DateTimeField("stopped since", null=True, blank=True, editable=False)
    blocked_reason = models.TextField(
        "why it stopped", blank=True, editable=False,
        help_text="A configuration mistake no retry can mend (a missing field, record type or list): the sync stops "
                  "running by itself until it is saved again or a Run now succeeds.")
    completeness_every_hours = models.PositiveSmallIntegerField(
        "check completeness every (hours)", null=True, blank=True,
        help_text="How often the portal compares the records in scope with the links and the target's records, "
                  "and lists what is missing (24 = daily). Each check reads every record's id on both sides, "
                  "which costs API calls. Blank: only when someone clicks “Check completeness”.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "sync"
        permissions = [
            ("run_sync", "Can run a sync now and retry failed records"),
            ("push_captured_contacts", "Can push own captured contacts to the CRM"),
        ]

    @property
    def source_object_label(self) -> str:
        """What the source object is called where its API name is a key (a Zoho Campaigns list)."""
        return ((self.options or {}).get("object_labels") or {}).get("source") or self.source_object

    @property
    def target_object_label(self) -> str:
        return ((self.options or {}).get("object_labels") or {}).get("target") or self.target_object

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.integration and self.source_id and self.target_id:
            from .integrations import default_integration

            self.integration = default_integration({self.source.kind, self.target.kind})
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = [*kwargs["update_fields"], "integration"]
        super().save(*args, **kwargs)

    @property
    def last_run(self):
        return self.runs.order_by("-started_at").first()


class UpdatePolicy(models.TextChoices):
    """When a mapped value may overwrite the target (SPEC AC-4); the default is ALWAYS."""

    ALWAYS = "always", "Always update"
    IF_BLANK = "if_blank", "Update only if the target is blank"
    ON_CREATE = "on_create", "Set on creation, never update after"
    SKIP = "skip", "Don't sync"


class FieldMapping(models.Model):
    """One field of the source paired with one field of the target, with a policy per direction."""

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="mappings")
    source_field = models.CharField("source field", max_length=100)
    target_field = models.CharField("target field", max_length=100)
    to_target = models.CharField(
        "source → target", max_length=20, choices=UpdatePolicy.choices, default=UpdatePolicy.ALWAYS,
        help_text="When the source's value is written to the target.",
    )
    to_source = models.CharField(
        "target → source", max_length=20, choices=UpdatePolicy.choices, default=UpdatePolicy.ALWAYS,
        help_text="When the target's value is written back (two-way syncs only).",
    )
    is_key = models.BooleanField(
        "matching key", default=False,
        help_text="Find a record's partner by this pair (e.g. email) when the two are not linked yet.",
    )
    position = models.PositiveIntegerField("position", default=0)

    class Meta:
        ordering = ["sync", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sync", "source_field", "target_field"], name="mapping_unique_pair"),
        ]
        verbose_name = "field mapping"

    def __str__(self):
        return f"{self.source_field} → {self.target_field}"


class RecordTypeChoice(models.Model):
    """A record type the sync assigns when it creates a record of ``object_name``."""

    class Side(models.TextChoices):
        SOURCE = "source", "Source"
        TARGET = "target", "Target"

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="record_types")
    side = models.CharField("side", max_length=10, choices=Side.choices, default=Side.TARGET)
    object_name = models.CharField("object", max_length=100)
    record_type_id = models.CharField("record type id", max_length=40, help_text="Read from the connected system's describe.")
    label = models.CharField("record type", max_length=200)
    is_default = models.BooleanField("default for new records", default=True)

    class Meta:
        ordering = ["sync", "side", "object_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sync", "side", "object_name"], condition=models.Q(is_default=True), name="one_default_record_type"
            ),
        ]
        verbose_name = "record-type choice"

    def __str__(self):
        return f"{self.object_name}: {self.label}"


class SyncRule(models.Model):
    """A rule that narrows or marks what a sync moves: scope filters, markers, opt-out handling."""

    class Kind(models.TextChoices):
        SCOPE = "scope", "Scope filter: only records where…"
        MARKER = "marker", "Marker: only records whose marker field is set"
        OPT_OUT = "opt_out", "Opt-out: skip records that opted out"

    class Operator(models.TextChoices):
        EQUALS = "eq", "equals"
        NOT_EQUALS = "ne", "does not equal"
        IS_SET = "set", "is set / true"
        IS_BLANK = "blank", "is blank / false"
        CONTAINS = "contains", "contains"

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="rules")
    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    side = models.CharField("side", max_length=10, choices=RecordTypeChoice.Side.choices, default=RecordTypeChoice.Side.SOURCE)
    field = models.CharField("field", max_length=100)
    operator = models.CharField("operator", max_length=10, choices=Operator.choices, default=Operator.IS_SET)
    value = models.CharField("value", max_length=200, blank=True, help_text="Compared value, for “equals”, “does not equal” and “contains”.")
    enabled = models.BooleanField("enabled", default=True)

    class Meta:
        ordering = ["sync", "kind", "id"]
        verbose_name = "sync rule"

    def __str__(self):
        needs_value = self.operator in {self.Operator.EQUALS, self.Operator.NOT_EQUALS, self.Operator.CONTAINS}
        return f"{self.get_kind_display()} {self.field} {self.get_operator_display()}" + (f" {self.value!r}" if needs_value else "")


class SyncRun(models.Model):
    """One run of a sync: what triggered it, how far it got, what it did and what it cost."""

    class Trigger(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate (a change)"
        PERIODIC = "periodic", "Schedule"
        MANUAL = "manual", "Run now"
        RETRY = "retry", "Retry of failed records"
        COMPLETENESS = "completeness", "Sync of the missing records"

    class Cause(models.TextChoices):
        """What, precisely, started the run (an immediate run comes from a notification or the poll)."""

        WEBHOOK = "webhook", "webhook"
        POLL = "poll", "poll"
        SCHEDULE = "schedule", "schedule"
        MANUAL = "manual", "manual"
        RETRY = "retry", "retry"
        MERGE = "merge", "merge"
        COMPLETENESS = "completeness", "completeness check"
        PUSH = "push", "push"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with failed records"
        FAILED = "failed", "Failed"
        PAUSED = "paused", "Paused (API limit)"

    class Phase(models.TextChoices):
        """What a running run is doing now; written when it changes (a few times a page), not per record."""

        READING = "reading", "Reading"
        PLANNING = "planning", "Planning"
        WRITING = "writing", "Writing"
        FOLLOW_UP = "follow_up", "Follow-up"

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="runs")
    trigger = models.CharField("trigger", max_length=20, choices=Trigger.choices)
    cause = models.CharField(
        "started by", max_length=20, choices=Cause.choices, blank=True,
        help_text="What started the run: a webhook, the poll, the schedule, a person (manual), a retry, a merge, a "
                  "completeness check or a push of captured contacts.")
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField("started", default=timezone.now)
    finished_at = models.DateTimeField("finished", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "last heartbeat", null=True, blank=True,
        help_text="A running run beats every few seconds; one not heard from for a minute lost its worker and is taken over.")
    claim = models.CharField(
        "claimed by", max_length=40, blank=True, editable=False,
        help_text="The execution that holds the run; one that has lost it stops before its next write.")
    takeovers = models.PositiveSmallIntegerField("taken over", default=0, help_text="How often the run went on after its worker was lost.")
    resume_at = models.DateTimeField(
        "resumes at", null=True, blank=True,
        help_text="A run paused by a vendor's limit goes on by itself from here, where it stopped.")
    # The batch being written: {"object:record id": "create" | "update"}, set before the vendor
    # call and cleared with the batch's outcome, so that a run taken over after a kill counts
    # what the lost worker wrote but could not record, once.
    pending = models.JSONField("batch in flight", default=dict, blank=True, editable=False)
    phase = models.CharField(
        "phase", max_length=20, choices=Phase.choices, blank=True,
        help_text="What the run is doing now: reading changes, planning them, writing them or following them up "
                  "(tags, clean-ups). Blank before it starts and once it ends.")
    records_expected = models.PositiveIntegerField(
        "records expected", null=True, blank=True,
        help_text="How many records the run will go through, where that is known before it ends (chosen records, "
                  "or a vendor that says how many changes it has); blank when unknown.")
    read_count = models.PositiveIntegerField("read", default=0)
    created_count = models.PositiveIntegerField("created", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    skipped_count = models.PositiveIntegerField("skipped", default=0)
    failed_count = models.PositiveIntegerField("failed", default=0)
    source_api_calls = models.PositiveIntegerField("API calls (source)", default=0)
    target_api_calls = models.PositiveIntegerField("API calls (target)", default=0)
    message = models.TextField("message", blank=True, help_text="Why the run failed or paused, in words an admin can act on.")
    # The first records the run wrote, with what changed on each: {"side", "record", "partner",
    # "action", "fields": {name: [old, new]}}; bounded, so a run of a million records stays small.
    changes = models.JSONField("what changed", default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The sync page and the dashboard: the latest runs of one sync.
            models.Index(fields=["sync", "-started_at"], name="syncrun_sync_latest"),
            # Reaping stuck runs.
            models.Index(fields=["status", "heartbeat_at"], name="syncrun_status_heartbeat"),
        ]
        verbose_name = "sync run"

    def __str__(self):
        return f"{self.sync} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    @property
    def live(self) -> bool:
        """Queued or running: its page follows it."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def records_done(self) -> int:
        """Records gone through so far, whatever their outcome (counted per written batch)."""
        return self.read_count

    @property
    def percent_done(self) -> int | None:
        """Share of the expected records gone through, or None while the total is unknown."""
        if not self.records_expected:
            return None
        return min(100, self.records_done * 100 // self.records_expected)

    @property
    def origin(self) -> str:
        """The trigger and what set it off, in words: "Immediate (a change) · webhook"."""
        trigger = self.get_trigger_display()
        if self.cause == self.Cause.PUSH:
            return "Push of captured contacts"
        if not self.cause or self.cause in (self.trigger, self.Cause.SCHEDULE) or trigger.lower() == self.cause:
            return trigger
        return f"{trigger} · {self.get_cause_display()}"


class SyncDay(models.Model):
    """What a sync's runs did on one day that is over, summed once from its runs: the charts
    of the sync page and the dashboard read these instead of a month of runs on each view (a
    busy sync runs thousands of times a day). Derived data: a deleted row is summed again on
    the next view. The last two days are always read from their runs, which may still change;
    a run still going on two days after it started adds nothing more to its day's row."""

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="days")
    day = models.DateField("day", help_text="The local day the runs started on.")
    time_zone = models.CharField("time zone", max_length=64, help_text="The zone whose midnights bound the day (the portal's TIME_ZONE when it was summed).")
    runs = models.PositiveIntegerField("runs", default=0)
    created = models.PositiveIntegerField("records created", default=0)
    updated = models.PositiveIntegerField("records updated", default=0)
    failed = models.PositiveIntegerField("records failed", default=0)
    finished = models.PositiveIntegerField("runs finished", default=0, help_text="The runs whose duration is known.")
    seconds_total = models.FloatField("seconds run", default=0, help_text="The durations of the finished runs added up.")
    seconds_max = models.FloatField("longest run (seconds)", null=True, blank=True)
    source_api_calls = models.PositiveIntegerField("API calls (source)", default=0)
    target_api_calls = models.PositiveIntegerField("API calls (target)", default=0)

    class Meta:
        ordering = ["sync", "day"]
        constraints = [
            # The charts' read: one sync's (or a few syncs') days in a range.
            models.UniqueConstraint(fields=["sync", "time_zone", "day"], name="syncday_unique_day"),
        ]
        verbose_name = "day of a sync's runs"
        verbose_name_plural = "days of syncs' runs"

    def __str__(self):
        return f"{self.sync} on {self.day:%Y-%m-%d}"


class RecordError(models.Model):
    """A record a run could not move: the reason, the data it had, and its retry state."""

    class ErrorClass(models.TextChoices):
        VALIDATION = "validation", "Validation rule"
        REQUIRED_FIELD = "required_field", "Required field missing"
        PERMISSION = "permission", "Permission"
        DUPLICATE = "duplicate", "Duplicate rule"
        LIMIT = "limit", "API limit"
        MAPPING = "mapping", "Mapping"
        OTHER = "other", "Other"

    class State(models.TextChoices):
        OPEN = "open", "Needs attention"
        RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
        RESOLVED = "resolved", "Resolved"
        IGNORED = "ignored", "Ignored"
        SUPERSEDED = "superseded", "Failed again (see the newer entry)"

    FIXES = {
        ErrorClass.VALIDATION: "A validation rule of the receiving system refused a value. Correct the value where the record "
                               "comes from (or relax the rule), then retry.",
        ErrorClass.REQUIRED_FIELD: "The receiving system needs a field that is empty or not mapped. Fill it where the record comes "
                                   "from, or map a field that has a value, then retry.",
        ErrorClass.PERMISSION: "The integration user may not write this object or field. Grant the permission in the receiving "
                               "system, then retry.",
        ErrorClass.DUPLICATE: "A duplicate rule refused the record as a copy of an existing one. Merge the duplicates in the "
                              "review queue, then retry.",
        ErrorClass.LIMIT: "The vendor's API limit was reached. Retry later, or raise the account's API budget.",
        ErrorClass.MAPPING: "A mapped field does not exist, cannot be written, or nothing mapped has a value. Fix the field "
                            "mappings, then retry.",
        ErrorClass.OTHER: "Read the reason; retry once its cause is fixed.",
    }

    run = models.ForeignKey(SyncRun, models.CASCADE, related_name="errors")
    sync = models.ForeignKey(Sync, models.CASCADE, related_name="record_errors")
    side = models.CharField("written to", max_length=10, choices=RecordTypeChoice.Side.choices, default=RecordTypeChoice.Side.TARGET)
    object_name = models.CharField("object", max_length=100)
    record_id = models.CharField("record id", max_length=100, blank=True, help_text="The id of the record in the system it came from.")
    error_class = models.CharField("class", max_length=20, choices=ErrorClass.choices, default=ErrorClass.OTHER)
    code = models.CharField("vendor code", max_length=100, blank=True)
    field = models.CharField("field", max_length=100, blank=True)
    message = models.TextField("reason")
    payload = models.JSONField("data sent", default=dict, blank=True, help_text="The record as the run tried to write it.")
    state = models.CharField("state", max_length=20, choices=State.choices, default=State.OPEN)
    attempts = models.PositiveIntegerField("failed attempts", default=1)
    not_before = models.DateTimeField("retry not before", null=True, blank=True)
    created_at = models.DateTimeField("failed at", auto_now_add=True)
    resolved_at = models.DateTimeField("resolved at", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Error lists and counts per sync, filtered by state and class.
            models.Index(fields=["sync", "state", "error_class"], name="recorderror_sync_state"),
            # The retry worker: due scheduled retries.
            models.Index(fields=["state", "not_before"], name="recorderror_due"),
        ]
        verbose_name = "failed record"

    def __str__(self):
        return f"{self.object_name} {self.record_id}: {self.get_error_class_display()}"

    @property
    def fix(self) -> str:
        return self.FIXES[self.error_class]


class RecordLink(models.Model):
    """Which record on the target side a source record is paired with, for one sync."""

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="links")
    source_object = models.CharField("source object", max_length=100)
    source_id = models.CharField("source id", max_length=100)
    target_object = models.CharField("target object", max_length=100)
    target_id = models.CharField("target id", max_length=100)
    pinned = models.BooleanField("pinned", default=False, help_text="Pinned by a person: the sync never moves this link by itself.")
    label = models.CharField("who", max_length=200, blank=True, help_text="The record's name and email when it was last synced.")
    # Digests of the mapped values each side had when the two last agreed: a record read
    # back with the same digest has not changed since (it is the echo of our own write).
    source_digest = models.CharField("source digest", max_length=64, blank=True, editable=False)
    target_digest = models.CharField("target digest", max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("linked at", auto_now_add=True)
    updated_at = models.DateTimeField("changed at", auto_now=True)

    class Meta:
        ordering = ["sync", "source_object", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["sync", "source_object", "source_id"], name="link_unique_source"),
            models.UniqueConstraint(fields=["sync", "target_object", "target_id"], name="link_unique_target"),
        ]
        verbose_name = "record link"

    def __str__(self):
        return f"{self.source_object} {self.source_id} ⇄ {self.target_object} {self.target_id}"


class OwnWrite(models.Model):
    """A record the portal wrote, and what the record holds after the write, kept a few
    minutes (``echoes.ECHO_WINDOW``) so that the vendor's notification of that write (its
    echo) starts no run. Kept only where an immediate sync reads the record's object from a
    connection with notifications; the immediate-sync poll deletes rows past the window."""

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="own_writes")
    object_name = models.CharField("object", max_length=100)
    record_id = models.CharField("record id", max_length=100)
    created = models.BooleanField("created", default=False, help_text="The write created the record.")
    values = models.JSONField(
        "fingerprints", default=dict, blank=True,
        help_text="Field → a short fingerprint of its value after the write (never the value itself).")
    tags = models.JSONField("tags applied", default=list, blank=True, help_text="Tags the write applied, by name.")
    written_at = models.DateTimeField("written", default=timezone.now)

    class Meta:
        ordering = ["-written_at"]
        indexes = [
            # A notification: the portal's recent writes of the records it names.
            models.Index(fields=["connection", "object_name", "record_id"], name="ownwrite_record"),
            # The poll: the rows past the window.
            models.Index(fields=["written_at"], name="ownwrite_age"),
        ]
        verbose_name = "own write"

    def __str__(self):
        return f"{self.object_name} {self.record_id} written {self.written_at:%H:%M:%S}"


class RecordLinkEvent(models.Model):
    """History of a link: when it was made, moved to another record, pinned or dropped, and why."""

    class Action(models.TextChoices):
        LINKED = "linked", "Linked"
        MOVED = "moved", "Moved"
        PINNED = "pinned", "Pinned"
        UNPINNED = "unpinned", "Unpinned"
        UNLINKED = "unlinked", "Unlinked"

    link = models.ForeignKey(RecordLink, models.CASCADE, related_name="events")
    action = models.CharField("action", max_length=20, choices=Action.choices)
    old_target_id = models.CharField("from", max_length=100, blank=True)
    new_target_id = models.CharField("to", max_length=100, blank=True)
    reason = models.CharField("why", max_length=300, blank=True)
    run = models.ForeignKey(SyncRun, models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField("when", default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = "link history entry"
        verbose_name_plural = "link history"

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class CompletenessCheck(models.Model):
    """One comparison of a sync's records in scope with its links and the other side's
    records: what is missing, failed or orphaned, with the counts of each."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Check now"
        SCHEDULED = "scheduled", "Schedule"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Checking"
        COMPLETE = "complete", "Complete"
        INCOMPLETE = "incomplete", "Records missing"
        PAUSED = "paused", "Paused (API budget)"
        FAILED = "failed", "Could not finish"

    sync = models.ForeignKey(Sync, models.CASCADE, related_name="completeness_checks")
    trigger = models.CharField("trigger", max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField("started", default=timezone.now)
    finished_at = models.DateTimeField("finished", null=True, blank=True)
    source_read = models.PositiveIntegerField("records read (source)", default=0)
    target_read = models.PositiveIntegerField("records read (target)", default=0)
    in_scope = models.PositiveIntegerField("in scope", default=0, help_text="Records the rules let through, both ways together.")
    out_of_scope = models.PositiveIntegerField("out of scope", default=0, help_text="Records the rules keep out: not expected on the other side.")
    links_count = models.PositiveIntegerField("links", default=0)
    missing_in_target = models.PositiveIntegerField("missing in the target", default=0)
    missing_in_source = models.PositiveIntegerField("missing in the source", default=0, help_text="Two-way syncs only.")
    failed_count = models.PositiveIntegerField("missing with an open failure", default=0)
    unlinked_count = models.PositiveIntegerField("not linked yet, partner with the same key", default=0)
    orphaned_count = models.PositiveIntegerField("orphaned links", default=0)
    source_api_calls = models.PositiveIntegerField("API calls (source)", default=0)
    target_api_calls = models.PositiveIntegerField("API calls (target)", default=0)
    message = models.TextField("message", blank=True, help_text="Why the check paused or could not finish.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The sync page and the dashboard: the latest check of one sync; the schedule: is one due.
            models.Index(fields=["sync", "-started_at"], name="completeness_sync_latest"),
        ]
        verbose_name = "completeness check"

    def __str__(self):
        return f"{self.sync} checked at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def discrepancies(self) -> int:
        return self.missing_in_target + self.missing_in_source + self.failed_count + self.unlinked_count + self.orphaned_count

    @property
    def to_sync(self) -> int:
        """Records that "Sync the missing now" would run through the sync."""
        return self.missing_in_target + self.missing_in_source + self.failed_count + self.unlinked_count

    @property
    def summary(self) -> str:
        """One line for the dashboard and the sync page, e.g. “12 missing in Salesforce”."""
        if self.status in (self.Status.QUEUED, self.Status.RUNNING, self.Status.PAUSED, self.Status.FAILED):
            return self.get_status_display()
        parts = []
        if self.missing_in_target:
            parts.append(f"{self.missing_in_target:,} missing in {self.sync.target.name}")
        if self.missing_in_source:
            parts.append(f"{self.missing_in_source:,} missing in {self.sync.source.name}")
        if self.failed_count:
            parts.append(f"{self.failed_count:,} failed")
        if self.unlinked_count:
            parts.append(f"{self.unlinked_count:,} not linked yet")
        if self.orphaned_count:
            parts.append(f"{self.orphaned_count:,} orphaned link{'s' if self.orphaned_count != 1 else ''}")
        return ", ".join(parts) if parts else "Complete"


class CompletenessItem(models.Model):
    """One record a completeness check found out of step, and why. A check keeps the first
    ``completeness.ITEMS_KEPT``; its counts cover them all."""

    class Category(models.TextChoices):
        MISSING = "missing", "Missing"
        FAILED = "failed", "Failed"
        UNLINKED = "unlinked", "Not linked yet"
        ORPHANED = "orphaned", "Orphaned link"

    completeness_check = models.ForeignKey(CompletenessCheck, models.CASCADE, related_name="items", verbose_name="check")
    side = models.CharField("read from", max_length=10, choices=RecordTypeChoice.Side.choices,
                            help_text="The end of the sync the record lives in (for an orphaned link: the end it vanished from).")
    object_name = models.CharField("object", max_length=100)
    record_id = models.CharField("record id", max_length=100)
    partner_id = models.CharField("partner id", max_length=100, blank=True, help_text="The linked or matching record on the other end.")
    key_value = models.CharField("key value", max_length=300, blank=True)
    category = models.CharField("category", max_length=20, choices=Category.choices)
    reason = models.TextField("why")

    class Meta:
        ordering = ["completeness_check", "pk"]
        verbose_name = "completeness finding"

    def __str__(self):
        return f"{self.get_category_display()}: {self.object_name} {self.record_id}"


class CapturedContact(models.Model):
    """A contact a field user captured (with a lead-capture app such as Lemontaps), as it
    reached the portal through its capture contract (``connectors/lemontaps.py``). Stored
    before the sender gets an answer, so nothing captured is lost while the CRM is down; the
    push to the CRM runs through the sync engine, which reads these rows as its source."""

    class Target(models.TextChoices):
        LEAD = "Lead", "Lead"
        CONTACT = "Contact", "Contact"

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="captured_contacts",
                                   verbose_name="captured through")
    capture_id = models.CharField(
        "capture id", max_length=100,
        help_text="The id the capturing app gave the contact; a capture sent again with it updates this row.")
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="captured_contacts",
        verbose_name="captured by", help_text="The portal user whose email the capture names (the field user's own list).")
    captured_by_email = models.EmailField("capturing user's email", blank=True)
    captured_at = models.DateTimeField("captured at", default=timezone.now)
    target = models.CharField(
        "create as", max_length=10, choices=Target.choices, blank=True,
        help_text="Lead or Contact, as chosen when the contact was captured; blank when no choice was made.")
    data = models.JSONField("fields", default=dict, blank=True, help_text="The captured fields, named as the capture contract names them.")
    received_at = models.DateTimeField("received at", default=timezone.now, editable=False)
    modified_at = models.DateTimeField("changed at", default=timezone.now, editable=False,
                                       help_text="When the portal last received a version of it (the push reads in this order).")
    exported_at = models.DateTimeField("exported at", null=True, blank=True, editable=False)
    exported_object = models.CharField("exported as", max_length=20, blank=True, editable=False)
    exported_id = models.CharField("CRM record id", max_length=40, blank=True, editable=False)
    exported_url = models.URLField("CRM record", max_length=300, blank=True, editable=False)
    changed_after_export = models.BooleanField(
        "changed after export", default=False, editable=False,
        help_text="A newer version arrived after it was exported (pushed again only if an admin allows updates).")
    not_duplicate_of = models.JSONField(
        "not the same person as", default=list, blank=True, editable=False,
        help_text="Records matching flagged as likely duplicates that a person said are someone else "
                  "(Salesforce ids, or capture:<id> for another capture); no longer flagged, the push creates it.")

    class Meta:
        ordering = ["-captured_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "capture_id"], name="captured_contact_unique_capture"),
        ]
        indexes = [
            # The push's read: a connection's captures in (changed at, id) order from a cursor.
            models.Index(fields=["connection", "modified_at", "id"], name="capture_changes"),
            # A field user's own overview, newest first.
            models.Index(fields=["captured_by", "-captured_at"], name="capture_by_user"),
        ]
        verbose_name = "captured contact"

    def __str__(self):
        name = " ".join(str(self.data.get(k) or "") for k in ("first_name", "last_name")).strip()
        return name or self.data.get("email") or self.capture_id
