"""FilterSets for sales records, jobs and activities (shared by the API and the admin)."""

import django_filters as filters

from .models import Activity, MassCreationJob, SalesRecord


class SalesRecordFilterSet(filters.FilterSet):
    last_name = filters.CharFilter(lookup_expr="istartswith")
    state = filters.CharFilter()

    class Meta:
        model = SalesRecord
        fields = ["record_type", "stage", "temperature", "assigned_user", "job", "individual"]


class MassCreationJobFilterSet(filters.FilterSet):
    class Meta:
        model = MassCreationJob
        fields = ["status", "record_type", "created_by"]


class ActivityFilterSet(filters.FilterSet):
    mine = filters.BooleanFilter(method="filter_mine", label="Assigned to me")
    due = filters.DateFromToRangeFilter(field_name="due_date")

    class Meta:
        model = Activity
        fields = ["assigned_to", "done", "sales_record", "workflow"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value is None or user is None:
            return queryset
        return queryset.filter(assigned_to=user) if value else queryset.exclude(assigned_to=user)
