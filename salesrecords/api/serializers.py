from rest_framework import serializers

from individuals import personal_data
from individuals.filters import criteria_public
from individuals.filters.criteria import NOT_SHOWN

from ..models import Activity, MassCreationJob, SalesRecord, SalesRecordType, SalesWorkflow
from ..selectors import job_progress


class SalesRecordTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesRecordType
        fields = ["id", "name", "sort_order", "active", "created_at", "updated_at"]


class SalesRecordSerializer(serializers.ModelSerializer):
    """Personal data is shown masked (last 4); it is copied from the individual, never typed here."""

    ssn = serializers.SerializerMethodField()
    medicare_beneficiary_id = serializers.SerializerMethodField()
    drivers_license = serializers.SerializerMethodField()

    class Meta:
        model = SalesRecord
        fields = [
            "id",
            "individual",
            "record_type",
            "assigned_user",
            "stage",
            "temperature",
            "job",
            "first_name",
            "middle_name",
            "last_name",
            "nickname",
            "title",
            "record_status",
            "secondary_email",
            "cell_phone",
            "home_phone",
            "address_type",
            "address_line1",
            "city",
            "county",
            "zip_code",
            "state",
            "gender",
            "date_of_birth",
            "lead_source",
            "medicare_part_a_effective",
            "medicare_part_b_effective",
            "smoker_status",
            "ssn",
            "medicare_beneficiary_id",
            "drivers_license",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["job", "created_at", "updated_at"]

    def get_ssn(self, obj) -> str:
        return personal_data.masked(obj, "ssn")

    def get_medicare_beneficiary_id(self, obj) -> str:
        return personal_data.masked(obj, "medicare_beneficiary_id")

    def get_drivers_license(self, obj) -> str:
        return personal_data.masked(obj, "drivers_license")


class MassCreationJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField(
        help_text='The criteria; SSN / MBI / driver\'s license as "(saved, not shown)", never their search key.'
    )

    class Meta:
        model = MassCreationJob
        fields = [
            "id",
            "record_type",
            "status",
            "criteria",
            "criteria_version",
            "matched",
            "processed",
            "created",
            "skipped",
            "reason",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
        ]
        read_only_fields = fields

    def get_progress(self, obj) -> dict:
        return job_progress(obj)

    def get_criteria(self, obj) -> dict:
        # A keyed hash compared with a guess's would tell the value without a search (issue 22).
        return criteria_public(obj.criteria or {})


class MassCreationJobCreateSerializer(serializers.Serializer):
    """Criteria (advanced-search keys and values) or the id of a saved search, and the record type."""

    criteria = serializers.DictField(required=False)
    saved_search = serializers.IntegerField(required=False)
    record_type = serializers.PrimaryKeyRelatedField(queryset=SalesRecordType.objects.filter(active=True))

    def validate(self, attrs):
        if ("criteria" in attrs) == ("saved_search" in attrs):
            raise serializers.ValidationError({"criteria": "Send either criteria or saved_search."})
        return attrs


class ConvertBatchSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000)


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "subject", "sales_record", "assigned_to", "due_date", "done", "notes", "workflow", "created_at", "updated_at"]
        read_only_fields = ["workflow", "created_at", "updated_at"]


class SalesWorkflowSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesWorkflow
        fields = [
            "id",
            "name",
            "active",
            "record_types",
            "criteria",
            "criteria_version",
            "create_activity",
            "activity_subject",
            "activity_due_days",
            "send_email",
            "email_to",
            "email_subject",
            "email_body",
            "set_stage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["criteria_version", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["criteria"] = criteria_public(instance.criteria or {})  # never a keyed hash (issue 22)
        return data

    def validate_criteria(self, value):
        """What GET showed may be sent back: ``"(saved, not shown)"`` keeps the workflow's saved key."""
        if not isinstance(value, dict):
            return value
        saved = (self.instance.criteria or {}) if self.instance is not None else {}
        kept = {}
        for kind in personal_data.KINDS:
            if value.get(kind) == NOT_SHOWN:
                if not saved.get(f"{kind}_hash"):
                    raise serializers.ValidationError({kind: "Give the value: none is saved."})
                kept[f"{kind}_hash"] = saved[f"{kind}_hash"]
        replaced = {key.removesuffix("_hash") for key in kept}
        return {**{k: v for k, v in value.items() if k.removesuffix("_hash") not in replaced}, **kept}
