"""Admin wiring for saved searches, CSV exports and import/export of individuals and policies.

``IndividualAdminExtras`` / ``PolicyAdminExtras`` are mixed into the Individuals and Policies admins:
django-import-export's Import / Export (CSV, XLSX) and, on the individuals changelist, "Export CSV"
(every result, streamed or a job) and "Save this search". Writes go through the services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import AuditLog
from accounts.services import audit
from core import display, home
from core.admin import AuditedModelAdmin, ImportExportRightsMixin
from core.errors import RateLimited

from .. import personal_data
from ..filters import (
    criteria_clean,
    criteria_dict,
    criteria_labels,
    criteria_load,
    criteria_shown,
    criteria_text,
    personal_data_in_url,
)
from ..models import ExportJob, Individual, SavedSearch
from ..resources import IndividualResource, PolicyResource
from ..selectors import individual_list
from ..services import exports
from ..services import saved_searches as svc

CHANGELIST = "admin:individuals_individual_changelist"


def _changelist_url(criteria: dict) -> str:
    query = urlencode(criteria, doseq=True)
    return reverse(CHANGELIST) + (f"?{query}" if query else "")


def _csv_response(blocks, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(blocks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _ImportExportRights(ImportExportRightsMixin):
    """The shared CSV/XLSX import-export rights; exports are audited here."""

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        count = queryset.count()
        audit(
            actor=request.user,
            action=AuditLog.Action.EXPORT,
            model=self.model,
            summary=f"Exported {count} {self.model._meta.verbose_name_plural} as {file_format.get_title()} (personal data masked)",
            data={"count": count, "criteria": criteria_dict(request.GET)},
        )
        return data


class IndividualAdminExtras(_ImportExportRights):
    resource_classes = [IndividualResource]
    import_export_change_list_template = "admin/individuals/individual/change_list_tools.html"

    def get_export_queryset(self, request):
        # The advanced search's criteria (the changelist's query string); invalid ones, clear personal data
        # in the URL, or a personal-data search without its right export nothing.
        if personal_data_in_url(request.GET):
            return Individual.objects.none()
        try:
            return individual_list(filters=criteria_dict(request.GET), user=request.user, how="admin export")
        except (ValidationError, PermissionDenied, RateLimited):
            return Individual.objects.none()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("export-csv/", view(self.export_csv_view), name="individuals_individual_export_csv"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_export_full"] = request.user.has_perm(exports.FULL_PERSONAL_DATA)
        extra_context["criteria_query"] = urlencode(criteria_dict(request.GET), doseq=True)
        return super().changelist_view(request, extra_context)

    def export_csv_view(self, request):
        """Every result of the search as CSV: streamed, or a background job for large results.

        Full personal data only by POST (a button, CSRF-protected) and with the right; audited.
        """
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        reveal = request.POST.get("reveal", "") if request.method == "POST" else ""
        back = HttpResponseRedirect(_changelist_url(criteria_shown(request.GET)))
        in_url = personal_data_in_url(request.GET)
        if in_url:  # as the API: a clear SSN / MBI / driver's license never goes in a URL
            messages.error(request, "Personal data never goes in a URL: search with the form, then export.")
            return back
        try:
            blocks, job, count = exports.individual_export_start(actor=request.user, criteria=request.GET, reveal=reveal)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
            return back
        except RateLimited as exc:  # a missing right is a 403 that names it
            messages.error(request, exc.message)
            return back
        if job is not None:
            messages.success(
                request,
                f"{count} individuals found: too many to download at once. The export runs in "
                "the background; download it from this page when it is done.",
            )
            return HttpResponseRedirect(reverse("admin:individuals_exportjob_change", args=[job.pk]))
        return _csv_response(blocks, f"individuals-{timezone.now():%Y%m%d-%H%M%S}.csv")


class PolicyAdminExtras(_ImportExportRights):
    resource_classes = [PolicyResource]


# --- saved searches -------------------------------------------------------------------------------
class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=120)
    shared = forms.BooleanField(required=False, label="Share with everyone who may see individuals")


@admin.register(SavedSearch)
class SavedSearchAdmin(AuditedModelAdmin):
    list_display = ["name", "owner", "shared", "created_at", "last_run_at", "run_link"]
    list_filter = ["shared"]
    search_fields = ["name"]
    fields = ["name", "shared", "criteria_display", "owner", "created_at", "last_run_at"]
    readonly_fields = ["criteria_display", "owner", "created_at", "last_run_at"]
    list_select_related = ["owner"]

    @admin.display(description="Run")
    def run_link(self, obj):
        return format_html('<a class="button run-search" href="{}">Run</a>', reverse("admin:individuals_savedsearch_run", args=[obj.pk]))

    @admin.display(description="Criteria")
    def criteria_display(self, obj):
        return criteria_text(criteria_load(obj.criteria, obj.criteria_version)) if obj else "—"

    def get_queryset(self, request):
        return svc.saved_search_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        # Without the right to share, an owner may only unshare what is shared.
        if svc.saved_search_can_share(user=request.user) or (obj is not None and obj.shared):
            return self.readonly_fields
        return [*self.readonly_fields, "shared"]

    # Saved searches are the user's own tool: seeing individuals is enough; only the owner changes one.
    def has_module_permission(self, request):
        return request.user.has_perm(svc.VIEW_INDIVIDUALS)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(svc.VIEW_INDIVIDUALS) and (obj is None or svc.saved_search_can_see(user=request.user, saved_search=obj))

    def has_add_permission(self, request):
        return False  # saved from the individuals changelist ("Save this search")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(svc.VIEW_INDIVIDUALS) and (obj is None or svc.saved_search_can_change(user=request.user, saved_search=obj))

    has_delete_permission = has_change_permission

    def save_model(self, request, obj, form, change):
        original = SavedSearch.objects.get(pk=obj.pk)
        svc.saved_search_update(actor=request.user, saved_search=original, name=obj.name, shared=obj.shared)

    def delete_model(self, request, obj):
        svc.saved_search_delete(actor=request.user, saved_search=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            svc.saved_search_delete(actor=request.user, saved_search=obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("save/", view(self.save_view), name="individuals_savedsearch_save"),
            path("<int:pk>/run/", view(self.run_view), name="individuals_savedsearch_run"),
            *super().get_urls(),
        ]

    def save_view(self, request):
        """'Save this search': the changelist's criteria (its query string) under a name."""
        if not request.user.has_perm(svc.VIEW_INDIVIDUALS):
            raise PermissionDenied
        criteria = criteria_dict(request.GET)
        form = SaveSearchForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and form.cleaned_data["shared"] and not svc.saved_search_can_share(user=request.user):
            form.add_error("shared", svc.SHARE_REFUSED)
        if request.method == "POST" and form.is_valid():
            try:
                saved = svc.saved_search_create(actor=request.user, criteria=criteria, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(
                        field if field in form.fields else None,
                        [f"{field}: {e}" if field not in form.fields and field != "__all__" else e for e in errors],
                    )
            else:
                messages.success(request, f"Saved the search “{saved.name}”.")
                return HttpResponseRedirect(_changelist_url(saved.criteria))
        criteria_errors = []
        try:
            shown = criteria_labels(criteria_clean(criteria))
        except ValidationError as exc:
            shown = []
            if request.method != "POST":  # a POST reported them on the form already
                # An unbound form takes no errors: shown next to it instead.
                criteria_errors = [
                    f"{field}: {e}" if field not in ("__all__", "non_field_errors") else e
                    for field, errors in exc.message_dict.items()
                    for e in errors
                ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Save this search",
            "form": form,
            "criteria": shown,
            "criteria_errors": criteria_errors,
            "opts": self.model._meta,
            "back_url": _changelist_url(criteria),
        }
        return TemplateResponse(request, "admin/individuals/savedsearch/save.html", context)

    def run_view(self, request, pk):
        saved = get_object_or_404(SavedSearch, pk=pk)
        criteria = svc.saved_search_run(actor=request.user, saved_search=saved)
        return HttpResponseRedirect(_changelist_url(criteria))


# --- export jobs ----------------------------------------------------------------------------------
@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """The user's own background exports; the download is checked against the owner."""

    list_display = ["__str__", "shown_status", "row_count", "created_at", "finished_at", "download_link"]
    list_filter = ["status"]
    change_form_template = "admin/individuals/exportjob/change_form.html"
    fields = ["criteria_summary", "full_personal_data", "created_at", "download_link"]
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The job page; its live part (status, rows, error) alone for htmx while the export runs."""
        job = self.get_object(request, object_id)
        if job is not None and self.has_view_permission(request, job) and getattr(request, "htmx", False):
            return TemplateResponse(request, "admin/agencydesk/job_progress.html", self._live_context(request, job))
        context = {**(extra_context or {}), **(self._live_context(request, job) if job is not None else {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _live_context(self, request, job) -> dict:
        return {
            "job_title": str(job),
            "status": job.status,
            "queue": job.queue,
            "status_display": job.shown_status,
            "percent": 100 if job.finished else (50 if job.status == ExportJob.Status.RUNNING else 0),
            "finished": job.finished,
            "error": job.reason,
            "poll_url": request.path,
            "facts": [
                ("Rows written", job.row_count, "job-rows"),
                ("Started", display.text(job.started_at), "job-started"),
                ("Finished", display.text(job.finished_at), "job-finished"),
            ],
        }

    @admin.display(description="Status", ordering="status")
    def shown_status(self, obj):
        return obj.shown_status

    @admin.display(description="Criteria")
    def criteria_summary(self, obj):
        return criteria_text(criteria_load(obj.criteria, obj.criteria_version))

    @admin.display(description="Exported in full")
    def full_personal_data(self, obj):
        return ", ".join(personal_data.LABELS.get(k, k) for k in obj.reveal or []) or "Nothing (personal data masked)"

    @admin.display(description="File")
    def download_link(self, obj):
        if obj.status != ExportJob.Status.SUCCEEDED or obj.expired:
            return "Waiting…" if obj.status in ExportJob.ACTIVE else "—"
        return format_html('<a class="button" href="{}">Download CSV</a>', reverse("admin:individuals_exportjob_download", args=[obj.pk]))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(owner=request.user)

    def has_module_permission(self, request):
        return request.user.has_perm(svc.VIEW_INDIVIDUALS)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(svc.VIEW_INDIVIDUALS) and (obj is None or obj.owner_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def delete_model(self, request, obj):
        exports.export_job_delete(actor=request.user, job=obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            exports.export_job_delete(actor=request.user, job=job)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/download/", view(self.download_view), name="individuals_exportjob_download"), *super().get_urls()]

    def download_view(self, request, pk):
        job = get_object_or_404(ExportJob, pk=pk)
        try:
            blocks = exports.export_job_download(actor=request.user, job=job)
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
            return HttpResponseRedirect(reverse("admin:individuals_exportjob_change", args=[job.pk]))
        return _csv_response(blocks, f"individuals-export-{job.pk}.csv")


# --- the home's "Jobs running or failed" panel: the user's own exports -----------------------------
def _export_job_rows(request):
    Status = ExportJob.Status
    jobs = ExportJob.objects.filter(owner=request.user, status__in=[*ExportJob.ACTIVE, Status.FAILED])[:6]
    return [
        home.HomeRow(
            f"CSV export #{job.pk}",
            detail=job.get_status_display(),
            url=reverse("admin:individuals_exportjob_change", args=[job.pk]),
            tone="failed" if job.status == Status.FAILED else "running",
        )
        for job in jobs
    ]


home.register(
    home.Panel(
        key="export_jobs",
        section=home.JOBS,
        title="My CSV exports",
        permission=svc.VIEW_INDIVIDUALS,
        rows=_export_job_rows,
        empty="No export running or failed.",
        more_url=lambda request: reverse("admin:individuals_exportjob_changelist"),
    )
)
