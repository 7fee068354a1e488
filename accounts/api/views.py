from rest_framework import permissions, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api.viewsets import AuditedModelViewSet

from ..models import Agent, AuditLog, SecurityGroup, User
from .serializers import AgentSerializer, AuditLogSerializer, MeSerializer, SecurityGroupSerializer, UserSerializer


class MeView(APIView):
    """The signed-in user, their security group and effective rights."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MeSerializer

    def get(self, request):
        return Response(MeSerializer(request.user).data)


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (throttled; failures are audited)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # ObtainAuthToken's own JSON parser has no depth limit


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


class AgentViewSet(AuditedModelViewSet):
    queryset = Agent.objects.select_related("user")
    serializer_class = AgentSerializer
    filterset_fields = ["active", "user"]
    ordering_fields = ["last_name", "first_name"]


class AuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditLog.objects.select_related("content_type")
    serializer_class = AuditLogSerializer
    filterset_fields = ["action", "actor", "object_id"]
