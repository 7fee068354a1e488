"""Filters over the admin-defined custom fields: ``cf_<key>`` plus ``_min`` / ``_max`` for dates and numbers."""

import django_filters as filters
from django import forms
from django.db import connection
from django.db.models import Q

from ..models import CustomField
from .fields import CommaMultipleChoiceField


def _json_key(key):
    return f"custom_fields__{key}"


class _CustomFieldFilter(filters.Filter):
    def __init__(self, *args, cf=None, op="exact", field_class=forms.CharField, **kwargs):
        self.cf, self.op, self.field_class = cf, op, field_class
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, "", []):
            return qs
        key = _json_key(self.cf.key)
        t = CustomField.FieldType
        kind = self.cf.field_type
        if kind == t.DATE:
            value = value.isoformat()  # stored as ISO text, which sorts like the date
        elif kind in (t.NUMBER, t.CURRENCY, t.PERCENT):
            value = int(value) if value == value.to_integral_value() else float(value)
        if self.op in ("gte", "lte"):
            return qs.filter(**{f"{key}__{self.op}": value})
        if kind in (t.TEXT, t.LONG_TEXT):
            return qs.filter(**{f"{key}__icontains": value})
        if kind == t.CHECKBOX:
            # Unset counts as unchecked.
            return qs.filter(**{key: True}) if value else qs.filter(Q(**{f"{key}__isnull": True}) | Q(**{key: False}))
        if kind == t.DROPDOWN:
            q = Q()
            for v in value:
                q |= Q(custom_fields__contains={self.cf.key: v}) if _pg() else Q(**{key: v})
            return qs.filter(q)
        if kind == t.CHECKBOX_LIST:  # any of the chosen options
            q = Q()
            for v in value:
                q |= Q(custom_fields__contains={self.cf.key: [v]}) if _pg() else Q(**{f"{key}__icontains": f'"{v}"'})
            return qs.filter(q)
        return qs.filter(**{key: value})


def _pg() -> bool:
    return connection.vendor == "postgresql"


def custom_field_filters(cf: CustomField) -> dict:
    """``cf_<key>`` (exact/contains/any-of), plus ``cf_<key>_min``/``_max`` for dates and numbers."""
    t = CustomField.FieldType
    name = f"cf_{cf.key}"
    label = cf.name
    if cf.field_type in (t.TEXT, t.LONG_TEXT):
        return {name: _CustomFieldFilter(cf=cf, field_class=forms.CharField, label=f"{label} contains")}
    if cf.field_type == t.CHECKBOX:
        return {name: _CustomFieldFilter(cf=cf, field_class=forms.NullBooleanField, label=label)}
    if cf.field_type in (t.DROPDOWN, t.CHECKBOX_LIST):
        choices = [(o, o) for o in cf.options]
        return {name: _CustomFieldFilter(cf=cf, field_class=CommaMultipleChoiceField, choices=choices, label=label)}
    field_class = forms.DateField if cf.field_type == t.DATE else forms.DecimalField
    return {
        name: _CustomFieldFilter(cf=cf, field_class=field_class, label=label),
        f"{name}_min": _CustomFieldFilter(cf=cf, op="gte", field_class=field_class, label=f"{label} from"),
        f"{name}_max": _CustomFieldFilter(cf=cf, op="lte", field_class=field_class, label=f"{label} to"),
    }
