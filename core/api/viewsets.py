"""The API's write path: create, update and delete go through the audited services."""

from django.db import transaction
from rest_framework import viewsets

from core.audit import record_delete, record_save


class AuditedModelViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose writes are validated (``full_clean``) and audited like the admin's."""

    def _save(self, serializer, instance):
        data = dict(serializer.validated_data)
        m2m = {f: data.pop(f) for f in list(data) if instance._meta.get_field(f).many_to_many}
        for field, value in data.items():
            setattr(instance, field, value)
        with transaction.atomic():
            changed = None if instance._state.adding else list(serializer.validated_data)
            serializer.instance = record_save(actor=self.request.user, instance=instance, changed=changed)
            for field, value in m2m.items():
                getattr(serializer.instance, field).set(value)

    def perform_create(self, serializer):
        self._save(serializer, serializer.Meta.model())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        record_delete(actor=self.request.user, instance=instance)
