"""Carrier group connections (the Noyo contract), what the carrier holds for the group, and discrepancies."""

from django.conf import settings
from django.db import models

from core.jobs import ACTIVE
from integrations.attempts import Attempt
from integrations.clients.noyo import status_label

from .mapping import CONNECTION_STATUS_LABELS, FIELD_LABELS, SETTLED_STATUSES


class CarrierConnection(models.Model):
    """A connection request for one employer group with one carrier, as the service reports it.

    ``status`` is kept as the service sent it: a status the contract does not list is shown as
    "unknown: <value>" and polled like any open one. Blank, with no ``connection_id``: requested here,
    not yet taken by the service (its request attempt is under way).
    """

    employer_group = models.ForeignKey("plans.EmployerGroup", on_delete=models.PROTECT, related_name="carrier_connections")
    carrier = models.ForeignKey("plans.Carrier", on_delete=models.PROTECT, related_name="connections")
    noyo_carrier_id = models.CharField("carrier id at the service", max_length=36)
    connection_id = models.CharField("connection id", max_length=36, blank=True)
    group_id = models.CharField("group id at the service", max_length=36, blank=True, db_index=True)
    carrier_group_id = models.CharField("carrier group id", max_length=100)
    group_name = models.CharField(max_length=200)
    federal_ein = models.CharField("Federal EIN", max_length=10)
    broker_federal_ein = models.CharField("broker federal EIN", max_length=10, blank=True)
    broker_tin = models.CharField("broker TIN", max_length=20, blank=True)
    employer_email_address = models.EmailField("employer email", blank=True)
    status = models.CharField(max_length=60, db_index=True, blank=True)
    status_since = models.DateTimeField()
    setup_message = models.TextField("service's message", blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    unchanged_polls = models.PositiveIntegerField(default=0)
    poll_error = models.TextField(blank=True)
    last_pulled_at = models.DateTimeField("group data pulled", null=True, blank=True)
    pull_error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["employer_group", "carrier"],
                condition=~models.Q(status__in=SETTLED_STATUSES),
                name="carrierconnection_one_open_per_group_carrier",
            ),
            models.UniqueConstraint(fields=["connection_id"], condition=~models.Q(connection_id=""), name="carrierconnection_connection_id_unique"),
        ]

    def __str__(self):
        return f"{self.employer_group.name} · {self.carrier.name} ({self.carrier_group_id})"

    @property
    def status_display(self) -> str:
        if not self.status and not self.connection_id:
            return NOT_SENT_LABEL
        return status_label(self.status, CONNECTION_STATUS_LABELS)


NOT_SENT_LABEL = "Requested, not yet at the service"


class ConnectionAttempt(Attempt):
    """One unit of work with the service for a connection: send the request, poll, amend and retry, pull.

    The mechanism (claim, lease, retry, sweep) is ``integrations.attempts``; the status words here are
    ours (queued ... succeeded), the connection's own ``status`` stays the service's. At most one is
    active per connection, so a poll never races a retry. A request's attempt outlives a refused
    request (its connection is removed; ``connection`` becomes empty), so the refusal stays on record.
    """

    class Kind(models.TextChoices):
        REQUEST = "request", "Send the connection request"
        POLL = "poll", "Poll the status"
        RETRY = "retry", "Amend and retry"
        PULL = "pull", "Pull group data and compare"

    connection = models.ForeignKey(CarrierConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="work")
    employer_group = models.ForeignKey("plans.EmployerGroup", on_delete=models.CASCADE, related_name="+")
    carrier = models.ForeignKey("plans.Carrier", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True, help_text="What is sent (a request's body, a retry's amendments).")
    result = models.JSONField(default=dict, blank=True, help_text="What came of it (a pull's counts, a refusal's fields).")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection"], condition=models.Q(status__in=ACTIVE), name="connectionattempt_one_active_per_connection"),
        ]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_status_display()}"


class ConnectionEvent(models.Model):
    """One row of a connection's history: a status change, a request, or a retry."""

    class Source(models.TextChoices):
        REQUEST = "request", "Connection requested"
        POLL = "poll", "Status polled"
        RETRY = "retry", "Amended and retried"

    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=60)
    previous_status = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_source_display()}: {self.status_display}"

    @property
    def status_display(self) -> str:
        return status_label(self.status, CONNECTION_STATUS_LABELS)


