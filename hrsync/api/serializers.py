from rest_framework import serializers

from ..filters import EmployeeFilterSet
from ..models import BenefitsLevel, Employee, SyncAttempt
from ..services.employees import EDITABLE_FIELDS


class BenefitsLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenefitsLevel
        fields = ["id", "name", "package_code", "description"]


class SyncAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncAttempt
        fields = [
            "id",
            "employee",
            "version",
            "status",
            "action",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "tries",
            "next_try_at",
            "retrying_since",
            "http_calls",
            "payload",
            "response_code",
            "account_id",
            "reason",
        ]


class LastAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncAttempt
        fields = ["id", "status", "action", "finished_at", "response_code", "reason"]


class EmployeeSerializer(serializers.ModelSerializer):
    create_benefits_record = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text="On create: send the new starter to the platform at once."
    )
    last_attempt = LastAttemptSerializer(read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "uuid",
            *EDITABLE_FIELDS,
            "create_benefits_record",
            "benefits_account_id",
            "sync_state",
            "last_attempt",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "benefits_account_id", "sync_state", "created_at", "updated_at"]
        # (employer_group, email) uniqueness is checked by full_clean in the service; DRF's
        # validator would demand both fields on every PATCH.
        validators = []


class EmployeeSelectionSerializer(serializers.Serializer):
    """Which employees a bulk action is for: explicit ids, or every employee matching the filters."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=10000)
    filters = serializers.DictField(required=False, help_text='EmployeeFilterSet criteria, e.g. {"sync_state": "failed"}')

    def validate_filters(self, filters: dict) -> dict:
        # A misspelt or invalid criterion must not widen a bulk action to every employee.
        filterset = EmployeeFilterSet(filters, queryset=Employee.objects.none())
        errors = {name: ["Not a filter of employees."] for name in filters if name not in filterset.filters}
        if not filterset.is_valid():
            errors.update({name: [e["message"] for e in errs] for name, errs in filterset.errors.get_json_data().items()})
        if errors:
            raise serializers.ValidationError(errors)
        return filters

    def validate(self, attrs):
        if bool(attrs.get("ids")) == ("filters" in attrs):
            raise serializers.ValidationError("Give either ids or filters.")
        return attrs


class AssignLevelSerializer(EmployeeSelectionSerializer):
    benefits_level = serializers.PrimaryKeyRelatedField(queryset=BenefitsLevel.objects.all())


class SyncResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    failed_before_sending = serializers.IntegerField()
    already_in_progress = serializers.IntegerField()
