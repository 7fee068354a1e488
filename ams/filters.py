"""FilterSets for the AMS link: the admin, the API and the selectors share them."""

import django_filters
from django.contrib.contenttypes.models import ContentType

from integrations.models import ExternalId

from .models import IdentityConflict, Notification, Reconciliation, SyncAttempt
from .permissions import LINKED_MODELS

RECORD_TYPES = [(m._meta.model_name, m._meta.verbose_name.capitalize()) for m in LINKED_MODELS]


class _RecordTypeFilter(django_filters.ChoiceFilter):
    def __init__(self, **kwargs):
        super().__init__(choices=RECORD_TYPES, method=self.by_model, label="Record type", **kwargs)

    @staticmethod
    def by_model(queryset, name, value):
        model = next(m for m in LINKED_MODELS if m._meta.model_name == value)
        return queryset.filter(content_type=ContentType.objects.get_for_model(model))


class ExternalIdFilterSet(django_filters.FilterSet):
    record_type = _RecordTypeFilter()
    object_id = django_filters.NumberFilter(label="Record id")

    class Meta:
        model = ExternalId
        fields = ["system", "object_type", "external_id", "status", "last_sync_outcome"]


class IdentityConflictFilterSet(django_filters.FilterSet):
    record_type = _RecordTypeFilter()

    class Meta:
        model = IdentityConflict
        fields = ["status", "kind", "external_id"]


class ReconciliationFilterSet(django_filters.FilterSet):
    class Meta:
        model = Reconciliation
        fields = ["status", "trigger"]


class SyncAttemptFilterSet(django_filters.FilterSet):
    record_type = _RecordTypeFilter()
    object_id = django_filters.NumberFilter(label="Record id")

    class Meta:
        model = SyncAttempt
        fields = ["status", "direction", "external_id", "reconciliation", "notification"]


class NotificationFilterSet(django_filters.FilterSet):
    class Meta:
        model = Notification
        fields = ["status", "record_type", "record_id"]
