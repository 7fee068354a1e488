"""What every app writes: the audit log and import jobs (a ``core.jobs.Job``).

The audit log's model lives here so that every app can import it without importing ``accounts``; it
stays the accounts app's model (label, admin, migrations)."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core import display
from core.jobs import Job


class AuditLog(models.Model):
    """Append-only: who did what to which record, when. Written only by ``core.audit.audit``."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        BULK = "bulk", "Bulk job"
        REVEAL = "reveal", "Revealed personal data"
        SEARCH = "search", "Searched by personal data"
        EXPORT = "export", "Exported"
        IMPORT = "import", "Imported"
        SYNC = "sync", "Synced"
        LOGIN_FAILED = "login_failed", "Login failed"
        OTHER = "other", "Other"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
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
        return f"{display.datetime_text(self.created_at)} {self.actor_repr or 'system'} {self.get_action_display()} {self.object_repr}"


class ImportJob(Job):
    """A large CSV/XLSX upload imported by a Celery task (all or nothing); its report is kept here.

    A ``core.jobs.Job``: queued -> running -> succeeded (the report says whether it was written: a
    file with invalid rows, or a dry run, writes nothing) or failed (``reason``: the file could not be read).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=50, help_text="What is imported: individuals, policies, employees, ...")
    resource = models.CharField(max_length=200, help_text="The django-import-export resource class (dotted path).")
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded file's name.")
    file_format = models.CharField(max_length=10)
    file_path = models.CharField(max_length=255, blank=True, help_text="The stored upload, relative to MEDIA_ROOT.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    dry_run = models.BooleanField(default=True)
    rows = models.PositiveIntegerField(default=0, help_text="Rows checked so far (all of them once finished).")
    rows_written = models.PositiveIntegerField(default=0, help_text="Rows written so far (after every row was checked).")
    error_rows = models.PositiveIntegerField(default=0)
    written = models.BooleanField(default=False)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="importjob_owner_idx")]

    def __str__(self):
        return f"Import #{self.pk} of {self.kind} ({self.get_status_display()})"
