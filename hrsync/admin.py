"""Benefits Management: employees in four sync tabs, bulk Sync / Assign benefits level, history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core import display, home, related
from core.admin import AuditedModelAdmin, ImportExportRightsMixin, MoneyFieldsMixin, ReadOnlyModelAdmin
from core.admin_filters import searchable_list_filter
from plans.models import EmployerGroup

from .filters import EmployeeFilterSet
from .mapping import payload_shown
from .models import BenefitsLevel, Employee, SyncAttempt
from .resources import EmployeeResource
from .selectors import employee_list, employee_sync_history, sync_state_counts
from .services import (
    benefits_level_save,
    employee_create,
    employee_sync_request,
    employee_update,
    employees_assign_benefits_level,
)
from .services.employees import EDITABLE_FIELDS

State = Employee.SyncState


class EmployeeForm(forms.ModelForm):
    create_benefits_record = forms.BooleanField(
        required=False, label="Create benefits record", help_text="Send this new starter to the benefits platform as soon as they are saved."
    )

    class Meta:
        model = Employee
        fields = EDITABLE_FIELDS


class AssignLevelForm(forms.Form):
    benefits_level = forms.ModelChoiceField(queryset=BenefitsLevel.objects.all(), label="Benefits level")


class _Criterion(admin.SimpleListFilter):
    """A sidebar filter named like an ``EmployeeFilterSet`` criterion: shown (and its parameter taken) here,
    applied once, by the FilterSet, in ``EmployeeAdmin.get_queryset``."""

    def queryset(self, request, queryset):
        return queryset


class BenefitsLevelCriterion(_Criterion):
    title, parameter_name = "benefits level", "benefits_level"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in BenefitsLevel.objects.values_list("pk", "name")]


# Hundreds of groups: a search box and the few that match, not the whole list (applied by the FilterSet).
EmployerGroupCriterion = searchable_list_filter(
    title="employer group",
    parameter_name="employer_group",
    choices=lambda: EmployerGroup.objects.order_by("name"),
    search_fields=["name", "dba", "account_number"],
)


class LeaverCriterion(_Criterion):
    title, parameter_name = "leave date", "leaver"

    def lookups(self, request, model_admin):
        return [("true", "Has a leave date"), ("false", "No leave date")]


class SyncStateTab(_Criterion):
    """The tabs above the list show it."""

    title, parameter_name = "sync", "sync_state"

    def lookups(self, request, model_admin):
        return State.choices

    def has_output(self):
        return False


@admin.register(Employee)
class EmployeeAdmin(MoneyFieldsMixin, ImportExportRightsMixin, AuditedModelAdmin):
    """Benefits Management: the list, its tabs, search and sidebar are ``EmployeeFilterSet`` criteria
    (through ``selectors.employee_list``), as in the API."""

    form = EmployeeForm
    money_fields = ("annual_pay",)
    resource_classes = [EmployeeResource]
    change_list_template = "admin/hrsync/employee/change_list.html"
    list_display = ["__str__", "email", "employer_group", "benefits_level", "state", "benefits_account_id", "last_outcome"]
    list_filter = [SyncStateTab, BenefitsLevelCriterion, EmployerGroupCriterion, LeaverCriterion]
    search_fields = ["q"]  # shows the search box; the FilterSet's ``q`` does the searching
    search_help_text = "Name, email or benefits account"
    readonly_fields = ["sync_state", "benefits_account_id", "history_link"]
    actions = ["sync", "assign_benefits_level"]
    list_per_page = 50

    def get_fields(self, request, obj=None):
        fields = [*EDITABLE_FIELDS, *(["create_benefits_record"] if obj is None else [])]
        return fields + ([] if obj is None else self.readonly_fields)

    # --- list -----------------------------------------------------------------------------------
    @admin.display(description="Sync", ordering="sync_state")
    def state(self, employee):
        url = reverse("admin:hrsync_employee_sync_history", args=[employee.pk])
        return format_html(
            '<a class="sync-state sync-{}" href="{}" title="Sync history">{}</a>', employee.sync_state, url, employee.get_sync_state_display()
        )

    @admin.display(description="Last outcome")
    def last_outcome(self, employee):
        attempt = employee.last_attempt
        if attempt is None:
            return ""
        return attempt.reason or attempt.get_status_display()

    @admin.display(description="Sync history")
    def history_link(self, employee):
        count = employee.sync_attempts.count()
        return format_html(
            '<a href="{}">{} attempt{}</a>', reverse("admin:hrsync_employee_sync_history", args=[employee.pk]), count, pluralize(count)
        )

    def _criteria(self, query) -> dict:
        """The FilterSet criteria in a list's query string."""
        return {k: v for k, v in query.items() if k in EmployeeFilterSet.base_filters}

    def get_queryset(self, request):
        on_list = getattr(request.resolver_match, "url_name", "") == "hrsync_employee_changelist"
        return employee_list(filters=self._criteria(request.GET) if on_list else {})  # not on change, history

    def get_search_results(self, request, queryset, search_term):
        return queryset, False  # ``q`` is a FilterSet criterion, applied in get_queryset

    def _tabs_context(self, request, query) -> dict:
        # Each tab counts the employees meeting the other criteria (the search, the sidebar).
        others = {k: v for k, v in self._criteria(query).items() if k != "sync_state"}
        counts = sync_state_counts(queryset=employee_list(filters=others))
        current = query.get("sync_state", "")
        tabs = []
        for value, label in [("", "All"), *State.choices]:
            tab_query = query.copy()
            tab_query.pop("p", None)
            tab_query.pop("sync_state", None)
            if value:
                tab_query["sync_state"] = value
            tabs.append(
                {
                    "value": value,
                    "label": label,
                    "active": value == current,
                    "url": "?" + tab_query.urlencode(),
                    "count": counts[value] if value else sum(counts.values()),
                }
            )
        # While employees are In progress the tab counts refresh (htmx) until the queue is quiet.
        live_url = reverse("admin:hrsync_employee_sync_tabs") + "?" + query.urlencode() if counts[State.IN_PROGRESS] else ""
        return {"sync_tabs": tabs, "sync_tabs_live_url": live_url}

    def changelist_view(self, request, extra_context=None):
        context = {"title": "Benefits Management", **self._tabs_context(request, request.GET), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def sync_tabs_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(request, "admin/hrsync/employee/sync_tabs.html", self._tabs_context(request, request.GET))

    # --- actions --------------------------------------------------------------------------------
    def _action_page(self, request, queryset, template, **context):
        return TemplateResponse(
            request,
            f"admin/hrsync/employee/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "queryset": queryset,
                "select_across": request.POST.get("select_across") == "1",
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "action": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                **context,
            },
        )

    @admin.action(description="Sync with the benefits platform…", permissions=["change"])
    def sync(self, request, queryset):
        if request.POST.get("confirm") == "yes":
            self.message_user(request, str(employee_sync_request(actor=request.user, employees=queryset)), messages.SUCCESS)
            return None
        in_progress = queryset.filter(sync_state=State.IN_PROGRESS).count()
        return self._action_page(
            request,
            queryset,
            "sync_confirm.html",
            title="Sync with the benefits platform",
            to_send=queryset.count() - in_progress,
            in_progress=in_progress,
        )

    @admin.action(description="Assign benefits level…", permissions=["change"])
    def assign_benefits_level(self, request, queryset):
        form = AssignLevelForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_valid():
            changed = employees_assign_benefits_level(actor=request.user, employees=queryset, level=form.cleaned_data["benefits_level"])
            self.message_user(request, f"Benefits level {form.cleaned_data['benefits_level']} assigned to {changed} employee{pluralize(changed)}.")
            return None
        return self._action_page(request, queryset, "assign_level.html", title="Assign benefits level", form=form, count=queryset.count())

    # --- writes go through the services ----------------------------------------------------------
    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.cleaned_data}
        if change:
            employee_update(actor=request.user, employee=obj, data=data)
        else:
            obj.pk = employee_create(actor=request.user, create_benefits_record=form.cleaned_data.get("create_benefits_record", False), **data).pk

    def get_import_data_kwargs(self, **kwargs):
        # all or nothing: a row with a validation error rolls back every row
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    # --- history --------------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view(self.sync_history_view)
        tabs = self.admin_site.admin_view(self.sync_tabs_view)
        return [
            path("<int:pk>/sync-history/", view, name="hrsync_employee_sync_history"),
            path("sync-tabs/", tabs, name="hrsync_employee_sync_tabs"),
            *super().get_urls(),
        ]

    def sync_history_view(self, request, pk):
        employee = self.get_object(request, str(pk))
        if employee is None:
            raise Http404
        if not self.has_view_permission(request, employee):
            raise PermissionDenied
        attempts = list(employee_sync_history(employee=employee))
        levels = _level_names()
        for attempt in attempts:
            attempt.sent_html = display.definition_list(payload_shown(attempt.payload, levels))
            attempt.by = (attempt.requested_by.get_full_name() or attempt.requested_by.username) if attempt.requested_by else "The system"
        return TemplateResponse(
            request,
            "admin/hrsync/employee/sync_history.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "employee": employee,
                "title": f"Sync history: {employee}",
                "attempts": attempts,
                "has_change_permission": self.has_change_permission(request, employee),
            },
        )


