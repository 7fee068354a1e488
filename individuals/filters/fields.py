"""Form fields and filters of the advanced search that take several values (``?x=a&x=b``, ``?x=a,b``, lists)."""

import contextvars
from contextlib import contextmanager

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


# {model: {pk: obj}} loaded once for a batch of stored criteria (``preloaded_choices``): checking each
# criteria's agents or carriers then costs no query of its own.
_preloaded: contextvars.ContextVar[dict | None] = contextvars.ContextVar("criteria_preloaded_choices", default=None)


@contextmanager
def preloaded_choices(objects_by_model: dict):
    """Within: a model-choice criterion is checked against ``{model: {pk: obj}}`` instead of a query each."""
    token = _preloaded.set(objects_by_model)
    try:
        yield
    finally:
        _preloaded.reset(token)


class CommaModelMultipleChoiceField(filters.fields.ModelMultipleChoiceField):
    widget = FastSelectMultiple

    def clean(self, value):
        if isinstance(value, str | int):
            value = [p for p in str(value).split(",") if p]
        return super().clean(value)

    def _check_values(self, value):
        known = (_preloaded.get() or {}).get(self.queryset.model)
        if known is None:
            return super()._check_values(value)
        found = []
        for pk in value:
            try:
                obj = known.get(int(pk))
            except (TypeError, ValueError):
                obj = None
            if obj is None:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk})
            found.append(obj)
        return found


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


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """The any / yes / no select, handing the field what was sent (Django's maps anything else to unknown).

    Its first choice is "Any" (the criterion is not used), never Django's "Unknown"; ``yes`` and ``no``
    name what each choice finds where "Yes" / "No" would not say it."""

    def __init__(self, attrs=None, *, yes: str = "Yes", no: str = "No"):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", yes), ("false", no)]

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictNullBooleanField(forms.NullBooleanField):
    """Yes, no, or not given ("" / "unknown"); anything else is an error, never "not given"."""

    widget = StrictNullBooleanSelect
    TRUE = frozenset({"true", "1", "yes", "on", "2"})
    FALSE = frozenset({"false", "0", "no", "off", "3"})

    def to_python(self, value):
        if isinstance(value, bool) or value is None:
            return value
        text = str(value).strip().lower()
        if text in ("", "unknown"):
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Enter true or false (yes / no), not %(value)s.", code="invalid", params={"value": repr(str(value)[:40])})


class BooleanFilter(filters.BooleanFilter):
    """A yes / no criterion; ``yes`` / ``no`` label its choices (and the criteria's summary) in words."""

    field_class = StrictNullBooleanField

    def __init__(self, *args, yes: str = "Yes", no: str = "No", **kwargs):
        self.choice_labels = {True: yes, False: no}
        kwargs.setdefault("widget", StrictNullBooleanSelect(yes=yes, no=no))
        super().__init__(*args, **kwargs)
