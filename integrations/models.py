from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ExternalId(models.Model):
    """The external-id registry: one outside system's id for one local record.

    The database holds two rules: (system, object type, external id) names exactly one local record,
    for ever (a retired id keeps its row, pointing at the survivor, so it can never link again); and
    a local record has at most one *active* id per system and object type, so a second system's copy
    of a record links instead of duplicating.
    """

    class System(models.TextChoices):
        BENEFITS_PLATFORM = "benefits_platform", "Benefits platform"
        BENEFITS_ADMIN = "benefits_admin", "Benefits admin"
        CARRIER_EXCHANGE = "carrier_exchange", "Carrier exchange"
        AMS = "ams", "Agency management system"
        CRM = "crm", "CRM"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired (merged or deleted upstream)"

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    system = models.CharField(max_length=30, choices=System.choices)
    # The outside system's own name for the kind of object ("account", "plan", "contact", ...).
    object_type = models.CharField(max_length=60)
    external_id = models.CharField(max_length=200)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    # Every local model has an integer primary key; an integer column keeps joins cheap.
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For an id retired by a merge upstream: the survivor's id.",
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    last_change_seen_at = models.DateTimeField("last change seen", null=True, blank=True)
    last_synced_at = models.DateTimeField("last sync", null=True, blank=True)
    last_sync_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_sync_reason = models.TextField(blank=True)
    # What both sides last agreed on (a hash of the mapped values): unchanged -> no write, no push.
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "external id"
        ordering = ["system", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "object_type", "external_id"], name="externalid_unique_external"),
            models.UniqueConstraint(
                fields=["system", "object_type", "content_type", "object_id"],
                condition=models.Q(status="active"),
                name="externalid_unique_local_active",
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", superseded_by__isnull=True) | models.Q(status="retired"),
                name="externalid_only_retired_superseded",
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.get_system_display()} {self.object_type} {self.external_id}"
