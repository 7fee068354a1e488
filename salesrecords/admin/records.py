"""Record types, per-user type rights, sales records and Convert to Individual."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core import display, related
from core.admin import AuditedModelAdmin
from individuals import personal_data

from .. import services
from ..models import SalesRecord, SalesRecordType, SalesRecordTypeRight
from ..rights import allowed_types, type_allows
from ..selectors import salesrecord_list


class SalesRecordTypeForm(forms.ModelForm):
    def clean(self):
        if self.instance._state.adding:
            services.salesrecordtype_limit_check()  # asked again under the service's lock when saving
        return super().clean()


@admin.register(SalesRecordType)
class SalesRecordTypeAdmin(AuditedModelAdmin):
    form = SalesRecordTypeForm
    list_display = ["name", "sort_order", "active"]
    list_editable = ["sort_order", "active"]
    ordering = ["sort_order", "name"]

    def save_model(self, request, obj, form, change):
        services.salesrecordtype_save(actor=request.user, record_type=obj, changed=list(form.changed_data) if change else None)


@admin.register(SalesRecordTypeRight)
class SalesRecordTypeRightAdmin(AuditedModelAdmin):
    list_display = ["user", "record_type", "can_view", "can_add", "can_change", "can_delete"]
    list_filter = ["record_type", "user"]
    list_select_related = ["user", "record_type"]
    autocomplete_fields = ["user"]


@admin.register(SalesRecord)
class SalesRecordAdmin(AuditedModelAdmin):
    list_display = ["name", "record_type", "stage", "temperature", "assigned_user", "location", "individual_link", "job_link", "created"]
    list_filter = ["record_type", "stage", "temperature", "assigned_user"]
    search_fields = ["last_name", "first_name", "secondary_email", "cell_phone"]
    list_select_related = ["record_type", "assigned_user", "individual", "job"]
    show_full_result_count = False
    raw_id_fields = ["individual"]
    autocomplete_fields = ["assigned_user"]
    actions = ["convert"]
    readonly_fields = ["job", "personal_data_masked", "custom_fields_display", "created_at", "updated_at"]
    change_form_template = "admin/salesrecords/salesrecord/change_form.html"
    fieldsets = [
        ("Sales", {"fields": ["record_type", "stage", "temperature", "assigned_user", "individual", "job"]}),
        ("Name", {"fields": [("title", "first_name", "middle_name", "last_name"), "nickname", "record_status"]}),
        ("Contact", {"fields": ["secondary_email", ("cell_phone", "home_phone")]}),
        ("Address", {"fields": ["address_type", "address_line1", ("city", "county"), ("state", "zip_code")]}),
        (
            "Person",
            {"fields": [("date_of_birth", "gender", "smoker_status"), "lead_source", ("medicare_part_a_effective", "medicare_part_b_effective")]},
        ),
        ("Personal data and custom fields (carried over)", {"fields": ["personal_data_masked", "custom_fields_display", "custom_fields"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read only: the custom fields as labelled lines ("Client tier: Bronze"), not their stored JSON.
        return [(title, {**options, "fields": [f for f in options["fields"] if f != "custom_fields"]}) for title, options in fieldsets]

    @admin.display(description="Name", ordering="last_name")
    def name(self, obj):
        return f"{obj.last_name}, {obj.first_name}"

    @admin.display(description="SSN")
    def masked_ssn(self, obj):
        return personal_data.masked(obj, "ssn") or "—"

    @admin.display(description="Individual")
    def individual_link(self, obj):
        if not obj.individual_id:
            return "—"
        person = obj.individual
        return format_html(
            '<a href="{}">{}, {}</a>', reverse("admin:individuals_individual_change", args=[obj.individual_id]), person.last_name, person.first_name
        )

    @admin.display(description="Job", ordering="job")
    def job_link(self, obj):
        if not obj.job_id:
            return "—"
        return format_html(
            '<a class="ad-nowrap" href="{}">Job #{}</a>', reverse("admin:salesrecords_masscreationjob_change", args=[obj.job_id]), obj.job_id
        )

    @admin.display(description="City, state", ordering="city")
    def location(self, obj):
        return ", ".join(part for part in (obj.city, obj.state) if part) or "—"

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return format_html('<span class="ad-nowrap">{}</span>', display.date_text(obj.created_at))

    @admin.display(description="Custom fields")
    def custom_fields_display(self, obj):
        from individuals.models import CustomField

        values = (obj.custom_fields or {}) if obj else {}
        return display.custom_values_html(values, {f.key: f for f in CustomField.objects.filter(key__in=list(values))})

    @admin.display(description="Personal data")
    def personal_data_masked(self, obj):
        parts = [f"{personal_data.LABELS[k]}: {personal_data.masked(obj, k)}" for k in personal_data.KINDS if obj and getattr(obj, f"{k}_last4")]
        return "; ".join(parts) or "—"

    # --- rights per record type -----------------------------------------------------------------
    def get_queryset(self, request):
        return salesrecord_list(user=request.user)

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return type_allows(request.user, obj.record_type_id, "change")
        return super().has_change_permission(request) or allowed_types(request.user, "change").exists()

    def has_delete_permission(self, request, obj=None):
        if obj is not None:
            return type_allows(request.user, obj.record_type_id, "delete")
        return super().has_delete_permission(request) or allowed_types(request.user, "delete").exists()

    def has_add_permission(self, request):
        return allowed_types(request.user, "add").exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "record_type":
            kwargs["queryset"] = allowed_types(request.user, "add")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.salesrecord_save(actor=request.user, record=obj, changed=list(form.changed_data) if change else None)

    def delete_model(self, request, obj):
        services.salesrecord_delete(actor=request.user, record=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.salesrecord_delete(actor=request.user, record=obj)

    # --- Convert to Individual ------------------------------------------------------------------
    @admin.action(description="Convert to individual…", permissions=["change"])
    def convert(self, request, queryset):
        return self._convert(request, list(queryset.order_by("pk")), action=True)

    def get_urls(self):
        view = self.admin_site.admin_view(self.convert_view)
        return [path("<int:pk>/convert/", view, name="salesrecords_salesrecord_convert"), *super().get_urls()]

    def convert_view(self, request, pk):
        record = self.get_object(request, str(pk))
        if record is None:  # e.g. converted already (from another tab)
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        if not self.has_change_permission(request, record):
            raise PermissionDenied
        return self._convert(request, [record], action=False)

    def _convert(self, request, records, *, action):
        if request.POST.get("confirm") == "yes":
            try:
                individuals = services.salesrecords_convert(actor=request.user, records=records)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                count = len(individuals)
                self.message_user(
                    request,
                    f"{count} sales record{pluralize(count)} converted to {'an individual' if count == 1 else 'individuals'}.",
                    messages.SUCCESS,
                )
                if len(individuals) == 1 and not action:
                    return HttpResponseRedirect(reverse("admin:individuals_individual_change", args=[individuals[0].pk]))
            return HttpResponseRedirect(reverse("admin:salesrecords_salesrecord_changelist"))
        return TemplateResponse(
            request,
            "admin/salesrecords/salesrecord/convert_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Convert to individual",
                "records": records,
                "new_individuals": sum(1 for r in records if not r.individual_id),
                "action": request.POST.get("action") if action else "",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "select_across": request.POST.get("select_across") == "1" if action else False,
            },
        )


# Under an individual's form: the client's sales records (core.related; the individuals app never imports this one).
related.register(
    related.RelatedPanel(
        key="sales-records",
        model="individuals.individual",
        title="Sales records",
        permission="salesrecords.view_salesrecord",
        columns=["Record", "Type", "Stage", "Assigned to", "Created"],
        empty="No sales records.",
        rows=lambda request, individual: (
            salesrecord_list(user=request.user).filter(individual=individual).select_related("record_type", "assigned_user").order_by("-created_at")
        ),
        cells=lambda r: [
            f"{r.last_name}, {r.first_name}",
            r.record_type,
            r.get_stage_display(),
            r.assigned_user or display.EMPTY,
            display.text(r.created_at.date()),
        ],
    )
)
