"""The benefits-admin link: cached accounts, group <-> account links, per-plan choices with the
snapshot both sides last agreed on, sync runs with per-plan outcomes, and conflicts for a person."""

from django.conf import settings
from django.db import models

from core.display import datetime_text
from core.jobs import Status as JobStatus
from integrations.attempts import Attempt


class BenefitsAdminAccount(models.Model):
    """The local list of the benefits-admin system's accounts (searched at once; refreshed on demand)."""

    account_id = models.PositiveIntegerField("account ID", unique=True)
    name = models.CharField("account name", max_length=200, db_index=True)
    classification = models.CharField(max_length=40, blank=True)
    account_type = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)
    office_name = models.CharField(max_length=100, blank=True)
    last_modified_on = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "account_id"]
        verbose_name = "benefits-admin account"

    def __str__(self):
        return f"{self.name} ({self.account_id})"


class AccountLink(models.Model):
    """An employer group linked to one benefits-admin account (one each way)."""

    group = models.OneToOneField("plans.EmployerGroup", on_delete=models.CASCADE, related_name="benefits_admin_link")
    account_id = models.PositiveIntegerField("account ID", unique=True)
    account_name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group__name"]
        verbose_name = "plan sync link"

    def __str__(self):
        return f"{self.group.name} ↔ {self.account_name} ({self.account_id})"


class RemotePlan(models.Model):
    """The last seen copy of a benefits-admin product (and its rate), for choosing and previews."""

    product_id = models.PositiveIntegerField("product ID", unique=True)
    account_id = models.PositiveIntegerField("account ID", db_index=True)
    data = models.JSONField(default=dict)
    rate = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(auto_now=True)
    # A plan added there for an AMS customer's account becomes an AMS policy: claimed before the insert
    # (so a retry looks the policy up instead of inserting again), then its PolicyId.
    ams_insert_started_at = models.DateTimeField("AMS policy insert started", null=True, blank=True)
    ams_policy_id = models.CharField("AMS policy id", max_length=64, blank=True)

    class Meta:
        ordering = ["account_id", "product_id"]
        verbose_name = "benefits-admin plan"

    def __str__(self):
        return f"{self.data.get('name', '')} ({self.product_id})"


class Side(models.TextChoices):
    AGENCYDESK = "agencydesk", "AgencyDesk"
    BENEFITS_ADMIN = "benefits_admin", "Benefits-admin system"


class PlanChoice(models.Model):
    """What a person chose for one plan of a linked group, and the state of its sync."""

    class Choice(models.TextChoices):
        DONT_SYNC = "dont_sync", "Don't sync"
        CREATE_THERE = "create_there", "Sync to the other system without linking (create it there)"
        LINK = "link", "Link with a plan on the other side"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the first sync"
        SYNCED = "synced", "Synced"
        REMOVED_THERE = "removed_there", "Removed there: keep or archive?"
        ENDED = "ended", "Not syncing"

    link = models.ForeignKey(AccountLink, on_delete=models.CASCADE, related_name="choices")
    plan = models.OneToOneField("plans.Plan", on_delete=models.CASCADE, null=True, blank=True, related_name="plan_sync_choice")
    product_id = models.PositiveIntegerField("benefits-admin product ID", null=True, blank=True, unique=True)
    choice = models.CharField(max_length=20, choices=Choice.choices)
    truth_details = models.CharField("source of truth: details", max_length=20, choices=Side.choices, default=Side.BENEFITS_ADMIN)
    truth_benefits = models.CharField("source of truth: benefits", max_length=20, choices=Side.choices, default=Side.BENEFITS_ADMIN)
    truth_rates = models.CharField("source of truth: rates", max_length=20, choices=Side.choices, default=Side.BENEFITS_ADMIN)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    # The values both sides last agreed on, in the benefits-admin system's terms (mapping.comparable_*).
    snapshot = models.JSONField(default=dict, blank=True)
    local_version = models.PositiveIntegerField(default=0, help_text="The plan's version the snapshot reflects.")
    remote_modified_on = models.CharField(max_length=40, blank=True, help_text="The product's lastModifiedOn the snapshot reflects.")
    rate_id = models.PositiveIntegerField("benefits-admin rate ID", null=True, blank=True, unique=True)
    rate_modified_on = models.CharField(max_length=40, blank=True)
    needs_pull = models.BooleanField(default=False, help_text="The product changed there since the snapshot.")
    needs_rate_pull = models.BooleanField(default=False, help_text="The rate changed there since the snapshot.")
    # Set before a create there is sent: a later try looks the marker up first (no second record).
    create_started_at = models.DateTimeField(null=True, blank=True)
    # The values being written there, committed before the write: a later try that finds them there
    # (the record step never ran) takes them as agreed, not as a change made there.
    pending_push = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["link", "id"]
        verbose_name = "plan choice"
        constraints = [
            models.CheckConstraint(condition=models.Q(plan__isnull=False) | models.Q(product_id__isnull=False), name="planchoice_has_a_side"),
            models.CheckConstraint(
                condition=~models.Q(choice="link") | models.Q(plan__isnull=False, product_id__isnull=False), name="planchoice_link_has_both"
            ),
        ]

    def __str__(self):
        if self.plan_id:
            return str(self.plan)
        return f"{self.snapshot.get('name') or 'Benefits-admin plan'} ({self.product_id})"


