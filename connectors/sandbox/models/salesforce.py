"""State of the emulated Salesforce orgs: orgs, tokens, custom fields, records, cursors, bulk jobs."""
from django.db import models
from django.utils import timezone


class SandboxOrg(models.Model):
    """One emulated Salesforce org: its login, features, API allowance and injected faults."""

    org_id = models.CharField("org ID", max_length=18, unique=True, help_text="The 18-character 00D… organization ID.")
    name = models.CharField("name", max_length=100)
    person_accounts = models.BooleanField(
        "Person Accounts", default=False, help_text="Whether Account has Person Account record types and fields.",
    )
    duplicate_rules = models.BooleanField(
        "duplicate rules", default=False,
        help_text="Block new Contacts and Leads whose email matches an existing Contact or Lead (DUPLICATES_DETECTED).",
    )
    client_id = models.CharField("client ID", max_length=100, unique=True, help_text="Consumer key of the connected app.")
    client_secret = models.CharField(
        "client secret", max_length=100, help_text="Consumer secret; stored in clear, this is a throw-away sandbox.",
    )
    username = models.CharField("username", max_length=100, unique=True, help_text="The integration user's login.")
    password = models.CharField("password", max_length=100, help_text="The integration user's password (sandbox only).")
    daily_limit = models.PositiveIntegerField(
        "daily API limit", default=15000, help_text="API requests allowed per 24 hours; then REQUEST_LIMIT_EXCEEDED.",
    )
    api_usage = models.PositiveIntegerField("API requests used", default=0, help_text="Requests counted in the current window.")
    usage_window_start = models.DateTimeField(
        "usage window start", default=timezone.now, help_text="The counter restarts 24 hours after this moment.",
    )
    error_rate = models.FloatField("503 share", default=0.0, help_text="Share of API calls answered 503 SERVER_UNAVAILABLE (0–1).")
    limit_rate = models.FloatField(
        "limit share", default=0.0, help_text="Share of API calls answered 403 REQUEST_LIMIT_EXCEEDED (0–1).",
    )
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
        "faults on login", default=False, help_text="Also inject faults into the OAuth token endpoint.",
    )
    fault_calls = models.PositiveBigIntegerField("calls seen by fault injection", default=0, editable=False)
    commit_lag_seconds = models.FloatField(
        "commit lag (s)", default=0.0,
        help_text="Most seconds a write stays invisible to SOQL after its SystemModstamp (each write draws a lag "
                  "between 0 and this); 0 shows writes at once. Reads by Id see them at once either way.",
    )
    commit_lag_seed = models.IntegerField("commit lag seed", default=0, help_text="The same seed lags the same writes alike.")
    commit_lag_writes = models.PositiveBigIntegerField("writes seen by the commit lag", default=0, editable=False)
    one_instant_per_request = models.BooleanField(
        "one instant per request", default=False,
        help_text="Stamp every record one API call writes (a whole sObject Collection) with the same SystemModstamp.",
    )
    next_record_number = models.PositiveBigIntegerField("next record number", default=1, editable=False)
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sandbox Salesforce org"

    def __str__(self):
        return f"{self.name} ({self.org_id})"


class SandboxToken(models.Model):
    """An access token (session id) handed out by the OAuth or SOAP login."""

    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="tokens")
    key = models.CharField("token", max_length=120, unique=True)
    user_id = models.CharField("user ID", max_length=18)
    issued_at = models.DateTimeField("issued", default=timezone.now)
    expires_at = models.DateTimeField("expires", help_text="After this the token answers 401 INVALID_SESSION_ID.")

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = "sandbox access token"

    def __str__(self):
        return f"{self.key[:12]}… ({self.org.org_id})"


class SandboxField(models.Model):
    """A custom field added to one object of one org."""

    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="custom_fields")
    sobject = models.CharField("object", max_length=40)
    name = models.CharField("API name", max_length=80, help_text="Ends in __c.")
    label = models.CharField("label", max_length=80)
    field_type = models.CharField("type", max_length=20, help_text="Describe type: string, boolean, email, date, …")
    length = models.PositiveIntegerField("length", default=0)
    external_id = models.BooleanField("external ID", default=False)
    unique = models.BooleanField("unique", default=False)
    required = models.BooleanField("required", default=False)
    picklist_values = models.JSONField("picklist values", default=list, blank=True)
    reference_to = models.CharField("references", max_length=40, blank=True, help_text="Target object of a lookup.")

    class Meta:
        ordering = ["org", "sobject", "id"]
        constraints = [models.UniqueConstraint(fields=["org", "sobject", "name"], name="sandbox_field_unique_name")]
        verbose_name = "sandbox custom field"

    def __str__(self):
        return f"{self.sobject}.{self.name}"


