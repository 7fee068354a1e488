"""Import and export of employer groups and plans (with rates) as CSV or XLSX, for admin, API and jobs."""

from django.db.models import QuerySet

from accounts.models import User
from core.importing import ImportReport, export_bytes, import_dataset, import_run

from ..resources import RESOURCES


def plans_import(*, actor: User | None, kind: str, content: bytes | str, file_format: str = "csv", dry_run: bool = True) -> ImportReport:
    """Import employer groups or plans (``kind``: "employer_groups" / "plans") from a CSV or XLSX file.

    All or nothing: when any row is invalid, nothing is written and every row's errors are
    reported. ``dry_run`` validates every row through the services and writes nothing.
    """
    return import_run(
        resource=RESOURCES[kind](), kind=kind, dataset=import_dataset(content, file_format), actor=actor, dry_run=dry_run, file_format=file_format
    )


def plans_export(*, kind: str, queryset: QuerySet | None = None, file_format: str = "csv") -> bytes:
    """Export employer groups or plans (with rates) as CSV or XLSX bytes, in the import's columns."""
    return export_bytes(RESOURCES[kind]().export(queryset), file_format)
