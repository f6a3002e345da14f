"""People as the matcher sees them, the duplicate groups it finds, and what sales ops decide.

A :class:`Person` is a local snapshot of one person record in a connected system (a Salesforce
Lead or Contact, a HubSpot contact), kept current incrementally by a :class:`MatchSource`'s
watermark, so that matching never has to read a whole system again. The matcher turns them
into :class:`DuplicateGroup` rows with their :class:`DuplicateMember` records and the evidence
for every pair; a reviewer merges a group (a :class:`MergeJob` of recorded
:class:`MergeStep` s) or marks it as not a duplicate, which is remembered per pair.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone


def person_key(connection_id: int, object_name: str, record_id: str) -> str:
    """One record anywhere, as a short stable string (used for pairs and fingerprints)."""
    return f"{connection_id}:{object_name}:{record_id}"


class MatchSource(models.Model):
    """One object of one connection whose people are matched, with its matching rules (HS-1)."""

    connection = models.ForeignKey("syncconfig.Connection", models.CASCADE, related_name="match_sources")
    object_name = models.CharField("object", max_length=100, help_text="e.g. Contact or Lead in Salesforce, contacts in HubSpot.")
    enabled = models.BooleanField("matched", default=True)
    exact_fields = models.JSONField(
        "exact keys", default=list, blank=True,
        help_text="Fields that identify a person when equal, e.g. Email or a custom Customer_ID__c.",
    )
    fuzzy_name = models.BooleanField("fuzzy name", default=True, help_text="Match similar names (typos, nicknames, initials).")
    use_phone = models.BooleanField("phone", default=True)
    use_company = models.BooleanField("company", default=True)
    use_address = models.BooleanField("address", default=True)
    threshold = models.FloatField("threshold", default=0.5, help_text="0–1: how sure the matcher must be to group two records.")
    birth_date_field = models.CharField(
        "birth-date field", max_length=100, blank=True,
        help_text="A field holding the person's birth date, e.g. Birthdate: dates a typo apart (day and month swapped, "
                  "one digit) count as nearly equal, other dates strongly against.")
    watermark = models.CharField("read up to", max_length=100, blank=True, editable=False)
    last_run_at = models.DateTimeField("last matched", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["connection", "object_name"]
        constraints = [models.UniqueConstraint(fields=["connection", "object_name"], name="matchsource_unique")]
        verbose_name = "matched object"

    def __str__(self):
        return f"{self.connection} · {self.object_name}"


class Person(models.Model):
    """A person record of a connected system, in neutral fields, as last read."""

    connection = models.ForeignKey("syncconfig.Connection", models.CASCADE, related_name="+")
    object_name = models.CharField("object", max_length=100)
    record_id = models.CharField("record id", max_length=100)
    # Neutral names: first_name, last_name, email, phone, company, street, city, postcode,
    # country, and the source's own names for custom keys (e.g. Customer_ID__c).
    fields = models.JSONField("values", default=dict)
    linked_to = models.CharField(
        "linked Salesforce id", max_length=100, blank=True,
        help_text="For a HubSpot contact: the Salesforce record its Lead/Contact ID property names (HS-4).",
    )
    modified_at = models.CharField("modified at", max_length=40, blank=True)
    deleted = models.BooleanField("deleted", default=False)
    seen_at = models.DateTimeField("read at", default=timezone.now)
    # The matching rules (their fingerprint) its PersonKey rows were made under; blank until
    # a pass has indexed it.
    keyed_for = models.CharField("indexed for", max_length=16, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "object_name", "record_id"], name="person_unique")]
        indexes = [models.Index(fields=["connection", "object_name", "seen_at"], name="person_seen")]

    def __str__(self):
        return f"{self.display_name} ({self.object_name} {self.record_id})"

    @property
    def key(self) -> str:
        return person_key(self.connection_id, self.object_name, self.record_id)

    @property
    def display_name(self) -> str:
        f = self.fields
        return " ".join(p for p in (f.get("first_name"), f.get("last_name")) if p) or f.get("email") or self.record_id


class PersonKey(models.Model):
    """One blocking key or counted name of a person, hashed to 64 bits: what lets an
    incremental pass find the few people a changed record must be compared with, and how
    common its names are, without reading everyone (see ``dedupe.services.groups_rebuild``)."""

    person = models.ForeignKey(Person, models.CASCADE, related_name="+")
    key = models.BigIntegerField("key")

    class Meta:
        indexes = [models.Index(fields=["key"], name="personkey_key")]
        verbose_name = "person key"


class MatchRun(models.Model):
    """One matching pass, scheduled or on demand: what it read and what it found."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    trigger = models.CharField("trigger", max_length=20, default="manual")
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.RUNNING)
    full = models.BooleanField("full rescan", default=False)
    records_read = models.PositiveIntegerField("records read", default=0)
    records_matched = models.PositiveIntegerField("records matched", default=0)
    groups_found = models.PositiveIntegerField("groups new or changed", default=0)
    api_calls = models.PositiveIntegerField("API calls", default=0)
    message = models.TextField("message", blank=True)
    started_at = models.DateTimeField("started", default=timezone.now)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "matching run"