class SandboxRecord(models.Model):
    """One record of any object. Field values live in ``data``; system fields are columns."""

    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="records")
    sobject = models.CharField("object", max_length=40)
    record_id = models.CharField("ID", max_length=18, unique=True)
    number = models.BigIntegerField("sequence", help_text="Orders like the Id within one object.")
    data = models.JSONField("fields", default=dict)
    created_date = models.DateTimeField("CreatedDate")
    last_modified_date = models.DateTimeField("LastModifiedDate")
    system_modstamp = models.DateTimeField("SystemModstamp")
    is_deleted = models.BooleanField("IsDeleted", default=False)
    deleted_date = models.DateTimeField("deleted", null=True, blank=True)
    master_record_id = models.CharField("MasterRecordId", max_length=18, blank=True)
    visible_at = models.DateTimeField(
        "visible to SOQL from", null=True, blank=True,
        help_text="Set by the org's commit lag: SOQL leaves the record out until then. Empty: visible at once.",
    )

    class Meta:
        ordering = ["number"]
        indexes = [
            # Paging a query in Id order: WHERE org, sobject, IsDeleted ORDER BY number.
            models.Index(fields=["org", "sobject", "is_deleted", "number"], name="sandbox_rec_scan"),
            # Incremental reads: SystemModstamp ranges (SOQL and /updated/), and the same on
            # LastModifiedDate and CreatedDate, which some integrations watch instead.
            models.Index(fields=["org", "sobject", "system_modstamp"], name="sandbox_rec_modstamp"),
            models.Index(fields=["org", "sobject", "last_modified_date"], name="sandbox_rec_modified"),
            models.Index(fields=["org", "sobject", "created_date"], name="sandbox_rec_created"),
            # /deleted/: deletions of an object within a window.
            models.Index(fields=["org", "sobject", "deleted_date"], name="sandbox_rec_deleted"),
        ]
        verbose_name = "sandbox record"

    def __str__(self):
        return f"{self.sobject} {self.record_id}"


class SandboxRecordKey(models.Model):
    """A searchable value of a record: unique and external-id fields, emails (lower-cased)."""

    record = models.ForeignKey(SandboxRecord, models.CASCADE, related_name="keys")
    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="+")
    sobject = models.CharField("object", max_length=40)
    field = models.CharField("field", max_length=80)
    value = models.CharField("value", max_length=255)

    class Meta:
        indexes = [
            # Upsert, uniqueness and `WHERE Email IN (...)`: org, object, field, value.
            models.Index(fields=["org", "sobject", "field", "value"], name="sandbox_key_lookup"),
            # Duplicate rules look across objects: org, field, value.
            models.Index(fields=["org", "field", "value"], name="sandbox_key_cross"),
        ]
        verbose_name = "sandbox record key"

    def __str__(self):
        return f"{self.sobject}.{self.field}={self.value}"


class SandboxQueryCursor(models.Model):
    """A query's result, computed once as an ordered list of record pks, paged by nextRecordsUrl."""

    locator = models.CharField("query locator", max_length=18, unique=True)
    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="cursors")
    soql = models.TextField("query")
    include_deleted = models.BooleanField("queryAll", default=False)
    total_size = models.PositiveIntegerField("total size")
    batch_size = models.PositiveIntegerField("batch size")
    expires_at = models.DateTimeField("expires", db_index=True, help_text="Salesforce drops idle query locators.")

    class Meta:
        ordering = ["-expires_at"]
        verbose_name = "sandbox query cursor"

    def __str__(self):
        return self.locator


