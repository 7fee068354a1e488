"""The Individual Advanced Search: one FilterSet for the admin changelist, the API and bulk jobs.

``IndividualFilterSet(data=criteria, queryset=Individual.objects.all())`` works from a QueryDict or a
plain dict (lists for the multi-valued criteria); ``.is_valid()`` / ``.errors`` report bad criteria,
each keyed by the criterion: unknown keys, values that do not fit (a yes/no criterion given
``perhaps``), several values for a one-value criterion, values longer than ``MAX_VALUE_LENGTH`` -- so a
search never runs broader than was asked. ``.qs`` is the result. Callers go through
``individuals.filters.criteria`` (clean, store, label), not this class directly.

Policy criteria (coverage types, policy status, dates, carrier, policy number) are combined into ONE
``EXISTS`` over Policy, so they must all hold for the same policy.
"""

import copy
import datetime
from decimal import Decimal

import django_filters as filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q
from django.utils.functional import cached_property

from accounts.models import Agent
from core.filters import IsoDateTimeFromToRangeFilter
from plans.models import Carrier

from .. import personal_data
from ..models import CustomField, Individual, Policy, USState
from .custom_fields import custom_field_filters
from .fields import BooleanFilter, ModelMultipleChoiceFilter, MultipleChoiceFilter, date_range

# Query-string keys that belong to the page, not to the search (API paging/sorting, admin changelist).
NON_CRITERIA_PARAMS = frozenset(
    {
        "page",
        "page_size",
        "cursor",
        "ordering",
        "format",
        "reveal",
        "with_count",
        "o",
        "p",
        "e",
        "q",
        "all",
        "_changelist_filters",
        "_popup",
        "_to_field",
        "_facets",
    }
)

# The criteria matched together against one policy (one EXISTS), for callers that describe a search.
POLICY_FILTERS = ("coverage_type", "policy_status", "policy_effective", "policy_renewal", "carrier", "policy_number")

# Bounds on what a search may hold: a longer value is an error, never a pattern the database chokes on.
MAX_VALUE_LENGTH = 200
MAX_VALUES = 500

_hex_hash = RegexValidator(r"^[0-9a-f]{64}$", "Not a personal-data search key.")


