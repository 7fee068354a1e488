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
from django.db.models.functions import Upper
from import_export import fields, widgets
from import_export.instance_loaders import BaseInstanceLoader

from accounts.models import Agent
from core.display import utc_text
from core.formulas import formula_unescape
from core.importing import AllOrNothingResource
from integrations.ownership import owned_fields_checker
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


def _ssn_hash(cell) -> str | None:
    """The keyed hash of a row's SSN cell (None: empty, masked as exported, or invalid: the row's error)."""
    ssn = _text(formula_unescape(cell))
    if not ssn or MASKED.match(ssn):
        return None
    try:
        return personal_data.hash_value("ssn", ssn)
    except ValidationError:
        return None


class IndividualLoader(BaseInstanceLoader):
    """A chunk's existing individuals, found together: by the rows' ids (one query) and by their SSNs
    (one query on the keyed hash; of several with one SSN, the first in the list's order, as before)."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        headers = dataset.headers or () if dataset is not None else ()
        ids = {int(t) for v in (dataset["id"] if "id" in headers else ()) if (t := _text(formula_unescape(v))).isdigit()}
        self.hashes = {v: _ssn_hash(v) for v in (dataset["ssn"] if "ssn" in headers else ())}  # by cell: hashed once
        hashes = set(self.hashes.values()) - {None}
        queryset = resource.get_queryset()
        self.by_id = {i.pk: i for i in queryset.filter(pk__in=ids)} if ids else {}
        self.by_ssn: dict[str, Individual] = {}
        if hashes:
            for found in queryset.filter(ssn_hash__in=hashes).order_by(*Individual._meta.ordering):
                found = self.by_id.get(found.pk, found)  # one object per record, however a row finds it
                self.by_id.setdefault(found.pk, found)
                self.by_ssn.setdefault(found.ssn_hash, found)
        resource._loader_ids = list(self.by_id)

    def get_instance(self, row):
        raise NotImplementedError  # IndividualResource.get_or_init_instance finds the record


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
        instance_loader_class = IndividualLoader
        use_bulk = True
        batch_size = None  # the whole chunk is written together (save_chunk)
        clean_model_instances = True
        skip_diff = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.custom_fields_all = {cf.key: cf for cf in CustomField.objects.all()}
        self.custom_fields = {key: cf for key, cf in self.custom_fields_all.items() if cf.active}
        order = custom_field_keys()
        # One column per active custom field, before the timestamps (as in the CSV export).
        for key in order:
            self.fields[f"cf_{key}"] = fields.Field(column_name=f"cf_{key}")
        for name in TIMESTAMP_COLUMNS:
            self.fields[name] = self.fields.pop(name)

    def dehydrate_created_at(self, individual):
        return utc_text(individual.created_at)  # as the CSV export writes it (core.db.UtcText)

    def dehydrate_updated_at(self, individual):
        return utc_text(individual.updated_at)

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
    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        npns = {_text(v) for v in dataset["servicing_agent_npn"]} - {""} if "servicing_agent_npn" in (dataset.headers or ()) else set()
        self._agent_npns = set(Agent.objects.filter(npn__in=npns).values_list("npn", flat=True)) if npns else set()
        self._owned = None

    def get_or_init_instance(self, instance_loader, row):
        """The record of the row's id, or of its SSN, or a new one (the chunk's records found together:
        ``IndividualLoader``); a later row of the chunk with the same SSN finds the record this one starts."""
        pk = _text(row.get("id"))
        if pk:
            instance = instance_loader.by_id.get(int(pk)) if pk.isdigit() else None
            if instance is None:
                raise ValidationError({"id": f"There is no individual with id {pk}. Leave it empty to create one."})
            return instance, False
        cell = row.get("ssn")
        ssn_hash = instance_loader.hashes[cell] if cell in instance_loader.hashes else _ssn_hash(cell)
        if ssn_hash is not None and (match := instance_loader.by_ssn.get(ssn_hash)) is not None:
            return match, False
        instance = self.init_instance(row)
        if ssn_hash is not None:
            instance_loader.by_ssn[ssn_hash] = instance
        return instance, True

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "id":
            return  # the id only finds the record (get_or_init_instance); it is never assigned
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        npn = _text(row.get("servicing_agent_npn"))
        if npn and npn not in self._agent_npns:
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
        if not errors and instance.pk is not None:
            try:  # a field an outside system owns (the AMS): refused here, with the row's number, as the service would
                self._owned_check()(instance, self._changed(instance))
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _owned_check(self):
        if self._owned is None:
            self._owned = owned_fields_checker(Individual, self._loader_ids)
        return self._owned

    _prepared = None

    def prepare_chunk(self, *, created, updated):
        """Personal data encrypted and custom fields merged before the chunk's transaction (reads only)."""
        self._prepared = services.individuals_import_prepare(
            created=[(i, i._import_personal, i._import_custom) for i in created],
            updated=[(i, i._import_original, self._changed(i), i._import_personal, i._import_custom) for i in updated],
            custom_field_defs=self.custom_fields_all,
        )

    def save_chunk(self, *, created, updated):
        """The chunk's records written together (``individuals_import_save``), each audited."""
        if self._prepared is None:
            self.prepare_chunk(created=created, updated=updated)
        prepared, self._prepared = self._prepared, None
        services.individuals_import_write(actor=self.actor, prepared=prepared)


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


