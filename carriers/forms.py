"""Admin forms for connecting a carrier and for amending a connection before a retry."""

from django import forms

from hrsync.models import Employee
from plans.models import Carrier, EmployerGroup

from .selectors import carriers_at_service


class ConnectForm(forms.Form):
    """The carrier is picked by name among those the service knows; its id there comes from the registry."""

    employer_group = forms.ModelChoiceField(queryset=EmployerGroup.objects.order_by("name"), label="Employer group")
    carrier = forms.ModelChoiceField(
        queryset=Carrier.objects.none(),
        empty_label="Pick a carrier…",
        help_text="The carriers the carrier-connection service knows, by name.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = carriers_at_service()

    carrier_group_id = forms.CharField(label="Carrier group id", max_length=100, help_text="The group's number at the carrier.")
    group_name = forms.CharField(max_length=200, required=False, help_text="Blank: the employer group's name.")
    federal_ein = forms.CharField(label="Federal EIN", max_length=10, required=False, help_text="12-3456789. Blank: the group's.")
    broker_federal_ein = forms.CharField(label="Broker federal EIN", max_length=10, required=False)
    broker_tin = forms.CharField(label="Broker TIN", max_length=20, required=False)
    employer_email_address = forms.CharField(label="Employer email", required=False)

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        return {k: v for k, v in data.items() if v not in ("", None) or k in ("employer_group", "carrier")}


class RetryForm(forms.Form):
    carrier_group_id = forms.CharField(label="Carrier group id", max_length=100)
    federal_ein = forms.CharField(label="Federal EIN", max_length=10)
    broker_federal_ein = forms.CharField(label="Broker federal EIN", max_length=10, required=False)
    broker_tin = forms.CharField(label="Broker TIN", max_length=20, required=False)
    employer_email_address = forms.CharField(label="Employer email", required=False)


class LinkMemberForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=Employee.objects.none(), label="Our employee")

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = Employee.objects.filter(employer_group=group).order_by("last_name", "first_name")
