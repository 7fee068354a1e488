from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import decisions


class DecisionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    blocks = serializers.CharField()
    opened_at = serializers.DateTimeField()
    age = serializers.CharField()
    impact = serializers.IntegerField()
    url = serializers.CharField(help_text="Where a person decides (the admin page).")


class AwaitingSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Open decisions per kind you may see.")
    results = DecisionSerializer(many=True)


class AwaitingView(APIView):
    """Awaiting a person: every open decision the syncs left for people (``?kind=<key>`` for one kind), oldest first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=AwaitingSerializer)
    def get(self, request):
        key = request.query_params.get("kind", "")
        counts = {source.key: source.count() for source in decisions.sources_for(request.user)}
        rows = decisions.decisions_for(request.user, key=key)
        return Response(AwaitingSerializer({"counts": counts, "results": rows}).data)


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="The record's page in the admin.")
    details = serializers.ListField(child=serializers.CharField(), help_text="What tells namesakes apart: date of birth, city, masked SSN.")
    matched = serializers.CharField(help_text="The linked system's id that found it, when it is not the name.")


class SearchGroupSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    more = serializers.BooleanField(help_text="More matched than shown: refine the query.")
    results = SearchHitSerializer(many=True)


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField()
    groups = SearchGroupSerializer(many=True)


class SearchView(APIView):
    """The quick search: individuals, employer groups, employees and policies by name, phone, email, policy
    number or a linked system's id (``?q=``), grouped by kind; only the kinds you may view."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("q", str, description="At least 2 characters.")], responses=SearchSerializer)
    def get(self, request):
        from ..search import PAGE_LIMIT, search
        from ..search_views import results_json

        return Response(SearchSerializer(results_json(search(request.user, request.query_params.get("q", ""), limit=PAGE_LIMIT))).data)
