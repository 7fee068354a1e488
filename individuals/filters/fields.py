"""Form fields and filters of the advanced search that take several values (``?x=a&x=b``, ``?x=a,b``, lists)."""
import django_filters as filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from ..widgets import FastSelectMultiple


class CommaMultipleChoiceField(forms.MultipleChoiceField):
    """Accepts ``?x=a&x=b``, ``?x=a,b`` and ``{"x": ["a", "b"]}`` alike."""

    widget = FastSelectMultiple

    def to_python(self, value):
        if isinstance(value, str):
            value = [value]
        values = []
        for v in value or []:
            values.extend(p for p in str(v).split(",") if p)
        return values


class CommaModelMultipleChoiceField(filters.fields.ModelMultipleChoiceField):
    widget = FastSelectMultiple

    def clean(self, value):
        if isinstance(value, str | int):
            value = [p for p in str(value).split(",") if p]
        return super().clean(value)


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class ModelMultipleChoiceFilter(filters.ModelMultipleChoiceFilter):
    field_class = CommaModelMultipleChoiceField



class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    """Any of the chosen values, as one ``IN`` (no DISTINCT: the column is on the searched table)."""

    field_class = CommaMultipleChoiceField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def date_range(field_name, label, **kwargs):
    widget = filters.widgets.DateRangeWidget(attrs={"type": "date"})
    return filters.DateFromToRangeFilter(field_name=field_name, label=label, widget=widget, **kwargs)

