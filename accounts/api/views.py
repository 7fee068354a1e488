from django.contrib.auth.signals import user_logged_in
from rest_framework import permissions, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import AuditedModelViewSet

from ..lockout import LOCKED_OUT_STATUS, lockout_message
from ..models import Agent, AuditLog, SecurityGroup, User
from ..throttles import LoginRateThrottle
from .serializers import AgentSerializer, AuditLogSerializer, MeSerializer, SecurityGroupSerializer, UserSerializer


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
    serializer_class = AuthTokenSerializer

    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": lockout_message()}, status=LOCKED_OUT_STATUS)
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        # What a session login sends: resets the lockout count (axes) and sets last_login.
        user_logged_in.send(sender=type(user), request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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
