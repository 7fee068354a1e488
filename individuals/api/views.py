import functools

from django.db.models import Prefetch, TextField
from django.db.models.functions import Cast
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters as drf_filters
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from accounts.api.permissions import HasPerm
from core.api.renderers import FastJSONRenderer
from core.api.viewsets import AuditedModelViewSet

from .. import personal_data, services
from ..filters import IndividualFilterSet, personal_data_in_url
from ..models import CustomField, Individual, Policy
from ..selectors import individual_search, individual_timeline
from .list_page import ListPage
from .pagination import NoCountPagination
from .serializers import (
    ROW_COLUMNS,
    CustomFieldSerializer,
    IndividualDetailSerializer,
    IndividualSerializer,
    PolicySerializer,
    SearchSerializer,
    TimelinePageSerializer,
    TimelineQuerySerializer,
)

SORTABLE = [
    "id",
    "last_name",
    "first_name",
    "date_of_birth",
    "state",
    "city",
    "zip_code",
    "record_status",
    "created_at",
    "updated_at",
    "medicare_part_a_effective",
    "medicare_part_b_effective",
]


@functools.cache
def _list_rows():
    """Every individual as tuples of ``ROW_COLUMNS``: resolving the 31 column names costs about half a
    millisecond, so it is done once per process and each request clones the result."""
    # custom_fields as its JSON text, parsed by orjson (represent_rows) rather than json.loads per row.
    text = Cast("custom_fields", TextField())
    return Individual.objects.annotate(custom_fields_text=text).values_list(
        *(c if c != "custom_fields" else "custom_fields_text" for c in ROW_COLUMNS)
    )


