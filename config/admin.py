"""Admin wiring shared by every app: saves and deletes go through the audited services."""
from django.contrib import admin

from accounts.services import record_delete, record_save


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are validated and audited by ``accounts.services``."""

    def save_model(self, request, obj, form, change):
        record_save(actor=request.user, instance=obj, changed=list(form.changed_data) if change else None)

    def delete_model(self, request, obj):
        record_delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_delete(actor=request.user, instance=obj)
