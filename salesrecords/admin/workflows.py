"""Sales workflows and the activities they create (each user's list: "Assigned to: me")."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from core.admin import AuditedModelAdmin

from .. import services
from ..models import Activity, SalesWorkflow
from ..selectors import activity_list
from ..workflows import validate_workflow


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
        ("Trigger: a sales record is created", {"fields": ["record_types", "criteria"],
                                                 "description": "Criteria are advanced-search criteria on the record's "
                                                                "individual, e.g. {\"state\": [\"FL\"]}."}),
        ("Action: create an activity for the record's user", {"fields": ["create_activity", "activity_subject", "activity_due_days"]}),
        ("Action: send an email", {"fields": ["send_email", "email_to", "email_subject", "email_body"]}),
        ("Action: set the stage", {"fields": ["set_stage"]}),
    ]

    @admin.display(description="Record types")
    def types(self, obj):
        return ", ".join(t.name for t in obj.record_types.all()) or "All"

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
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                   "display": title}

    def queryset(self, request, queryset):
        value = self.value() or "me"
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


@admin.register(Activity)
class ActivityAdmin(AuditedModelAdmin):
    list_display = ["subject", "sales_record", "assigned_to", "due_date", "done", "workflow"]
    list_filter = [AssignedFilter, "done", "workflow"]
    list_select_related = ["sales_record", "assigned_to", "workflow"]
    raw_id_fields = ["sales_record"]
    autocomplete_fields = ["assigned_to"]
    readonly_fields = ["workflow", "created_at"]
    date_hierarchy = "due_date"
    actions = ["mark_done"]

    def get_queryset(self, request):
        return activity_list(user=request.user)

    @admin.action(description="Mark as done", permissions=["change"])
    def mark_done(self, request, queryset):
        done = sum(1 for a in queryset.filter(done=False) if services.activity_complete(actor=request.user, activity=a))
        self.message_user(request, f"{done} activit{'ies' if done != 1 else 'y'} marked done.", messages.SUCCESS)
