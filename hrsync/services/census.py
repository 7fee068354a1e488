"""Census import: a whole file of employees, all or nothing."""
from accounts.models import User


def employee_census_import(*, actor: User | None, dataset, dry_run: bool = False):
    """Import a census (a tablib Dataset from CSV/XLSX); returns import-export's result.

    Every row goes through the employee services. If any row has an error, every row is rolled
    back and ``result.has_errors() or result.has_validation_errors()`` tells why, per row. A
    written census is audited once (``EmployeeResource.after_import``, shared with the admin).
    """
    from ..resources import EmployeeResource

    return EmployeeResource().import_data(dataset, dry_run=dry_run, use_transactions=True,
                                          rollback_on_validation_errors=True, raise_errors=False, user=actor)
