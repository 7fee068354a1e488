"""Mass creation in the admin: the confirmation page, the job page with live progress, resume."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import urlencode

from core import home
from core.errors import RateLimited
from individuals.filters import (
    criteria_authorize,
    criteria_clean,
    criteria_dict,
    criteria_labels,
    criteria_load,
    criteria_sealed,
    criteria_shown,
)

from .. import services
from ..models import MassCreationJob
from ..rights import allowed_types, mass_create_denial, may_mass_create
from ..selectors import job_list, job_progress


def saved_search_add_url(criteria: dict) -> str:
    """The saved-search form pre-filled with these criteria, when the individuals app offers it."""
    criteria = criteria_sealed(criteria)
    try:
        url = reverse("admin:individuals_savedsearch_save")
        return f"{url}?{urlencode(criteria, doseq=True)}" if criteria else url
    except NoReverseMatch:
        pass
    try:
        url = reverse("admin:individuals_savedsearch_add")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode({'criteria': json.dumps(criteria)})}"


def search_url(criteria: dict) -> str:
    criteria = criteria_sealed(criteria)
    url = reverse("admin:individuals_individual_changelist")
    return f"{url}?{urlencode(criteria, doseq=True)}" if criteria else url


@admin.register(MassCreationJob)
class MassCreationJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "matched", "created", "skipped", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "record_type"]
    list_select_related = ["record_type", "created_by"]
    actions = ["resume"]

    def get_queryset(self, request):
        return job_list(user=request.user)

    def has_add_permission(self, request):
        return False  # jobs start from the advanced search ("Create Sales Records…")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the job is the audit trail of what was created

    def has_resume_permission(self, request):
        return may_mass_create(request.user)

    @admin.action(description="Send unfinished jobs' messages again (a job whose worker stopped is queued again by itself)", permissions=["resume"])
    def resume(self, request, queryset):
        resumed = sum(services.mass_creation_resume(actor=request.user, job=job) for job in queryset)
        self.message_user(request, f"{resumed} job{pluralize(resumed)} queued again.", messages.SUCCESS)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("new/", wrap(self.new_view), name="salesrecords_masscreationjob_new"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="salesrecords_masscreationjob_progress"),
            *super().get_urls(),
        ]

    # --- "Create Sales Records…": confirm, then start ------------------------------------------------
    def new_view(self, request):
        if not may_mass_create(request.user):
            raise PermissionDenied(mass_create_denial(request.user))
        types = allowed_types(request.user, "add").filter(active=True)
        errors, preview, criteria = [], None, {}
        if request.method == "POST":
            try:
                criteria = json.loads(request.POST.get("criteria") or "{}")
                record_type = types.filter(pk=request.POST.get("record_type")).first()
                if record_type is None:
                    raise ValidationError({"record_type": "Choose a sales record type you may add."})
                job = services.mass_creation_job_create(actor=request.user, criteria=criteria, record_type=record_type)
            except (ValueError, RecursionError, ValidationError, PermissionDenied, RateLimited) as exc:
                errors = _messages(exc)
            else:
                return HttpResponseRedirect(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk]))
        else:
            criteria = criteria_dict(request.GET)
        if not isinstance(criteria, dict):
            criteria = {}
        try:
            criteria = criteria_clean(criteria)
            criteria_authorize(actor=request.user, data=criteria, how="sales records preview")
            preview = services.mass_creation_preview(criteria=criteria)
        except (PermissionDenied, RateLimited) as exc:
            errors, criteria = errors or [str(exc)], criteria_shown(criteria)
        except ValidationError as exc:
            errors = errors or _messages(exc)
            criteria = criteria_shown(criteria)  # shown again, and put in links
        return TemplateResponse(
            request,
            "admin/salesrecords/masscreationjob/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Create Sales Records",
                "preview": preview,
                "errors": errors,
                "criteria": criteria_sealed(criteria),
                "criteria_json": json.dumps(criteria_sealed(criteria)),
                "criteria_items": criteria_labels(criteria),
                "types": types,
                "search_url": search_url(criteria),
                "selected_type": request.POST.get("record_type") or "",
            },
        )

    # --- the job page (its progress part is polled by htmx) -----------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        criteria = criteria_load(job.criteria, job.criteria_version)
        return TemplateResponse(
            request,
            "admin/salesrecords/masscreationjob/job.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": str(job),
                "job": job,
                **_live_context(job),
                "criteria_items": criteria_labels(criteria),
                "search_url": search_url(criteria),
                "saved_search_url": saved_search_add_url(criteria),
                "records_url": reverse("admin:salesrecords_salesrecord_changelist") + f"?job__id__exact={job.pk}",
            },
        )

    def progress_view(self, request, pk):
        """JSON for programs; the job page's live part (HTML) for htmx."""
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        if getattr(request, "htmx", False):
            return TemplateResponse(request, "admin/agencydesk/job_progress.html", _live_context(job))
        return JsonResponse(job_progress(job))


def _live_context(job) -> dict:
    progress = job_progress(job)
    return {
        "job_title": str(job),
        "status": job.status,
        "queue": job.queue,
        "status_display": progress["status_display"],
        "percent": progress["percent"],
        "finished": progress["finished"],
        "error": progress["reason"],
        "poll_url": reverse("admin:salesrecords_masscreationjob_progress", args=[job.pk]),
        "facts": [
            ("Individuals found", "counting…" if progress["matched"] is None else progress["matched"], "job-matched"),
            ("Processed", progress["processed"], "job-processed"),
            ("Sales records created", progress["created"], "job-created"),
            ("Skipped (already had one)", progress["skipped"], "job-skipped"),
        ],
    }


def _messages(exc) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [
            f"{k.replace('_', ' ')}: {' '.join(v)}" if k not in ("__all__", "non_field_errors") else " ".join(v) for k, v in exc.message_dict.items()
        ]
    if isinstance(exc, ValidationError):
        return exc.messages
    if isinstance(exc, PermissionDenied | RateLimited) and str(exc):
        return [str(exc)]
    return ["The criteria could not be read."]


# --- the home's "Jobs running or failed" panel ---------------------------------------------------
def _job_rows(request):
    Status = MassCreationJob.Status
    jobs = job_list(user=request.user).filter(status__in=[*MassCreationJob.ACTIVE, Status.FAILED]).select_related("record_type")[:6]
    return [
        home.HomeRow(
            f"Sales records: {job.record_type} (job #{job.pk})",
            detail=job.get_status_display(),
            url=reverse("admin:salesrecords_masscreationjob_change", args=[job.pk]),
            tone="failed" if job.status == Status.FAILED else "running",
        )
        for job in jobs
    ]


home.register(
    home.Panel(
        key="mass_creation_jobs",
        section=home.JOBS,
        title="Sales record creation",
        permission="salesrecords.view_masscreationjob",
        rows=_job_rows,
        empty="No job running or failed.",
        more_url=lambda request: reverse("admin:salesrecords_masscreationjob_changelist"),
    )
)
