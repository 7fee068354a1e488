"""FilterSets for connections and discrepancies: the admin's lists, the API and bulk resolve share them."""

import django_filters
from django.db.models import Q

from plans.models import Carrier, EmployerGroup

from .mapping import CONNECTION_STATUS_LABELS, RETRYABLE_STATUSES, SETTLED_STATUSES
from .models import CarrierConnection, Discrepancy

# The connection queues people work from (the home's panel, the list's filter, the API's ``queue``).
CONNECTION_QUEUES = {
    "attention": ("Needs attention", RETRYABLE_STATUSES),
    "waiting": ("Waiting on the carrier or the service", None),  # any status not settled and not waiting on us
    "completed": ("Completed", ["completed"]),
}


class CarrierConnectionFilterSet(django_filters.FilterSet):
    employer_group = django_filters.ModelChoiceFilter(queryset=EmployerGroup.objects.all(), label="Group")
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all())
    # Any value the service sent, known or not ("unknown: <value>" in lists).
    status = django_filters.CharFilter(help_text="One of " + ", ".join(CONNECTION_STATUS_LABELS) + ", or any other the service sent")
    queue = django_filters.MultipleChoiceFilter(
        choices=[(k, label) for k, (label, _) in CONNECTION_QUEUES.items()],
        method="filter_queue",
        help_text="attention: action required or unable to connect; waiting: on the carrier or the service; completed",
    )

    class Meta:
        model = CarrierConnection
        fields = ["employer_group", "carrier", "status", "carrier_group_id"]

    def filter_queue(self, queryset, name, value):
        if not value:
            return queryset
        wanted = Q()
        for key in value:
            statuses = CONNECTION_QUEUES[key][1]
            wanted |= ~Q(status__in=[*SETTLED_STATUSES, *RETRYABLE_STATUSES]) if statuses is None else Q(status__in=statuses)
        return queryset.filter(wanted)


class DiscrepancyFilterSet(django_filters.FilterSet):
    employer_group = django_filters.ModelChoiceFilter(queryset=EmployerGroup.objects.all(), label="Group")
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all())
    status = django_filters.MultipleChoiceFilter(choices=Discrepancy.Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Discrepancy.Severity.choices)
    kind = django_filters.ChoiceFilter(choices=Discrepancy.Kind.choices)

    class Meta:
        model = Discrepancy
        fields = ["connection", "employer_group", "carrier", "status", "severity", "kind", "field", "employee"]
