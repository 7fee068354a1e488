"""FilterSets shared by the admin, the API and the selectors."""

import django_filters
from django.db.models import Q

from core.jobs import QUEUE_STATUSES, Queue

from .models import AccountLink, BenefitsAdminAccount, PlanSyncConflict, PlanSyncRun


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Account name or ID")

    class Meta:
        model = BenefitsAdminAccount
        fields = ["active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(Q(account_id=int(value)) | Q(name__icontains=value))
        return queryset.filter(name__icontains=value)


class LinkFilterSet(django_filters.FilterSet):
    class Meta:
        model = AccountLink
        fields = ["group", "account_id"]


class RunFilterSet(django_filters.FilterSet):
    queue = django_filters.ChoiceFilter(choices=Queue.choices, method="in_queue", label="Queue")

    class Meta:
        model = PlanSyncRun
        fields = ["link", "status", "trigger"]

    def in_queue(self, queryset, name, value):
        return queryset.filter(status__in=QUEUE_STATUSES[Queue(value)])


class ConflictFilterSet(django_filters.FilterSet):
    group = django_filters.NumberFilter(field_name="choice__link__group")

    class Meta:
        model = PlanSyncConflict
        fields = ["status", "kind", "choice"]