class DuplicateGroup(models.Model):
    """Records believed to be one person or company, waiting for (or past) review."""

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        MERGING = "merging", "Merging"
        MERGED = "merged", "Merged"
        NOT_DUPLICATE = "not_duplicate", "Not a duplicate"
        FAILED = "failed", "Merge failed"

    class Kind(models.TextChoices):
        SAME_EMAIL = "same_email", "Same email"
        LEAD_CONTACT = "lead_contact", "Lead and Contact"
        DIFFERENT_EMAIL = "different_email", "Different emails"

    object_name = models.CharField("object", max_length=100)
    size = models.PositiveIntegerField("records", default=0)
    confidence = models.FloatField("confidence", default=0.0, help_text="0–1: how sure the matcher is that these are one.")
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.OPEN)
    kind = models.CharField("kind", max_length=20, choices=Kind.choices, default=Kind.SAME_EMAIL)
    systems = models.CharField("systems", max_length=100, blank=True, help_text="The systems its records live in.")
    title = models.CharField("who", max_length=200, blank=True)
    search_text = models.TextField("search text", blank=True, editable=False)
    # Sorted member keys, hashed: the same records found again update this group, not a new one.
    fingerprint = models.CharField("fingerprint", max_length=64, unique=True, null=True, editable=False)
    # Every scored pair: {"a": key, "b": key, "score": 0.93, "fields": {"email": ["exact", 1.0], …}}
    evidence = models.JSONField("evidence", default=list, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField("decided at", null=True, blank=True)
    created_at = models.DateTimeField("found at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    class Meta:
        ordering = ["-confidence", "-created_at"]
        indexes = [
            # The review queue: open groups, most certain first, paged by id.
            models.Index(fields=["status", "-confidence", "-id"], name="dupgroup_queue"),
            models.Index(fields=["status", "kind", "-confidence", "-id"], name="dupgroup_queue_kind"),
        ]
        permissions = [("merge_duplicategroup", "Can merge duplicates in the connected systems")]
        verbose_name = "duplicate group"

    def __str__(self):
        return f"{self.title or self.object_name} — group of {self.size}"

    @property
    def proposed_master(self):
        return next((m for m in self.members.all() if m.proposed_master), None)


class DuplicateMember(models.Model):
    """One record of a group, with why it is there."""

    group = models.ForeignKey(DuplicateGroup, models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, models.SET_NULL, null=True, related_name="memberships")
    connection = models.ForeignKey("syncconfig.Connection", models.CASCADE, related_name="+")
    object_name = models.CharField("object", max_length=100)
    record_id = models.CharField("record id", max_length=100)
    label = models.CharField("name", max_length=200, blank=True)
    email = models.CharField("email", max_length=254, blank=True)
    proposed_master = models.BooleanField("proposed master", default=False)
    why = models.CharField("why it is here", max_length=500, blank=True)

    class Meta:
        ordering = ["group", "-proposed_master", "object_name", "record_id"]
        constraints = [models.UniqueConstraint(fields=["group", "connection", "object_name", "record_id"], name="member_unique")]
        indexes = [models.Index(fields=["connection", "object_name", "record_id"], name="member_record")]

    def __str__(self):
        return f"{self.label} ({self.object_name} {self.record_id})"

    @property
    def key(self) -> str:
        return person_key(self.connection_id, self.object_name, self.record_id)


class NotDuplicate(models.Model):
    """A pair a person said is two different people: never grouped again."""

    key_a = models.CharField(max_length=250)
    key_b = models.CharField(max_length=250)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_a", "key_b"], name="notduplicate_unique")]
        verbose_name = "not-a-duplicate decision"

    @staticmethod
    def ordered(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)


class MergeJob(models.Model):
    """One merge decision for a group, carried out step by step in the connected systems."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Merged"
        FAILED = "failed", "Failed"

    group = models.ForeignKey(DuplicateGroup, models.PROTECT, related_name="merges")
    batch = models.CharField("bulk batch", max_length=40, blank=True, db_index=True)
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.QUEUED)
    master_key = models.CharField("master", max_length=250)
    # Field → key of the record whose value the master keeps (HS-5).
    choices = models.JSONField("field choices", default=dict, blank=True)
    hubspot_action = models.CharField("in HubSpot", max_length=20, blank=True)
    steps_total = models.PositiveIntegerField("steps", default=0)
    steps_done = models.PositiveIntegerField("steps done", default=0)
    message = models.TextField("message", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField("requested", auto_now_add=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "merge"

    def __str__(self):
        return f"Merge of {self.group}"


class MergeStep(models.Model):
    """One call that changed a connected system during a merge, with the values before and after."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(MergeJob, models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField("step")
    system = models.CharField("system", max_length=40)
    action = models.CharField("action", max_length=40)  # merge | delete | resync | relink
    object_name = models.CharField("object", max_length=100)
    master_id = models.CharField("master", max_length=100, blank=True)
    merged_ids = models.JSONField("merged away", default=list, blank=True)
    before = models.JSONField("before", default=dict, blank=True)
    after = models.JSONField("after", default=dict, blank=True)
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.PENDING)
    message = models.TextField("message", blank=True)
    done_at = models.DateTimeField("done at", null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]

    def __str__(self):
        return f"{self.position}. {self.system} {self.action}"
