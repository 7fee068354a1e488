"""Admin wiring shared by every app: saves and deletes go through the audited services."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from core import display
from core.audit import record_delete, record_save

from .importing import import_dataset, import_run
from .importing.files import check_zip
from .importing.jobs import import_job_progress
from .models import ImportJob


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are validated and audited by ``accounts.services``."""

    def save_model(self, request, obj, form, change):
        record_save(actor=request.user, instance=obj, changed=list(form.changed_data) if change else None)

    def delete_model(self, request, obj):
        record_delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_delete(actor=request.user, instance=obj)


class MoneyFieldsMixin:
    """Amounts read as money ("$177.53", ``core.display.money``) wherever they are read, not typed.

    ``money_fields`` names the model's amount fields. Each gets a ``<name>_money`` column for
    ``list_display``; on a page the user may only view, the field is shown through it (Django itself
    would show a bare "177.53"). Works on a ``ModelAdmin`` and on an inline.
    """

    money_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.money_fields:

            def column(obj, _name=name):
                return display.money(getattr(obj, _name, None))

            column.short_description = capfirst(self.model._meta.get_field(name).verbose_name)
            column.admin_order_field = name
            column.__name__ = f"{name}_money"
            setattr(self, f"{name}_money", column)

    def _money_view_only(self, request, obj) -> bool:
        # An existing record (or, for an inline, its parent) the user may not change; an add page stays an input.
        return bool(self.money_fields) and obj is not None and not self.has_change_permission(request, obj)

    def _money_name(self, name):
        return f"{name}_money" if isinstance(name, str) and name in self.money_fields else name

    def _money_swapped(self, names) -> list:
        shown = []
        for name in names:
            if isinstance(name, tuple | list):  # a row of fields
                shown.append(type(name)(self._money_name(n) for n in name))
            elif self._money_name(name) not in shown:
                shown.append(self._money_name(name))
        return shown

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._money_view_only(request, obj):
            return fieldsets
        return [(title, {**options, "fields": self._money_swapped(options["fields"])}) for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._money_view_only(request, obj):
            readonly += [f"{name}_money" for name in self.money_fields if f"{name}_money" not in readonly]
        return readonly


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For append-only logs (audit log, sync history): listed and opened, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ImportExportRightsMixin(ImportExportMixin):
    """CSV/XLSX import and export in the admin; importing needs add and change rights, exporting view."""

    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_form_class(self, request):
        return type("BoundedImportForm", (BoundedImportFormMixin, super().get_import_form_class(request)), {})

    def import_action(self, request, **kwargs):
        """A file over ``IMPORT_JOB_THRESHOLD_BYTES`` is imported by a background job (all or nothing)
        instead of in this request; the person is taken to the job's page."""
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_import_form(request)
            if form.is_valid() and form.cleaned_data["import_file"].size > settings.IMPORT_JOB_THRESHOLD_BYTES:
                file_format = self.get_import_formats()[int(form.cleaned_data["format"])]().get_title().lower()
                resource = self.choose_import_resource_class(form, request)(**self.get_import_resource_kwargs(request, form=form))
                report = import_run(
                    resource=resource,
                    kind=str(self.model._meta.verbose_name_plural),
                    dataset=import_dataset(form.cleaned_data["import_file"], file_format),
                    actor=request.user,
                    dry_run=False,
                    file_format=file_format,
                )
                self.message_user(
                    request,
                    f"The file is large: import #{report.job} runs in the background, all or "
                    "nothing. Its page shows the progress and every row's errors.",
                    messages.INFO,
                )
                return HttpResponseRedirect(reverse("admin:core_importjob_change", args=[report.job]))
        return super().import_action(request, **kwargs)


def _import_live_context(request, job: ImportJob) -> dict:
    """An import job's live part: checked first (no total known yet), then written chunk by chunk."""
    if job.finished:
        percent = 100
    elif job.rows_written and job.rows:
        percent = 50 + round(50 * job.rows_written / job.rows)
    else:
        percent = 0 if job.status == ImportJob.Status.QUEUED else 25
    progress = import_job_progress(job)
    total = f"{progress['rows_total']:,}" if progress["rows_total"] is not None else "— (counted while checking)"
    return {
        "job_title": str(job),
        "status": job.status,
        "queue": job.queue,
        "status_display": job.get_status_display(),
        "percent": min(percent, 100),
        "finished": job.finished,
        "error": job.reason,
        "poll_url": request.path,
        "facts": [
            ("Rows checked", f"{job.rows:,}", "job-rows"),
            ("Rows written", f"{job.rows_written:,}" if not job.dry_run else "none (a dry run)", "job-rows-written"),
            ("Rows in the file", total, "job-rows-total"),
            ("Rows per second", f"{progress['rows_per_second']:,.0f}" if progress["rows_per_second"] else "—", "job-rate"),
        ],
    }


class BoundedImportFormMixin:
    """The admin import form refuses a file over ``IMPORT_MAX_BYTES`` or an XLSX zip bomb (form errors)."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_000_000:.1f} MB; imports take at most {settings.IMPORT_MAX_BYTES / 1_000_000:.1f} MB."
            )
        if upload.name.lower().endswith(".xlsx"):
            try:
                check_zip(upload.file)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return upload


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyModelAdmin):
    """The user's own large imports (background jobs) and their reports."""

    list_display = ["__str__", "file_name", "status", "rows", "rows_written", "error_rows", "written", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    fields = [
        "kind",
        "file_name",
        "file_size",
        "dry_run",
        "status",
        "rows",
        "rows_written",
        "error_rows",
        "written",
        "totals",
        "errors",
        "reason",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/core/importjob/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The job page; its live part (status, rows checked and written, rows/s) alone for htmx while it runs."""
        job = self.get_object(request, object_id)
        if job is not None and self.has_view_permission(request, job) and getattr(request, "htmx", False):
            return TemplateResponse(request, "admin/agencydesk/job_progress.html", _import_live_context(request, job))
        context = {**(extra_context or {}), **(_import_live_context(request, job) if job is not None else {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(owner=request.user)

    def has_module_permission(self, request):
        # In the menu only for those who have run a large import.
        return request.user.is_active and ImportJob.objects.filter(owner_id=request.user.pk).exists()

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and (obj is None or obj.owner_id == request.user.pk)

    @admin.display(description="Size")
    def file_size(self, obj):
        return f"{obj.size / 1_000_000:.1f} MB"

    @admin.display(description="Totals")
    def totals(self, obj):
        totals = (obj.report or {}).get("totals") or {}
        return ", ".join(f"{value:,} {key}" for key, value in totals.items()) or "—"

    @admin.display(description="Row errors")
    def errors(self, obj):
        rows = (obj.report or {}).get("row_errors") or []
        if not rows:
            return "—"
        items = (
            (
                f"Row {r['row']}" if r["row"] else "File",
                "; ".join(f"{'' if k == '__all__' else k + ': '}{' '.join(v)}" for k, v in r["errors"].items()),
            )
            for r in rows
        )
        more = obj.error_rows - len(rows)
        return format_html(
            "<ul>{}</ul>{}", format_html_join("", "<li>{}: {}</li>", items), f"… and {more:,} more rows with errors" if more > 0 else ""
        )

    def has_export_permission(self, request):
        return self.has_view_permission(request)
