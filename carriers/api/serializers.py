from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hrsync.models import Employee
from plans.models import Carrier, EmployerGroup

from ..models import CarrierConnection, ConnectionAmendment, ConnectionAttempt, ConnectionEvent, Discrepancy
from ..services import Resolution


class ConnectionEventSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = ConnectionEvent
        fields = ["source", "status", "status_display", "previous_status", "message", "created_at"]


class ConnectionAmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectionAmendment
        fields = ["attempt", "changes", "summary", "created_at"]


class ConnectionAttemptSerializer(serializers.ModelSerializer):
    """One call to the service: ``status`` in the one vocabulary, ``queue`` as people see it, ``reason`` in words."""

    queue = serializers.CharField(source="queue.label", read_only=True)

    class Meta:
        model = ConnectionAttempt
        fields = ["kind", "status", "queue", "tries", "http_calls", "next_try_at", "reason", "created_at", "finished_at"]
        read_only_fields = fields


class CarrierConnectionSerializer(serializers.ModelSerializer):
    """A connection; ``status`` is the service's value as sent, ``status_display`` says it in words
    (``unknown: <value>`` for one the contract does not list)."""

    employer_group = serializers.PrimaryKeyRelatedField(queryset=EmployerGroup.objects.all())
    carrier = serializers.PrimaryKeyRelatedField(queryset=Carrier.objects.all())
    noyo_carrier_id = serializers.CharField(
        required=False, allow_blank=True, help_text="The carrier's id at the service; defaults to the registry's."
    )
    group_name = serializers.CharField(required=False, help_text="Defaults to the employer group's name.")
    federal_ein = serializers.CharField(required=False, help_text="Defaults to the employer group's EIN.")
    status_display = serializers.CharField(read_only=True)
    seconds_in_status = serializers.SerializerMethodField()
    last_amended_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    history = ConnectionEventSerializer(source="events", many=True, read_only=True)
    amendments = ConnectionAmendmentSerializer(many=True, read_only=True)
    work = serializers.SerializerMethodField(help_text="The latest calls to the service (polls that went well aside).")

    class Meta:
        model = CarrierConnection
        fields = [
            "id",
            "employer_group",
            "carrier",
            "noyo_carrier_id",
            "connection_id",
            "group_id",
            "carrier_group_id",
            "group_name",
            "federal_ein",
            "broker_federal_ein",
            "broker_tin",
            "employer_email_address",
            "status",
            "status_display",
            "status_since",
            "seconds_in_status",
            "setup_message",
            "attempts",
            "last_polled_at",
            "next_poll_at",
            "poll_error",
            "last_pulled_at",
            "pull_error",
            "last_amended_at",
            "history",
            "amendments",
            "work",
            "created_at",
        ]
        read_only_fields = [
            "connection_id",
            "group_id",
            "status",
            "status_since",
            "setup_message",
            "attempts",
            "last_polled_at",
            "next_poll_at",
            "poll_error",
            "last_pulled_at",
            "pull_error",
            "created_at",
        ]
        validators = []  # one open connection per group and carrier: the service checks it, with a message that says so

    @extend_schema_field(ConnectionAttemptSerializer(many=True))
    def get_work(self, obj) -> list:
        rows = obj.work.exclude(kind=ConnectionAttempt.Kind.POLL, status=ConnectionAttempt.Status.SUCCEEDED).order_by("-created_at", "-id")[:10]
        return ConnectionAttemptSerializer(rows, many=True).data

    def get_seconds_in_status(self, obj) -> int:
        from django.utils import timezone

        return int((timezone.now() - obj.status_since).total_seconds())


class RetrySerializer(serializers.Serializer):
    carrier_group_id = serializers.CharField(required=False)
    federal_ein = serializers.CharField(required=False)
    broker_federal_ein = serializers.CharField(required=False, allow_blank=True)
    broker_tin = serializers.CharField(required=False, allow_blank=True)
    employer_email_address = serializers.CharField(required=False, allow_blank=True)


class LinkMemberSerializer(serializers.Serializer):
    employee = serializers.PrimaryKeyRelatedField(queryset=Employee.objects.all())


class DiscrepancySerializer(serializers.ModelSerializer):
    field_label = serializers.CharField(read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Discrepancy
        fields = [
            "id",
            "connection",
            "employer_group",
            "carrier",
            "kind",
            "field",
            "field_label",
            "severity",
            "severity_display",
            "subject",
            "subject_key",
            "employee",
            "plan",
            "carrier_value",
            "our_value",
            "status",
            "status_display",
            "noyo_discrepancy_id",
            "noyo_status",
            "resolved_by",
            "resolved_at",
            "first_seen_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices)


class BulkResolveSerializer(ResolveSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)
    filters = serializers.DictField(required=False, help_text='The list\'s filters, e.g. {"connection": 3, "severity": [1]}')

    def validate(self, attrs):
        if not attrs.get("ids") and not attrs.get("filters"):
            raise serializers.ValidationError({"ids": "Give ids, or filters that select the discrepancies."})
        return attrs
