"""Custom field values: validation and normalisation by type.

Stored shapes (JSON): text/long text/dropdown -> str, date -> "YYYY-MM-DD", number/percent -> number,
currency -> number rounded to cents, checkbox -> bool, checkbox list -> list of options (option order).
Empty values (None, "", []) are removed rather than stored.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000


def _number(value, *, places=None):
    if isinstance(value, bool):
        raise ValidationError("Enter a number.")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError("Enter a number.") from None
    if not number.is_finite():
        raise ValidationError("Enter a number.")
    if places is not None:
        number = number.quantize(Decimal(10) ** -places)
    return int(number) if number == number.to_integral_value() and places is None else float(number)


def clean_value(field, value):
    from .models import CustomField

    t = CustomField.FieldType
    kind = field.field_type
    if value is None or value == "" or value == []:
        return None
    if kind in (t.TEXT, t.LONG_TEXT):
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        limit = TEXT_MAX if kind == t.TEXT else LONG_TEXT_MAX
        if len(value) > limit:
            raise ValidationError(f"At most {limit} characters.")
        return value
    if kind == t.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError("Enter a date as YYYY-MM-DD.") from None
    if kind == t.DROPDOWN:
        if value not in field.options:
            raise ValidationError(f"{value!r} is not one of the options: {', '.join(field.options)}.")
        return value
    if kind == t.NUMBER:
        return _number(value)
    if kind == t.CURRENCY:
        return _number(value, places=2)
    if kind == t.PERCENT:
        number = _number(value)
        if not 0 <= number <= 100:
            raise ValidationError("Enter a percentage between 0 and 100.")
        return number
    if kind == t.CHECKBOX:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ValidationError("Enter true or false.")
    if kind == t.CHECKBOX_LIST:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise ValidationError("Enter a list of options.")
        unknown = [v for v in values if v not in field.options]
        if unknown:
            raise ValidationError(f"Not among the options: {', '.join(unknown)}.")
        return [o for o in field.options if o in values]
    raise ValidationError(f"Unknown field type {kind!r}.")


def clean_values(values, *, fields=None, existing=None) -> dict:
    """Validate ``values`` (key -> value) against the custom field definitions; merged onto ``existing``.

    Raises ``ValidationError({"custom_fields": {key: [messages]}})``: unknown keys, inactive fields
    and wrong-type values are all refused, so nothing is written.
    """
    from .models import CustomField

    if values is None:
        return dict(existing or {})
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": "Custom field values must be an object keyed by field key."})
    if fields is None:
        fields = {f.key: f for f in CustomField.objects.filter(key__in=list(values))}
    result = dict(existing or {})
    errors = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            errors[key] = [f"There is no custom field {key!r}."]
            continue
        if not field.active and value not in (None, "", []) and result.get(key) != value:
            errors[key] = ["This custom field is inactive."]
            continue
        try:
            cleaned = clean_value(field, value)
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if errors:
        raise ValidationError({"custom_fields": [ValidationError(f"{k}: {'; '.join(m)}", code=k) for k, m in errors.items()]})
    return result


def custom_fields_described(keys: list[str]) -> dict:
    """For the audit log: each custom field's name and how its value reads (``core.audit.json_keys_readable``)."""
    from functools import partial

    from core.display import custom_field_text

    from .models import CustomField

    return {f.key: (f.name, partial(custom_field_text, f.field_type)) for f in CustomField.objects.filter(key__in=keys)}
