from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from knox.models import AbstractAuthToken, AuthTokenManager

from core import display
from core.models import AuditLog  # noqa: F401 (the audit log is the accounts app's; its code is shared in core)

from .rights import Area, Flag, Level


def _level_field(area: Area):
    return models.PositiveSmallIntegerField(area.label, choices=Level.choices, default=Level.NONE)


class SecurityGroup(models.Model):
    """A level per area plus administrative flags; every user belongs to exactly one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    individuals = _level_field(Area.INDIVIDUALS)
    policies = _level_field(Area.POLICIES)
    sales = _level_field(Area.SALES)
    plans = _level_field(Area.PLANS)
    benefits_sync = _level_field(Area.BENEFITS_SYNC)
    carrier_connections = _level_field(Area.CARRIER_CONNECTIONS)
    reporting = _level_field(Area.REPORTING)
    administration = _level_field(Area.ADMINISTRATION)
    manage_users = models.BooleanField(Flag.MANAGE_USERS.label, default=False)
    manage_custom_fields = models.BooleanField(Flag.MANAGE_CUSTOM_FIELDS.label, default=False)
    manage_workflows = models.BooleanField(Flag.MANAGE_WORKFLOWS.label, default=False)
    view_full_personal_data = models.BooleanField(Flag.VIEW_FULL_PERSONAL_DATA.label, default=False)
    search_by_personal_data = models.BooleanField(Flag.SEARCH_BY_PERSONAL_DATA.label, default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [(flag.value, flag.label) for flag in Flag]

    def __str__(self):
        return self.name

    @property
    def levels(self) -> dict[str, int]:
        return {area.value: getattr(self, area.value) for area in Area}

    @property
    def flags(self) -> set[str]:
        return {flag.value for flag in Flag if getattr(self, flag.value)}


class User(AbstractUser):
    # Every user of AgencyDesk is agency staff working in the admin.
    is_staff = models.BooleanField("staff status", default=True)
    security_group = models.ForeignKey(SecurityGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="users")

    def clean(self):
        super().clean()
        if not self.is_superuser and self.security_group_id is None:
            raise ValidationError({"security_group": "Every user belongs to a security group."})

    def area_level(self, area: Area) -> Level:
        if self.is_superuser:
            return Level.DELETE
        if not self.is_active or self.security_group is None:
            return Level.NONE
        return Level(self.security_group.levels[area.value])


class Agent(models.Model):
    """A servicing agent; linked to a user when the agent logs in."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    npn = models.CharField("National producer number", max_length=20, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="agent")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["npn"], condition=~models.Q(npn=""), name="agent_npn_unique"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class ApiTokenManager(AuthTokenManager):
    def get_queryset(self):
        # knox looks a request's token up with its user; the user's security group comes in the same
        # query, so the permission checks that follow need none of their own.
        return super().get_queryset().select_related("user__security_group")


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox's model, swapped in): only a SHA-512 digest is stored, the token
    itself is shown once; it expires after ``API_TOKEN_TTL_HOURS`` and dies with the password it was
    issued under (``credentials_hash``) or when its user is deactivated."""

    objects = ApiTokenManager()

    credentials_hash = models.CharField(max_length=128, editable=False)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.user} (created {display.datetime_text(self.created)})"