class ConnectionAmendment(models.Model):
    """What a person changed before retrying a connection: ``{"field": {"from": ..., "to": ...}}``."""

    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="amendments")
    changes = models.JSONField(default=dict)
    attempt = models.PositiveSmallIntegerField(help_text="The attempt this amendment started.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.summary

    @property
    def summary(self) -> str:
        return "; ".join(f"{FIELD_LABELS.get(k, k)}: {v.get('from') or '—'} → {v.get('to') or '—'}" for k, v in self.changes.items()) or "No change"


class CarrierPlan(models.Model):
    """A plan as the carrier holds it for a connected group, linked to ours by an id (never by name)."""

    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="carrier_plans")
    noyo_id = models.CharField("plan id at the service", max_length=36)
    custom_plan_id = models.CharField(max_length=60, blank=True)
    plan = models.ForeignKey("plans.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    line_of_coverage = models.CharField(max_length=30, blank=True)
    effective_start_date = models.DateField(null=True, blank=True)
    effective_end_date = models.DateField(null=True, blank=True)
    pulled_at = models.DateTimeField()

    class Meta:
        ordering = ["connection", "line_of_coverage", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "noyo_id"], name="carrierplan_unique")]

    def __str__(self):
        return self.name or self.noyo_id


class CarrierMember(models.Model):
    """An employee as the carrier holds them, linked by ``custom_individual_id`` (our employee's uuid) or by a person."""

    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="members")
    noyo_id = models.CharField("employee id at the service", max_length=36)
    custom_individual_id = models.CharField(max_length=60, blank=True)
    employee = models.ForeignKey("hrsync.Employee", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    terminated_date = models.DateField(null=True, blank=True)
    employment_status = models.CharField(max_length=30, blank=True)
    coverage_tier = models.CharField(max_length=100, blank=True)
    pulled_at = models.DateTimeField()

    class Meta:
        ordering = ["connection", "last_name", "first_name"]
        constraints = [models.UniqueConstraint(fields=["connection", "noyo_id"], name="carriermember_unique")]
        indexes = [models.Index(fields=["connection", "employee"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip() or self.noyo_id


class MemberLink(models.Model):
    """A link a person confirmed between a carrier's member (no id of ours) and one of our employees."""

    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="member_links")
    noyo_id = models.CharField(max_length=36)
    employee = models.ForeignKey("hrsync.Employee", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "noyo_id"], name="memberlink_unique")]

    def __str__(self):
        return f"{self.noyo_id} → {self.employee}"


class Discrepancy(models.Model):
    """One difference between the carrier's view of a group and ours, worked by a person."""

    class Kind(models.TextChoices):
        MISMATCH = "mismatch", "Values differ"
        MISSING_AT_CARRIER = "missing_at_carrier", "Missing at the carrier"
        MISSING_HERE = "missing_here", "Missing in AgencyDesk"

    class Severity(models.IntegerChoices):
        COVERAGE = 1, "Coverage"
        PERSONAL = 2, "Personal data"
        CONTACT = 3, "Contact data"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        TOOK_CARRIER = "took_carrier", "Took the carrier's value"
        KEPT_OURS = "kept_ours", "Kept ours (flagged for the carrier)"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        CLOSED = "closed", "Closed: values agree"

    # No index of its own: every read by connection is served by discrepancy_unique's (connection, field, subject_key).
    connection = models.ForeignKey(CarrierConnection, on_delete=models.CASCADE, related_name="discrepancies", db_index=False)
    employer_group = models.ForeignKey("plans.EmployerGroup", on_delete=models.CASCADE, related_name="+")
    carrier = models.ForeignKey("plans.Carrier", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    field = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    # The carrier-side id when the carrier has the record ("member:<id>", "carrier_plan:<id>"), else ours.
    subject_key = models.CharField(max_length=80)
    subject = models.CharField("who or what", max_length=200, blank=True)
    employee = models.ForeignKey("hrsync.Employee", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    plan = models.ForeignKey("plans.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    carrier_value = models.CharField(max_length=255, blank=True)
    our_value = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    noyo_discrepancy_id = models.CharField("discrepancy id at the service", max_length=36, blank=True)
    noyo_status = models.CharField("status at the service", max_length=40, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "discrepancies"
        ordering = ["severity", "field", "id"]
        constraints = [models.UniqueConstraint(fields=["connection", "field", "subject_key"], name="discrepancy_unique")]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["connection", "last_seen_at"]),
            # Read only when a plan or a user is deleted (SET NULL): the rows that have one, so a new discrepancy
            # (a member's, not yet resolved) adds no entry to them.
            models.Index(fields=["plan"], condition=models.Q(plan__isnull=False), name="discrepancy_plan_idx"),
            models.Index(fields=["resolved_by"], condition=models.Q(resolved_by__isnull=False), name="discrepancy_resolved_by_idx"),
        ]

    def __str__(self):
        return f"{self.subject or self.subject_key}: {self.field_label}"

    @property
    def field_label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field.replace("_", " "))
