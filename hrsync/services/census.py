"""Census import: a whole file of employees, all or nothing."""

from accounts.models import User
from core.importing import ImportReport, import_dataset, import_run


def employee_census_import(*, actor: User | None, content: bytes | str, file_format: str = "csv", dry_run: bool = False) -> ImportReport:
    """Import a census (CSV or XLSX bytes): every row validated on its own, the valid ones written
    1,000 at a time through the employee services (``employees_import``), each employee audited.

    All or nothing: if any row has an error, every row is rolled back and the report lists each
    row's errors. A written census is audited once (by the resource, shared with the admin).
    Raises ``ValueError`` for an unknown format or an unreadable file.
    """
    from ..resources import EmployeeResource

    return import_run(
        resource=EmployeeResource(),
        kind="employees",
        dataset=import_dataset(content, file_format),
        actor=actor,
        dry_run=dry_run,
        file_format=file_format,
    )
