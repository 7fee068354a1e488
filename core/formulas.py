"""Spreadsheet formula injection (OWASP "CSV Injection"): one rule for every CSV and XLSX we write.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel, LibreOffice and Google Sheets. Such a cell is written with a leading ``'`` so it stays text.
Imports take the ``'`` off again, so an exported file can be edited and imported back unchanged.

- ``formula_safe(value)``: for values written from Python (``csv.writer`` rows, resources, XLSX);
- ``formula_safe_sql(expression)``: the same rule as SQL, for files the database writes (``COPY``);
- ``formula_unescape(value)``: for values read from an imported file.
"""

from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Concat, Substr
from django.db.models.lookups import In

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """``value`` with a ``'`` in front when it is text a spreadsheet would run; other values unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def formula_safe_row(row) -> list:
    return [formula_safe(v) for v in row]


def formula_safe_sql(expression):
    """``expression`` (text) as SQL that prefixes ``'`` exactly where ``formula_safe`` would."""
    starts_with_trigger = In(Substr(expression, 1, 1), list(TRIGGERS))
    return Case(
        When(starts_with_trigger, then=Concat(Value("'"), expression, output_field=CharField())), default=expression, output_field=CharField()
    )


def formula_unescape(value):
    """An imported cell as it was before ``formula_safe``: ``'=1+2`` -> ``=1+2``; anything else unchanged."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value