class PersonalDataKeyField(forms.CharField):
    """A personal-data search key: sealed (``personal_data.seal``, in URLs and pages) or plain (stored criteria)."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return personal_data.unseal(value) if value else value
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class PersonalDataKeyFilter(filters.CharFilter):
    field_class = PersonalDataKeyField


class _SharedFields(dict):
    """The fields of a form that only validates, shared by its instances: a Django form deep-copies its
    fields for each instance (rendering may change them), which costs more than the search's cleaning;
    cleaning only reads them."""

    def __deepcopy__(self, memo):
        return dict(self)


_FORM_CLASSES: dict = {}
_CRITERION_KEYS: dict = {}  # per custom field definitions: every key a search accepts -> its filter (read only)


class IndividualFilterSet(filters.FilterSet):
    # --- names and contact ---------------------------------------------------------------------
    first_name = filters.CharFilter(lookup_expr="istartswith", label="First name starts with")
    middle_name = filters.CharFilter(lookup_expr="istartswith", label="Middle name starts with")
    last_name = filters.CharFilter(lookup_expr="istartswith", label="Last name starts with")
    nickname = filters.CharFilter(lookup_expr="icontains")
    title = filters.CharFilter(lookup_expr="iexact")
    email = filters.CharFilter(method="filter_email", label="Email (primary or secondary) contains")
    secondary_email = filters.CharFilter(lookup_expr="icontains")
    phone = filters.CharFilter(method="filter_phone", label="Cell or home phone contains")
    cell_phone = filters.CharFilter(lookup_expr="icontains")
    home_phone = filters.CharFilter(lookup_expr="icontains")
    # --- address --------------------------------------------------------------------------------
    address_type = MultipleChoiceFilter(choices=Individual.AddressType.choices)
    address_line1 = filters.CharFilter(lookup_expr="icontains", label="Address line 1 contains")
    address_line2 = filters.CharFilter(lookup_expr="icontains", label="Address line 2 contains")
    city = filters.CharFilter(lookup_expr="iexact")
    county = filters.CharFilter(lookup_expr="iexact")
    zip_code = filters.CharFilter(lookup_expr="startswith", label="ZIP code starts with")
    state = MultipleChoiceFilter(choices=USState.choices)
    # --- the person ------------------------------------------------------------------------------
    servicing_agent = ModelMultipleChoiceFilter(queryset=Agent.objects.all(), field_name="servicing_agent", distinct=False)
    no_servicing_agent = BooleanFilter(
        field_name="servicing_agent",
        lookup_expr="isnull",
        label="Servicing agent",
        yes="None assigned (no servicing agent)",
        no="Has a servicing agent",
    )
    record_status = MultipleChoiceFilter(choices=Individual.RecordStatus.choices)
    gender = MultipleChoiceFilter(choices=Individual.Gender.choices)
    smoker_status = MultipleChoiceFilter(choices=Individual.SmokerStatus.choices)
    date_of_birth = date_range("date_of_birth", "Date of birth")
    lead_source = filters.CharFilter(lookup_expr="iexact")
    medicare_part_a_effective = date_range("medicare_part_a_effective", "Medicare Part A effective")
    medicare_part_b_effective = date_range("medicare_part_b_effective", "Medicare Part B effective")
    created = IsoDateTimeFromToRangeFilter(field_name="created_at", label="Created")
    updated = IsoDateTimeFromToRangeFilter(field_name="updated_at", label="Updated")
    # --- personal data: exact match through the keyed hash (never a LIKE on the clear value) ----
    ssn = filters.CharFilter(method="filter_personal_data", label="SSN (exact)")
    medicare_beneficiary_id = filters.CharFilter(method="filter_personal_data", label="Medicare beneficiary ID (exact)")
    drivers_license = filters.CharFilter(method="filter_personal_data", label="Driver's license (exact)")
    # The same as keyed hashes: what URLs and stored criteria carry instead of the clear value.
    ssn_hash = PersonalDataKeyFilter(field_name="ssn_hash", validators=[_hex_hash])
    medicare_beneficiary_id_hash = PersonalDataKeyFilter(field_name="medicare_beneficiary_id_hash", validators=[_hex_hash])
    drivers_license_hash = PersonalDataKeyFilter(field_name="drivers_license_hash", validators=[_hex_hash])
    # --- policy criteria: all must hold for the SAME policy (see filter_queryset) ----------------
    coverage_type = MultipleChoiceFilter(choices=Policy.CoverageType.choices, method="_policy", label="Coverage types")
    policy_status = MultipleChoiceFilter(choices=Policy.Status.choices, method="_policy", label="Policy status")
    policy_effective = date_range(None, "Policy effective date", method="_policy")
    policy_renewal = date_range(None, "Policy renewal date", method="_policy")
    carrier = ModelMultipleChoiceFilter(queryset=Carrier.objects.all(), method="_policy", label="Carrier", distinct=False)
    policy_number = filters.CharFilter(method="_policy", label="Policy number")
    has_policy = BooleanFilter(method="filter_has_policy", label="Has any policy")

    class Meta:
        model = Individual
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, custom_fields=None, full_form=False):
        self._malformed = []
        if data is not None and not hasattr(data, "lists"):
            data, self._malformed = plain_criteria(data)
            # One value given as a one-item list reads as that value ([x] -> x) for one-value fields.
            data = {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in data.items()}
        if custom_fields is None:
            # Definitions are needed to render the form, or to read "cf_" criteria; a search without
            # them (most API calls and jobs) skips the query.
            needs_defs = full_form or data is None or any(str(k).startswith("cf_") for k in data)
            custom_fields = CustomField.objects.filter(active=True) if needs_defs else []
        defs = list(custom_fields)
        self.custom_field_defs = {cf.key: cf for cf in defs}
        base = dict(self.base_filters)
        for cf in defs:
            base.update(custom_field_filters(cf))
        if queryset is None:
            queryset = Individual.objects.all()
        self.is_bound = data is not None
        self.data = data if data is not None else {}
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self._all_filters = base
        self._defs_key = tuple((cf.key, cf.field_type, tuple(cf.options), cf.name) for cf in defs)
        # A form to render (admin) has every field; one that only validates has just the given criteria,
        # since a Form deep-copies each of its fields per request. Likewise ``filters``: only the given
        # ones are copied for a search (the form's fields are all ``filter_queryset`` reads).
        given = None if full_form or not self.is_bound else tuple(sorted(self._given_filters()))
        # Shallow copies (django-filter deep-copies, which costs more than the search on a page of 50):
        # filters keep no per-request state except ``parent`` and ``model``.
        self.filters = {}
        for name, f in base.items():
            if given is not None and name not in given:
                continue
            f = copy.copy(f)
            f.model, f.parent = queryset.model, self
            if f.method:
                f.method = f.method  # rebinds its FilterMethod to this copy
            self.filters[name] = f
        self._form_key = (given, self._defs_key)

    def _given_filters(self) -> set[str]:
        keys = self.criterion_keys()
        return {keys[k] for k in self.data if k in keys}

    def criterion_keys(self) -> dict[str, str]:
        """Every key a search accepts -> its filter: the name, or ``<name>_after``/``_before`` (dates,
        times) and ``_min``/``_max`` (numbers) for ranges, whose widget reads only those."""
        keys = _CRITERION_KEYS.get(self._defs_key)
        if keys is not None:
            return keys
        keys = {}
        for name, f in self._all_filters.items():
            widget = f.extra.get("widget") or f.field_class.widget
            suffixes = getattr(widget, "suffixes", None)
            if suffixes:
                keys.update({f"{name}_{s}": name for s in suffixes})
            else:
                keys[name] = name
        if len(_CRITERION_KEYS) > 256:
            _CRITERION_KEYS.clear()
        _CRITERION_KEYS[self._defs_key] = keys
        return keys

    def get_form_class(self):
        # Built once per (criteria given, custom field definitions); a Form copies its fields per instance.
        form_class = _FORM_CLASSES.get(self._form_key)
        if form_class is None:
            if len(_FORM_CLASSES) > 256:
                _FORM_CLASSES.clear()
            given = self._form_key[0]
            fields = {name: f.field for name, f in self.filters.items() if given is None or name in given}
            form_class = type(f"{self.__class__.__name__}Form", (self._meta.form,), fields)
            if given is not None:  # a form that only validates (never rendered) shares its fields
                form_class.base_fields = _SharedFields(form_class.base_fields)
            _FORM_CLASSES[self._form_key] = form_class
        return form_class

    # --- validation ------------------------------------------------------------------------------
    def is_valid(self):
        return super().is_valid() and not self.input_errors

    @property
    def errors(self):
        return {**self.form.errors, **self.input_errors}

    @cached_property
    def input_errors(self) -> dict[str, list[str]]:
        """Errors in the shape of the criteria, keyed by criterion: unknown keys, objects, several values
        for a one-value criterion, values or lists past the bounds."""
        if not self.is_bound:
            return {}
        keys = self.criterion_keys()
        errors = {}
        for key in self._malformed:
            errors[key] = ["Must be a value or a list of values."]
        items = self.data.lists() if hasattr(self.data, "lists") else self.data.items()
        for key, values in items:
            if key in NON_CRITERIA_PARAMS:
                continue
            if key not in keys:
                errors[key] = [f"Unknown search criterion {key!r}."]
                continue
            values = values if isinstance(values, list | tuple) else [values]
            if _multiple(self.filters[keys[key]]):
                values = [part for v in values for part in str(v).split(",")]
                if len(values) > MAX_VALUES:
                    errors[key] = [f"At most {MAX_VALUES} values."]
                    continue
            elif len(values) > 1:
                errors[key] = ["Give one value."]
                continue
            if any(len(str(v)) > MAX_VALUE_LENGTH for v in values):
                errors[key] = [f"At most {MAX_VALUE_LENGTH} characters."]
        return errors

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            qs = self.queryset.all()
            if self.is_bound:
                # Invalid criteria never widen a search: errors -> nothing, not everything.
                qs = self.filter_queryset(qs) if self.is_valid() else qs.none()
            self._qs = qs
        return self._qs

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        policy_q = self.policy_q()
        if policy_q is not None:
            queryset = queryset.filter(Exists(Policy.objects.filter(policy_q, individual=OuterRef("pk"))))
        return queryset

    def policy_q(self) -> Q | None:
        """The combined policy criteria (one Q over Policy), or None when none was given."""
        terms = self.policy_terms()
        return Q(*terms) if terms else None

    def policy_terms(self) -> list[tuple[str, object]]:
        """The given policy criteria as ``(Policy lookup, value)``, in the order they are combined."""
        data = self.form.cleaned_data
        terms = []
        if data.get("coverage_type"):
            terms.append(("coverage_type__in", data["coverage_type"]))
        if data.get("policy_status"):
            terms.append(("status__in", data["policy_status"]))
        for name, column in (("policy_effective", "effective_date"), ("policy_renewal", "renewal_date")):
            value = data.get(name)
            if value and value.start is not None:
                terms.append((f"{column}__gte", value.start))
            if value and value.stop is not None:
                terms.append((f"{column}__lte", value.stop))
        if data.get("carrier"):
            terms.append(("carrier__in", data["carrier"]))
        if data.get("policy_number"):
            terms.append(("policy_number__iexact", data["policy_number"].strip()))
        return terms

    # --- filter methods ----------------------------------------------------------------------------
    def _policy(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_has_policy(self, queryset, name, value):
        exists = Exists(Policy.objects.filter(individual=OuterRef("pk")))
        return queryset.filter(exists if value else ~exists)

    def filter_email(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(secondary_email__icontains=value))

    def filter_phone(self, queryset, name, value):
        return queryset.filter(Q(cell_phone__icontains=value) | Q(home_phone__icontains=value))

    def filter_personal_data(self, queryset, name, value):
        return queryset.filter(**{f"{name}_hash": personal_data.hash_value(name, value)})


def plain_criteria(data: dict) -> tuple[dict, list[str]]:
    """JSON criteria as the form fields expect them (text, or lists of text), and the keys whose value is
    neither a scalar nor a flat list (an object, a nested list): those are reported as errors, not a 500."""

    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float | Decimal):
            return str(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        return "" if v is None else v

    plain, bad = {}, []
    for key, value in data.items():
        if isinstance(value, list | tuple):
            value = [text(v) for v in value]
            ok = all(isinstance(v, str) for v in value)
        else:
            value = text(value)
            ok = isinstance(value, str)
        if ok:
            plain[str(key)] = value
        else:
            bad.append(str(key))
    return plain, bad


def _multiple(f) -> bool:
    return issubclass(f.field_class, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)


def _validate_personal(kind):
    def validate(value):
        if value:
            try:
                personal_data.normalize(kind, value)
            except forms.ValidationError as exc:
                raise forms.ValidationError(exc.message_dict[kind]) from None

    return validate


for _kind in personal_data.KINDS:
    IndividualFilterSet.base_filters[_kind].extra["validators"] = [_validate_personal(_kind)]
