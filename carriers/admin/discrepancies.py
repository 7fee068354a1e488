import re
from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin import AuditedModelAdmin
from core.display import EMPTY, humanize_key, person_name, text

from ..forms import LinkMemberForm
from ..models import Discrepancy
from ..selectors import discrepancy_list
from ..services import Resolution, discrepancies_resolve, member_link_confirm
from .common import EmployerGroupFilter, run_service


@admin.register(Discrepancy)
class DiscrepancyAdmin(AuditedModelAdmin):
    """The discrepancy queue: coverage-affecting first; select many and resolve them at once."""

    list_display = [
        "severity_badge",
        "field_label",
        "subject_link",
        "carrier_value_shown",
        "our_value_shown",
        "status",
        "where",
        "first_seen_at",
    ]
    list_display_links = ["field_label"]
    list_filter = ["status", "severity", "kind", "carrier", EmployerGroupFilter, "connection"]
    search_fields = ["subject", "carrier_value", "our_value", "employer_group__name"]
    ordering = ["severity", "field", "id"]
    actions = ["take_carrier", "keep_ours", "acknowledge"]
    list_per_page = 100
    fields = [
        "connection",
        "employer_group",
        "carrier",
        "kind",
        "field_label",
        "severity",
        "subject",
        "employee",
        "plan",
        "carrier_value_shown",
        "our_value_shown",
        "status",
        "noyo_discrepancy_id",
        "noyo_status_label",
        "resolved_by_name",
        "resolved_at",
        "first_seen_at",
        "last_seen_at",
        "link_member",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return discrepancy_list()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing is edited in place: the resolutions (list actions) are the acts.
        context = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    @admin.display(description="Severity", ordering="severity")
    def severity_badge(self, d):
        return format_html('<span class="sev sev-{}">{}</span>', d.severity, d.get_severity_display())

    @admin.display(description="Field", ordering="field")
    def field_label(self, d):
        return d.field_label

    @admin.display(description="Kind and where")
    def where(self, d):
        return format_html(
            '<span class="disc-kind">{}</span><br><span class="ad-muted">{} · {}</span>', d.get_kind_display(), d.employer_group.name, d.carrier.name
        )

    @admin.display(description="Status at the service")
    def noyo_status_label(self, d):
        return humanize_key(d.noyo_status) if d.noyo_status else EMPTY

    @admin.display(description="Resolved by")
    def resolved_by_name(self, d):
        return person_name(d.resolved_by)

    @admin.display(description="Who or what", ordering="subject")
    def subject_link(self, d):
        if d.employee_id:
            return format_html('<a href="{}">{}</a>', reverse("admin:hrsync_employee_change", args=[d.employee_id]), d.subject)
        if d.plan_id:
            return format_html('<a href="{}">{}</a>', reverse("admin:plans_plan_change", args=[d.plan_id]), d.subject)
        return d.subject or "—"

    @admin.display(description="Carrier's value", ordering="carrier_value")
    def carrier_value_shown(self, d):
        return self._value(d.carrier_value)

    @admin.display(description="Our value", ordering="our_value")
    def our_value_shown(self, d):
        return self._value(d.our_value)

    @staticmethod
    def _value(value: str) -> str:
        if value == "present":
            return "Present"
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                return text(date.fromisoformat(value))
            except ValueError:
                return value
        if "@" in value and " " not in value:  # an email: it may wrap after "@" or a dot, never mid-name
            return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in re.split(r"(?<=[@.])", value)))
        return value or EMPTY

    @admin.display(description="Link")
    def link_member(self, d):
        if d.kind != Discrepancy.Kind.MISSING_HERE or not d.subject_key.startswith("member:"):
            return "—"
        return format_html(
            '<a class="button" href="{}" id="link-member">Link to one of our employees…</a>', reverse("admin:carriers_discrepancy_link", args=[d.pk])
        )

    # --- resolutions: one line each, through the service ----------------------------------------
    def _resolve(self, request, queryset, resolution):
        result = discrepancies_resolve(actor=request.user, discrepancies=queryset, resolution=resolution)
        label = Resolution(resolution).label
        if result["resolved"]:
            self.message_user(
                request, f"{label}: {result['resolved']} discrepanc{'y' if result['resolved'] == 1 else 'ies'} resolved.", messages.SUCCESS
            )
        for pk, reason in list(result["errors"].items())[:10]:
            self.message_user(request, f"#{pk} not resolved: {reason}", messages.ERROR)
        if result["refused"] > 10:
            self.message_user(request, f"…and {result['refused'] - 10} more not resolved.", messages.ERROR)

    @admin.action(description="Take the carrier's value", permissions=["change"])
    def take_carrier(self, request, queryset):
        self._resolve(request, queryset, Resolution.TAKE_CARRIER)

    @admin.action(description="Keep ours (flag for the carrier)", permissions=["change"])
    def keep_ours(self, request, queryset):
        self._resolve(request, queryset, Resolution.KEEP_OURS)

    @admin.action(description="Acknowledge", permissions=["change"])
    def acknowledge(self, request, queryset):
        self._resolve(request, queryset, Resolution.ACKNOWLEDGE)

    def get_urls(self):
        return [path("<int:pk>/link/", self.admin_site.admin_view(self.link_view), name="carriers_discrepancy_link"), *super().get_urls()]

    def link_view(self, request, pk):
        """A person confirms which of our employees a carrier's member is (never matched by name)."""
        d = get_object_or_404(Discrepancy.objects.select_related("connection__employer_group"), pk=pk)
        if not self.has_change_permission(request, d):
            raise PermissionDenied
        form = LinkMemberForm(request.POST or None, group=d.connection.employer_group)
        if request.method == "POST" and form.is_valid():
            noyo_id = d.subject_key.split(":", 1)[1]
            if run_service(
                self,
                request,
                lambda: member_link_confirm(actor=request.user, connection=d.connection, noyo_id=noyo_id, employee=form.cleaned_data["employee"]),
                "Linked {result} to " + str(form.cleaned_data["employee"]) + "; the comparison was run again.",
            ):
                return redirect(reverse("admin:carriers_discrepancy_changelist") + f"?connection__id__exact={d.connection_id}")
        return TemplateResponse(
            request,
            "admin/carriers/discrepancy/link.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "discrepancy": d,
                "title": f"Link the carrier's member {d.subject}",
            },
        )