def _level_names() -> dict[str, str]:
    """Package code -> benefits level name, for showing what was sent in our words."""
    return dict(BenefitsLevel.objects.exclude(package_code="").order_by("-name").values_list("package_code", "name"))


@admin.register(BenefitsLevel)
class BenefitsLevelAdmin(AuditedModelAdmin):
    list_display = ["name", "package_code", "description"]
    search_fields = ["name", "package_code"]

    def save_model(self, request, obj, form, change):
        benefits_level_save(actor=request.user, level=obj, changed=list(form.changed_data) if change else None)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "employee", "action", "status", "response_code", "http_calls", "short_reason"]
    list_filter = ["status", "action"]
    search_fields = ["employee__email", "employee__last_name", "account_id"]
    list_select_related = ["employee"]
    show_full_result_count = False
    fields = [
        *(f.name if f.name != "requested_by" else "requested_by_name" for f in SyncAttempt._meta.fields if f.name not in ("id", "payload")),
        "sent",
    ]
    readonly_fields = fields

    @admin.display(description="requested by")
    def requested_by_name(self, attempt):
        return (attempt.requested_by.get_full_name() or attempt.requested_by.username) if attempt.requested_by else "The system"

    @admin.display(description="Reason")
    def short_reason(self, attempt):
        return display.truncated(attempt.reason) if attempt.reason else display.EMPTY

    @admin.display(description="Sent (personal data masked)")
    def sent(self, attempt):
        return display.definition_list(payload_shown(attempt.payload, _level_names()))


