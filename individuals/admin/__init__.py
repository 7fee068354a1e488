"""Admin wiring for individuals, policies and custom fields (writes go through ``individuals.services``)."""

import copy

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from core import display, related
from core.admin import AuditedModelAdmin, MoneyFieldsMixin

from .. import personal_data, services
from ..filters import criteria_clean, criteria_shown, criteria_text
from ..models import CustomField, Individual, Policy
from .changelist import EstimatedCountPaginator, SearchChangeList
from .forms import IndividualAdminForm
from .saved_searches import IndividualAdminExtras, PolicyAdminExtras  # saved searches, CSV export, import/export
from .summary import EDIT, summary_view, wants_summary

_RECORD_STATUS = dict(Individual.RecordStatus.choices)

SEARCH_GROUPS = [
    (
        "Person",
        [
            "first_name",
            "middle_name",
            "last_name",
            "nickname",
            "title",
            "record_status",
            "gender",
            "smoker_status",
            "date_of_birth",
            "servicing_agent",
            "no_servicing_agent",
            "lead_source",
        ],
    ),
    (
        "Contact and address",
        [
            "email",
            "secondary_email",
            "phone",
            "cell_phone",
            "home_phone",
            "address_type",
            "address_line1",
            "address_line2",
            "city",
            "county",
            "zip_code",
            "state",
        ],
    ),
    (
        "Medicare and personal data (exact)",
        ["medicare_part_a_effective", "medicare_part_b_effective", "ssn", "medicare_beneficiary_id", "drivers_license"],
    ),
    (
        "Policies — every criterion must hold for the same policy",
        ["coverage_type", "policy_status", "policy_effective", "policy_renewal", "carrier", "policy_number", "has_policy"],
    ),
    ("Record", ["created", "updated"]),
]


class PolicyInline(MoneyFieldsMixin, admin.TabularInline):
    model = Policy
    money_fields = ("premium",)
    extra = 0
    fields = ["coverage_type", "carrier", "policy_number", "status", "effective_date", "renewal_date", "termination_date", "premium"]
    show_change_link = True


