"""Values as people read them: lists joined, numbers grouped, money with its sign, no Python/JSON reprs.

Used by admin display methods, templates (``core.templatetags.agencydesk``), CSV headers and the audit
log's old → new values.
"""

import datetime
import re
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

EMPTY = "—"


def humanize_key(key: str) -> str:
    """``first_name`` / ``firstName`` / ``dateOfBirth`` -> "First name" / "Date of birth"."""
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", str(key)).replace("_", " ").replace("-", " ").split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def number_text(value, decimals: int | None = None) -> str:
    if isinstance(value, float) and decimals is None:
        decimals = 0 if value == int(value) else 2
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def text(value) -> str:
    """Plain text for any stored value (JSON values included)."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float, Decimal)):
        return number_text(value)
    if isinstance(value, datetime.datetime):
        return date_format(value, "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT")
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
            return f"${number_text(Decimal(str(value)), 2)}"
        if field_type == "percent":
            return f"{number_text(float(value))}%"
        if field_type == "number":
            return number_text(float(value))
        if field_type == "date" and isinstance(value, str):
            return date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
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
    "EMPTY",
    "changes_html",
    "changes_text",
    "custom_field_text",
    "custom_values_html",
    "definition_list",
    "humanize_key",
    "mark_safe",
    "number_text",
    "text",
    "truncated",
]


def person_name(user) -> str:
    """A user as people know them: the full name, else the username; "—" for nobody (a job, a sync)."""
    if user is None:
        return EMPTY
    return (user.get_full_name() or "").strip() or user.get_username()
