"""Import (and export in the same columns) of individuals and policies as CSV or XLSX, for admin and API.

``individuals_import`` is all or nothing: when any row is invalid nothing is written and every
row's errors are reported by row number. A dry run validates every row through the services
(inside a transaction that is rolled back) and writes nothing.
"""
from dataclasses import asdict, dataclass, field

import tablib
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import AuditLog, User
from accounts.services import audit

from .resources import RESOURCES

FORMATS = ("csv", "xlsx")
KIND_PERMS = {
    "individuals": ("individuals.add_individual", "individuals.change_individual"),
    "policies": ("individuals.add_policy", "individuals.change_policy"),
}


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    written: bool
    rows: int
    totals: dict[str, int]
    # [{"row": 3, "errors": {"ssn": ["..."]}}, ...]: rows are numbered from 1, the header excluded.
    row_errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def import_dataset(content: bytes | str, file_format: str) -> tablib.Dataset:
    """A tablib Dataset from the uploaded bytes; ``ValueError`` for an unknown format or unreadable file."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
    if file_format == "csv" and isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    try:
        return tablib.Dataset().load(content, format=file_format)
    except Exception as exc:  # tablib raises several types for a malformed file
        raise ValueError(f"The file cannot be read as {file_format.upper()}: {exc}") from None


def _check_rights(actor: User | None, kind: str) -> None:
    if kind not in RESOURCES:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(RESOURCES)}.")
    if actor is not None and not all(actor.has_perm(p) for p in KIND_PERMS[kind]):
        raise PermissionDenied(f"Importing {kind} needs the rights to add and change them.")


def individuals_import(*, actor: User | None, kind: str, content: bytes | str, file_format: str = "csv",
                       dry_run: bool = True) -> ImportReport:
    """Import ``kind`` ("individuals" / "policies") from a CSV or XLSX file; all or nothing.

    Personal data is accepted in clear (encrypted on save). Raises ``PermissionDenied`` without
    add and change rights, ``ValueError`` for an unknown kind, format or unreadable file.
    """
    _check_rights(actor, kind)
    dataset = import_dataset(content, file_format)
    result = RESOURCES[kind]().import_data(dataset, dry_run=dry_run, user=actor, file_name=f"{kind}.{file_format}")
    row_errors = [
        {"row": row.number, "errors": {k: [str(m) for m in v] for k, v in row.error.message_dict.items()}
         if hasattr(row.error, "error_dict") else {"__all__": [str(m) for m in row.error.messages]}}
        for row in result.invalid_rows
    ]
    row_errors += [{"row": number, "errors": {"__all__": [str(e.error) for e in errors]}}
                   for number, errors in result.row_errors()]
    row_errors += [{"row": 0, "errors": {"__all__": [str(e.error)]}} for e in result.base_errors]
    row_errors.sort(key=lambda r: r["row"])
    failed = bool(row_errors)
    return ImportReport(kind=kind, dry_run=dry_run, written=not dry_run and not failed, rows=len(dataset),
                        totals={k: v for k, v in result.totals.items() if v}, row_errors=row_errors)


def individuals_export_file(*, actor: User | None, kind: str, queryset: QuerySet | None = None,
                            file_format: str = "csv") -> bytes:
    """``kind`` in the import's columns as CSV or XLSX bytes (personal data masked); audited."""
    if kind not in RESOURCES:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(RESOURCES)}.")
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
    resource = RESOURCES[kind]()
    dataset = resource.export(queryset)
    audit(actor=actor, action=AuditLog.Action.EXPORT, model=resource._meta.model,
          summary=f"Exported {len(dataset)} {kind} as {file_format.upper()} (personal data masked)",
          data={"count": len(dataset), "format": file_format})
    data = dataset.export(file_format)
    return data.encode() if isinstance(data, str) else data
