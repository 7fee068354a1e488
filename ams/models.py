"""The agency management system link: webhook secrets, the notification inbox, reconciliation runs,
the sync queue and identity conflicts. Ids themselves live in ``integrations.ExternalId``."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class WebhookSecret(models.Model):
    """A shared secret the AMS signs its notifications with. Several may be active during a rotation."""

    name = models.CharField(max_length=100)
    secret = models.CharField(max_length=200, help_text="The HMAC-SHA256 key configured in the agency management system.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-active", "name"]

    def __str__(self):
        return self.name


class Notification(models.Model):
    """The inbox: each change notification the AMS pushed, stored before the webhook answers."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    notification_id = models.CharField(max_length=64, unique=True, help_text="The AMS's id: a repeated delivery is stored once.")
    record_type = models.CharField(max_length=40)
    record_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict)
    deliveries = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self):
        return f"{self.record_type} {self.record_id} ({self.get_status_display()})"


class Reconciliation(models.Model):
    """One walk of the AMS's customers and policies that repairs whatever notifications missed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Daily schedule"
        PERSON = "person", "Reconcile now"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.PERSON)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    customers_seen = models.PositiveIntegerField(default=0)
    policies_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField("records created", default=0)
    updated = models.PositiveIntegerField("records updated", default=0)
    retired = models.PositiveIntegerField("ids retired", default=0)
    failed = models.PositiveIntegerField("records failed", default=0)
    soap_calls = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One walk at a time: a second "Reconcile now" joins the running one.
            models.UniqueConstraint(fields=["status"], condition=models.Q(status__in=["queued", "running"]),
                                    name="reconciliation_one_active"),
        ]

    def __str__(self):
        return f"Reconciliation #{self.pk} ({self.get_status_display()})"

    @property
    def repaired(self) -> int:
        return self.created + self.updated + self.retired


class SyncAttempt(models.Model):
    """The sync queue: one record brought from the AMS or pushed to the CRM, with the outcome and why."""

    class Direction(models.TextChoices):
        FROM_AMS = "from_ams", "From the agency management system"
        TO_CRM = "to_crm", "To the CRM"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUCCEEDED = "succeeded", "Successful"
        FAILED = "failed", "Failed"

    direction = models.CharField(max_length=10, choices=Direction.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS, db_index=True)
    external_id = models.CharField("far-side id", max_length=200, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    record_repr = models.CharField("record", max_length=200, blank=True)
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts")
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts")
    outcome = models.CharField(max_length=40, blank=True, help_text="created, updated, unchanged, retired, ignored")
    changes = models.JSONField("changed fields", default=list, blank=True)
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-started_at"])]

    def __str__(self):
        return f"{self.get_direction_display()} · {self.record_repr or self.external_id} · {self.get_status_display()}"


class IdentityConflict(models.Model):
    """Two local records for one far-side identity: a person merges them or keeps them apart."""

    class Kind(models.TextChoices):
        SHARED_ID = "shared_id", "Two local records claim one far-side id"
        FAR_SIDE_DUPLICATE = "far_side_duplicate", "A duplicate was merged in the far-side system"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        SEPARATED = "separated", "Kept separate"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    system = models.CharField(max_length=30, default="ams")
    object_type = models.CharField(max_length=60)
    external_id = models.CharField("far-side id", max_length=200)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(help_text="The record that keeps the far-side id (the survivor).")
    other_object_id = models.PositiveBigIntegerField(help_text="The other local record.")
    description = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "other_object_id"], condition=models.Q(status="open"),
                                    name="identityconflict_one_open_per_pair"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.external_id}"

    def records(self):
        model = self.content_type.model_class()
        found = model._default_manager.in_bulk([self.object_id, self.other_object_id])
        return found.get(self.object_id), found.get(self.other_object_id)
