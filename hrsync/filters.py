"""FilterSets for employees and sync attempts: the admin's tabs, the API and bulk actions share them."""

import django_filters
from django.db.models import Q

from .models import BenefitsLevel, Employee, SyncAttempt


class EmployeeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name, email or benefits account")
    sync_state = django_filters.ChoiceFilter(choices=Employee.SyncState.choices, label="Tab")
    benefits_level = django_filters.ModelChoiceFilter(queryset=BenefitsLevel.objects.all())
    leaver = django_filters.BooleanFilter(field_name="leave_date", lookup_expr="isnull", exclude=True, label="Has a leave date")

    class Meta:
        model = Employee
        fields = ["employer_group", "benefits_account_id"]

    def filter_q(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word) | Q(benefits_account_id__iexact=word)
            )
        return queryset


class SyncAttemptFilterSet(django_filters.FilterSet):
    class Meta:
        model = SyncAttempt
        fields = ["employee", "status", "action"]
