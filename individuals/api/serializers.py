from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from .. import personal_data
from ..custom_fields import clean_values
from ..models import CustomField, Individual, Policy


class PersonalDataField(serializers.CharField):
    """Write: the clear value (validated, encrypted by the service). Read: masked (last 4), or the
    full value when the view revealed it (``context["revealed"][kind]``, audited)."""

    def __init__(self, kind, **kwargs):
        self.kind = kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", f"Masked to the last 4 unless revealed with ?reveal={kind} (needs the "
                                       f"'view full personal data' right; audited). Write the full value; \"\" clears.")
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        revealed = self.context.get("revealed", {})
        if self.kind in revealed:
            return revealed[self.kind]
        return personal_data.masked(instance, self.kind) or None

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value:
            try:
                personal_data.normalize(self.kind, value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict[self.kind]) from None
        return value


_DATES = {"date_of_birth", "medicare_part_a_effective", "medicare_part_b_effective"}
_DATETIMES = {"created_at", "updated_at"}


def _datetime(value, tz):
    # What DRF's DateTimeField renders (current time zone, "Z" for UTC), without its per-call overhead.
    text = value.astimezone(tz).isoformat() if value.tzinfo is not None else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text

_PLAIN = {f.name for f in Individual._meta.concrete_fields if f.get_internal_type() in ("CharField", "EmailField", "JSONField", "BigAutoField")} | {"id"}


class PolicySerializer(serializers.ModelSerializer):
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "individual", "carrier", "carrier_name", "policy_number", "coverage_type", "status",
                  "effective_date", "renewal_date", "termination_date", "premium", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class NestedPolicySerializer(PolicySerializer):
    class Meta(PolicySerializer.Meta):
        fields = [f for f in PolicySerializer.Meta.fields if f != "individual"]


class IndividualSerializer(serializers.ModelSerializer):
    servicing_agent_name = serializers.CharField(source="servicing_agent.__str__", read_only=True, default=None)
    ssn = PersonalDataField("ssn")
    medicare_beneficiary_id = PersonalDataField("medicare_beneficiary_id")
    drivers_license = PersonalDataField("drivers_license")
    custom_fields = serializers.JSONField(required=False, help_text="Values keyed by custom field key, validated by type.")

    class Meta:
        model = Individual
        fields = [
            "id", "first_name", "middle_name", "last_name", "nickname", "title", "servicing_agent",
            "servicing_agent_name", "record_status", "email", "secondary_email", "cell_phone", "home_phone",
            "address_type", "address_line1", "address_line2", "city", "county", "zip_code", "state", "gender",
            "date_of_birth", "lead_source", "medicare_beneficiary_id", "medicare_part_a_effective",
            "medicare_part_b_effective", "ssn", "drivers_license", "smoker_status", "custom_fields",
            "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        """The list's hot path: plain attribute reads instead of DRF's per-field machinery (same output;
        ``test_fast_representation_matches_drf`` pins it)."""
        data = {}
        tz = timezone.get_current_timezone()
        revealed = self.context.get("revealed", {})
        for name in self.Meta.fields:
            if name in _DATES:
                value = getattr(instance, name)
                data[name] = value.isoformat() if value is not None else None
            elif name in _DATETIMES:
                value = getattr(instance, name)
                data[name] = _datetime(value, tz) if value is not None else None
            elif name in personal_data.KINDS:
                data[name] = revealed[name] if name in revealed else (personal_data.masked(instance, name) or None)
            elif name == "servicing_agent":
                data[name] = instance.servicing_agent_id
            elif name == "servicing_agent_name":
                data[name] = str(instance.servicing_agent) if instance.servicing_agent_id else None
            elif name in _PLAIN:
                data[name] = getattr(instance, name)
            else:
                data[name] = self.fields[name].to_representation(self.fields[name].get_attribute(instance))
        return data

    def validate_custom_fields(self, value):
        try:
            existing = self.instance.custom_fields if self.instance is not None else {}
            clean_values(value, existing=existing)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["custom_fields"]) from None
        return value


class IndividualDetailSerializer(IndividualSerializer):
    policies = NestedPolicySerializer(many=True, read_only=True)

    class Meta(IndividualSerializer.Meta):
        fields = [*IndividualSerializer.Meta.fields, "policies"]


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "name", "key", "field_type", "options", "active", "order", "help_text", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SearchSerializer(serializers.Serializer):
    """Advanced-search criteria in a request body (keeps personal data out of URLs)."""

    criteria = serializers.DictField(help_text="The same keys as the list's query parameters; lists for several values.")
