"""Employees of employer groups, their benefits levels, and the history of their sync to the platform."""

import uuid

from django.db import models

from integrations.attempts import Attempt


class BenefitsLevel(models.Model):
    """A level of benefits an employee is offered, mapped onto one of the platform's packages."""

    name = models.CharField(max_length=100, unique=True)
    package_code = models.CharField(
        "platform package",
        max_length=40,
        blank=True,
        help_text="The benefits platform's package code (e.g. STANDARD). Blank: no mapping, and sync is refused.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Employee(models.Model):
    """An employee of an employer group, as HR keeps them, and where they stand on the benefits platform."""

    class SyncState(models.TextChoices):
        NOT_SYNCING = "not_syncing", "Not syncing"
        IN_PROGRESS = "in_progress", "In progress"
        SUCCESSFUL = "successful", "Successful"
        FAILED = "failed", "Failed"

    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        NON_BINARY = "X", "Non-binary"
        UNDISCLOSED = "U", "Not disclosed"

    class PayFrequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        BIWEEKLY = "biweekly", "Every two weeks"
        SEMIMONTHLY = "semimonthly", "Twice a month"
        MONTHLY = "monthly", "Monthly"

    # Stable across renames and re-imports: the idempotency keys sent to the platform derive from it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer_group = models.ForeignKey("plans.EmployerGroup", on_delete=models.PROTECT, related_name="employees")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    leave_date = models.DateField(null=True, blank=True)
    annual_pay = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pay_frequency = models.CharField(max_length=20, choices=PayFrequency.choices, blank=True)
    benefits_level = models.ForeignKey(BenefitsLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="employees")

    benefits_account_id = models.CharField("benefits account", max_length=40, blank=True, db_index=True)
    sync_state = models.CharField(max_length=20, choices=SyncState.choices, default=SyncState.NOT_SYNCING, db_index=True)
    # Every change to synced data bumps change_version; an attempt records the version it sent.
    change_version = models.PositiveIntegerField(default=0, editable=False)
    synced_version = models.PositiveIntegerField(default=0, editable=False)
    last_attempt = models.ForeignKey("SyncAttempt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [models.UniqueConstraint(fields=["employer_group", "email"], name="employee_email_unique_in_group")]
        indexes = [models.Index(fields=["sync_state", "last_name", "first_name"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.email:
            self.email = self.email.strip().lower()
        if self.leave_date and self.hire_date and self.leave_date < self.hire_date:
            raise ValidationError({"leave_date": "The leave date is before the hire date."})


class SyncAttempt(Attempt):
    """One try at bringing an employee onto the platform: what was sent, the outcome and why.

    Its status, lease, tries, retry times, reason, requester and HTTP calls are the sync engine's
    (``integrations.attempts.Attempt``); the employee's tab (``Employee.sync_state``) follows it.
    """

    class Action(models.TextChoices):
        LINK = "link", "Link existing account"
        CREATE = "create", "Create account"
        UPDATE = "update", "Update account"
        END_COVERAGE = "end_coverage", "End coverage"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="sync_attempts")
    version = models.PositiveIntegerField(help_text="The employee's change version this attempt sends.")
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    payload = models.JSONField("sent (personal data masked)", default=dict, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    account_id = models.CharField("benefits account", max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"]), models.Index(fields=["employee", "-created_at"])]

    def __str__(self):
        return f"{self.employee} · {self.get_action_display() or 'sync'} · {self.get_status_display()}"
