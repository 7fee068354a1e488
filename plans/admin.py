from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core import display, related
from core.admin import AuditedModelAdmin, ImportExportRightsMixin, MoneyFieldsMixin
from core.admin_filters import filterset_list_filter

from . import admin_summary
from .benefit_summary import SCHEMA, benefit_rows
from .filters import EmployerGroupFilterSet, PlanFilterSet
from .forms import PlanForm, benefit_field_names
from .models import Carrier, EmployerGroup, EmployerGroupAddress, EmployerGroupContact, Plan, PlanRate
from .resources import EmployerGroupResource, PlanResource
from .selectors import plan_rates_sorted, plan_renewal_chain
from .services import (
    GROUP_FIELDS,
    PLAN_FIELDS,
    TIERS,
    employer_group_create,
    employer_group_update,
    plan_create,
    plan_rates_validate,
    plan_renew,
    plan_update,
)


def _clear_formset_results(formsets) -> None:
    # The admin's change message reads what formset.save() would have set; the service saved the rows
    # and its audit row names what changed.
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def _newer_plan_link(plan):
    """ " Open the newer plan" after an *already renewed* error, or nothing."""
    newer = Plan.objects.filter(renewed_from=plan).first()
    if newer is None:
        return ""
    return format_html(' <a href="{}">Open the newer plan ({})</a>', reverse("admin:plans_plan_change", args=[newer.pk]), newer)


def _carriers():
    return Carrier.objects.values_list("pk", "name")


@admin.register(Carrier)
class CarrierAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "naic", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code", "naic"]