class StableOrderingFilter(drf_filters.OrderingFilter):
    """Adds ``id`` last so that pages never overlap when the sort column has ties."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(o.lstrip("-") == "id" for o in ordering):
            ordering.append("id")
        return ordering


REVEAL = OpenApiParameter(
    "reveal",
    OpenApiTypes.STR,
    description=(
        "Comma-separated personal-data fields to show in full (ssn, medicare_beneficiary_id, drivers_license). "
        "Needs the 'view full personal data' right; every reveal is audited."
    ),
)


@extend_schema_view(
    list=extend_schema(
        description="The advanced search (query parameters = criteria). Policy criteria must hold "
        "for the same policy. SSN / MBI / driver's license criteria are refused here: "
        "send them in the body of POST search/ (never in URLs)."
    ),
    retrieve=extend_schema(parameters=[REVEAL]),
)
class IndividualViewSet(AuditedModelViewSet):
    """Individuals (clients). Personal data is masked unless revealed on the detail."""

    queryset = Individual.objects.select_related("servicing_agent")
    serializer_class = IndividualSerializer
    filterset_class = IndividualFilterSet
    # Documented for the schema; filter_queryset applies them (with the personal-data and error rules).
    filter_backends = [DjangoFilterBackend, drf_filters.OrderingFilter]
    pagination_class = NoCountPagination
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]
    ordering_fields = SORTABLE
    ordering = ["last_name", "first_name", "id"]

    def get_permissions(self):
        if self.action == "search":
            return [HasPerm.of("individuals.view_individual")()]
        return super().get_permissions()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IndividualDetailSerializer
        if self.action == "search":
            return SearchSerializer
        return IndividualSerializer

    def get_queryset(self):
        if self.action in ("list", "search"):
            # The list and search read just the columns a row shows, as tuples (no secret columns, no
            # model instances nor dicts to build), from a queryset whose columns were resolved once.
            return _list_rows().all()
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("policies", Policy.objects.select_related("carrier")))
        return qs

    def filter_queryset(self, queryset):
        if self.action == "search":
            # The body must be {"criteria": {...}}: a list, a string, a number or null is a 400, never "everything".
            body = SearchSerializer(data=self.request.data)
            body.is_valid(raise_exception=True)
            criteria, how = body.validated_data["criteria"], "API search"
        elif self.action == "list":
            criteria, how = self.request.query_params, "API list"
            in_url = personal_data_in_url(criteria)
            if in_url:
                raise ValidationError(
                    {k: ["Personal data never goes in a URL: send it in the body of POST /api/individuals/search/."] for k in in_url}
                )
        else:
            return StableOrderingFilter().filter_queryset(self.request, queryset, self)
        search = individual_search(filters=criteria, queryset=queryset, request=self.request, user=self.request.user, how=how)
        # The page's SQL is compiled once per shape of search (list_page); the paginator slices and counts it.
        return ListPage(search, StableOrderingFilter().get_ordering(self.request, queryset, self))

    def retrieve(self, request, *args, **kwargs):
        individual = self.get_object()
        kinds = [k for k in request.query_params.get("reveal", "").split(",") if k]
        unknown = [k for k in kinds if k not in personal_data.KINDS]
        if unknown:
            raise ValidationError({"reveal": [f"Unknown field(s): {', '.join(unknown)}."]})
        if kinds and not request.user.has_perm("accounts.view_full_personal_data"):
            raise PermissionDenied("Revealing personal data needs the 'view full personal data' right.")
        revealed = {k: services.individual_reveal(actor=request.user, individual=individual, kind=k) for k in kinds}
        serializer = self.get_serializer(individual, context={**self.get_serializer_context(), "revealed": revealed})
        return Response(serializer.data)

    @extend_schema(
        request=SearchSerializer,
        responses=IndividualSerializer(many=True),
        description="The advanced search with criteria in the body (use this for SSN / MBI / driver's license). Sorting and paging as for the list.",
    )
    @action(detail=False, methods=["post"])
    def search(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(IndividualSerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[TimelineQuerySerializer],
        responses=TimelinePageSerializer,
        description="Everything that happened to the client, newest first: edits (field: old → new, by whom or which "
        "system), syncs, AMS notifications, sales activity, exports that included them; `kind` for one kind. Paged by "
        "time: `next` (or `before=next_before`) gives the older lines. Lines of other areas follow the user's rights "
        "(sales activity needs Sales Enablement, policy edits Policies, personal-data reveals the audit log).",
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        individual = self.get_object()  # the detail's permission and 404
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = individual_timeline(
            individual=individual, user=request.user, kind=params.get("kind", ""), before=params.get("before"), limit=params["limit"]
        )
        entries = page["entries"]
        next_before = entries[-1].at if page["more"] and entries else None
        next_url = None
        if next_before is not None:
            from django.utils.http import urlencode

            next_params = {**{k: v for k, v in request.query_params.items() if k != "before"}, "before": next_before.isoformat()}
            next_url = request.build_absolute_uri(request.path) + "?" + urlencode(next_params)
        data = {"counts": page["counts"], "next": next_url, "next_before": next_before, "results": [e.as_dict() for e in entries]}
        return Response(TimelinePageSerializer(data).data)

    def _data(self, serializer):
        return dict(serializer.validated_data)

    def perform_create(self, serializer):
        serializer.instance = services.individual_create(actor=self.request.user, data=self._data(serializer))

    def perform_update(self, serializer):
        serializer.instance = services.individual_update(actor=self.request.user, individual=serializer.instance, data=self._data(serializer))

    def perform_destroy(self, instance):
        services.individual_delete(actor=self.request.user, individual=instance)


class PolicyViewSet(AuditedModelViewSet):
    """Policies of individuals (the Policies area governs them)."""

    queryset = Policy.objects.select_related("carrier")
    serializer_class = PolicySerializer
    filterset_fields = ["individual", "carrier", "coverage_type", "status"]
    ordering_fields = ["effective_date", "renewal_date", "id"]
    ordering = ["-effective_date", "id"]


class CustomFieldViewSet(AuditedModelViewSet):
    """Custom field definitions; changing them needs the 'manage custom fields' right."""

    queryset = CustomField.objects.all()
    serializer_class = CustomFieldSerializer
    filterset_fields = ["active", "field_type"]
    ordering_fields = ["order", "name"]

    def perform_update(self, serializer):
        field = serializer.instance
        changed = [k for k, v in serializer.validated_data.items() if getattr(field, k) != v]
        for k, v in serializer.validated_data.items():
            setattr(field, k, v)
        serializer.instance = services.custom_field_save(actor=self.request.user, field=field, changed=changed)

    def perform_destroy(self, instance):
        services.custom_field_delete(actor=self.request.user, field=instance)