class PlanSyncRun(Attempt):
    """One sync of one linked group, on the one sync engine (``integrations.attempts``): queued, claimed
    with a lease, retried by the one retry policy, swept when its worker dies. Never two running for
    a group at once (the database holds that); a request while one waits joins the waiting one."""

    class Trigger(models.TextChoices):
        HOURLY = "hourly", "Hourly schedule"
        MANUAL = "manual", "Sync now"
        RESOLVE = "resolve", "Conflict resolved"
        EDIT = "edit", "Plan edited here"

    link = models.ForeignKey(AccountLink, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.HOURLY)
    history = models.JSONField(default=list, blank=True, help_text="What happened, try by try, in words.")

    class Meta(Attempt.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = "plan sync run"
        constraints = [models.UniqueConstraint(fields=["link"], condition=models.Q(status="running"), name="plansyncrun_one_running_per_link")]

    def __str__(self):
        return f"{self.link.group.name} · {datetime_text(self.created_at)} · {self.get_status_display()}"


class PlanSyncItem(models.Model):
    """The outcome of one plan in one try of a run: what changed (field, old -> new, direction) or why it
    failed. Not a job of its own: its run holds the lease; its words are the run's (running, succeeded, failed)."""

    class Status(models.TextChoices):
        RUNNING = JobStatus.RUNNING.value, JobStatus.RUNNING.label
        SUCCEEDED = JobStatus.SUCCEEDED.value, JobStatus.SUCCEEDED.label
        FAILED = JobStatus.FAILED.value, JobStatus.FAILED.label

    run = models.ForeignKey(PlanSyncRun, on_delete=models.CASCADE, related_name="items")
    run_try = models.PositiveSmallIntegerField("try", default=1)
    choice = models.ForeignKey(PlanChoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    plan_label = models.CharField("plan", max_length=250)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    action = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "id"]
        verbose_name = "plan outcome"

    def __str__(self):
        return f"{self.plan_label}: {self.get_status_display()}"


class PlanSyncConflict(models.Model):
    """A field changed on both sides to different values, or a plan removed there: a person decides."""

    class Kind(models.TextChoices):
        FIELD = "field", "Changed on both sides"
        REMOVED = "removed", "Removed there: keep or archive?"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        AGENCYDESK = "agencydesk", "Keep AgencyDesk's value"
        BENEFITS_ADMIN = "benefits_admin", "Take the benefits-admin system's value"
        KEEP = "keep", "Keep the plan here (stop syncing it)"
        ARCHIVE = "archive", "Archive the plan here"

    choice = models.ForeignKey(PlanChoice, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FIELD)
    field = models.CharField(max_length=60, blank=True)
    local_value = models.JSONField("AgencyDesk's value", null=True, blank=True)
    remote_value = models.JSONField("benefits-admin value", null=True, blank=True)
    agreed_value = models.JSONField("last agreed value", null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = "plan sync conflict"
        constraints = [
            models.UniqueConstraint(fields=["choice", "field"], condition=models.Q(status="open"), name="plansyncconflict_one_open_per_field")
        ]

    def __str__(self):
        return f"{self.choice}: {self.get_kind_display()} {self.field}".strip()


class SyncCursor(models.Model):
    """The findChanges watermark: the server's ``processStartedOn`` of the last pass."""

    name = models.CharField(max_length=40, unique=True, default="benefits_admin")
    watermark = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name}: {self.watermark}"
