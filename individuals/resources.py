"""Import/export of individuals and policies (django-import-export), CSV and XLSX.

Natural keys: an individual row is the record with its ``id`` (as exported), or, without an id,
the individual with the same SSN (exact, through the keyed hash), or a new one. A policy row is
the policy with the same carrier code and policy number. Personal data is imported in clear and
encrypted by ``individuals.services``; it is exported masked, and a masked cell (as exported)
leaves the stored value unchanged. Every row is saved through the services (validated, audited);
``imports.individuals_import`` runs these all or nothing.
"""

import json
import re

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from accounts.models import Agent
from core.importing import AllOrNothingResource
from plans.models import Carrier

from . import personal_data, services
from .models import CustomField, Individual, Policy
from .services.exports import AGENT_COLUMNS, PLAIN_COLUMNS, TIMESTAMP_COLUMNS, custom_field_keys

MASKED = re.compile(r"^\*[\s*\-]*[A-Za-z0-9]{0,4}$")
TRUE = {"true", "1", "yes", "y", "x", "on"}
FALSE = {"false", "0", "no", "n", "off"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # XLSX stores typed numbers; an SSN or ZIP typed as a number is still text
    return str(value).strip()


class IndividualResource(AllOrNothingResource):
    ssn = fields.Field(column_name="ssn")
    medicare_beneficiary_id = fields.Field(column_name="medicare_beneficiary_id")
    drivers_license = fields.Field(column_name="drivers_license")
    servicing_agent_npn = fields.Field(attribute="servicing_agent", column_name="servicing_agent_npn", widget=widgets.ForeignKeyWidget(Agent, "npn"))
    servicing_agent_name = fields.Field(column_name="servicing_agent_name", readonly=True)
    created_at = fields.Field(attribute="created_at", column_name="created_at", readonly=True)
    updated_at = fields.Field(attribute="updated_at", column_name="updated_at", readonly=True)

    class Meta:
        model = Individual
        fields = [*PLAIN_COLUMNS, *personal_data.KINDS, *AGENT_COLUMNS, *TIMESTAMP_COLUMNS]
        import_id_fields = ["id"]
        clean_model_instances = True
        skip_diff = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.custom_fields = {cf.key: cf for cf in CustomField.objects.filter(active=True)}
        order = custom_field_keys()
        # One column per active custom field, before the timestamps (as in the CSV export).
        for key in order:
            self.fields[f"cf_{key}"] = fields.Field(column_name=f"cf_{key}")
        for name in TIMESTAMP_COLUMNS:
            self.fields[name] = self.fields.pop(name)

    def get_export_order(self):
        return tuple(self.fields)

    def get_queryset(self):
        return Individual.objects.select_related("servicing_agent")

    # --- export: personal data masked ---------------------------------------------------------------
    def dehydrate_ssn(self, individual):
        return personal_data.masked(individual, "ssn")

    def dehydrate_medicare_beneficiary_id(self, individual):
        return personal_data.masked(individual, "medicare_beneficiary_id")

    def dehydrate_drivers_license(self, individual):
        return personal_data.masked(individual, "drivers_license")

    def dehydrate_servicing_agent_name(self, individual):
        agent = individual.servicing_agent
        return f"{agent.first_name} {agent.last_name}".strip() if agent else ""

    def export_field(self, field, instance, **kwargs):
        if field.column_name.startswith("cf_"):
            value = (instance.custom_fields or {}).get(field.column_name[3:])
            if isinstance(value, list):
                return json.dumps(value)
            return "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        return super().export_field(field, instance, **kwargs)

    # --- import ---------------------------------------------------------------------------------------
    def get_or_init_instance(self, instance_loader, row):
        pk = _text(row.get("id"))
        if pk:
            instance = Individual.objects.filter(pk=pk).first() if pk.isdigit() else None
            if instance is None:
                raise ValidationError({"id": f"There is no individual with id {pk}. Leave it empty to create one."})
            return instance, False
        ssn = _text(row.get("ssn"))
        if ssn and not MASKED.match(ssn):
            try:
                match = Individual.objects.filter(ssn_hash=personal_data.hash_value("ssn", ssn)).first()
            except ValidationError:
                match = None  # reported with the row's other errors
            if match is not None:
                return match, False
        return self.init_instance(row), True

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "id":
            return  # the id only finds the record (get_or_init_instance); it is never assigned
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        npn = _text(row.get("servicing_agent_npn"))
        if npn and not Agent.objects.filter(npn=npn).exists():
            errors["servicing_agent_npn"] = [f"There is no agent with NPN {npn}."]
            row = {k: v for k, v in row.items() if k != "servicing_agent_npn"}
        elif not npn and _text(row.get("servicing_agent_name")) and instance.servicing_agent_id:
            # An agent without an NPN exports as a name only: that row keeps its agent.
            agent = instance.servicing_agent
            if _text(row.get("servicing_agent_name")) == f"{agent.first_name} {agent.last_name}".strip():
                row = {k: v for k, v in row.items() if k != "servicing_agent_npn"}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Empty text cells mean "blank" (the model's CharFields are never NULL).
        for name in PLAIN_COLUMNS:
            field = Individual._meta.get_field(name)
            if name in row and getattr(instance, field.attname) is None and not field.null:
                setattr(instance, field.attname, "")
        instance._import_personal = {}
        for kind in personal_data.KINDS:
            if kind not in row:
                continue
            value = _text(row[kind])
            if value and MASKED.match(value):
                continue  # as exported: keep the stored value
            if value:
                try:
                    personal_data.normalize(kind, value)
                except ValidationError as exc:
                    errors[kind] = exc.message_dict[kind]
                    continue
            instance._import_personal[kind] = value
        values = {}
        for key, cf in self.custom_fields.items():
            column = f"cf_{key}"
            if column in row:
                try:
                    values[key] = _custom_value(cf, row[column])
                except ValidationError as exc:
                    errors[column] = exc.messages
        try:
            from .custom_field_values import clean_values

            instance._import_custom = clean_values(values, fields=self.custom_fields, existing=instance.custom_fields)
        except ValidationError as exc:
            for message in exc.message_dict.get("custom_fields", []):
                key, _, text = message.partition(": ")
                errors.setdefault(f"cf_{key}", []).append(text or message)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        # Columns that are not model fields are validated in import_instance; full_clean skips them.
        model_errors = {k: v for k, v in errors.items() if k in {f.name for f in Individual._meta.fields}}
        try:
            super().validate_instance(instance, model_errors, validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        services.individual_save(
            actor=self.actor,
            individual=instance,
            changed=self.changed_fields(instance),
            personal=instance._import_personal,
            custom_fields=instance._import_custom,
        )


def _custom_value(cf: CustomField, cell):
    """A cell (CSV text or a typed XLSX value) as the custom field's value; None when empty."""
    t = CustomField.FieldType
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if cf.field_type == t.CHECKBOX:
        if isinstance(cell, bool):
            return cell
        text = _text(cell).lower()
        if text in TRUE | FALSE:
            return text in TRUE
        raise ValidationError("Enter true or false.")
    if cf.field_type == t.CHECKBOX_LIST:
        text = _text(cell)
        if text.startswith("["):
            try:
                return json.loads(text)
            except (ValueError, RecursionError):  # nested thousands deep: a row error, not a 500
                raise ValidationError('Enter the options as ["A", "B"] or A; B.') from None
        return [part.strip() for part in text.split(";") if part.strip()]
    if cf.field_type == t.DATE and hasattr(cell, "date") and callable(cell.date):
        return cell.date()
    if cf.field_type in (t.NUMBER, t.CURRENCY, t.PERCENT):
        return cell if isinstance(cell, int | float) and not isinstance(cell, bool) else _text(cell)
    return cell if hasattr(cell, "isoformat") else _text(cell)


class PolicyResource(AllOrNothingResource):
    carrier = fields.Field(attribute="carrier", column_name="carrier_code", widget=widgets.ForeignKeyWidget(Carrier, "code"))
    individual = fields.Field(attribute="individual", column_name="individual_id", widget=widgets.ForeignKeyWidget(Individual, "pk"))
    individual_name = fields.Field(column_name="individual_name", readonly=True)

    class Meta:
        model = Policy
        fields = [
            "carrier",
            "policy_number",
            "individual",
            "individual_name",
            "coverage_type",
            "status",
            "effective_date",
            "renewal_date",
            "termination_date",
            "premium",
        ]
        export_order = fields
        # (carrier code, policy number) names a policy; never the row order or a name.
        import_id_fields = ["carrier", "policy_number"]
        clean_model_instances = True
        skip_diff = True

    def get_queryset(self):
        return Policy.objects.select_related("carrier", "individual")

    def dehydrate_individual_name(self, policy):
        return str(policy.individual)

    def before_import_row(self, row, **kwargs):
        errors = {}
        code = _text(row.get("carrier_code"))
        number = _text(row.get("policy_number"))
        if not code:
            errors["carrier_code"] = ["Required: the carrier's code."]
        elif not Carrier.objects.filter(code=code).exists():
            errors["carrier_code"] = [f"There is no carrier with code {code!r}."]
        if not number:
            errors["policy_number"] = ["Required: with the carrier code it names the policy."]
        individual = _text(row.get("individual_id"))
        if individual and (not individual.isdigit() or not Individual.objects.filter(pk=individual).exists()):
            errors["individual_id"] = [f"There is no individual with id {individual}."]
        if errors:
            raise ValidationError(errors)
        row["carrier_code"], row["policy_number"] = code, number
        if individual:
            row["individual_id"] = individual

    def get_instance(self, instance_loader, row):
        matches = list(Policy.objects.filter(carrier__code=row["carrier_code"], policy_number__iexact=row["policy_number"])[:2])
        if len(matches) > 1:
            raise ValidationError({"policy_number": "Several policies of this carrier have this number: edit them one by one."})
        return matches[0] if matches else None

    def do_instance_save(self, instance, is_create):
        services.policy_save(actor=self.actor, policy=instance, changed=self.changed_fields(instance))


RESOURCES = {"individuals": IndividualResource, "policies": PolicyResource}
