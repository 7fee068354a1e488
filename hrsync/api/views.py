from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from accounts.services import record_delete
from core.api.import_views import ImportView
from core.api.throttling import ScopedThrottle
from core.api.viewsets import AuditedModelViewSet

from ..filters import EmployeeFilterSet, SyncAttemptFilterSet
from ..models import BenefitsLevel, Employee
from ..selectors import employee_list, sync_attempt_list, sync_state_counts
from ..services import (
    benefits_level_save,
    employee_census_import,
    employee_create,
    employee_sync_request,
    employee_update,
    employees_assign_benefits_level,
)
from .serializers import (
    AssignLevelSerializer,
    BenefitsLevelSerializer,
    EmployeeSelectionSerializer,
    EmployeeSerializer,
    SyncAttemptSerializer,
    SyncResultSerializer,
)

CAN_SYNC = HasPerm.of("hrsync.change_employee")


class EmployeeViewSet(viewsets.ModelViewSet):
    """Employees of employer groups and their sync state. Writes queue the sync like the admin's."""

    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilterSet
    ordering_fields = ["last_name", "first_name", "updated_at", "sync_state"]
    ordering = ["last_name", "first_name", "id"]

    def get_queryset(self):
        return employee_list()  # filtered once, by filterset_class

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        flag = data.pop("create_benefits_record", False)
        serializer.instance = employee_create(actor=self.request.user, create_benefits_record=flag, **data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "create_benefits_record"}
        serializer.instance = employee_update(actor=self.request.user, employee=serializer.instance, data=data)

    def perform_destroy(self, instance):
        record_delete(actor=self.request.user, instance=instance)

    def _selection(self, data) -> list[int] | object:
        if data.get("ids"):
            return data["ids"]
        return employee_list(filters=data["filters"])

    @extend_schema(request=None, responses=SyncResultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CAN_SYNC])
    def sync(self, request, pk=None):
        """Send this employee to the benefits platform now (queued; see sync_state and sync-attempts)."""
        employee = self.get_object()
        return Response(employee_sync_request(actor=request.user, employees=[employee.pk]).as_dict(), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=EmployeeSelectionSerializer, responses=SyncResultSerializer, operation_id="employees_sync_many")
    @action(detail=False, methods=["post"], url_path="sync", permission_classes=[CAN_SYNC])
    def sync_many(self, request):
        """Send many employees: ``{"ids": [...]}`` or ``{"filters": {"sync_state": "failed"}}`` (a whole tab)."""
        selection = EmployeeSelectionSerializer(data=request.data)
        selection.is_valid(raise_exception=True)
        result = employee_sync_request(actor=request.user, employees=self._selection(selection.validated_data))
        return Response(result.as_dict(), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=AssignLevelSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="assign-benefits-level", permission_classes=[CAN_SYNC])
    def assign_benefits_level(self, request):
        selection = AssignLevelSerializer(data=request.data)
        selection.is_valid(raise_exception=True)
        data = selection.validated_data
        ids = self._selection(data)
        employees = Employee.objects.filter(pk__in=ids) if isinstance(ids, list) else ids
        changed = employees_assign_benefits_level(actor=request.user, employees=employees, level=data["benefits_level"])
        return Response({"changed": changed})

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def tabs(self, request):
        """Employees per sync state (the admin's four tabs)."""
        return Response(sync_state_counts())

    def get_throttles(self):
        if self.action in ("sync_many", "assign_benefits_level"):
            self.throttle_scope = "bulk"
            return [ScopedThrottle()]
        return super().get_throttles()


class SyncAttemptViewSet(viewsets.ReadOnlyModelViewSet):
    """The sync history: every attempt, what was sent (masked), the outcome and the reason."""

    queryset = sync_attempt_list()
    serializer_class = SyncAttemptSerializer
    filterset_class = SyncAttemptFilterSet
    ordering_fields = ["created_at"]


class BenefitsLevelViewSet(AuditedModelViewSet):
    queryset = BenefitsLevel.objects.all()
    serializer_class = BenefitsLevelSerializer
    ordering_fields = ["name"]

    def _save(self, serializer, instance):
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        with transaction.atomic():
            changed = None if instance._state.adding else list(serializer.validated_data)
            serializer.instance = benefits_level_save(actor=self.request.user, level=instance, changed=changed)


class CensusImportView(ImportView):
    """Import a census of employees (CSV/XLSX, all or nothing). 200 with the report; 400 when a row is invalid."""

    permission_classes = [HasPerm.of("hrsync.add_employee", "hrsync.change_employee")]

    def run_import(self, *, content, file_format, dry_run):
        return employee_census_import(actor=self.request.user, content=content, file_format=file_format, dry_run=dry_run)