# --- the home's "Sync queues" panel --------------------------------------------------------------
def _benefits_queue_rows(request):
    counts = sync_state_counts()
    url = reverse("admin:hrsync_employee_changelist")
    return [
        home.HomeRow("Failed", url=f"{url}?sync_state={State.FAILED}", count=counts[State.FAILED], tone="failed" if counts[State.FAILED] else ""),
        home.HomeRow(
            "In progress",
            url=f"{url}?sync_state={State.IN_PROGRESS}",
            count=counts[State.IN_PROGRESS],
            tone="running" if counts[State.IN_PROGRESS] else "",
        ),
        home.HomeRow("Successful", url=f"{url}?sync_state={State.SUCCESSFUL}", count=counts[State.SUCCESSFUL], tone="ok"),
    ]


home.register(
    home.Panel(key="benefits_sync", section=home.QUEUES, title="Benefits platform", permission="hrsync.view_employee", rows=_benefits_queue_rows)
)


# Under an employer group's form: its employees (core.related; plans never imports hrsync).
related.register(
    related.RelatedPanel(
        key="employees",
        model="plans.employergroup",
        title="Employees",
        permission="hrsync.view_employee",
        columns=["Employee", "Email", "Benefits level", "Sync"],
        empty="No employees in Benefits Management.",
        rows=lambda request, group: (
            Employee.objects.filter(employer_group=group).select_related("benefits_level").order_by("last_name", "first_name")
        ),
        cells=lambda e: [f"{e.first_name} {e.last_name}", e.email, e.benefits_level or display.EMPTY, e.get_sync_state_display()],
        more_url=lambda group: reverse("admin:hrsync_employee_changelist") + f"?employer_group__id__exact={group.pk}",
    )
)
