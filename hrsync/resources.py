"""Census import/export of employees (CSV/XLSX) through django-import-export.

Rows are keyed by (employer group account number, email). Every row is cleaned and validated on
its own (its errors are its own); the valid rows are written a chunk at a time through the employee
services (``employees_import``), so an imported change to an employee in the sync is queued like
any other. Imports are all-or-nothing: any row error rolls every row back.
"""

from import_export import fields, widgets

from core.importing import AllOrNothingResource, ChunkInstanceLoader
from plans.models import EmployerGroup

from .models import BenefitsLevel, Employee
from .services import employees_import

TRUE = {"1", "true", "yes", "y", "x"}


class EmailWidget(widgets.CharWidget):
    """An email as employees are keyed by it: trimmed, lower case."""

    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).strip().lower()


class EmployeeResource(AllOrNothingResource):
    employer_group = fields.Field(
        attribute="employer_group", column_name="employer_group", widget=widgets.ForeignKeyWidget(EmployerGroup, "account_number")
    )
    email = fields.Field(attribute="email", column_name="email", widget=EmailWidget())
    benefits_level = fields.Field(attribute="benefits_level", column_name="benefits_level", widget=widgets.ForeignKeyWidget(BenefitsLevel, "name"))
    create_benefits_record = fields.Field(column_name="create_benefits_record", readonly=True)

    class Meta:
        model = Employee
        fields = [
            "employer_group",
            "first_name",
            "last_name",
            "email",
            "date_of_birth",
            "gender",
            "hire_date",
            "leave_date",
            "annual_pay",
            "pay_frequency",
            "benefits_level",
            "create_benefits_record",
        ]
        export_order = fields
        import_id_fields = ["employer_group", "email"]  # the employee's unique constraint
        instance_loader_class = ChunkInstanceLoader
        use_bulk = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def dehydrate_create_benefits_record(self, employee):
        return ""

    def save_instance(self, instance, is_create, row, **kwargs):
        if is_create:
            instance._benefits_record = str(row.get("create_benefits_record") or "").strip().lower() in TRUE
        super().save_instance(instance, is_create, row, **kwargs)

    def save_chunk(self, *, created, updated):
        employees_import(
            actor=self.actor, created=created, updated=updated, benefits_records=[e for e in created if getattr(e, "_benefits_record", False)]
        )
