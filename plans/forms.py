"""The admin's plan form: the benefit summary as one labelled field per benefit of each line of coverage.

The fields of every line are declared; the page shows the selected line's fieldset only, and the
form keeps the values of that line alone as the plan's ``benefit_summary``.
"""

from decimal import Decimal

from django import forms
from django.forms.models import ModelFormMetaclass

from .benefit_summary import COPAY_LABELS, COPAYS, COUNT, FLAG, MONEY, NUMBER, PERCENT, SCHEMA, TEXT
from .models import Plan
from .services.plans import PLAN_FIELDS


def _field(kind: str, label: str) -> forms.Field:
    if kind == MONEY:
        return forms.DecimalField(
            label=label, required=False, min_value=0, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "$"})
        )
    if kind == PERCENT:
        return forms.DecimalField(
            label=label,
            required=False,
            min_value=0,
            max_value=100,
            decimal_places=2,
            widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "%"}),
        )
    if kind == COUNT:
        return forms.IntegerField(label=label, required=False, min_value=0)
    if kind == NUMBER:
        return forms.DecimalField(label=label, required=False, min_value=0, decimal_places=2)
    if kind == FLAG:
        return forms.NullBooleanField(label=label, required=False)
    if kind == TEXT:
        return forms.CharField(label=label, required=False, max_length=200)
    raise ValueError(kind)


def benefit_field_names(line: str) -> list[str]:
    names = []
    for key, (kind, _label) in SCHEMA[line].items():
        names += [f"b_{line}__copays__{c}" for c in COPAY_LABELS] if kind == COPAYS else [f"b_{line}__{key}"]
    return names


def _benefit_fields() -> dict[str, forms.Field]:
    fields = {}
    for line, schema in SCHEMA.items():
        for key, (kind, label) in schema.items():
            if kind == COPAYS:
                for copay, copay_label in COPAY_LABELS.items():
                    fields[f"b_{line}__copays__{copay}"] = _field(MONEY, f"Copay: {copay_label}")
            else:
                fields[f"b_{line}__{key}"] = _field(kind, label)
    return fields


def _json_value(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class _PlanFormBase(forms.ModelForm):
    class Meta:
        model = Plan
        fields = [f for f in PLAN_FIELDS if f != "benefit_summary"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        summary = self.instance.benefit_summary if self.instance.pk else {}
        line = self.instance.line_of_coverage
        for name in benefit_field_names(line) if line in SCHEMA else []:
            key = name.split("__", 1)[1]
            if key.startswith("copays__"):
                self.initial.setdefault(name, (summary.get("copays") or {}).get(key.split("__")[1]))
            else:
                self.initial.setdefault(name, summary.get(key))

    def clean(self):
        cleaned = super().clean()
        line = cleaned.get("line_of_coverage")
        summary, copays = {}, {}
        for name in benefit_field_names(line) if line in SCHEMA else []:
            value = cleaned.get(name)
            if value is None or value == "":
                continue
            key = name.split("__", 1)[1]
            if key.startswith("copays__"):
                copays[key.split("__")[1]] = _json_value(value)
            else:
                summary[key] = _json_value(value)
        if copays:
            summary["copays"] = copays
        # Model validation (Plan.clean) checks the summary against the line once more.
        cleaned["benefit_summary"] = self.instance.benefit_summary = summary
        return cleaned


PlanForm = ModelFormMetaclass("PlanForm", (_PlanFormBase,), {"__module__": __name__, **_benefit_fields()})
