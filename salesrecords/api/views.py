from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.throttling import ScopedThrottle
from core.api.viewsets import AuditedModelViewSet

from .. import selectors, services
from ..filters import ActivityFilterSet, MassCreationJobFilterSet, SalesRecordFilterSet
from ..models import Activity, MassCreationJob, SalesRecord, SalesRecordType, SalesWorkflow
from .serializers import (
    ActivitySerializer,
    ConvertBatchSerializer,
    MassCreationJobCreateSerializer,
    MassCreationJobSerializer,
    SalesRecordSerializer,
    SalesRecordTypeSerializer,
    SalesWorkflowSerializer,
)


class TypeRightsPermission(permissions.BasePermission):
    """Visible on Sales Enablement; whether a write is allowed depends on the record's type (checked by the services)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("salesrecords.view_salesrecord"))


class SalesRecordTypeViewSet(AuditedModelViewSet):
    """Sales record types (at most 10), in sort order."""

    queryset = SalesRecordType.objects.all()
    serializer_class = SalesRecordTypeSerializer
    ordering_fields = ["sort_order", "name"]

    def _save(self, serializer, instance):
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        changed = None if instance._state.adding else list(serializer.validated_data)
        serializer.instance = services.salesrecordtype_save(actor=self.request.user, record_type=instance, changed=changed)


class SalesRecordViewSet(AuditedModelViewSet):
    """Sales records of the types you may view; writes need the type right. ``convert`` is irreversible."""

    queryset = SalesRecord.objects.all()
    serializer_class = SalesRecordSerializer
    permission_classes = [TypeRightsPermission]
    throttle_scope = "bulk"  # the batch convert
    filterset_class = SalesRecordFilterSet
    ordering_fields = ["last_name", "created_at", "stage", "id"]

    def get_queryset(self):
        return selectors.salesrecord_list(user=self.request.user)

    def _save(self, serializer, instance):
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        changed = None if instance._state.adding else list(serializer.validated_data)
        serializer.instance = services.salesrecord_save(actor=self.request.user, record=instance, changed=changed)

    def perform_destroy(self, instance):
        services.salesrecord_delete(actor=self.request.user, record=instance)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Write the record back into its individual (or a new one) and delete the record. Cannot be undone."""
        record = self.get_object()
        individual = services.salesrecord_convert(actor=request.user, record=record)
        return Response({"individual": individual.pk})

    @extend_schema(request=ConvertBatchSerializer, responses={200: dict}, operation_id="sales_records_convert_batch")
    @action(detail=False, methods=["post"], url_path="convert", url_name="convert-batch", throttle_classes=[ScopedThrottle])
    def convert_batch(self, request):
        """Convert several records (all or nothing). Cannot be undone."""
        serializer = ConvertBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["ids"]
        records = list(self.get_queryset().filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {r.pk for r in records})
        if missing:
            return Response({"ids": [f"No sales record {pk} that you may see." for pk in missing]}, status=status.HTTP_400_BAD_REQUEST)
        individuals = services.salesrecords_convert(actor=request.user, records=records)
        return Response({"individuals": [i.pk for i in individuals]})

    def get_throttles(self):
        return super().get_throttles() if self.action == "convert_batch" else []


class MassCreationJobViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mass creation jobs. POST criteria (or a saved search) and a record type -> 202 and the job; GET its progress."""

    queryset = MassCreationJob.objects.none()  # for the schema; get_queryset limits by type rights
    serializer_class = MassCreationJobSerializer
    filterset_class = MassCreationJobFilterSet
    throttle_scope = "bulk"

    def get_queryset(self):
        return selectors.job_list(user=self.request.user)

    def get_permissions(self):
        if self.action == "create":  # the service checks the three rights
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_throttles(self):
        return [ScopedThrottle()] if self.action == "create" else []

    @extend_schema(request=MassCreationJobCreateSerializer, responses={202: MassCreationJobSerializer})
    def create(self, request, *args, **kwargs):
        serializer = MassCreationJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        criteria = data.get("criteria")
        if "saved_search" in data:
            criteria = _saved_search_criteria(request.user, data["saved_search"])
        with transaction.atomic():
            job = services.mass_creation_job_create(actor=request.user, criteria=criteria, record_type=data["record_type"])
        return Response(MassCreationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def _saved_search_criteria(user, pk: int) -> dict:
    from rest_framework.exceptions import ValidationError

    from individuals.filters import criteria_load
    from individuals.models import SavedSearch
    from individuals.services import saved_search_can_see

    saved = SavedSearch.objects.filter(pk=pk).first()
    if saved is None or not saved_search_can_see(user=user, saved_search=saved):
        raise ValidationError({"saved_search": ["No saved search with this id that you may see."]})
    return criteria_load(saved.criteria, saved.criteria_version)


class ActivityViewSet(AuditedModelViewSet):
    """Activities (tasks) about sales records; ``?mine=true`` for your own list."""

    queryset = Activity.objects.none()  # for the schema; get_queryset limits by type rights
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["due_date", "created_at", "id"]

    def get_queryset(self):
        return selectors.activity_list(user=self.request.user)


class SalesWorkflowViewSet(AuditedModelViewSet):
    """Sales workflows: run once for each new record of their types meeting their criteria (needs Manage workflows to change)."""

    queryset = SalesWorkflow.objects.prefetch_related("record_types")
    serializer_class = SalesWorkflowSerializer

    def _save(self, serializer, instance):
        data = dict(serializer.validated_data)
        record_types = data.pop("record_types", None)
        for field, value in data.items():
            setattr(instance, field, value)
        changed = None if instance._state.adding else list(serializer.validated_data)
        serializer.instance = services.salesworkflow_save(actor=self.request.user, workflow=instance, record_types=record_types, changed=changed)
