from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from core.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from .forms import SecurityGroupForm
from .models import Agent, ApiToken, AuditLog, SecurityGroup, User
from .rights import Area, Level
from .services import api_tokens_revoke, login_unlock, user_invite, user_password_save, user_save


@admin.register(SecurityGroup)
class SecurityGroupAdmin(AuditedModelAdmin):
    form = SecurityGroupForm
    change_form_template = "admin/accounts/securitygroup/change_form.html"
    list_display = ["name", *[a.value for a in Area], "view_full_personal_data"]
    search_fields = ["name"]

    def render_change_form(self, request, context, *args, **kwargs):
        context["levels"] = Level.choices
        return super().render_change_form(request, context, *args, **kwargs)


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
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "security_group", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    actions = ["unlock_login", "send_invitation"]

    @admin.action(description="Send an invitation (a link to choose a password) by email", permissions=["change"])
    def send_invitation(self, request, queryset):
        sent = [user for user in queryset if user.email]
        for user in sent:
            user_invite(actor=request.user, user=user, site_url=request.build_absolute_uri("/"))
        skipped = queryset.count() - len(sent)
        self.message_user(request, f"Invitation sent to {len(sent)} user(s)"
                          + (f"; {skipped} without an email address skipped." if skipped else "."))

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
    list_display = ["created_at", "actor_repr", "action", "content_type", "object_repr", "summary"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_repr", "object_repr", "summary"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type"]
    show_full_result_count = False


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
        api_tokens_revoke(actor=request.user, user=obj.user, reason="revoked by an administrator",
                          tokens=ApiToken.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            self.delete_model(request, token)
