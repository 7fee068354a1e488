"""Sales records: types (with per-user rights), records made from individuals, mass creation jobs,
sales workflows and the activities they create.

A sales record copies an individual's fields (personal data as the same three encrypted / hash /
last-4 columns, never decrypted) and stays linked to it: at most one record per individual,
enforced by the unique ``individual_id`` column that mass creation's ``ON CONFLICT`` relies on.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.jobs import Job
from individuals.custom_field_values import clean_values
from individuals.models import (  # the carried-over fields are derived with Person; .services and .sql read them here
    CARRIED_FIELDS,  # noqa: F401
    CRITERIA_VERSION,
    CRITERIA_VERSION_HELP,
    CustomField,
    Individual,
    Person,
)
from individuals.models import PERSONAL_DATA_COLUMNS as PERSONAL_COLUMNS  # noqa: F401

MAX_RECORD_TYPES = 10

# Custom field types that do not carry over to sales records (DESIGN.md section 5).
NOT_CARRIED_TYPES = (
    CustomField.FieldType.NUMBER,
    CustomField.FieldType.CURRENCY,
    CustomField.FieldType.PERCENT,
    CustomField.FieldType.CHECKBOX,
    CustomField.FieldType.CHECKBOX_LIST,
)


class SalesRecordType(models.Model):
    """Lead, Renewal, AEP, Do Not Contact...: at most ten, in the admin's sort order."""

    name = models.CharField(max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class SalesRecordTypeRight(models.Model):
    """One user's rights on one record type, on top of the security group (see ``salesrecords.rights``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_type_rights")
    record_type = models.ForeignKey(SalesRecordType, on_delete=models.CASCADE, related_name="user_rights")
    can_view = models.BooleanField("view", default=True)
    can_add = models.BooleanField("add", default=False)
    can_change = models.BooleanField("edit", default=False)
    can_delete = models.BooleanField("delete", default=False)

    class Meta:
        verbose_name = "sales record type right"
        constraints = [models.UniqueConstraint(fields=["user", "record_type"], name="sales_type_right_unique")]

    def __str__(self):
        flags = [n for n in ("view", "add", "change", "delete") if getattr(self, f"can_{n}")]
        return f"{self.user} on {self.record_type}: {', '.join(flags) or 'none'}"


class MassCreationJob(Job):
    """One "Create Sales Records…" run: criteria, type, counts and the resume cursor.

    A ``core.jobs.Job`` (queued -> running -> succeeded / failed): claimed with a lease that its worker
    renews; a job whose lease ran out (its worker died) is queued again by the sweep and continues after
    ``cursor``. ``last_id`` is set by the first run (the search's snapshot).
    """

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    criteria = models.JSONField(default=dict, blank=True, help_text="The advanced-search criteria (personal data as keyed hashes).")
    criteria_version = models.PositiveSmallIntegerField(default=CRITERIA_VERSION, help_text=CRITERIA_VERSION_HELP)
    record_type = models.ForeignKey(SalesRecordType, on_delete=models.PROTECT, related_name="jobs")
    matched = models.PositiveIntegerField(
        null=True, blank=True, help_text="Individuals the search found: counted when the job starts, exact (counted by the chunks) once it is done."
    )
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Already had a sales record.")
    cursor = models.BigIntegerField(default=0, help_text="Last individual id processed (chunks resume after it).")
    last_id = models.BigIntegerField(null=True, blank=True, help_text="The highest individual id when the job started.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sales record creation job"

    def __str__(self):
        return f"Job #{self.pk}: {self.record_type} ({self.get_status_display()})"


class SalesRecord(Person):
    """A sales record: the individual's carried-over fields (``Person``; personal data exactly as on the
    individual, never decrypted; custom field values of the kinds that carry over) plus the sales ones."""

    class Stage(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        PROPOSAL = "proposal", "Proposal"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Temperature(models.TextChoices):
        COLD = "cold", "Cold"
        WARM = "warm", "Warm"
        HOT = "hot", "Hot"

    # OneToOne = a unique index: at most one sales record per individual, whoever races. No database FK
    # constraint: its per-row check takes a KEY SHARE lock on every referenced individual, which dirties
    # (and WAL-logs) their pages -- measured on 15,000 records: +1.4 s and +70 MB of WAL on top of a
    # 1.8 s insert. The ORM still sets it NULL when an individual is deleted; convert tolerates a stale id.
    individual = models.OneToOneField(
        Individual,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_record",
        db_constraint=False,
    )
    # FK indexes that a composite index below already starts with are left out (cheaper mass inserts).
    record_type = models.ForeignKey(SalesRecordType, on_delete=models.PROTECT, related_name="records", db_index=False)
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_records",
        db_index=False,
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    temperature = models.CharField(max_length=10, choices=Temperature.choices, blank=True)
    # Informational link (jobs are never deleted): no database constraint, so a mass insert checks one FK less per row.
    job = models.ForeignKey(
        MassCreationJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="records", db_index=False, db_constraint=False
    )
    record_status = models.CharField(max_length=20, choices=Person.RecordStatus.choices, default=Person.RecordStatus.PROSPECT)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["record_type", "stage"], name="sr_type_stage_idx"),
            models.Index(fields=["assigned_user", "stage"], name="sr_user_stage_idx"),
            models.Index(fields=["job", "individual"], name="sr_job_individual_idx"),
            models.Index(fields=["last_name", "first_name", "id"], name="sr_name_idx"),
        ]

    def clean(self):
        super().clean()
        if self.custom_fields:
            self.custom_fields = self._clean_custom_fields(self.custom_fields)

    def _clean_custom_fields(self, values: dict) -> dict:
        """``values`` validated by type (as on individuals); the types that never carry over are refused.

        Only values that differ from the stored ones are checked, so a value carried over from a field
        since deactivated or deleted does not block editing the rest of the record.
        """
        stored = {}
        if self.pk and not self._state.adding:
            stored = SalesRecord.objects.filter(pk=self.pk).values_list("custom_fields", flat=True).first() or {}
        new = {k: v for k, v in values.items() if stored.get(k) != v}
        if not new:
            return values
        fields = {f.key: f for f in CustomField.objects.filter(key__in=list(new))}
        not_carried = [k for k, f in fields.items() if f.field_type in NOT_CARRIED_TYPES]
        if not_carried:
            raise ValidationError(
                {"custom_fields": [f"{k}: a {fields[k].get_field_type_display().lower()} field stays on the individual." for k in not_carried]}
            )
        cleaned = clean_values(new, fields=fields)
        return {k: cleaned[k] if k in new else v for k, v in values.items() if k not in new or k in cleaned}


class SalesWorkflow(models.Model):
    """Admin-defined automation run once for each new sales record of the chosen types that meets the criteria."""

    class EmailTo(models.TextChoices):
        ASSIGNED_USER = "assigned_user", "The assigned user"
        RECORD = "record", "The record's email (secondary email)"

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    record_types = models.ManyToManyField(SalesRecordType, blank=True, related_name="workflows", help_text="Empty: every type.")
    criteria = models.JSONField(default=dict, blank=True, help_text="Advanced-search criteria the record's individual must meet (empty: all).")
    criteria_version = models.PositiveSmallIntegerField(default=CRITERIA_VERSION, help_text=CRITERIA_VERSION_HELP)
    # Actions: any combination.
    create_activity = models.BooleanField(default=False)
    activity_subject = models.CharField(max_length=200, blank=True)
    activity_due_days = models.PositiveSmallIntegerField(default=0, help_text="Due this many days after creation.")
    send_email = models.BooleanField(default=False)
    email_to = models.CharField(max_length=20, choices=EmailTo.choices, default=EmailTo.ASSIGNED_USER)
    email_subject = models.CharField(max_length=200, blank=True, help_text="A Django template over the record, e.g. {{ record.first_name }}.")
    email_body = models.TextField(blank=True, help_text="A Django template; the sales record is {{ record }}.")
    set_stage = models.CharField(max_length=20, choices=SalesRecord.Stage.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SalesWorkflowRun(models.Model):
    """That a workflow ran for a record: the unique pair makes "exactly once" a database fact.

    Runs and activities are written set-based next to the records they belong to; their links carry
    no database FK constraint (the ORM cascades / sets NULL on delete), so a mass insert does not pay
    a deferred FK check per row for each of them.
    """

    # The unique pair below indexes the workflow; the ORM cascades deletes (no per-row FK check on mass inserts).
    workflow = models.ForeignKey(SalesWorkflow, on_delete=models.CASCADE, related_name="runs", db_index=False, db_constraint=False)
    sales_record = models.ForeignKey(SalesRecord, on_delete=models.CASCADE, related_name="workflow_runs", db_constraint=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "sales_record"], name="workflow_run_once")]

    def __str__(self):
        return f"{self.workflow} on {self.sales_record_id}"


class WorkflowEmail(Job):
    """A workflow's email about one new record (the outbox): a ``core.jobs.Job``.

    Written set-based with its run (for workflows that send email), in the same transaction; sent after
    commit by ``workflows.workflow_emails_send``, which claims it first (``job_claim``: two senders never
    send one email) and sends outside any transaction. A refused send is retrying, tried again after
    ``SALESRECORDS_EMAIL_LEASE_SECONDS``, failed after ``SALESRECORDS_EMAIL_MAX_TRIES`` tries (``reason``
    says why); a sender that died mid-send leaves it running until its lease runs out, then the sweep
    queues it again.
    """

    run = models.OneToOneField(SalesWorkflowRun, on_delete=models.CASCADE, related_name="email", db_constraint=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Email of {self.run} ({self.get_status_display()})"


class Activity(models.Model):
    """A task for a user about a sales record (made by workflows or by hand)."""

    subject = models.CharField(max_length=200)
    sales_record = models.ForeignKey(SalesRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities", db_constraint=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales_activities", db_index=False
    )  # activity_user_due_idx
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    # Informational (the ORM sets it NULL when a workflow is deleted): no per-row FK check on mass inserts.
    workflow = models.ForeignKey(
        SalesWorkflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities", db_index=False, db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["done", "due_date", "id"]
        indexes = [models.Index(fields=["assigned_to", "done", "due_date"], name="activity_user_due_idx")]

    def __str__(self):
        return self.subject
