"""Values as people read them: lists joined, numbers grouped, money with its sign, no Python/JSON reprs.

One date format, one datetime format and one money format for the whole product: ``DATE_FORMAT``
("Dec 2, 2026"), ``DATETIME_FORMAT`` ("Dec 2, 2026 10:02 AM", in the local time zone) and ``money``
("$1,234.50"). Django's own date rendering (admin list columns, read-only fields, the ``date``
template filter) follows the same two formats through the format module ``core/formats/en``
(``FORMAT_MODULE_PATH``). Never format a date or an amount by hand (``strftime``, ``f"{x:.2f}"``):
call ``date_text`` / ``datetime_text`` / ``money`` here, or their template filters
(``{% load agencydesk %}``: ``|date_text``, ``|datetime_text``, ``|money``).

Used by admin display methods, templates (``core.templatetags.agencydesk``), CSV headers and the audit
log's old → new values.
"""

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

EMPTY = "—"

# The product's formats (Django date-format syntax); core/formats/en/formats.py makes them Django's own.
DATE_FORMAT = "M j, Y"  # Dec 2, 2026
TIME_FORMAT = "g:i A"  # 10:02 AM
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"  # Dec 2, 2026 10:02 AM


def humanize_key(key: str) -> str:
    """``first_name`` / ``firstName`` / ``dateOfBirth`` -> "First name" / "Date of birth"."""
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", str(key)).replace("_", " ").replace("-", " ").split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def number_text(value, decimals: int | None = None) -> str:
    if isinstance(value, float) and decimals is None:
        decimals = 0 if value == int(value) else 2
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def date_text(value) -> str:
    """A date (or the local date of a moment, or ISO text) as "Dec 2, 2026"; nothing -> "—"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return date_format(value, DATE_FORMAT)


def datetime_text(value) -> str:
    """A moment in the local time zone as "Dec 2, 2026 10:02 AM" (a plain date as ``date_text``); nothing -> "—"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime.datetime):
        return date_text(value)
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, DATETIME_FORMAT)


def money(value, *, cents: bool = True) -> str:
    """An amount in dollars as "$1,234.50" ("-$5.00" below zero); ``cents=False`` drops ".00" of a whole
    amount ("$1,500", for benefit limits); nothing -> "—"."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
    except ArithmeticError:
        return str(value)
    if not amount.is_finite():
        return str(value)
    decimals = 0 if not cents and amount == amount.to_integral_value() else 2
    digits = number_text(abs(amount), decimals)
    return f"-${digits}" if amount < 0 else f"${digits}"


def text(value) -> str:
    """Plain text for any stored value (JSON values included)."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float, Decimal)):
        return number_text(value)
    if isinstance(value, datetime.datetime):
        return datetime_text(value)
    if isinstance(value, datetime.date):
        return date_text(value)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{humanize_key(k)}: {text(v)}" for k, v in value.items())
    return str(value)


def custom_field_text(field_type: str, value) -> str:
    """A custom field's value by its type (``CustomField.FieldType`` values)."""
    if value is None or value == "" or value == []:
        return EMPTY
    try:
        if field_type == "currency":
            return money(value)
        if field_type == "percent":
            return f"{number_text(float(value))}%"
        if field_type == "number":
            return number_text(float(value))
        if field_type == "date" and isinstance(value, str):
            return date_format(datetime.date.fromisoformat(value), DATE_FORMAT)
    except (ValueError, ArithmeticError):
        return str(value)
    return text(value)


def custom_values_html(values: dict, fields: dict):
    """Custom field values as "Name: value" lines; ``fields`` maps a key to its definition (``.name``, ``.field_type``)."""
    rows = (
        (fields[k].name if k in fields else humanize_key(k), custom_field_text(fields[k].field_type if k in fields else "", v))
        for k, v in (values or {}).items()
    )
    return format_html_join(mark_safe("<br>"), "{}: {}", rows) or EMPTY


def definition_list(mapping: dict, *, css_class: str = "ad-facts"):
    """A dict as a ``<dl>`` with readable keys and values (nested dicts as "Key: value; …")."""
    if not mapping:
        return EMPTY
    return format_html(
        '<dl class="{}">{}</dl>', css_class, format_html_join("", "<dt>{}</dt><dd>{}</dd>", ((humanize_key(k), text(v)) for k, v in mapping.items()))
    )


def truncated(value, *, width: str = "22rem"):
    """Long text in a table cell: one line, cut with an ellipsis, the whole value on hover."""
    value = text(value) if not isinstance(value, str) else (value or EMPTY)
    return format_html('<span class="ad-truncate" style="max-width: {}" title="{}">{}</span>', width, value, value)


def changes_html(changes: dict):
    """Audit changes ``{"field": {"label", "old", "new"}}`` as "Label: old → new" lines."""
    if not changes:
        return ""
    return format_html(
        '<ul class="ad-changes">{}</ul>',
        format_html_join(
            "",
            '<li>{}: <span class="ad-old">{}</span> → <span class="ad-new">{}</span></li>',
            ((c.get("label") or humanize_key(name), c.get("old", EMPTY), c.get("new", EMPTY)) for name, c in changes.items()),
        ),
    )


def changes_text(changes: dict) -> str:
    return "; ".join(f"{c.get('label') or humanize_key(n)}: {c.get('old', EMPTY)} → {c.get('new', EMPTY)}" for n, c in (changes or {}).items())


__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "EMPTY",
    "TIME_FORMAT",
    "changes_html",
    "changes_text",
    "custom_field_text",
    "custom_values_html",
    "date_text",
    "datetime_text",
    "definition_list",
    "humanize_key",
    "mark_safe",
    "money",
    "number_text",
    "text",
    "truncated",
]


def person_name(user) -> str:
    """A user as people know them: the full name, else the username; "—" for nobody (a job, a sync)."""
    if user is None:
        return EMPTY
    return (user.get_full_name() or "").strip() or user.get_username()


def utc_text(value) -> str:
    """A moment as exports write it (``core.db.UtcText`` in SQL): ``2026-12-02T15:02:00Z``; nothing -> ""."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
