from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from core.api.import_views import ImportView
from core.api.viewsets import AuditedModelViewSet

from .. import selectors, services
from ..filters import CarrierFilterSet, EmployerGroupFilterSet, PlanFilterSet
from ..services import plans_import
from .serializers import CarrierSerializer, EmployerGroupSerializer, PlanRenewSerializer, PlanSerializer


class CarrierViewSet(AuditedModelViewSet):
    """Carriers. A plan can only be placed with an active carrier."""

    queryset = selectors.carrier_list()
    serializer_class = CarrierSerializer
    filterset_class = CarrierFilterSet
    ordering_fields = ["name", "code"]

    def perform_destroy(self, instance):
        services.carrier_delete(actor=self.request.user, carrier=instance)


class EmployerGroupViewSet(AuditedModelViewSet):
    """Employer groups (client accounts) with addresses, contacts and external ids."""

    queryset = selectors.employer_group_list()
    serializer_class = EmployerGroupSerializer
    filterset_class = EmployerGroupFilterSet
    ordering_fields = ["name", "account_number", "renewal_month", "updated_at"]

    @staticmethod
    def _split(data: dict) -> tuple[dict, dict]:
        children = {k: data.pop(k) for k in ("servicing_users", "addresses", "contacts") if k in data}
        return data, children

    def perform_destroy(self, instance):
        services.employer_group_delete(actor=self.request.user, group=instance)

    def perform_create(self, serializer):
        data, children = self._split(dict(serializer.validated_data))
        serializer.instance = services.employer_group_create(actor=self.request.user, **children, **data)

    def perform_update(self, serializer):
        data, children = self._split(dict(serializer.validated_data))
        serializer.instance = services.employer_group_update(actor=self.request.user, group=serializer.instance, data=data, **children)


class PlanViewSet(AuditedModelViewSet):
    """Plans with their rates; a write with ``rates`` saves the plan and every rate, or nothing."""

    queryset = selectors.plan_list()
    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    ordering_fields = ["name", "effective_date", "renewal_date", "modified_at"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.plan_create(actor=self.request.user, rates=data.pop("rates"), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        rates = data.pop("rates", None)
        serializer.instance = services.plan_update(actor=self.request.user, plan=serializer.instance, data=data, rates=rates)

    @extend_schema(request=PlanRenewSerializer, responses={201: PlanSerializer})
    @action(detail=True, methods=["post"], permission_classes=[HasPerm.of("plans.add_plan")])
    def renew(self, request, pk=None):
        """Copy the plan into its next plan year, linked to it; rates change by ``rate_change_percent``."""
        params = PlanRenewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with transaction.atomic():
            renewal = services.plan_renew(actor=request.user, plan=self.get_object(), **params.validated_data)
        return Response(PlanSerializer(renewal).data, status=status.HTTP_201_CREATED)


class EmployerGroupImportView(ImportView):
    """Import employer groups (CSV/XLSX, all or nothing). 200 with the report; 400 when a row is invalid."""

    kind = "employer_groups"
    permission_classes = [HasPerm.of("plans.add_employergroup", "plans.change_employergroup")]

    def run_import(self, *, content, file_format, dry_run):
        return plans_import(actor=self.request.user, kind=self.kind, content=content, file_format=file_format, dry_run=dry_run)


class PlanImportView(EmployerGroupImportView):
    """Import plans with their rates (CSV/XLSX, all or nothing). 200 with the report; 400 when a row is invalid."""

    kind = "plans"
    permission_classes = [HasPerm.of("plans.add_plan", "plans.change_plan")]
