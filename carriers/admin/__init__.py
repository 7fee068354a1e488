"""Carrier Connections in the admin: connections (connect, follow, amend and retry) and the discrepancy queue."""

from . import connections, discrepancies  # noqa: F401 - registers the ModelAdmins
