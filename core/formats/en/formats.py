"""Django's English formats, set to the product's one date and one datetime format (``core.display``).

Listed in ``FORMAT_MODULE_PATH``: the admin's list columns, read-only fields and the ``date`` / ``time``
template filters then render dates as ``core.display.date_text`` and ``datetime_text`` do. Input
formats are Django's own (the date pickers write ISO dates).
"""

from core.display import DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT

SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"

__all__ = ["DATETIME_FORMAT", "DATE_FORMAT", "MONTH_DAY_FORMAT", "SHORT_DATETIME_FORMAT", "SHORT_DATE_FORMAT", "TIME_FORMAT", "YEAR_MONTH_FORMAT"]
