from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from integrations.models import ExternalId

from ..filters import RECORD_TYPES
from ..models import IdentityConflict, Notification, Reconciliation, SyncAttempt
from ..selectors import far_side_url


@extend_schema_serializer(component_name="ExternalIdLink")  # plans has an ExternalId of its own
class ExternalIdSerializer(serializers.ModelSerializer):
    record_type = serializers.CharField(source="content_type.model", read_only=True)
    record = serializers.SerializerMethodField()
    superseded_by = serializers.CharField(source="superseded_by.external_id", read_only=True, default=None)
    far_side_url = serializers.SerializerMethodField()

    class Meta:
        model = ExternalId
        fields = [
            "id",
            "system",
            "object_type",
            "external_id",
            "record_type",
            "object_id",
            "record",
            "status",
            "superseded_by",
            "retired_at",
            "last_change_seen_at",
            "last_synced_at",
            "last_sync_outcome",
            "last_sync_reason",
            "far_side_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_record(self, row) -> str:
        return str(row.record) if row.record is not None else ""

    def get_far_side_url(self, row) -> str:
        return far_side_url(row)


class ExternalIdLinkSerializer(serializers.Serializer):
    """Link a record to an outside system's id a person picked (never by name)."""

    system = serializers.ChoiceField(choices=ExternalId.System.choices, default=ExternalId.System.AMS)
    object_type = serializers.CharField(default="customer", max_length=60)
    external_id = serializers.CharField(max_length=200)
    record_type = serializers.ChoiceField(choices=RECORD_TYPES)
    object_id = serializers.IntegerField(min_value=1)

    def validate(self, data):
        model = ContentType.objects.get(model=data["record_type"], app_label__in=["individuals", "plans"]).model_class()
        record = model._default_manager.filter(pk=data["object_id"]).first()
        if record is None:
            raise serializers.ValidationError({"object_id": f"No {model._meta.verbose_name} {data['object_id']}."})
        data["record"] = record
        return data


class CandidateSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    customer_number = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    city = serializers.CharField()
    linked = serializers.BooleanField()


class IdentityConflictSerializer(serializers.ModelSerializer):
    record_type = serializers.CharField(source="content_type.model", read_only=True)
    kept_record = serializers.SerializerMethodField()
    other_record = serializers.SerializerMethodField()
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = IdentityConflict
        fields = [
            "id",
            "kind",
            "status",
            "system",
            "object_type",
            "external_id",
            "record_type",
            "object_id",
            "kept_record",
            "other_object_id",
            "other_record",
            "description",
            "created_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields

    def get_kept_record(self, conflict) -> str:
        return str(conflict.records()[0] or "")

    def get_other_record(self, conflict) -> str:
        return str(conflict.records()[1] or "")


class ReconciliationSerializer(serializers.ModelSerializer):
    requested_by = serializers.StringRelatedField()
    queue = serializers.CharField(read_only=True, help_text="In progress, Successful, Failed or Awaiting a person.")
    repaired = serializers.IntegerField(read_only=True)

    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "status",
            "queue",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "tries",
            "next_try_at",
            "customers_seen",
            "policies_seen",
            "created",
            "updated",
            "retired",
            "failed",
            "repaired",
            "soap_calls",
            "reason",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="IdentitySyncAttempt")  # hrsync has a SyncAttempt of its own
class SyncAttemptSerializer(serializers.ModelSerializer):
    record_type = serializers.CharField(source="content_type.model", read_only=True, default=None)
    queue = serializers.CharField(read_only=True, help_text="In progress, Successful, Failed or Awaiting a person.")

    class Meta:
        model = SyncAttempt
        fields = [
            "id",
            "direction",
            "operation",
            "status",
            "queue",
            "external_id",
            "record_type",
            "object_id",
            "record_repr",
            "outcome",
            "changes",
            "reason",
            "notification",
            "reconciliation",
            "tries",
            "http_calls",
            "next_try_at",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    queue = serializers.CharField(read_only=True, help_text="In progress, Successful, Failed or Awaiting a person.")
    received_at = serializers.DateTimeField(source="created_at", read_only=True)
    processed_at = serializers.DateTimeField(source="finished_at", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "notification_id",
            "record_type",
            "record_id",
            "customer_id",
            "action",
            "deliveries",
            "status",
            "queue",
            "reason",
            "tries",
            "next_try_at",
            "received_at",
            "processed_at",
        ]
        read_only_fields = fields