class ChildRowsFormSet(BaseInlineFormSet):
    """Addresses or contacts, handed to the group services as a whole set (they replace the stored set)."""

    row_fields = ()

    def rows(self) -> list[dict]:
        return [
            {k: form.cleaned_data.get(k) for k in self.row_fields} for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


class AddressFormSet(ChildRowsFormSet):
    row_fields = ("kind", "line1", "line2", "city", "state", "zip_code")


class ContactFormSet(ChildRowsFormSet):
    row_fields = ("name", "title", "email", "phone", "is_primary")

    def clean(self):
        super().clean()
        if not any(self.errors) and sum(1 for row in self.rows() if row["is_primary"]) > 1:
            raise ValidationError("Only one contact can be the primary contact.")


class AddressInline(admin.TabularInline):
    model = EmployerGroupAddress
    formset = AddressFormSet
    fields = AddressFormSet.row_fields
    extra = 0


class ContactInline(admin.TabularInline):
    model = EmployerGroupContact
    formset = ContactFormSet
    fields = ContactFormSet.row_fields
    extra = 0


class PlanInline(admin.TabularInline):
    """The group's plans, read-only here: a plan and its rates are edited (and renewed) on the plan page."""

    model = Plan
    fields = ["name", "line_of_coverage", "carrier", "plan_type", "effective_date", "renewal_date", "status", "version"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0
    ordering = ["line_of_coverage", "-effective_date"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("carrier")


@admin.register(EmployerGroup)
class EmployerGroupAdmin(ImportExportRightsMixin, AuditedModelAdmin):
    resource_classes = [EmployerGroupResource]
    change_form_template = "admin/plans/employergroup/change_form.html"
    change_list_template = "admin/plans/employergroup/change_list.html"  # + "Import benefits-admin account"
    list_display = ["name", "account_number", "account_type", "status", "renewal_month", "office", "employee_count"]
    list_filter = [
        "status",
        "account_type",
        "renewal_month",
        filterset_list_filter(EmployerGroupFilterSet, "carrier", "carrier (has a plan)", _carriers),
        filterset_list_filter(EmployerGroupFilterSet, "line_of_coverage", "line of coverage (has a plan)", Plan.Line.choices),
    ]
    search_fields = ["name", "dba", "account_number"]
    filter_horizontal = ["servicing_users"]
    fieldsets = [
        (None, {"fields": ["name", "dba", "account_number", "account_type", "status"]}),
        ("Company", {"fields": ["federal_ein", "sic_code", "employee_count", "renewal_month"]}),
        ("Servicing", {"fields": ["office", "servicing_users"]}),
        ("External ids", {"fields": ["external_ids_display"]}),
    ]
    readonly_fields = ["external_ids_display"]
    inlines = [PlanInline, AddressInline, ContactInline]

    # Saves go through employer_group_create / _update: the group, its servicing users, addresses and
    # contacts are written together and audited as one change.
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        children = {
            ("addresses" if isinstance(fs, AddressFormSet) else "contacts"): fs.rows()
            for fs in formsets
            if isinstance(fs, ChildRowsFormSet) and (fs.has_changed() or not change)
        }
        data = {f: form.cleaned_data[f] for f in GROUP_FIELDS if f in form.cleaned_data}
        users = form.cleaned_data.get("servicing_users")
        if change:
            group = employer_group_update(actor=request.user, group=form.instance, data=data, servicing_users=users, **children)
        else:
            group = employer_group_create(actor=request.user, servicing_users=users or (), **children, **data)
        form.instance.pk = group.pk
        form.instance._state.adding = False
        _clear_formset_results(formsets)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["related_panels"] = self._related_panels(request, obj) if obj is not None and obj.pk else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    # The group's page opens on a summary and a timeline (plans.admin_summary); ?edit=1 is the form.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id and admin_summary.wants_summary(request):
            return admin_summary.summary_view(self, request, object_id)
        extra_context = {**(extra_context or {}), "summary_url": reverse("admin:plans_employergroup_change", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" in request.POST and isinstance(response, HttpResponseRedirect):  # stay on the form
            response["Location"] += ("&" if "?" in response["Location"] else "?") + f"{admin_summary.EDIT}=1"
        elif "_save" in request.POST and isinstance(response, HttpResponseRedirect) and IS_POPUP_VAR not in request.POST:
            response["Location"] = reverse("admin:plans_employergroup_change", args=[obj.pk])  # back to the summary
        return response

    def _related_panels(self, request, obj) -> list[dict]:
        """What other apps register for the group (its employees in Benefits Management), then its audit trail."""
        panels = related.panels_for(request, obj)
        audit = related.audit_panel(obj, user=request.user)
        return [*panels, audit] if audit else panels

    @admin.display(description="Ids in outside systems")
    def external_ids_display(self, obj):
        rows = obj.external_ids.all() if obj.pk else []
        return ", ".join(f"{r.get_system_display()} {r.object_type}: {r.external_id}" for r in rows) or "—"


class PlanRateFormSet(BaseInlineFormSet):
    """Checks the rates as a set with the service's rule (all four tiers, or age bands) before saving."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            plan_rates_validate(self.instance, self.rates())
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["rates"]) from exc

    def rates(self) -> list[dict]:
        return [
            {k: form.cleaned_data.get(k) for k in ("tier", "age_min", "age_max", "monthly_rate")}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("monthly_rate") is not None
        ]


class PlanRateInline(MoneyFieldsMixin, admin.TabularInline):
    model = PlanRate
    money_fields = ("monthly_rate",)
    formset = PlanRateFormSet
    fields = ["tier", "age_min", "age_max", "monthly_rate"]

    def get_extra(self, request, obj=None, **kwargs):
        return len(TIERS) if obj is None else 1


CONTRIBUTION_TEXT = {f: f"{f}_text" for f in ("employer_contribution_employee", "employer_contribution_dependents")}


@admin.register(Plan)
class PlanAdmin(ImportExportRightsMixin, AuditedModelAdmin):
    form = PlanForm
    resource_classes = [PlanResource]
    change_form_template = "admin/plans/plan/change_form.html"
    list_display = ["name", "group", "carrier", "line_of_coverage", "plan_type", "effective_date", "renewal_date", "status", "version"]
    list_filter = [
        "line_of_coverage",
        "status",
        "carrier",
        filterset_list_filter(PlanFilterSet, "renewal_month", "renewal month", EmployerGroup.Month.choices),
        "funding_type",
        "plan_type",
    ]
    list_select_related = ["group", "carrier"]
    search_fields = ["name", "policy_number", "group__name", "group__account_number"]
    autocomplete_fields = ["group"]
    date_hierarchy = "effective_date"
    inlines = [PlanRateInline]
    readonly_fields = ["summary", "renewal_chain", "version", "modified_at"]
    actions = ["renew_plans"]
    fieldsets = [
        ("Summary", {"fields": ["summary"]}),
        (None, {"fields": ["group", "carrier", "line_of_coverage", "name", "plan_type", "policy_number", "status"]}),
        ("Dates", {"fields": ["effective_date", "renewal_date", "cancellation_date", "renewal_chain"]}),
        ("Billing and funding", {"fields": ["billing_type", "funding_type", "rate_basis"]}),
        (
            "Contribution rules",
            {"fields": ["contribution_basis", "employer_contribution_employee", "employer_contribution_dependents", "waiting_period_days"]},
        ),
        *[
            (f"{Plan.Line(line).label} benefits", {"fields": benefit_field_names(line), "classes": ["benefits-line", f"benefits-{line}"]})
            for line in SCHEMA
        ],
        ("Sync", {"fields": ["version", "modified_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return [fs for fs in fieldsets if fs[0] not in ("Summary", "Sync")]
        if not self.has_change_permission(request, obj):
            # Read only: the summary above lists the benefits that are set, labelled, with money as money;
            # the per-benefit inputs of every line (all empty but one line's) are for editing.
            return [
                (title, {**options, "fields": [CONTRIBUTION_TEXT.get(f, f) for f in options["fields"]]})
                for title, options in fieldsets
                if "benefits-line" not in options.get("classes", ())
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None or self.has_change_permission(request, obj) else [*readonly, *CONTRIBUTION_TEXT.values()]

    def _contribution(self, plan, amount):
        if amount is None:
            return display.EMPTY
        if plan.contribution_basis == Plan.ContributionBasis.PERCENT:
            return f"{display.number_text(float(amount))}%"
        return f"{display.money(amount)} / month"

    @admin.display(description="Employer contribution (employee)")
    def employer_contribution_employee_text(self, obj):
        return self._contribution(obj, obj.employer_contribution_employee)

    @admin.display(description="Employer contribution (dependents)")
    def employer_contribution_dependents_text(self, obj):
        return self._contribution(obj, obj.employer_contribution_dependents)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "carrier":
            # Only active carriers can be chosen; a plan keeps the carrier it has.
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            current = Q(plans__pk=object_id) if object_id and str(object_id).isdigit() else Q(pk__in=[])
            kwargs["queryset"] = Carrier.objects.filter(Q(active=True) | current).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, PlanRateInline) and obj._state.adding and request.method == "GET":
            kwargs["initial"] = [{"tier": tier} for tier in TIERS]
        return kwargs

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_renew"] = obj is not None and obj.pk and self.has_add_permission(request) and not Plan.objects.filter(renewed_from=obj).exists()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).select_related("group", "carrier").prefetch_related("rates")

    @admin.display(description="Benefits and rates")
    def summary(self, obj):
        return render_to_string(
            "admin/plans/plan/summary.html",
            {
                "plan": obj,
                "benefits": benefit_rows(obj.line_of_coverage, obj.benefit_summary),
                "rates": plan_rates_sorted(obj),
            },
        )

    @admin.display(description="Renewal chain")
    def renewal_chain(self, obj):
        if obj.pk is None:
            return "—"
        return render_to_string("admin/plans/plan/renewal_chain.html", {"plan": obj, "chain": plan_renewal_chain(plan=obj)})

    # Saves go through plan_create / plan_update so the plan and its rates are written together.
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        rate_formset = next(fs for fs in formsets if isinstance(fs, PlanRateFormSet))
        data = {f: form.cleaned_data[f] for f in PLAN_FIELDS if f in form.cleaned_data}
        if change:
            plan = plan_update(actor=request.user, plan=form.instance, data=data, rates=rate_formset.rates())
        else:
            plan = plan_create(actor=request.user, rates=rate_formset.rates(), **data)
        form.instance.pk, form.instance.version = plan.pk, plan.version
        form.instance._state.adding = False
        _clear_formset_results(formsets)

    @admin.action(description="Renew selected plans into their next plan year", permissions=["add"])
    def renew_plans(self, request, queryset):
        for plan in queryset:
            try:
                renewal = plan_renew(actor=request.user, plan=plan)
                self.message_user(request, f"Renewed {plan} as {renewal}.", messages.SUCCESS)
            except ValidationError as exc:
                self.message_user(request, format_html("{}: {}{}", plan, " ".join(exc.messages), _newer_plan_link(plan)), messages.ERROR)

    def get_urls(self):
        return [path("<int:object_id>/renew/", self.admin_site.admin_view(self.renew_view), name="plans_plan_renew"), *super().get_urls()]

    def renew_view(self, request, object_id):
        """The "Renew plan" page: states the next plan year, takes a rate change, calls ``plan_renew``."""
        plan = get_object_or_404(Plan.objects.select_related("group", "carrier"), pk=object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            try:
                percent = request.POST.get("rate_change_percent") or "0"
                renewal = plan_renew(actor=request.user, plan=plan, rate_change_percent=percent)
            except (ValidationError, ArithmeticError, ValueError) as exc:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else "Enter a percent, e.g. 4.5."
            else:
                self.message_user(request, f"Renewed {plan} as {renewal}.", messages.SUCCESS)
                return redirect(reverse("admin:plans_plan_change", args=[renewal.pk]))
        newer = Plan.objects.filter(renewed_from=plan).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "plan": plan,
            "error": error,
            "newer_plan": newer,
            "title": f"Renew {plan}",
            "rates": plan_rates_sorted(plan),
        }
        return TemplateResponse(request, "admin/plans/plan/renew.html", context)
