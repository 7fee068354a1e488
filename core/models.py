"""The audit log: every app writes it (through ``core.audit``), so its model lives where every app can
import it without importing ``accounts``; it stays in the accounts app (label, admin, migrations)."""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditLog(models.Model):
    """Append-only: who did what to which record, when. Written only by ``core.audit.audit``."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        BULK = "bulk", "Bulk job"
        REVEAL = "reveal", "Revealed personal data"
        EXPORT = "export", "Exported"
        IMPORT = "import", "Imported"
        SYNC = "sync", "Synced"
        LOGIN_FAILED = "login_failed", "Login failed"
        OTHER = "other", "Other"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_repr = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "accounts"  # its admin, permissions and migrations belong to accounts
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["action", "object_repr", "created_at"]),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_repr or 'system'} {self.get_action_display()} {self.object_repr}"
