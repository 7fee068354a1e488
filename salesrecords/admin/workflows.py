"""Sales workflows and the activities they create (each user's list: "Assigned to: me")."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core import display, home, related
from core.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from .. import services
from ..models import Activity, SalesWorkflow, WorkflowEmail
from ..selectors import activity_list
from ..workflows import validate_workflow


@admin.register(WorkflowEmail)
class WorkflowEmailAdmin(ReadOnlyModelAdmin):
    """The workflow email outbox: what was sent, what is still to send, and why one failed."""

    list_display = ["__str__", "status", "tries", "reason", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["run__workflow"]
    fields = ["run", "status", "reason", "tries", "created_at", "started_at", "next_try_at", "finished_at"]
    readonly_fields = fields


class SalesWorkflowForm(forms.ModelForm):
    """The service's validation, shown on the form (not in ``SalesWorkflow.clean``)."""

    def _post_clean(self):
        super()._post_clean()
        try:
            validate_workflow(self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(SalesWorkflow)
class SalesWorkflowAdmin(AuditedModelAdmin):
    form = SalesWorkflowForm
    list_display = ["name", "active", "types", "create_activity", "send_email", "set_stage"]
    list_filter = ["active"]
    filter_horizontal = ["record_types"]
    fieldsets = [
        (None, {"fields": ["name", "active"]}),
        (
            "Trigger: a sales record is created",
            {
                "fields": ["record_types", "criteria"],
                "description": 'Criteria are advanced-search criteria on the record\'s individual, e.g. {"state": ["FL"]}.',
            },
        ),
        ("Action: create an activity for the record's user", {"fields": ["create_activity", "activity_subject", "activity_due_days"]}),
        ("Action: send an email", {"fields": ["send_email", "email_to", "email_subject", "email_body"]}),
        ("Action: set the stage", {"fields": ["set_stage"]}),
    ]

    @admin.display(description="Record types")
    def types(self, obj):
        return ", ".join(t.name for t in obj.record_types.all()) or "All"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read only: the criteria in words ("State: Florida"), not their stored JSON.
        return [
            (title, {**options, "fields": ["criteria_in_words" if f == "criteria" else f for f in options["fields"]]}) for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None or self.has_change_permission(request, obj) else [*readonly, "criteria_in_words"]

    @admin.display(description="Criteria")
    def criteria_in_words(self, obj):
        from individuals.filters import criteria_text

        return criteria_text(obj.criteria or {}) if obj.criteria else "Every individual (no criteria)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("record_types")

    def save_model(self, request, obj, form, change):
        services.salesworkflow_save(actor=request.user, workflow=obj, changed=list(form.changed_data) if change else None)


class AssignedFilter(admin.SimpleListFilter):
    """Each user's activity list: their own by default."""

    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("all", "Anyone"), ("nobody", "Nobody")]

    def choices(self, changelist):
        value = self.value() or "me"
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        value = self.value() or "me"
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


@admin.register(Activity)
class ActivityAdmin(AuditedModelAdmin):
    list_display = ["subject", "record_link", "assigned_to", "due_date", "done", "workflow"]
    list_filter = [AssignedFilter, "done", "workflow"]
    list_select_related = ["sales_record", "assigned_to", "workflow"]
    raw_id_fields = ["sales_record"]
    autocomplete_fields = ["assigned_to"]
    readonly_fields = ["record_link", "workflow", "created_at"]

    @admin.display(description="Sales record")
    def record_link(self, obj):
        if obj is None or not obj.sales_record_id:
            return "—"
        record = obj.sales_record
        return format_html(
            '<a href="{}">{}, {}</a>', reverse("admin:salesrecords_salesrecord_change", args=[record.pk]), record.last_name, record.first_name
        )

    date_hierarchy = "due_date"
    actions = ["mark_done"]

    def get_queryset(self, request):
        return activity_list(user=request.user)

    @admin.action(description="Mark as done", permissions=["change"])
    def mark_done(self, request, queryset):
        done = sum(1 for a in queryset.filter(done=False) if services.activity_complete(actor=request.user, activity=a))
        self.message_user(request, f"{done} activit{'ies' if done != 1 else 'y'} marked done.", messages.SUCCESS)


# --- the home's "My open activities" panel --------------------------------------------------------
def _my_activity_rows(request):
    activities = Activity.objects.filter(assigned_to=request.user, done=False).select_related("sales_record")[:8]
    return [
        home.HomeRow(
            a.subject,
            url=reverse("admin:salesrecords_activity_change", args=[a.pk]),
            detail=(f"due {display.date_text(a.due_date)}" if a.due_date else "no due date")
            + (f" · {a.sales_record.first_name} {a.sales_record.last_name}" if a.sales_record else ""),
            tone="failed" if a.due_date and a.due_date < timezone.localdate() else "",
        )
        for a in activities
    ]


home.register(
    home.Panel(
        key="my_activities",
        section=home.MY_WORK,
        title="Activities assigned to me",
        permission="salesrecords.view_activity",
        rows=_my_activity_rows,
        empty="Nothing open. Well done.",
        more_url=lambda request: reverse("admin:salesrecords_activity_changelist") + "?done__exact=0",
    )
)

# Under an individual's form: the activities of the client's sales records (core.related).
related.register(
    related.RelatedPanel(
        key="activities",
        model="individuals.individual",
        title="Activities",
        permission="salesrecords.view_activity",
        columns=["Subject", "Due", "Assigned to", "Done"],
        empty="No activities.",
        rows=lambda request, individual: (
            Activity.objects.filter(sales_record__individual=individual).select_related("assigned_to").order_by("done", "due_date")
        ),
        cells=lambda a: [a.subject, display.text(a.due_date), a.assigned_to or display.EMPTY, display.text(a.done)],
    )
)
