from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ExternalId(models.Model):
    """The external-id registry: one outside system's id for one local record.

    (system, object type, external id) names exactly one local record, and a local record has at
    most one id per system, so a second system's copy of a record links instead of duplicating.
    """

    class System(models.TextChoices):
        BENEFITS_PLATFORM = "benefits_platform", "Benefits platform"
        BENEFITS_ADMIN = "benefits_admin", "Benefits admin"
        CARRIER_EXCHANGE = "carrier_exchange", "Carrier exchange"
        AMS = "ams", "Agency management system"

    system = models.CharField(max_length=30, choices=System.choices)
    # The outside system's own name for the kind of object ("account", "plan", "contact", ...).
    object_type = models.CharField(max_length=60)
    external_id = models.CharField(max_length=200)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    # Every local model has an integer primary key; an integer column keeps joins cheap.
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "external id"
        ordering = ["system", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "object_type", "external_id"], name="externalid_unique_external"
            ),
            models.UniqueConstraint(
                fields=["system", "content_type", "object_id"], name="externalid_unique_local"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.get_system_display()} {self.object_type} {self.external_id}"
