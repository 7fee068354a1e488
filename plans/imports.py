"""Import and export of employer groups and plans (with rates) as CSV or XLSX, for admin, API and jobs."""
from dataclasses import dataclass, field

import tablib
from django.db.models import QuerySet

from accounts.models import User

from .resources import RESOURCES

FORMATS = {"csv", "xlsx"}


@dataclass
class ImportReport:
    dry_run: bool
    written: bool
    totals: dict[str, int]
    # [{"row": 3, "errors": {"renewal_date": ["..."]}}, ...]: row numbers count data rows from 1.
    row_errors: list[dict] = field(default_factory=list)


def _dataset(content: bytes | str, file_format: str) -> tablib.Dataset:
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {sorted(FORMATS)}.")
    if file_format == "csv" and isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    return tablib.Dataset().load(content, format=file_format)


def plans_import(*, actor: User | None, kind: str, content: bytes | str, file_format: str = "csv",
                 dry_run: bool = True) -> ImportReport:
    """Import employer groups or plans (``kind``: "employer_groups" / "plans") from a CSV or XLSX file.

    All or nothing: when any row is invalid, nothing is written and every row's errors are
    reported. ``dry_run`` validates every row through the services and writes nothing.
    """
    dataset = _dataset(content, file_format)
    result = RESOURCES[kind]().import_data(dataset, dry_run=dry_run, user=actor, file_name=f"{kind}.{file_format}")
    row_errors = [
        {"row": row.number, "errors": {k: [str(m) for m in v] for k, v in row.error.message_dict.items()}
         if hasattr(row.error, "message_dict") else {"__all__": [str(m) for m in row.error.messages]}}
        for row in result.invalid_rows
    ]
    row_errors += [{"row": number, "errors": {"__all__": [str(e.error) for e in errors]}}
                   for number, errors in result.row_errors()]
    row_errors.sort(key=lambda r: r["row"])
    failed = bool(row_errors) or result.has_errors()
    return ImportReport(dry_run=dry_run, written=not dry_run and not failed,
                        totals={k: v for k, v in result.totals.items() if v}, row_errors=row_errors)


def plans_export(*, kind: str, queryset: QuerySet | None = None, file_format: str = "csv") -> bytes:
    """Export employer groups or plans (with rates) as CSV or XLSX bytes, in the import's columns."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {sorted(FORMATS)}.")
    dataset = RESOURCES[kind]().export(queryset)
    data = dataset.export(file_format)
    return data.encode() if isinstance(data, str) else data