@admin.register(Individual)
class IndividualAdmin(IndividualAdminExtras, AuditedModelAdmin):
    form = IndividualAdminForm
    change_list_template = "admin/individuals/individual/change_list.html"
    change_form_template = "admin/individuals/individual/change_form.html"
    list_display = ["name", "date_of_birth", "city", "state_code", "zip_code", "status", "servicing_agent", "masked_ssn", "email", "cell_phone"]
    list_select_related = ["servicing_agent"]
    list_per_page = 50
    show_full_result_count = False  # never a second, whole-table count
    paginator = EstimatedCountPaginator
    # Actions act on ticked rows; work on a whole search (mass creation, export) starts from the search itself.
    actions = None
    sortable_by = ["name", "date_of_birth", "city", "state_code", "zip_code", "status", "servicing_agent", "email"]
    ordering = ["last_name", "first_name", "id"]
    inlines = [PolicyInline]
    fieldsets = [
        ("Name", {"fields": [("title", "first_name", "middle_name", "last_name"), "nickname"]}),
        ("Status", {"fields": ["record_status", "servicing_agent", "lead_source"]}),
        ("Contact", {"fields": [("email", "secondary_email"), ("cell_phone", "home_phone")]}),
        ("Address", {"fields": ["address_type", "address_line1", "address_line2", ("city", "county"), ("state", "zip_code")]}),
        ("Person", {"fields": [("date_of_birth", "gender", "smoker_status")]}),
        ("Medicare", {"fields": [("medicare_part_a_effective", "medicare_part_b_effective")]}),
    ]

    @admin.display(description="Name", ordering="last_name")
    def name(self, obj):
        return f"{obj.last_name}, {obj.first_name}"

    # Plain lookups: the stock choice display rebuilds the choices dict for every cell.
    @admin.display(description="State", ordering="state")
    def state_code(self, obj):
        return obj.state

    @admin.display(description="Record status", ordering="record_status")
    def status(self, obj):
        return _RECORD_STATUS.get(obj.record_status, obj.record_status)

    @admin.display(description="SSN")
    def masked_ssn(self, obj):
        return personal_data.masked(obj, "ssn") or "—"

    def get_fieldsets(self, request, obj=None):
        sets = list(self.fieldsets)
        can_edit = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not can_edit:  # view only: masked personal data is in the panel below the fieldsets
            return [*sets, ("Custom fields", {"fields": ["custom_field_values"]})]
        pd_fields = []
        for kind in personal_data.KINDS:
            pd_fields.append(kind)
            if obj is not None and getattr(obj, f"{kind}_last4"):
                pd_fields.append(f"clear_{kind}")
        sets.append(("Personal data (stored encrypted, shown masked)", {"fields": pd_fields}))
        custom = [f"cf_{key}" for key in CustomField.objects.filter(active=True).values_list("key", flat=True)]
        if custom:
            sets.append(("Custom fields", {"fields": custom}))
        return sets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Model fields only: the form adds its personal-data and custom-field inputs itself.
        kwargs["fields"] = flatten_fieldsets(self.fieldsets)
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="Values")
    def custom_field_values(self, obj):
        values = (obj.custom_fields or {}) if obj else {}
        return display.custom_values_html(values, {f.key: f for f in CustomField.objects.filter(key__in=list(values))})

    # --- the advanced search --------------------------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return SearchChangeList

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "_advanced_search" in request.POST:
            return self._search_redirect(request)
        return super().changelist_view(request, extra_context=extra_context)

    def _search_redirect(self, request):
        """The search form posts here; personal data becomes hashes so it never reaches a URL. Invalid
        criteria go to the list as given (it shows the errors and no one); a malformed SSN / MBI /
        driver's license is never put in a URL, so that form is shown again right here."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        data = request.POST.copy()
        for key in ("csrfmiddlewaretoken", "_advanced_search"):
            data.pop(key, None)
        try:
            criteria = criteria_clean(data)
        except ValidationError as exc:
            criteria = criteria_shown(data)
            bad_personal = {k: v for k, v in exc.message_dict.items() if k in personal_data.KINDS}
            if bad_personal:
                request.GET = QueryDict(urlencode(criteria, doseq=True))
                request.method = "GET"
                request.search_errors = bad_personal
                return self.changelist_view(request)
        if data.get("o"):
            criteria["o"] = data["o"]  # keep the sort order
        url = reverse("admin:individuals_individual_changelist")
        return HttpResponseRedirect(f"{url}?{urlencode(criteria, doseq=True)}" if criteria else url)

    def get_changelist_instance(self, request):
        cl = super().get_changelist_instance(request)
        fs = cl.filterset
        groups = []
        used = set()
        for title, names in SEARCH_GROUPS:
            fields = [fs.form[n] for n in names if n in fs.form.fields]
            used.update(names)
            groups.append((title, fields))
        custom = [fs.form[n] for n in fs.form.fields if n.startswith("cf_")]
        if custom:
            groups.append(("Custom fields", custom))
        used.update(n for n in fs.form.fields if n.startswith("cf_"))
        cl.search_groups = [
            {
                "title": t,
                "fields": f,
                "open": any(
                    b.name in request.GET or f"{b.name}_after" in request.GET or f"{b.name}_before" in request.GET or f"{b.name}_min" in request.GET
                    for b in f
                ),
            }
            for t, f in groups
        ]
        cl.search_hidden = [fs.form[n] for n in fs.form.fields if n not in used]
        cl.search_errors = {**(fs.errors if fs.is_bound and not fs.is_valid() else {}), **cl.posted_errors}
        if cl.pd_in_url:
            cl.search_errors = {**cl.search_errors, "__all__": ["Personal data never goes in a URL: use the search form."]}
        cl.criteria_summary = criteria_text(criteria_shown(request.GET))
        cl.personal_data_active = [personal_data.LABELS[k] for k in personal_data.KINDS if request.GET.get(f"{k}_hash")]
        return cl

    # --- saves, deletes and reveals through the services --------------------------------------------
    def save_model(self, request, obj, form, change):
        services.individual_save(
            actor=request.user,
            individual=obj,
            changed=list(form.changed_data) if change else None,
            personal=form.personal_data,
            custom_fields=form.custom_values,
        )

    def delete_model(self, request, obj):
        services.individual_delete(actor=request.user, individual=obj)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            if not hasattr(inline_form, "cleaned_data") or not inline_form.cleaned_data:
                continue
            policy = inline_form.instance
            if formset.can_delete and formset._should_delete_form(inline_form):
                if policy.pk:
                    services.policy_delete(actor=request.user, policy=policy)
            elif inline_form.has_changed() or policy._state.adding:
                if policy._state.adding and not inline_form.has_changed():
                    continue
                policy.individual = form.instance
                services.policy_save(actor=request.user, policy=policy, changed=None if policy._state.adding else list(inline_form.changed_data))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_urls(self):
        reveal = self.admin_site.admin_view(require_POST(self.reveal_view))
        return [path("<int:pk>/reveal/<str:kind>/", reveal, name="individuals_individual_reveal"), *super().get_urls()]

    def reveal_view(self, request, pk, kind):
        """POST only (CSRF-protected, nothing in the URL but the field name); audited by the service."""
        individual = get_object_or_404(Individual, pk=pk)
        if kind not in personal_data.KINDS:
            return JsonResponse({"error": "Unknown field."}, status=400)
        try:
            value = services.individual_reveal(actor=request.user, individual=individual, kind=kind)
        except PermissionDenied:
            return JsonResponse({"error": "You may not see full personal data."}, status=403)
        return JsonResponse({"value": value})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_reveal"] = request.user.has_perm("accounts.view_full_personal_data")
        context["personal_data"] = [
            {
                "kind": k,
                "label": personal_data.LABELS[k],
                "masked": personal_data.masked(obj, k),
                "url": reverse("admin:individuals_individual_reveal", args=[obj.pk, k]),
            }
            for k in personal_data.KINDS
            if obj is not None and getattr(obj, f"{k}_last4")
        ]
        context["related_panels"] = self._story(request, obj) if obj is not None and obj.pk else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the client page: the change URL opens on a summary and a timeline; ?edit=1 is the form ----------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id and wants_summary(request):
            return summary_view(self, request, object_id, lambda req, obj: self._story(req, obj, audit=False))
        extra_context = {**(extra_context or {}), "summary_url": reverse("admin:individuals_individual_change", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" in request.POST and isinstance(response, HttpResponseRedirect):  # stay on the form
            response["Location"] += ("&" if "?" in response["Location"] else "?") + f"{EDIT}=1"
        elif "_save" in request.POST and isinstance(response, HttpResponseRedirect) and IS_POPUP_VAR not in request.POST:
            response["Location"] = reverse("admin:individuals_individual_change", args=[obj.pk])  # back to the client page
        return response

    def _story(self, request, obj, audit: bool = True) -> list[dict]:
        """The client's whole story under the form: what other apps register (sales records, activities), saved searches, audit trail."""
        user, panels = request.user, related.panels_for(request, obj)
        panels.append(
            related.panel(
                "saved-searches",
                "In saved searches",
                ["Saved search", "Owner", "Shared"],
                [
                    {
                        "url": reverse("admin:individuals_savedsearch_run", args=[saved.pk]),
                        "cells": [saved.name, saved.owner, display.text(saved.shared)],
                    }
                    for saved in saved_searches_containing(user=user, individual=obj)
                ],
                empty="In none of your saved searches.",
            )
        )
        trail = related.audit_panel(obj, user=user) if audit else None
        return [*panels, trail] if trail else panels


