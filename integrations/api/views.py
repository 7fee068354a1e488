from drf_spectacular.utils import extend_schema
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
