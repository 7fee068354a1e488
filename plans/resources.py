"""Import/export of employer groups and of plans with their rates (django-import-export).

Rows are saved through the plans services, so an import validates and audits like the admin and
the API. Imports are all or nothing: one bad row rolls the whole file back.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from core.importing import AllOrNothingResource, ChunkInstanceLoader
from integrations.ownership import owned_fields_checker

from .models import Carrier, EmployerGroup, Plan
from .services.plans import TIERS, employer_groups_import_save, plan_rates_validate, plans_import_save


class EmployerGroupResource(AllOrNothingResource):
    class Meta:
        model = EmployerGroup
        fields = ["account_number", "name", "dba", "account_type", "federal_ein", "sic_code", "office", "status", "employee_count", "renewal_month"]
        import_id_fields = ["account_number"]  # the group's unique field: the chunk's groups are found on it together
        instance_loader_class = ChunkInstanceLoader
        use_bulk = True
        batch_size = None  # the whole chunk is written together (save_chunk)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._owned = None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        super().validate_instance(instance, import_validation_errors, validate_unique)
        if instance.pk is not None:  # a field the AMS owns: refused with the row's number, as the service would
            if self._owned is None:
                self._owned = owned_fields_checker(EmployerGroup, [g.pk for g in self._loader_instances()])
            self._owned(instance, self._changed(instance))

    def save_chunk(self, *, created, updated):
        """The chunk's groups written together (``employer_groups_import_save``), each audited."""
        employer_groups_import_save(actor=self.actor, created=created, updated=[(g, g._import_original, self._changed(g)) for g in updated])


RATE_COLUMNS = {f"rate_{tier}" for tier in TIERS} | {"age_bands"}


def _rate_column(tier: str) -> fields.Field:
    return fields.Field(column_name=f"rate_{tier}", readonly=False)


class PlanResource(AllOrNothingResource):
    """One row per plan year; the rates are columns: one per tier, or ``age_bands`` ("0-29: 210.50; 30-39: 250")."""

    group = fields.Field(attribute="group", column_name="group_account_number", widget=widgets.ForeignKeyWidget(EmployerGroup, "account_number"))
    carrier = fields.Field(attribute="carrier", column_name="carrier_code", widget=widgets.ForeignKeyWidget(Carrier, "code"))
    benefit_summary = fields.Field(attribute="benefit_summary", column_name="benefit_summary", widget=widgets.JSONWidget())
    rate_employee = _rate_column("employee")
    rate_employee_spouse = _rate_column("employee_spouse")
    rate_employee_children = _rate_column("employee_children")
    rate_family = _rate_column("family")
    age_bands = fields.Field(column_name="age_bands")

    class Meta:
        model = Plan
        fields = [
            "group",
            "carrier",
            "line_of_coverage",
            "name",
            "plan_type",
            "policy_number",
            "effective_date",
            "renewal_date",
            "cancellation_date",
            "billing_type",
            "funding_type",
            "status",
            "rate_basis",
            "contribution_basis",
            "employer_contribution_employee",
            "employer_contribution_dependents",
            "waiting_period_days",
            "benefit_summary",
            "version",
            "rate_employee",
            "rate_employee_spouse",
            "rate_employee_children",
            "rate_family",
            "age_bands",
        ]
        export_order = fields
        # A plan year is named by its group, carrier, line, name and effective date (never by name alone).
        import_id_fields = ["group", "carrier", "line_of_coverage", "name", "effective_date"]
        instance_loader_class = ChunkInstanceLoader
        use_bulk = True
        batch_size = None  # the whole chunk is written together (save_chunk)
        clean_model_instances = True

    def get_queryset(self):
        return Plan.objects.select_related("group", "carrier").prefetch_related("rates")

    # --- export -------------------------------------------------------------------------------
    def _tier_rate(self, plan, tier):
        return next((str(r.monthly_rate) for r in plan.rates.all() if r.tier == tier), "")

    def dehydrate_rate_employee(self, plan):
        return self._tier_rate(plan, "employee")

    def dehydrate_rate_employee_spouse(self, plan):
        return self._tier_rate(plan, "employee_spouse")

    def dehydrate_rate_employee_children(self, plan):
        return self._tier_rate(plan, "employee_children")

    def dehydrate_rate_family(self, plan):
        return self._tier_rate(plan, "family")

    def dehydrate_age_bands(self, plan):
        bands = sorted((r for r in plan.rates.all() if not r.tier), key=lambda r: r.age_min)
        return "; ".join(f"{r.age_min}-{'' if r.age_max is None else r.age_max}: {r.monthly_rate}" for r in bands)

    # --- import -------------------------------------------------------------------------------
    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name in RATE_COLUMNS or field.column_name == "version":
            return  # rates go through the service; the version is the service's to bump
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)
        if field.attribute == "benefit_summary" and instance.benefit_summary is None:
            instance.benefit_summary = {}  # an empty cell means no benefits recorded

    @staticmethod
    def _rates_from_row(row) -> list[dict]:
        rates, errors = [], []
        for tier in TIERS:
            value = str(row.get(f"rate_{tier}") or "").strip()
            if value:
                try:
                    rates.append({"tier": tier, "monthly_rate": Decimal(value.replace("$", "").replace(",", ""))})
                except InvalidOperation:
                    errors.append(f"rate_{tier}: {value!r} is not an amount.")
        for band in filter(None, (b.strip() for b in str(row.get("age_bands") or "").split(";"))):
            try:
                ages, amount = band.split(":")
                low, _, high = ages.strip().partition("-")
                rates.append(
                    {"age_min": int(low), "age_max": int(high) if high.strip() else None, "monthly_rate": Decimal(amount.strip().replace("$", ""))}
                )
            except (ValueError, InvalidOperation):
                errors.append(f"age_bands: {band!r} is not like '30-39: 250.00'.")
        if errors:
            raise ValidationError({"rates": errors})
        return rates

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            super().validate_instance(instance, errors, validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
        try:
            instance._import_rates = self._rates_from_row(self._current_row)
            plan_rates_validate(instance, instance._import_rates)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_import_row(self, row, **kwargs):
        self._current_row = row

    def save_chunk(self, *, created, updated):
        """The chunk's plans and their rates written together (``plans_import_save``), each audited."""
        plans_import_save(actor=self.actor, created=created, updated=updated)


RESOURCES = {"employer_groups": EmployerGroupResource, "plans": PlanResource}