def saved_searches_containing(*, user, individual, limit: int = 50) -> list:
    """The saved searches (the user's own and shared ones, up to ``limit``) whose criteria find ``individual``:
    a fixed number of queries however many there are (``individual_matches``)."""
    from ..selectors import individual_matches
    from ..services import saved_search_list

    searches = list(saved_search_list(user=user).order_by("name")[:limit])
    found = individual_matches(individual=individual, stored=[(s.criteria, s.criteria_version) for s in searches])
    return [saved for saved, included in zip(searches, found, strict=True) if included]


@admin.register(Policy)
class PolicyAdmin(MoneyFieldsMixin, PolicyAdminExtras, AuditedModelAdmin):
    money_fields = ("premium",)
    list_display = ["__str__", "individual", "carrier", "coverage_type", "status", "effective_date", "renewal_date", "premium_money"]
    list_filter = ["coverage_type", "status", "carrier"]
    list_select_related = ["individual", "carrier"]
    search_fields = ["policy_number"]
    raw_id_fields = ["individual"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(CustomField)
class CustomFieldAdmin(AuditedModelAdmin):
    list_display = ["name", "key", "field_type", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["field_type", "active"]
    search_fields = ["name", "key"]

    def save_model(self, request, obj, form, change):
        services.custom_field_save(actor=request.user, field=obj, changed=list(form.changed_data) if change else None)

    def delete_model(self, request, obj):
        services.custom_field_delete(actor=request.user, field=obj)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = [
            f"{f} (individuals hold values: deactivate it instead)" for f in objs if Individual.objects.filter(custom_fields__has_key=f.key).exists()
        ]
        return deleted, model_count, perms_needed, [*protected, *in_use]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class Form(form):
            def clean(self):
                cleaned = super().clean()
                probe = copy.copy(self.instance)  # the instance gets the new values only after clean()
                for name in ("key", "field_type"):
                    if name in cleaned:
                        setattr(probe, name, cleaned[name])
                try:
                    services.custom_field_check_change(field=probe, changed=self.changed_data)
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                return cleaned

        return Form
