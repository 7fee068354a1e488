"""``/api/saved-searches/``: the user's own and shared saved searches; ``run`` returns where to see the results."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from core.api.viewsets import AuditedModelViewSet

from ..filters import criteria_clean, criteria_public
from ..filters.criteria import NOT_SHOWN
from ..models import SavedSearch
from ..selectors import individual_list
from ..services import saved_searches as svc
from .serializers import IndividualSerializer

RUN_PAGE = 50


class SavedSearchSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    is_owner = serializers.SerializerMethodField()
    criteria = serializers.DictField(
        required=False,
        default=dict,
        help_text="Advanced-search criteria, as the individuals list's query parameters (lists for several values). "
        "SSN / MBI / driver's license may be sent in clear here: they are stored as keyed hashes.",
    )
    urls = serializers.SerializerMethodField()

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "shared", "criteria", "criteria_version", "owner", "is_owner", "created_at", "updated_at", "last_run_at", "urls"]
        read_only_fields = ["criteria_version", "created_at", "updated_at", "last_run_at"]

    def get_is_owner(self, obj) -> bool:
        return obj.owner_id == self.context["request"].user.pk

    def get_urls(self, obj) -> dict[str, str]:
        return svc.saved_search_urls(obj)

    def validate_criteria(self, value):
        try:  # checked here for field errors under "criteria"; stored (and counted) by the service
            criteria_clean({k: v for k, v in value.items() if v != NOT_SHOWN})
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["criteria"] = criteria_public(data["criteria"])
        return data


class SavedSearchViewSet(AuditedModelViewSet):
    """Saved advanced searches: yours and everyone's shared ones. Only the owner changes or deletes one."""

    serializer_class = SavedSearchSerializer
    permission_classes = [HasPerm.of("individuals.view_individual")]
    queryset = SavedSearch.objects.none()  # for the schema; get_queryset is per user
    filterset_fields = ["shared"]
    ordering_fields = ["name", "created_at", "last_run_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return svc.saved_search_list(user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = svc.saved_search_create(
            actor=self.request.user, name=data["name"], shared=data.get("shared", False), criteria=data.get("criteria", {})
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = svc.saved_search_update(
            actor=self.request.user,
            saved_search=serializer.instance,
            name=data.get("name"),
            shared=data.get("shared"),
            criteria=data.get("criteria") if "criteria" in self.request.data else None,
        )

    def perform_destroy(self, instance):
        svc.saved_search_delete(actor=self.request.user, saved_search=instance)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "SavedSearchRun",
            {
                "criteria": serializers.DictField(),
                "url": serializers.CharField(),
                "admin_url": serializers.CharField(),
                "next": serializers.CharField(allow_null=True),
                "results": IndividualSerializer(many=True),
            },
        ),
        description=f"Run the search: records the last run and returns its first {RUN_PAGE} individuals, the "
        "individuals list URL with its criteria (follow `next` for more) and the admin changelist URL.",
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        saved_search = self.get_object()
        criteria = svc.saved_search_run(actor=request.user, saved_search=saved_search)
        rows = list(individual_list(filters=criteria, user=request.user)[: RUN_PAGE + 1])
        urls = svc.saved_search_urls(saved_search)
        next_url = None
        if len(rows) > RUN_PAGE:
            next_url = request.build_absolute_uri(urls["api"] + ("&" if "?" in urls["api"] else "?") + "page=2")
        return Response(
            {
                "criteria": criteria_public(criteria),
                "url": request.build_absolute_uri(urls["api"]),
                "admin_url": request.build_absolute_uri(urls["admin"]),
                "next": next_url,
                "results": IndividualSerializer(rows[:RUN_PAGE], many=True, context=self.get_serializer_context()).data,
            }
        )
