from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User

from ..benefit_summary import benefit_rows
from ..models import Carrier, EmployerGroup, EmployerGroupAddress, EmployerGroupContact, Plan, PlanRate


class CarrierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Carrier
        fields = ["id", "name", "code", "naic", "active"]


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmployerGroupAddress
        fields = ["kind", "line1", "line2", "city", "state", "zip_code"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmployerGroupContact
        fields = ["name", "title", "email", "phone", "is_primary"]


class ExternalIdSerializer(serializers.Serializer):
    system = serializers.CharField()
    object_type = serializers.CharField()
    external_id = serializers.CharField()


class EmployerGroupSerializer(serializers.ModelSerializer):
    """An employer group; ``addresses`` and ``contacts`` given on a write replace the group's whole set."""

    servicing_users = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=User.objects.all())
    addresses = AddressSerializer(many=True, required=False)
    contacts = ContactSerializer(many=True, required=False)
    external_ids = serializers.SerializerMethodField()
    plan_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = EmployerGroup
        fields = [
            "id",
            "name",
            "dba",
            "account_number",
            "account_type",
            "federal_ein",
            "sic_code",
            "office",
            "servicing_users",
            "status",
            "employee_count",
            "renewal_month",
            "addresses",
            "contacts",
            "external_ids",
            "plan_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(ExternalIdSerializer(many=True))
    def get_external_ids(self, group) -> list[dict]:
        return [{"system": r.system, "object_type": r.object_type, "external_id": r.external_id} for r in group.external_ids.all()]


class PlanRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanRate
        fields = ["tier", "age_min", "age_max", "monthly_rate"]


class BenefitRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class PlanSerializer(serializers.ModelSerializer):
    """A plan year with its rates. ``rates`` on a write replace the plan's whole set, in the same transaction."""

    rates = PlanRateSerializer(many=True, required=False)
    group_name = serializers.CharField(source="group.name", read_only=True)
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)
    renewed_to = serializers.SerializerMethodField()
    benefits = serializers.SerializerMethodField(help_text="The benefit summary as a person reads it.")

    class Meta:
        model = Plan
        fields = [
            "id",
            "group",
            "group_name",
            "carrier",
            "carrier_name",
            "line_of_coverage",
            "name",
            "plan_type",
            "policy_number",
            "effective_date",
            "renewal_date",
            "cancellation_date",
            "billing_type",
            "funding_type",
            "status",
            "benefit_summary",
            "benefits",
            "rate_basis",
            "rates",
            "contribution_basis",
            "employer_contribution_employee",
            "employer_contribution_dependents",
            "waiting_period_days",
            "renewed_from",
            "renewed_to",
            "version",
            "created_at",
            "modified_at",
        ]
        read_only_fields = ["renewed_from", "version", "created_at", "modified_at"]

    def get_renewed_to(self, plan) -> int | None:
        renewal = getattr(plan, "renewed_to", None)
        return renewal.pk if renewal else None

    @extend_schema_field(BenefitRowSerializer(many=True))
    def get_benefits(self, plan) -> list[dict]:
        return [{"label": k, "value": v} for k, v in benefit_rows(plan.line_of_coverage, plan.benefit_summary)]

    def validate(self, attrs):
        if self.instance is None and "rates" not in attrs:
            raise serializers.ValidationError({"rates": ["A new plan needs its rates."]})
        return attrs


class PlanRenewSerializer(serializers.Serializer):
    effective_date = serializers.DateField(required=False, help_text="Defaults to the plan's renewal date.")
    rate_change_percent = serializers.DecimalField(max_digits=6, decimal_places=2, default=0, help_text="e.g. 6.5 for a 6.5% increase on every rate.")
