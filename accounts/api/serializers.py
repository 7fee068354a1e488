from django.contrib.auth import authenticate
from rest_framework import serializers

from ..models import Agent, AuditLog, SecurityGroup, User
from ..rights import Area, Flag, Level


class SecurityGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityGroup
        fields = ["id", "name", "description", *[a.value for a in Area], *[f.value for f in Flag]]


class UserSerializer(serializers.ModelSerializer):
    security_group_name = serializers.CharField(source="security_group.name", read_only=True, default=None)
    password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="On creation only: the initial password, checked against the site's password rules. Give this or `invite`, not both.",
    )
    invite = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="On creation only: instead of a password, email the user a link to choose one (needs `email`).",
    )

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "security_group", "security_group_name", "is_active", "password", "invite"]
        extra_kwargs = {"is_active": {"default": True}}  # also when a form post leaves it out

    def validate(self, attrs):
        if self.instance is not None and ("password" in attrs or attrs.get("invite")):
            raise serializers.ValidationError(
                {"password": ["A password is set only on creation; the user changes it, or an administrator in the admin."]}
            )
        return attrs


class SecurityGroupLevelsSerializer(SecurityGroupSerializer):
    """A security group as people read it (``/api/me/``): a level name per area, not its number."""

    def to_representation(self, group):
        data = super().to_representation(group)
        for area in Area:
            data[area.value] = Level(data[area.value]).label
        return data


class MeSerializer(serializers.ModelSerializer):
    security_group = SecurityGroupLevelsSerializer(read_only=True)
    rights = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "is_superuser", "security_group", "rights"]

    def get_rights(self, user) -> dict:
        from ..selectors import user_rights

        return user_rights(user=user)


class AgentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "first_name", "last_name", "email", "phone", "npn", "user", "active"]


class AuditLogSerializer(serializers.ModelSerializer):
    content_type = serializers.CharField(source="content_type.model", read_only=True, default=None)

    class Meta:
        model = AuditLog
        fields = ["id", "created_at", "actor", "actor_repr", "action", "content_type", "object_id", "object_repr", "summary", "data"]


class TokenLoginSerializer(serializers.Serializer):
    """Username and password in; the token (shown this once) and when it expires out."""

    username = serializers.CharField(write_only=True, max_length=150)
    password = serializers.CharField(write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    token = serializers.CharField(read_only=True, help_text="Send as `Authorization: Token <token>`; never shown again.")
    expiry = serializers.DateTimeField(read_only=True, allow_null=True, help_text="null: the token does not expire.")

    def validate(self, attrs):
        user = authenticate(request=self.context["request"], username=attrs["username"], password=attrs["password"])
        if user is None:  # also an inactive user, or a locked-out username + address
            raise serializers.ValidationError("Unable to log in with provided credentials.", code="authorization")
        attrs["user"] = user
        return attrs


class LogoutSerializer(serializers.Serializer):
    all = serializers.BooleanField(default=False, help_text="Revoke every token of the user, not only this one.")