class PolicyLoader(BaseInstanceLoader):
    """A chunk's existing policies, by carrier code and policy number (any case), in one query."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        headers = dataset.headers or () if dataset is not None else ()
        self.policies: dict[tuple[str, str], list[Policy]] = {}
        if "carrier_code" in headers and "policy_number" in headers:
            keys = {(_text(c), _text(n).upper()) for c, n in zip(dataset["carrier_code"], dataset["policy_number"], strict=True)}
            codes, numbers = {c for c, _ in keys if c}, {n for _, n in keys if n}
            if codes and numbers:
                found = resource.get_queryset().annotate(number_upper=Upper("policy_number"))
                for policy in found.filter(carrier__code__in=codes, number_upper__in=numbers).order_by("pk"):
                    key = (policy.carrier.code, policy.number_upper)
                    if key in keys:
                        self.policies.setdefault(key, []).append(policy)
        resource._loader_ids = [p.pk for ps in self.policies.values() for p in ps]

    def get_instance(self, row):
        raise NotImplementedError  # PolicyResource.get_or_init_instance finds the record


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
        instance_loader_class = PolicyLoader
        use_bulk = True
        batch_size = None  # the whole chunk is written together (save_chunk)
        clean_model_instances = True
        skip_diff = True

    def get_queryset(self):
        return Policy.objects.select_related("carrier", "individual")

    def dehydrate_individual_name(self, policy):
        return str(policy.individual)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        headers = dataset.headers or ()
        codes = {_text(v) for v in dataset["carrier_code"]} - {""} if "carrier_code" in headers else set()
        ids = {int(t) for v in (dataset["individual_id"] if "individual_id" in headers else ()) if (t := _text(v)).isdigit()}
        self._carriers = set(Carrier.objects.filter(code__in=codes).values_list("code", flat=True)) if codes else set()
        self._individuals = set(Individual.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        self._owned = None

    def before_import_row(self, row, **kwargs):
        errors = {}
        code = _text(row.get("carrier_code"))
        number = _text(row.get("policy_number"))
        if not code:
            errors["carrier_code"] = ["Required: the carrier's code."]
        elif code not in self._carriers:
            errors["carrier_code"] = [f"There is no carrier with code {code!r}."]
        if not number:
            errors["policy_number"] = ["Required: with the carrier code it names the policy."]
        individual = _text(row.get("individual_id"))
        if individual and (not individual.isdigit() or int(individual) not in self._individuals):
            errors["individual_id"] = [f"There is no individual with id {individual}."]
        if errors:
            raise ValidationError(errors)
        row["carrier_code"], row["policy_number"] = code, number
        if individual:
            row["individual_id"] = individual

    def get_or_init_instance(self, instance_loader, row):
        """The policy of the row's carrier code and number (the chunk's found together: ``PolicyLoader``), or
        a new one that a later row of the chunk with the same code and number finds."""
        key = (row["carrier_code"], row["policy_number"].upper())
        matches = instance_loader.policies.get(key, [])
        if len(matches) > 1:
            raise ValidationError({"policy_number": "Several policies of this carrier have this number: edit them one by one."})
        if matches:
            return matches[0], False
        instance = self.init_instance(row)
        instance_loader.policies[key] = [instance]
        return instance, True

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        super().validate_instance(instance, import_validation_errors, validate_unique)
        if instance.pk is not None:  # a field the AMS owns: refused here, with the row's number, as the service would
            if self._owned is None:
                self._owned = owned_fields_checker(Policy, self._loader_ids)
            self._owned(instance, self._changed(instance))

    def save_chunk(self, *, created, updated):
        """The chunk's policies written together through ``policies_import_save`` (each audited)."""
        services.policies_import_save(actor=self.actor, created=created, updated=[(p, p._import_original, self._changed(p)) for p in updated])


RESOURCES = {"individuals": IndividualResource, "policies": PolicyResource}
