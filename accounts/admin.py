from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from core import display
from core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from integrations.models import ExternalId

from .forms import SecurityGroupForm
from .models import Agent, ApiToken, AuditLog, SecurityGroup, User
from .rights import Area, Level
from .services import api_tokens_revoke, login_unlock, user_invite, user_password_save, user_save


def _level_column(area: Area):
    """A security group's level in one area as a word; no access reads "—"."""

    def column(group):
        level = getattr(group, area.value)
        return display.EMPTY if level == Level.NONE else Level(level).label

    column.__name__ = f"level_{area.value}"
    return admin.display(description=area.label, ordering=area.value)(column)


@admin.register(SecurityGroup)
class SecurityGroupAdmin(AuditedModelAdmin):
    form = SecurityGroupForm
    change_form_template = "admin/accounts/securitygroup/change_form.html"
    list_display = ["name", *[_level_column(a) for a in Area], "view_full_personal_data"]
    search_fields = ["name"]

    def render_change_form(self, request, context, *args, **kwargs):
        context["levels"] = [(value, "No access" if value == Level.NONE else label) for value, label in Level.choices]
        response = super().render_change_form(request, context, *args, **kwargs)
        if not context.get("has_change_permission") and not context.get("add"):
            # View only: the form has no inputs for the matrix; the stock page lists each level as text.
            response.template_name = ["admin/accounts/change_form.html", "admin/change_form.html"]
        return response


class PasswordChangeForm(AdminPasswordChangeForm):
    """Sets the password on the user; ``UserAdmin`` saves it through ``user_password_save`` (audited)."""

    def save(self, commit=True):
        return super().save(commit=False)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    list_display = ["username", "first_name", "last_name", "email", "security_group", "is_active", "last_login"]
    list_filter = ["security_group", "is_active", "is_superuser"]
    list_select_related = ["security_group"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Rights", {"fields": ("security_group", "is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "security_group", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]
    actions = ["unlock_login", "send_invitation"]

    @admin.action(description="Send an invitation (a link to choose a password) by email", permissions=["change"])
    def send_invitation(self, request, queryset):
        sent = [user for user in queryset if user.email]
        for user in sent:
            user_invite(actor=request.user, user=user, site_url=request.build_absolute_uri("/"))
        skipped = queryset.count() - len(sent)
        self.message_user(request, f"Invitation sent to {len(sent)} user(s)" + (f"; {skipped} without an email address skipped." if skipped else "."))

    @admin.action(description="Unlock login of the selected users", permissions=["change"])
    def unlock_login(self, request, queryset):
        cleared = sum(login_unlock(actor=request.user, username=u.username) for u in queryset)
        self.message_user(request, f"Unlocked {queryset.count()} user(s); {cleared} address(es) cleared.")

    def get_readonly_fields(self, request, obj=None):
        # Managing users is a flag of a security group; making a superuser (who passes every check) is not.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, "is_superuser"]

    def log_change(self, request, obj, message):
        # Django's password view calls form.save() then log_change(); the save happens here, audited.
        if request.resolver_match and request.resolver_match.url_name == "auth_user_password_change":
            user_password_save(actor=request.user, user=obj)
        return super().log_change(request, obj, message)

    def save_model(self, request, obj, form, change):
        user_save(actor=request.user, user=obj, changed=list(form.changed_data) if change else None)

    delete_model = AuditedModelAdmin.delete_model
    delete_queryset = AuditedModelAdmin.delete_queryset


@admin.register(Agent)
class AgentAdmin(AuditedModelAdmin):
    list_display = ["__str__", "email", "phone", "npn", "user", "active"]
    list_filter = ["active"]
    search_fields = ["first_name", "last_name", "email", "npn"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    list_display = ["when", "who", "action", "record", "what_changed"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_repr", "object_repr", "summary"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type", "actor"]
    show_full_result_count = False
    fields = ["when", "who", "action", "record", "summary", "changes", "details"]
    readonly_fields = fields
    LIST_CHANGES = 4  # lines of "what changed" in the list; the entry's page has them all

    @admin.display(description="When", ordering="created_at")
    def when(self, obj):
        return format_html('<span class="ad-nowrap">{}</span>', display.datetime_text(obj.created_at))

    @admin.display(description="Who", ordering="actor_repr")
    def who(self, obj):
        """The person's name (their username when they have none); a sync names its system; else "System"."""
        system = (obj.data or {}).get("system") if isinstance(obj.data, dict) else None
        if obj.actor is not None:
            return obj.actor.get_full_name() or obj.actor.get_username()
        if obj.actor_repr:
            return obj.actor_repr
        return f"System ({ExternalId.System(system).label})" if system in ExternalId.System.values else "System"

    @admin.display(description="Record", ordering="object_repr")
    def record(self, obj):
        kind = capfirst(obj.content_type.model_class()._meta.verbose_name) if obj.content_type and obj.content_type.model_class() else ""
        label = f"{kind}: {obj.object_repr}" if kind and obj.object_repr else (kind or obj.object_repr or display.EMPTY)
        url = ""
        if obj.content_type and obj.object_id and obj.action != AuditLog.Action.DELETE:
            try:
                url = reverse(f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change", args=[obj.object_id])
            except NoReverseMatch:
                url = ""
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description="What changed")
    def what_changed(self, obj):
        changes = (obj.data or {}).get("changes") if isinstance(obj.data, dict) else None
        if changes:
            shown = dict(list(changes.items())[: self.LIST_CHANGES])
            more = len(changes) - len(shown)
            return format_html("{}{}", display.changes_html(shown), f"… and {more} more" if more > 0 else "")
        return obj.summary or display.EMPTY

    @admin.display(description="Changes (old → new)")
    def changes(self, obj):
        changes = (obj.data or {}).get("changes") if isinstance(obj.data, dict) else None
        return display.changes_html(changes) or display.EMPTY

    @admin.display(description="Details")
    def details(self, obj):
        data = obj.data if isinstance(obj.data, dict) else {}
        rest = {k: v for k, v in data.items() if k not in ("changes",) and not (k == "fields" and data.get("changes"))}
        if "fields" in rest:
            rest["fields"] = [display.humanize_key(f) for f in rest["fields"]]
        return display.definition_list(rest)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Failed logins per username and address (django-axes); deleting a row unlocks that pair, audited."""

    def delete_model(self, request, obj):
        self._unlock(request, [obj])

    def delete_queryset(self, request, queryset):
        self._unlock(request, list(queryset))

    def _unlock(self, request, attempts):
        for attempt in attempts:
            login_unlock(actor=request.user, username=attempt.username, ip_address=attempt.ip_address)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens are issued by ``POST /api/auth/token/`` and shown only then; here they are listed (never
    their value: only a digest is stored) and revoked (deleted, audited)."""

    list_display = ["user", "created", "expiry"]
    list_filter = ["expiry"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        api_tokens_revoke(actor=request.user, user=obj.user, reason="revoked by an administrator", tokens=ApiToken.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            self.delete_model(request, token)