class SandboxQueryChunk(models.Model):
    """A fixed-size slice of a cursor's ordered record pks."""

    cursor = models.ForeignKey(SandboxQueryCursor, models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField("chunk number")
    record_pks = models.JSONField("record pks", default=list)

    class Meta:
        ordering = ["cursor", "position"]
        constraints = [models.UniqueConstraint(fields=["cursor", "position"], name="sandbox_chunk_unique_position")]
        verbose_name = "sandbox query chunk"

    def __str__(self):
        return f"{self.cursor.locator} #{self.position}"


class SandboxBulkJob(models.Model):
    """A Bulk API 2.0 ingest job: its CSV as uploaded, its state, and once processed the
    successful, failed and unprocessed rows as the results endpoints hand them out."""

    OPEN, UPLOAD_COMPLETE, IN_PROGRESS, JOB_COMPLETE, FAILED, ABORTED = (
        "Open", "UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted")
    STATE_CHOICES = [(s, s) for s in (OPEN, UPLOAD_COMPLETE, IN_PROGRESS, JOB_COMPLETE, FAILED, ABORTED)]

    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="bulk_jobs")
    job_id = models.CharField("job ID", max_length=18, unique=True, help_text="The 18-character 750… id.")
    sobject = models.CharField("object", max_length=80)
    operation = models.CharField("operation", max_length=20, help_text="insert, update, upsert or delete.")
    external_id_field = models.CharField("external ID field", max_length=80, blank=True)
    line_ending = models.CharField("line ending", max_length=4, default="LF")
    column_delimiter = models.CharField("column delimiter", max_length=10, default="COMMA")
    api_version = models.CharField("API version", max_length=6)
    created_by = models.CharField("created by", max_length=18)
    state = models.CharField("state", max_length=16, choices=STATE_CHOICES, default=OPEN)
    data = models.TextField("uploaded CSV", blank=True)
    successful = models.TextField("successful results CSV", blank=True)
    failed = models.TextField("failed results CSV", blank=True)
    unprocessed = models.TextField("unprocessed records CSV", blank=True)
    processed_count = models.PositiveIntegerField("records processed", default=0)
    failed_count = models.PositiveIntegerField("records failed", default=0)
    error_message = models.TextField("error message", blank=True)
    created_at = models.DateTimeField("created", default=timezone.now)
    modified_at = models.DateTimeField("modified", default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The job worker's queue: closed jobs not yet processed, oldest first.
            models.Index(fields=["state", "id"], name="sandbox_bulk_job_queue"),
        ]
        verbose_name = "sandbox Salesforce bulk job"

    def __str__(self):
        return f"{self.job_id} {self.operation} {self.sobject} ({self.state})"


class SandboxQueryJob(models.Model):
    """A Bulk API 2.0 query job: its SOQL, its state, and once processed its result, kept in
    :class:`SandboxQueryJobChunk` rows that the results endpoint pages through by locator."""

    UPLOAD_COMPLETE, IN_PROGRESS, JOB_COMPLETE, FAILED, ABORTED = (
        "UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted")
    STATE_CHOICES = [(s, s) for s in (UPLOAD_COMPLETE, IN_PROGRESS, JOB_COMPLETE, FAILED, ABORTED)]

    org = models.ForeignKey(SandboxOrg, models.CASCADE, related_name="query_jobs")
    job_id = models.CharField("job ID", max_length=18, unique=True, help_text="The 18-character 750… id.")
    sobject = models.CharField("object", max_length=80)
    operation = models.CharField("operation", max_length=10, help_text="query, or queryAll (deleted records too).")
    soql = models.TextField("query")
    line_ending = models.CharField("line ending", max_length=4, default="LF")
    column_delimiter = models.CharField("column delimiter", max_length=10, default="COMMA")
    api_version = models.CharField("API version", max_length=6)
    created_by = models.CharField("created by", max_length=18)
    state = models.CharField("state", max_length=16, choices=STATE_CHOICES, default=UPLOAD_COMPLETE)
    header = models.TextField("result header", blank=True, help_text="The CSV's first line: the selected fields.")
    processed_count = models.PositiveIntegerField("records processed", default=0)
    error_message = models.TextField("error message", blank=True)
    created_at = models.DateTimeField("created", default=timezone.now)
    modified_at = models.DateTimeField("modified", default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The job worker's queue: query jobs not yet run, oldest first.
            models.Index(fields=["state", "id"], name="sandbox_query_job_queue"),
        ]
        verbose_name = "sandbox Salesforce query job"

    def __str__(self):
        return f"{self.job_id} {self.operation} {self.sobject} ({self.state})"


class SandboxQueryJobChunk(models.Model):
    """A fixed number of a query job's result rows, each already a CSV line."""

    job = models.ForeignKey(SandboxQueryJob, models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField("chunk number")
    rows = models.JSONField("CSV rows", default=list)

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="sandbox_query_job_chunk_unique")]
        verbose_name = "sandbox query job chunk"

    def __str__(self):
        return f"{self.job.job_id} #{self.position}"
