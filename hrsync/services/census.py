"""Census import: a whole file of employees, all or nothing."""
from accounts.models import AuditLog, User
from accounts.services import audit

from ..models import Employee


def employee_census_import(*, actor: User | None, dataset, dry_run: bool = False):
    """Import a census (a tablib Dataset from CSV/XLSX); returns import-export's result.

    Every row goes through the employee services. If any row has an error, every row is rolled
    back and ``result.has_errors() or result.has_validation_errors()`` tells why, per row.
    """
    from ..resources import EmployeeResource

    result = EmployeeResource().import_data(dataset, dry_run=dry_run, use_transactions=True,
                                            rollback_on_validation_errors=True, raise_errors=False, user=actor)
    failed = result.has_errors() or result.has_validation_errors()
    if not dry_run and not failed:
        totals = {k: v for k, v in result.totals.items() if v}
        audit(actor=actor, action=AuditLog.Action.IMPORT, model=Employee, object_repr="Employee census",
              summary=f"Census imported: {totals}", data=totals)
    return result
