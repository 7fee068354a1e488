"""The Individuals changelist: the advanced-search FilterSet above the list, and counts that stay cheap."""
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from .. import personal_data
from ..filters import IndividualFilterSet

# Below this many rows an exact count is cheap enough; above it the unfiltered list uses the planner's estimate.
EXACT_COUNT_UP_TO = 20_000


class EstimatedCountPaginator(Paginator):
    """Counts a search exactly, but an unfiltered large table from PostgreSQL's statistics (no seq scan)."""

    estimated = False

    @cached_property
    def count(self):
        qs = self.object_list
        if connection.vendor == "postgresql" and hasattr(qs, "query") and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > EXACT_COUNT_UP_TO:
                self.estimated = True
                return int(row[0])
        return super().count


class SearchChangeList(ChangeList):
    """A ChangeList whose criteria come from ``IndividualFilterSet`` rather than admin list filters."""

    def __init__(self, request, *args, **kwargs):
        self.filterset = IndividualFilterSet(data=request.GET, queryset=args[0]._default_manager.none())
        self.pd_in_url = [k for k in personal_data.KINDS if k in request.GET]
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        return {}  # every criterion belongs to the FilterSet

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        if self.pd_in_url or not self.filterset.is_valid():
            return qs.none()
        self.has_active_filters = bool(self.filterset.form.cleaned_data and any(
            v not in (None, "", [], ()) and not (hasattr(v, "start") and v.start is None and v.stop is None)
            for v in self.filterset.form.cleaned_data.values()
        ))
        return self.filterset.filter_queryset(qs)
