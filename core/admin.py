"""Admin wiring shared by every app: saves and deletes go through the audited services."""
from django.contrib import admin
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from core.audit import record_delete, record_save


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are validated and audited by ``accounts.services``."""

    def save_model(self, request, obj, form, change):
        record_save(actor=request.user, instance=obj, changed=list(form.changed_data) if change else None)

    def delete_model(self, request, obj):
        record_delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_delete(actor=request.user, instance=obj)


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

    def has_export_permission(self, request):
        return self.has_view_permission(request)
