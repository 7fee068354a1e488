from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import AuditedModelViewSet

from .. import services
from ..lockout import LOCKED_OUT_STATUS, lockout_message
from ..models import Agent, ApiToken, AuditLog, SecurityGroup, User
from ..throttles import LoginRateThrottle
from .serializers import (
    AgentSerializer,
    AuditLogSerializer,
    LogoutSerializer,
    MeSerializer,
    SecurityGroupSerializer,
    TokenLoginSerializer,
    UserSerializer,
)


class MeView(APIView):
    """The signed-in user, their security group and effective rights."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MeSerializer

    def get(self, request):
        return Response(MeSerializer(request.user).data)


class TokenView(APIView):
    """Exchange a username and password for an API token.

    Throttled per address; refused logins are audited and count towards the lockout of that
    username from that address (django-axes), which a success resets.
    """

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginRateThrottle]
    serializer_class = TokenLoginSerializer

    def post(self, request):
        serializer = TokenLoginSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": lockout_message()}, status=LOCKED_OUT_STATUS)
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        # What a session login sends: resets the lockout count (axes) and sets last_login.
        user_logged_in.send(sender=type(user), request=request, user=user)
        instance, token = services.api_token_create(user=user)
        return Response(TokenLoginSerializer({"token": token, "expiry": instance.expiry}).data)


class LogoutView(APIView):
    """Revoke the API token this request is made with (``all=true``: every token of the user)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        body = LogoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["all"]:
            services.api_tokens_revoke(actor=request.user, user=request.user, reason="logged out everywhere")
        elif isinstance(request.auth, ApiToken):
            services.api_tokens_revoke(actor=request.user, user=request.user, reason="logged out", tokens=ApiToken.objects.filter(pk=request.auth.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecurityGroupViewSet(AuditedModelViewSet):
    queryset = SecurityGroup.objects.all()
    serializer_class = SecurityGroupSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]


class UserViewSet(AuditedModelViewSet):
    queryset = User.objects.select_related("security_group").order_by("username")
    serializer_class = UserSerializer
    filterset_fields = ["security_group", "is_active"]
    ordering_fields = ["username", "last_name"]

    @extend_schema(
        description="Create a user with either an initial `password` (checked against the site's "
        "password rules) or `invite: true` (a link to choose a password is emailed to "
        "`email`). Audited."
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.user_create(actor=self.request.user, site_url=self.request.build_absolute_uri("/"), **data)

    def perform_update(self, serializer):
        user = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(user, field, value)
        serializer.instance = services.user_save(actor=self.request.user, user=user, changed=list(serializer.validated_data))


class AgentViewSet(AuditedModelViewSet):
    queryset = Agent.objects.select_related("user")
    serializer_class = AgentSerializer
    filterset_fields = ["active", "user"]
    ordering_fields = ["last_name", "first_name"]


class AuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditLog.objects.select_related("content_type")
    serializer_class = AuditLogSerializer
    filterset_fields = ["action", "actor", "object_id"]
