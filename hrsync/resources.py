"""Census import/export of employees (CSV/XLSX) through django-import-export.

Rows are keyed by (employer group account number, email). Each row is saved through the
employee services, so an imported change to an employee in the sync is queued like any other.
Imports are all-or-nothing: any row error rolls every row back.
"""
from import_export import fields, widgets

from core.importing import AllOrNothingResource
from plans.models import EmployerGroup

from .models import BenefitsLevel, Employee
from .services import employee_create, employee_update
from .services.employees import EDITABLE_FIELDS

TRUE = {"1", "true", "yes", "y", "x"}


class EmployeeResource(AllOrNothingResource):
    employer_group = fields.Field(attribute="employer_group", column_name="employer_group",
                                  widget=widgets.ForeignKeyWidget(EmployerGroup, "account_number"))
    benefits_level = fields.Field(attribute="benefits_level", column_name="benefits_level",
                                  widget=widgets.ForeignKeyWidget(BenefitsLevel, "name"))
    create_benefits_record = fields.Field(column_name="create_benefits_record", readonly=True)

    class Meta:
        model = Employee
        fields = ["employer_group", "first_name", "last_name", "email", "date_of_birth", "gender", "hire_date",
                  "leave_date", "annual_pay", "pay_frequency", "benefits_level", "create_benefits_record"]
        export_order = fields
        import_id_fields = ["employer_group", "email"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        if row.get("email"):
            row["email"] = str(row["email"]).strip().lower()

    def dehydrate_create_benefits_record(self, employee):
        return ""

    def save_instance(self, instance, is_create, row, **kwargs):
        actor = kwargs.get("user")
        data = {f: getattr(instance, f) for f in EDITABLE_FIELDS}
        if is_create:
            flag = str(row.get("create_benefits_record") or "").strip().lower() in TRUE
            instance.pk = employee_create(actor=actor, create_benefits_record=flag, **data).pk
        else:
            employee_update(actor=actor, employee=instance, data=data)

