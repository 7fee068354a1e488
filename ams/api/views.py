"""The AMS link's API: the webhook, external ids, identity conflicts, reconciliations, the sync queue."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ParseError
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import HasPerm
from core.api.throttling import ScopedThrottle

from .. import selectors, services
from ..filters import ExternalIdFilterSet, IdentityConflictFilterSet, ReconciliationFilterSet, SyncAttemptFilterSet
from ..permissions import LINKED_MODELS, can_see_links
from .serializers import (
    CandidateSerializer,
    ExternalIdLinkSerializer,
    ExternalIdSerializer,
    IdentityConflictSerializer,
    NotificationSerializer,
    ReconciliationSerializer,
    SyncAttemptSerializer,
)


class SeesLinks(BasePermission):
    """Visible on individuals, policies or employer groups: the ids and conflicts of those records."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and can_see_links(request.user))


class WebhookThrottle(ScopedThrottle):
    """The webhook's ``POST`` per sending address (``THROTTLE_AMS_WEBHOOK``); no rate set, no limit."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class BodyTooLarge(ParseError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class EditsLinks(SeesLinks):
    """``SeesLinks`` to read; to write (link, merge, separate), Edit on at least one linked area, checked before
    the body is validated or the record looked up (403, as everywhere); the service checks the record's own area."""

    message = "You need Edit on individuals, policies or employer groups to change their links."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        return any(request.user.has_perm(f"{m._meta.app_label}.change_{m._meta.model_name}") for m in LINKED_MODELS)


class NotificationWebhookView(APIView):
    """``POST``: the AMS's change notification (signed ``X-AMS-Signature: sha256=<hex HMAC>``), stored
    before the answer; a bad signature is a 401 and nothing is stored. ``GET``: the inbox (Administration).

    The ``POST`` is throttled per address (scope ``ams_webhook``), its body is at most
    ``AMS_WEBHOOK_MAX_BODY_BYTES`` (413), nested at most ``MAX_DEPTH`` deep and sent within
    ``AMS_WEBHOOK_MAX_AGE_SECONDS`` (its signed ``SentAt``; 400 otherwise)."""

    throttle_scope = "ams_webhook"

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [HasPerm.of("ams.view_notification")()]

    def get_authenticators(self):
        # The AMS authenticates with its signature, not a session (no CSRF) or a token.
        return [] if getattr(self, "_post", False) else super().get_authenticators()

    def dispatch(self, request, *args, **kwargs):
        self._post = request.method == "POST"
        return super().dispatch(request, *args, **kwargs)

    def get_throttles(self):
        return [WebhookThrottle()] if self._post else super().get_throttles()

    def get_authenticate_header(self, request):
        return 'HMAC realm="ams-notifications"' if self._post else super().get_authenticate_header(request)

    @extend_schema(
        responses={200: NotificationSerializer(many=True)}, parameters=[OpenApiParameter("status", str), OpenApiParameter("record_type", str)]
    )
    def get(self, request):
        qs = selectors.notification_list(filters=request.query_params)[:200]
        return Response(NotificationSerializer(qs, many=True).data)

    @extend_schema(
        request=inline_serializer(
            "AmsNotification",
            {
                "NotificationId": serializers.CharField(),
                "RecordType": serializers.CharField(),
                "RecordId": serializers.CharField(),
                "CustomerId": serializers.CharField(required=False),
            },
        ),
        responses={202: NotificationSerializer, 401: None},
    )
    def post(self, request):
        limit = settings.AMS_WEBHOOK_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:  # refused before reading (or verifying) it
            raise BodyTooLarge(f"The notification is {length} bytes: at most {limit} are accepted.")
        body = request.body
        if len(body) > limit:
            raise BodyTooLarge(f"The notification is {len(body)} bytes: at most {limit} are accepted.")
        try:
            notification = services.notification_receive(body=body, signature=request.headers.get("X-AMS-Signature", ""))
        except services.SignatureError as exc:
            raise NotAuthenticated(str(exc)) from None
        return Response(NotificationSerializer(notification).data, status=status.HTTP_202_ACCEPTED)


class ExternalIdViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Every outside system's ids of the records you may see. ``POST`` links a record to an id a person
    picked (Edit on the record's area); ``candidates`` proposes AMS customers by name prefix, never links."""

    serializer_class = ExternalIdSerializer
    filterset_class = ExternalIdFilterSet
    permission_classes = [EditsLinks]
    ordering_fields = ["system", "external_id", "last_synced_at", "created_at"]

    def get_queryset(self):
        return selectors.external_id_list(user=self.request.user).order_by("system", "object_type", "external_id")

    def get_serializer_class(self):
        return ExternalIdLinkSerializer if self.action == "create" else ExternalIdSerializer

    @extend_schema(request=ExternalIdLinkSerializer, responses={201: ExternalIdSerializer})
    def create(self, request, *args, **kwargs):
        params = ExternalIdLinkSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        row = services.record_link(
            actor=request.user, obj=data["record"], system=data["system"], object_type=data["object_type"], external_id=data["external_id"]
        )
        return Response(ExternalIdSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("name_prefix", str, required=True)], responses={200: CandidateSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def candidates(self, request):
        """AMS customers whose name starts with ``name_prefix``: candidates for a person to pick."""
        found = services.customer_candidates(name_prefix=request.query_params.get("name_prefix", ""))
        return Response(CandidateSerializer(found, many=True).data)


class IdentityConflictViewSet(viewsets.ReadOnlyModelViewSet):
    """Two local records for one far-side identity. ``merge`` or ``separate`` (Edit on the records' area)."""

    serializer_class = IdentityConflictSerializer
    filterset_class = IdentityConflictFilterSet
    permission_classes = [EditsLinks]

    def get_queryset(self):
        return selectors.identity_conflict_list(user=self.request.user)

    def _decide(self, request, decision):
        conflict = services.conflict_resolve(actor=request.user, conflict=self.get_object(), decision=decision)
        return Response(IdentityConflictSerializer(conflict).data)

    @extend_schema(request=None, responses={200: IdentityConflictSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge the other record into the one that keeps the far-side id (its policies or plans move; it is deleted)."""
        return self._decide(request, "merge")

    @extend_schema(request=None, responses={200: IdentityConflictSerializer})
    @action(detail=True, methods=["post"])
    def separate(self, request, pk=None):
        """Keep both records; the other one stays without that far-side id."""
        return self._decide(request, "separate")


class ReconciliationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Walks of the AMS that repair missed notifications (Administration). ``POST``: Reconcile now (202)."""

    serializer_class = ReconciliationSerializer
    filterset_class = ReconciliationFilterSet

    def get_queryset(self):
        return selectors.reconciliation_list()

    @extend_schema(request=None, responses={202: ReconciliationSerializer})
    def create(self, request, *args, **kwargs):
        run = services.reconciliation_request(actor=request.user)
        run.refresh_from_db()
        return Response(ReconciliationSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SyncAttemptViewSet(viewsets.ReadOnlyModelViewSet):
    """The AMS/CRM sync queue: In progress (queued, running, retrying), Successful, Failed with the reason."""

    serializer_class = SyncAttemptSerializer
    filterset_class = SyncAttemptFilterSet
    permission_classes = [SeesLinks]

    def get_queryset(self):
        return selectors.sync_attempt_list(user=self.request.user)
