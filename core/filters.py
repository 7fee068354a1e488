"""django-filter pieces shared by the apps' FilterSets: timestamps the database can store."""

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, IsoDateTimeRangeField

# A day inside datetime's range either side, so converting to UTC (or any zone) cannot overflow.
_EARLIEST = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
_LATEST = datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 timestamp between years 1 and 9999 in every time zone (else a field error, not a 500), as UTC."""

    def to_python(self, value):
        try:
            value = super().to_python(value)
        except OverflowError:
            value = _EARLIEST - datetime.timedelta(days=2)
        if value is not None:
            try:
                in_utc = value.astimezone(datetime.UTC) if value.tzinfo else value.replace(tzinfo=datetime.UTC)
            except OverflowError:
                in_utc = None
            if in_utc is None or not _EARLIEST <= in_utc <= _LATEST:
                raise forms.ValidationError("Out of range: give a time between the years 1 and 9999.", code="invalid")
            # In UTC: an offset a database can't store (PostgreSQL takes up to ±15:59) is the same instant in UTC.
            value = in_utc
        return value


class BoundedIsoDateTimeRangeField(IsoDateTimeRangeField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = (BoundedIsoDateTimeField(), BoundedIsoDateTimeField())


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = BoundedIsoDateTimeRangeField
