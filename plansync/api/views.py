import logging

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from integrations.http import IntegrationError, TransientError

from ..filters import AccountFilterSet, ConflictFilterSet, LinkFilterSet, RunFilterSet
from ..models import AccountLink
from ..selectors import account_list, conflict_list, link_list, run_list
from ..services import Row, account_import, accounts_refresh, conflict_resolve, plan_choices_preview, plan_choices_save, plan_sync_request
from .serializers import (
    AccountImportSerializer,
    AccountLinkSerializer,
    BenefitsAdminAccountSerializer,
    ChoicesSerializer,
    PlanChoiceSerializer,
    PlanSyncConflictSerializer,
    PlanSyncRunSerializer,
    ResolveSerializer,
)

# Importing, choosing, syncing and resolving need Edit on Employer Groups & Plans.
CAN_EDIT = HasPerm.of("plans.change_employergroup", "plans.change_plan")

log = logging.getLogger(__name__)


class BenefitsAdminAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """The local list of the benefits-admin system's accounts: ``?q=`` name or account ID; ``refresh`` reloads it."""

    serializer_class = BenefitsAdminAccountSerializer
    filterset_class = AccountFilterSet
    lookup_field = "account_id"

    def get_queryset(self):
        return account_list()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "linked": dict(AccountLink.objects.values_list("account_id", "group_id"))}

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], permission_classes=[CAN_EDIT])
    def refresh(self, request):
        """Reload the list from the system (accounts created there since the last refresh)."""
        try:
            count = accounts_refresh(actor=request.user)
        except IntegrationError as exc:
            # What happened, never where: the client logged the address it called.
            log.warning("Refreshing the benefits-admin accounts failed: %s", exc.message)
            detail = (
                "The benefits-admin system did not answer; try again."
                if isinstance(exc, TransientError)
                else f"The benefits-admin system refused the refresh: {exc.message}"
            )
            return Response({"detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"accounts": count})


class AccountLinkViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Employer group <-> benefits-admin account, with the plan choices. POST imports an account by its ID."""

    serializer_class = AccountLinkSerializer
    filterset_class = LinkFilterSet

    def get_queryset(self):
        return link_list()

    def get_permissions(self):
        if self.action in ("create", "choices", "preview", "sync"):
            return [CAN_EDIT()]
        return super().get_permissions()

    @extend_schema(request=AccountImportSerializer, responses=AccountLinkSerializer)
    def create(self, request, *args, **kwargs):
        data = AccountImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = account_import(actor=request.user, **data.validated_data)
        return Response(AccountLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    def _rows(self, request) -> list[Row]:
        data = ChoicesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return [Row(**row) for row in data.validated_data["choices"]]

    @extend_schema(request=ChoicesSerializer, responses=PlanChoiceSerializer(many=True))
    @action(detail=True, methods=["post"])
    def choices(self, request, pk=None):
        """Save plan choices: ``{"choices": [{"plan", "product_id", "choice", "truth_details", ...}]}``."""
        saved = plan_choices_save(actor=request.user, link=self.get_object(), rows=self._rows(request))
        return Response(PlanChoiceSerializer(saved, many=True).data)

    @extend_schema(request=ChoicesSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """What the first sync of these choices will create or overwrite, field by field (nothing is written)."""
        return Response({"preview": plan_choices_preview(link=self.get_object(), rows=self._rows(request))})

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Sync now: a run for this group (see plan-sync-runs)."""
        link = self.get_object()
        with transaction.atomic():
            run = plan_sync_request(actor=request.user, link=link)
        return Response({"queued": True, "latest_run": run.pk}, status=status.HTTP_202_ACCEPTED)


class PlanSyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Every run: status (and its queue), per-plan outcomes with reasons, what changed (field, old -> new,
    direction), and its history try by try. ``?queue=in_progress|successful|failed|awaiting``."""

    serializer_class = PlanSyncRunSerializer
    filterset_class = RunFilterSet
    ordering_fields = ["started_at"]

    def get_queryset(self):
        return run_list()


class PlanSyncConflictViewSet(viewsets.ReadOnlyModelViewSet):
    """Fields changed on both sides and plans removed there; ``resolve`` with one side's value (or keep / archive)."""

    serializer_class = PlanSyncConflictSerializer
    filterset_class = ConflictFilterSet

    def get_queryset(self):
        return conflict_list()

    @extend_schema(request=ResolveSerializer, responses=PlanSyncConflictSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CAN_EDIT])
    def resolve(self, request, pk=None):
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conflict = conflict_resolve(actor=request.user, conflict=self.get_object(), resolution=data.validated_data["resolution"])
        return Response(PlanSyncConflictSerializer(conflict).data)
