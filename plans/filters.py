"""FilterSets for employer groups, carriers and plans: one set of criteria for admin, API and jobs."""

import django_filters
from django.db.models import Q

from core.filters import IsoDateTimeFilter

from .models import Carrier, EmployerGroup, Plan


class CarrierFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name, code or NAIC")

    class Meta:
        model = Carrier
        fields = ["active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(naic=value))


class EmployerGroupFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name, DBA or account number")
    status = django_filters.MultipleChoiceFilter(choices=EmployerGroup.Status.choices)
    renewal_month = django_filters.MultipleChoiceFilter(choices=EmployerGroup.Month.choices)
    carrier = django_filters.ModelMultipleChoiceFilter(queryset=Carrier.objects.all(), method="filter_carrier", label="Has a plan with carrier")
    line_of_coverage = django_filters.MultipleChoiceFilter(choices=Plan.Line.choices, method="filter_line", label="Has a plan of line")
    servicing_user = django_filters.NumberFilter(field_name="servicing_users", label="Serviced by user id")
    modified_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = EmployerGroup
        fields = ["account_type", "office"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(dba__icontains=value) | Q(account_number__iexact=value))

    # Subqueries, not joins: a group with several matching plans is listed once.
    def filter_carrier(self, queryset, name, value: list[int]):
        return queryset.filter(pk__in=Plan.objects.filter(carrier__in=value).values("group_id")) if value else queryset

    def filter_line(self, queryset, name, value: list[str]):
        if not value:
            return queryset
        return queryset.filter(pk__in=Plan.objects.filter(line_of_coverage__in=value).values("group_id"))


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Plan name, policy number or group")
    carrier = django_filters.ModelMultipleChoiceFilter(queryset=Carrier.objects.all())
    line_of_coverage = django_filters.MultipleChoiceFilter(choices=Plan.Line.choices)
    status = django_filters.MultipleChoiceFilter(choices=Plan.Status.choices)
    plan_type = django_filters.MultipleChoiceFilter(choices=Plan.PlanType.choices)
    funding_type = django_filters.MultipleChoiceFilter(choices=Plan.FundingType.choices)
    renewal_month = django_filters.MultipleChoiceFilter(choices=EmployerGroup.Month.choices, field_name="renewal_date__month", label="Renewal month")
    effective_date = django_filters.DateFromToRangeFilter()
    renewal_date = django_filters.DateFromToRangeFilter()
    modified_since = IsoDateTimeFilter(field_name="modified_at", lookup_expr="gte")

    class Meta:
        model = Plan
        fields = ["group", "billing_type", "rate_basis", "renewed_from"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(policy_number__iexact=value) | Q(group__name__icontains=value))
