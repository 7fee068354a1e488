from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from core.api.throttling import ScopedThrottle

from ..filters import CarrierConnectionFilterSet, DiscrepancyFilterSet
from ..selectors import connection_list, discrepancy_list
from ..services import (
    connection_poll,
    connection_pull,
    connection_request,
    connection_retry,
    discrepancies_resolve,
    discrepancy_resolve,
    member_link_confirm,
)
from .serializers import (
    BulkResolveSerializer,
    CarrierConnectionSerializer,
    DiscrepancySerializer,
    LinkMemberSerializer,
    ResolveSerializer,
    RetrySerializer,
)

CAN_ACT_ON_CONNECTIONS = HasPerm.of("carriers.change_carrierconnection")
CAN_RESOLVE = HasPerm.of("carriers.change_discrepancy")


class CarrierConnectionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Carrier group connections: request one (POST), follow it, amend and retry, pull its group data."""

    serializer_class = CarrierConnectionSerializer
    filterset_class = CarrierConnectionFilterSet
    ordering_fields = ["created_at", "status_since", "status"]

    def get_queryset(self):
        queryset = connection_list()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events", "amendments")
        return queryset

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.action == "list":  # the history stays on the detail
            for name in ("history", "amendments", "work"):
                (getattr(serializer, "child", serializer)).fields.pop(name, None)
        return serializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = connection_request(actor=self.request.user, **data)

    def _detail(self, connection, code=status.HTTP_200_OK):
        fresh = self.get_queryset().prefetch_related("events", "amendments").get(pk=connection.pk)
        return Response(CarrierConnectionSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=RetrySerializer, responses=CarrierConnectionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CAN_ACT_ON_CONNECTIONS])
    def retry(self, request, pk=None):
        """Amend (any of carrier_group_id, federal_ein, broker ids, employer email) and retry."""
        changes = RetrySerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        return self._detail(connection_retry(actor=request.user, connection=self.get_object(), changes=changes.validated_data))

    @extend_schema(request=None, responses=CarrierConnectionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CAN_ACT_ON_CONNECTIONS])
    def poll(self, request, pk=None):
        """Ask the service now, whatever the polling schedule says."""
        return self._detail(connection_poll(connection_id=self.get_object().pk, actor=request.user, force=True))

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], permission_classes=[CAN_ACT_ON_CONNECTIONS])
    def pull(self, request, pk=None):
        """Pull the group's plans and members now and compare them; answers with counts."""
        return Response(connection_pull(connection_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=LinkMemberSerializer, responses={200: dict})
    @action(detail=True, methods=["post"], url_path=r"members/(?P<noyo_id>[^/]+)/link", permission_classes=[CAN_RESOLVE])
    def link_member(self, request, pk=None, noyo_id=None):
        """Confirm which employee a carrier member without an id of ours is (never matched by name or SSN)."""
        body = LinkMemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = member_link_confirm(actor=request.user, connection=self.get_object(), noyo_id=noyo_id, employee=body.validated_data["employee"])
        return Response({"noyo_id": member.noyo_id, "employee": member.employee_id})


class DiscrepancyViewSet(viewsets.ReadOnlyModelViewSet):
    """Differences between a carrier's view of a group and ours, coverage-affecting first."""

    serializer_class = DiscrepancySerializer
    filterset_class = DiscrepancyFilterSet
    ordering_fields = ["severity", "field", "first_seen_at", "status"]
    ordering = ["severity", "field", "id"]

    def get_queryset(self):
        return discrepancy_list()

    @extend_schema(request=ResolveSerializer, responses=DiscrepancySerializer)
    @action(detail=True, methods=["post"], permission_classes=[CAN_RESOLVE])
    def resolve(self, request, pk=None):
        """``{"resolution": "take_carrier" | "keep_ours" | "acknowledge"}``."""
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        discrepancy = discrepancy_resolve(actor=request.user, discrepancy=self.get_object(), resolution=body.validated_data["resolution"])
        return Response(DiscrepancySerializer(discrepancy).data)

    @extend_schema(request=BulkResolveSerializer, responses={200: dict}, operation_id="discrepancies_resolve_many")
    @action(detail=False, methods=["post"], url_path="resolve", permission_classes=[CAN_RESOLVE])
    def resolve_many(self, request):
        """Resolve many: ``{"resolution": ..., "ids": [...]}`` or ``{"resolution": ..., "filters": {...}}``.

        Each is resolved on its own; the answer counts them and gives the reason for each refusal.
        """
        body = BulkResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("ids"):
            selection = discrepancy_list().filter(pk__in=data["ids"])
        else:
            filterset = DiscrepancyFilterSet(data["filters"], queryset=discrepancy_list())
            if not filterset.is_valid():
                raise DjangoValidationError({"filters": [f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()]})
            selection = filterset.qs
        return Response(discrepancies_resolve(actor=request.user, discrepancies=selection, resolution=data["resolution"]))

    def get_throttles(self):
        if self.action == "resolve_many":
            self.throttle_scope = "bulk"
            return [ScopedThrottle()]
        return super().get_throttles()
