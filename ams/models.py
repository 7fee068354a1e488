"""The agency management system link: webhook secrets, the notification inbox, reconciliation runs,
the sync queue and identity conflicts. Ids themselves live in ``integrations.ExternalId``."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.jobs import ACTIVE, Job
from integrations.attempts import Attempt


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


class Notification(Job):
    """The inbox: each change notification the AMS pushed, stored before the webhook answers, then
    processed as a row of work (``core.jobs``): queued, running, retrying, succeeded or failed.

    A notification about a retired id or a record that needs nothing succeeds with a reason starting
    "Ignored: ". ``created_at`` is when it was received, ``finished_at`` when it was processed."""

    notification_id = models.CharField(max_length=64, unique=True, help_text="The AMS's id: a repeated delivery is stored once.")
    record_type = models.CharField(max_length=40)
    record_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="ams_notification_status_idx")]

    def __str__(self):
        return f"{self.record_type} {self.record_id} ({self.get_status_display()})"

    @property
    def ignored(self) -> bool:
        return self.status == self.Status.SUCCEEDED and self.reason.startswith("Ignored: ")


class Reconciliation(Job):
    """One walk of the AMS's customers and policies that repairs whatever notifications missed: a row
    of work (``core.jobs``). One walk at a time: a second "Reconcile now" joins the active one."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Daily schedule"
        PERSON = "person", "Reconcile now"

    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.PERSON)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customers_seen = models.PositiveIntegerField(default=0)
    policies_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField("records created", default=0)
    updated = models.PositiveIntegerField("records updated", default=0)
    retired = models.PositiveIntegerField("ids retired", default=0)
    failed = models.PositiveIntegerField("records failed", default=0)
    soap_calls = models.PositiveIntegerField(default=0)

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            # One walk at a time: a second "Reconcile now" joins the active one (a swept run stays active).
            models.UniqueConstraint(fields=["status"], condition=models.Q(status__in=list(ACTIVE)), name="reconciliation_one_active"),
        ]

    def __str__(self):
        return f"Reconciliation #{self.pk} ({self.get_status_display()})"

    @property
    def repaired(self) -> int:
        return self.created + self.updated + self.retired


class SyncAttempt(Attempt):
    """The sync queue: one record brought from the AMS or pushed to (or removed from) the CRM, as an
    attempt (``integrations.attempts``): intent recorded on commit, the call made outside any
    transaction, the outcome recorded after; In progress, Successful, Failed with the reason.

    Syncs a notification or a reconciliation made are recorded here when they finish (they ran as
    that notification's or that walk's work); a person's link and every CRM push run as their own."""

    class Direction(models.TextChoices):
        FROM_AMS = "from_ams", "From the agency management system"
        TO_CRM = "to_crm", "To the CRM"

    class Operation(models.TextChoices):
        SYNC = "sync", "Sync"
        REMOVE = "remove", "Remove"

    direction = models.CharField(max_length=10, choices=Direction.choices)
    operation = models.CharField(
        max_length=10, choices=Operation.choices, default=Operation.SYNC, help_text="Remove: the record was merged away here; its copy there goes."
    )
    external_id = models.CharField(
        "far-side id", max_length=200, blank=True, help_text="The AMS customer id, or the CRM reference (our idempotency key there)."
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    record_repr = models.CharField("record", max_length=200, blank=True)
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts")
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts")
    outcome = models.CharField(max_length=40, blank=True, help_text="created, updated, unchanged, retired, ignored, upserted, removed")
    changes = models.JSONField("changed fields", default=list, blank=True)

    class Meta(Attempt.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="ams_syncattempt_record_idx")]

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
            models.UniqueConstraint(
                fields=["content_type", "object_id", "other_object_id"], condition=models.Q(status="open"), name="identityconflict_one_open_per_pair"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.external_id}"

    def records(self):
        model = self.content_type.model_class()
        found = model._default_manager.in_bulk([self.object_id, self.other_object_id])
        return found.get(self.object_id), found.get(self.other_object_id)
