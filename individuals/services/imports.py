"""Import (and export in the same columns) of individuals and policies as CSV or XLSX, for admin and API.

``individuals_import`` is all or nothing: when any row is invalid nothing is written and every
row's errors are reported by row number. A dry run validates every row through the services
(inside a transaction that is rolled back) and writes nothing.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import AuditLog, User
from accounts.services import audit
from core.importing import FORMATS, ImportReport, export_bytes, import_dataset, import_run  # noqa: F401 (FORMATS for the API)

from ..resources import RESOURCES

KIND_PERMS = {
    "individuals": ("individuals.add_individual", "individuals.change_individual"),
    "policies": ("individuals.add_policy", "individuals.change_policy"),
}


def _check_rights(actor: User | None, kind: str) -> None:
    if kind not in RESOURCES:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(RESOURCES)}.")
    if actor is not None and not all(actor.has_perm(p) for p in KIND_PERMS[kind]):
        raise PermissionDenied(f"Importing {kind} needs the rights to add and change them.")


def individuals_import(*, actor: User | None, kind: str, content: bytes | str, file_format: str = "csv", dry_run: bool = True) -> ImportReport:
    """Import ``kind`` ("individuals" / "policies") from a CSV or XLSX file; all or nothing.

    Personal data is accepted in clear (encrypted on save). Raises ``PermissionDenied`` without
    add and change rights, ``ValueError`` for an unknown kind, format or unreadable file.
    """
    _check_rights(actor, kind)
    return import_run(
        resource=RESOURCES[kind](), kind=kind, dataset=import_dataset(content, file_format), actor=actor, dry_run=dry_run, file_format=file_format
    )


def individuals_export_file(*, actor: User | None, kind: str, queryset: QuerySet | None = None, file_format: str = "csv") -> bytes:
    """``kind`` in the import's columns as CSV or XLSX bytes (personal data masked); audited."""
    if kind not in RESOURCES:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(RESOURCES)}.")
    resource = RESOURCES[kind]()
    dataset = resource.export(queryset)
    data = export_bytes(dataset, file_format)
    audit(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        model=resource._meta.model,
        summary=f"Exported {len(dataset)} {kind} as {file_format.upper()} (personal data masked)",
        data={"count": len(dataset), "format": file_format},
    )
    return data
