from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """A large CSV/XLSX upload imported by a Celery task (all or nothing); its report is kept here."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=50, help_text="What is imported: individuals, policies, employees, ...")
    resource = models.CharField(max_length=200, help_text="The django-import-export resource class (dotted path).")
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded file's name.")
    file_format = models.CharField(max_length=10)
    file_path = models.CharField(max_length=255, blank=True, help_text="The stored upload, relative to MEDIA_ROOT.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    dry_run = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    written = models.BooleanField(default=False)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="importjob_owner_idx")]

    def __str__(self):
        return f"Import #{self.pk} of {self.kind} ({self.get_status_display()})"
