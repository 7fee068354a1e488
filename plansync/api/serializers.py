from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from plans.models import EmployerGroup, Plan

from ..models import AccountLink, BenefitsAdminAccount, PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, Side


class BenefitsAdminAccountSerializer(serializers.ModelSerializer):
    linked_group = serializers.SerializerMethodField()

    class Meta:
        model = BenefitsAdminAccount
        fields = ["account_id", "name", "classification", "account_type", "active", "office_name", "last_modified_on", "refreshed_at", "linked_group"]

    def get_linked_group(self, obj) -> int | None:
        return self.context.get("linked", {}).get(obj.account_id)


class PlanChoiceSerializer(serializers.ModelSerializer):
    choice_label = serializers.CharField(source="get_choice_display", read_only=True)
    sync_state = serializers.ChoiceField(source="state", choices=PlanChoice.State.choices, read_only=True)
    sync_state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = PlanChoice
        fields = [
            "id",
            "plan",
            "product_id",
            "choice",
            "choice_label",
            "truth_details",
            "truth_benefits",
            "truth_rates",
            "sync_state",
            "sync_state_label",
            "rate_id",
            "needs_pull",
            "updated_at",
        ]


class AccountLinkSerializer(serializers.ModelSerializer):
    choices = PlanChoiceSerializer(many=True, read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = AccountLink
        fields = ["id", "group", "group_name", "account_id", "account_name", "created_at", "choices"]
        read_only_fields = ["account_name", "created_at"]


class AccountImportSerializer(serializers.Serializer):
    account_id = serializers.IntegerField(min_value=1, help_text="The benefits-admin account ID.")
    group = serializers.PrimaryKeyRelatedField(
        queryset=EmployerGroup.objects.all(), required=False, allow_null=True, help_text="An existing employer group to link; empty: a new group."
    )


class ChoiceRowSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.all(), required=False, allow_null=True)
    product_id = serializers.IntegerField(required=False, allow_null=True)
    choice = serializers.ChoiceField(choices=PlanChoice.Choice.choices)
    truth_details = serializers.ChoiceField(choices=Side.choices, default=Side.BENEFITS_ADMIN)
    truth_benefits = serializers.ChoiceField(choices=Side.choices, default=Side.BENEFITS_ADMIN)
    truth_rates = serializers.ChoiceField(choices=Side.choices, default=Side.BENEFITS_ADMIN)


class ChoicesSerializer(serializers.Serializer):
    choices = ChoiceRowSerializer(many=True)


class PlanSyncItemSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = PlanSyncItem
        fields = ["id", "choice", "plan_label", "run_try", "status", "status_label", "action", "reason", "changes"]


class PlanSyncRunSerializer(serializers.ModelSerializer):
    """A run in the one status vocabulary (``status``) and the queue people see (``queue``: In progress,
    Successful, Failed, Awaiting a person); ``summary`` is its reason (kept under its old name too)."""

    items = PlanSyncItemSerializer(many=True, read_only=True)
    group = serializers.IntegerField(source="link.group_id", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    queue = serializers.CharField(source="queue.value", read_only=True)
    queue_label = serializers.CharField(source="queue.label", read_only=True)
    calls = serializers.IntegerField(source="http_calls", read_only=True)
    summary = serializers.CharField(source="reason", read_only=True)

    class Meta:
        model = PlanSyncRun
        fields = [
            "id",
            "link",
            "group",
            "trigger",
            "status",
            "status_label",
            "queue",
            "queue_label",
            "created_at",
            "started_at",
            "finished_at",
            "tries",
            "next_try_at",
            "calls",
            "reason",
            "summary",
            "history",
            "items",
        ]


class PlanSyncConflictSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="choice.__str__", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = PlanSyncConflict
        fields = [
            "id",
            "choice",
            "plan",
            "kind",
            "kind_label",
            "field",
            "local_value",
            "remote_value",
            "agreed_value",
            "status",
            "resolution",
            "resolved_at",
            "created_at",
        ]


@extend_schema_serializer(component_name="PlanSyncConflictResolve")  # carriers has a ResolveSerializer too
class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=PlanSyncConflict.Resolution.choices)
