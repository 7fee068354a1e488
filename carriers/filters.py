"""FilterSets for connections and discrepancies: the admin's lists, the API and bulk resolve share them."""

import django_filters

from plans.models import Carrier, EmployerGroup

from .mapping import CONNECTION_STATUS_LABELS
from .models import CarrierConnection, Discrepancy


class CarrierConnectionFilterSet(django_filters.FilterSet):
    employer_group = django_filters.ModelChoiceFilter(queryset=EmployerGroup.objects.all(), label="Group")
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all())
    # Any value the service sent, known or not ("unknown: <value>" in lists).
    status = django_filters.CharFilter(help_text="One of " + ", ".join(CONNECTION_STATUS_LABELS) + ", or any other the service sent")

    class Meta:
        model = CarrierConnection
        fields = ["employer_group", "carrier", "status", "carrier_group_id"]


class DiscrepancyFilterSet(django_filters.FilterSet):
    employer_group = django_filters.ModelChoiceFilter(queryset=EmployerGroup.objects.all(), label="Group")
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all())
    status = django_filters.MultipleChoiceFilter(choices=Discrepancy.Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Discrepancy.Severity.choices)
    kind = django_filters.ChoiceFilter(choices=Discrepancy.Kind.choices)

    class Meta:
        model = Discrepancy
        fields = ["connection", "employer_group", "carrier", "status", "severity", "kind", "field", "employee"]
