import datetime
import operator

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Agent

from .. import personal_data
from ..custom_field_values import clean_values
from ..models import CustomField, Individual, Policy


class PersonalDataField(serializers.CharField):
    """Write: the clear value (validated, encrypted by the service). Read: masked (last 4), or the
    full value when the view revealed it (``context["revealed"][kind]``, audited)."""

    def __init__(self, kind, **kwargs):
        self.kind = kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault(
            "help_text",
            f"Masked to the last 4 unless revealed with ?reveal={kind} (needs the "
            f"'view full personal data' right; audited). Write the full value; \"\" clears.",
        )
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        revealed = self.context.get("revealed", {})
        if self.kind in revealed:
            return revealed[self.kind]
        return personal_data.masked(instance, self.kind) or None

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value:
            try:
                personal_data.normalize(self.kind, value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict[self.kind]) from None
        return value


_DATES = {"date_of_birth", "medicare_part_a_effective", "medicare_part_b_effective"}
_DATETIMES = {"created_at", "updated_at"}


def _datetime(value, tz):
    # What DRF's DateTimeField renders (current time zone, "Z" for UTC), without its per-call overhead.
    text = value.astimezone(tz).isoformat() if value.tzinfo is not None else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _datetime_fixup(tz):
    """``_datetime`` for one page: in UTC (the usual setting) a value already in UTC, as the database
    gives them, needs no conversion, only its offset written "Z"."""
    if getattr(tz, "key", None) != "UTC" and tz is not datetime.UTC:
        return lambda value: _datetime(value, tz) if value is not None else None

    def utc(value):
        if value is None:
            return None
        if value.utcoffset() == _ZERO:
            return f"{value.replace(tzinfo=None).isoformat()}Z"
        return _datetime(value, tz)

    return utc


_ZERO = datetime.timedelta(0)


_PLAIN_TYPES = ("CharField", "EmailField", "JSONField", "BigAutoField")
_PLAIN = {f.name for f in Individual._meta.concrete_fields if f.get_internal_type() in _PLAIN_TYPES} | {"id"}


def _agent_names(rows) -> dict[int, str]:
    """Agent names by id: from the instances' (joined) agents, or in one query for the list's dict rows."""
    if rows and isinstance(rows[0], tuple):
        at = _AT["servicing_agent_id"]
        ids = {row[at] for row in rows} - {None}
        return {agent.pk: str(agent) for agent in Agent.objects.filter(pk__in=ids)} if ids else {}
    return {row.servicing_agent_id: str(row.servicing_agent) for row in rows if row.servicing_agent_id}


class PolicySerializer(serializers.ModelSerializer):
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "individual",
            "carrier",
            "carrier_name",
            "policy_number",
            "coverage_type",
            "status",
            "effective_date",
            "renewal_date",
            "termination_date",
            "premium",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class NestedPolicySerializer(PolicySerializer):
    class Meta(PolicySerializer.Meta):
        fields = [f for f in PolicySerializer.Meta.fields if f != "individual"]


def _date(value):
    return value.isoformat() if value is not None else None


def _personal(kind: str, revealed: dict):
    """Row value (the last 4) -> what the API shows: the revealed value, or the mask."""
    if kind in revealed:
        value = revealed[kind]
        return lambda last4: value
    return lambda last4: personal_data.mask(kind, last4) or None


def _row_of(instance) -> tuple:
    return tuple(getattr(instance, c) for c in ROW_COLUMNS)


def _kind(name: str) -> str:
    if name in _DATES:
        return "date"
    if name in _DATETIMES:
        return "datetime"
    if name in personal_data.KINDS:
        return "personal"
    if name == "servicing_agent":
        return "agent"
    if name == "servicing_agent_name":
        return "agent_name"
    return "plain" if name in _PLAIN else "field"


class IndividualListSerializer(serializers.ListSerializer):
    """A page in one pass (see ``IndividualSerializer.represent_rows``)."""

    def to_representation(self, data):
        return self.child.represent_rows(list(data.all() if hasattr(data, "all") else data))


class IndividualSerializer(serializers.ModelSerializer):
    servicing_agent_name = serializers.CharField(source="servicing_agent.__str__", read_only=True, default=None)
    ssn = PersonalDataField("ssn")
    medicare_beneficiary_id = PersonalDataField("medicare_beneficiary_id")
    drivers_license = PersonalDataField("drivers_license")
    custom_fields = serializers.JSONField(required=False, help_text="Values keyed by custom field key, validated by type.")

    class Meta:
        model = Individual
        fields = [
            "id",
            "first_name",
            "middle_name",
            "last_name",
            "nickname",
            "title",
            "servicing_agent",
            "servicing_agent_name",
            "record_status",
            "email",
            "secondary_email",
            "cell_phone",
            "home_phone",
            "address_type",
            "address_line1",
            "address_line2",
            "city",
            "county",
            "zip_code",
            "state",
            "gender",
            "date_of_birth",
            "lead_source",
            "medicare_beneficiary_id",
            "medicare_part_a_effective",
            "medicare_part_b_effective",
            "ssn",
            "drivers_license",
            "smoker_status",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        list_serializer_class = IndividualListSerializer

    def to_representation(self, instance):
        return self.represent_rows([instance])[0]

    def represent_rows(self, rows: list) -> list[dict]:
        """The list's hot path: plain column reads instead of DRF's per-field machinery, per-request work
        done once per page (same output; ``test_fast_representation_matches_drf`` pins it). ``rows`` are
        instances or tuples of ``ROW_COLUMNS`` (the list's ``.values_list()``, which skips building models and dicts).

        Each row's values are read in one ``itemgetter`` call (in C); only the few that need it (dates,
        timestamps, masked personal data, the agent's name) are converted in Python."""
        tz = timezone.get_current_timezone()
        revealed = self.context.get("revealed", {})
        agents = _agent_names(rows)
        names, sources, fixups = [], [], []
        datetime_fixup = _datetime_fixup(tz)
        for i, name in enumerate(self.Meta.fields):
            kind = _kind(name)
            names.append(name)
            sources.append("servicing_agent_id" if kind in ("agent", "agent_name") else f"{name}_last4" if kind == "personal" else name)
            if kind == "date":
                fixups.append((i, _date))
            elif kind == "datetime":
                fixups.append((i, datetime_fixup))
            elif kind == "personal":
                fixups.append((i, _personal(name, revealed)))
            elif kind == "agent_name":
                fixups.append((i, agents.get))
            elif name == "custom_fields" and rows and isinstance(rows[0], tuple):
                fixups.append((i, orjson.loads))  # the list's rows carry it as JSON text
            elif kind == "field":  # a field of a subclass (the detail's policies): DRF's way, from the instance
                sources[-1] = "id"
                fixups.append((i, None))
        if any(fn is None for _, fn in fixups):
            return [self._represent_with_fields(row, names, sources, fixups) for row in rows]
        read = operator.itemgetter(*(_AT[source] for source in sources))
        results = []
        for row in rows:
            values = list(read(row if isinstance(row, tuple) else _row_of(row)))
            for i, fn in fixups:
                values[i] = fn(values[i])
            results.append(dict(zip(names, values, strict=True)))
        return results

    def _represent_with_fields(self, instance, names, sources, fixups) -> dict:
        row = _row_of(instance)
        values = [row[_AT[source]] for source in sources]
        for i, fn in fixups:
            if fn is None:
                field = self.fields[names[i]]
                values[i] = field.to_representation(field.get_attribute(instance))
            else:
                values[i] = fn(values[i])
        return dict(zip(names, values, strict=True))

    def validate_custom_fields(self, value):
        try:
            existing = self.instance.custom_fields if self.instance is not None else {}
            clean_values(value, existing=existing)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["custom_fields"]) from None
        return value


# The columns a row needs: the list selects just these (``.values_list()``); an instance gives them as attributes.
ROW_COLUMNS = (
    *[name for name in IndividualSerializer.Meta.fields if _kind(name) in ("plain", "date", "datetime")],
    *[f"{kind}_last4" for kind in personal_data.KINDS],
    "servicing_agent_id",
)
_AT = {column: i for i, column in enumerate(ROW_COLUMNS)}  # a column's place in a row


class IndividualDetailSerializer(IndividualSerializer):
    policies = NestedPolicySerializer(many=True, read_only=True)

    class Meta(IndividualSerializer.Meta):
        fields = [*IndividualSerializer.Meta.fields, "policies"]


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "name", "key", "field_type", "options", "active", "order", "help_text", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SearchSerializer(serializers.Serializer):
    """Advanced-search criteria in a request body (keeps personal data out of URLs)."""

    criteria = serializers.DictField(
        help_text="The same keys as the list's query parameters; lists for several values. {} finds everyone; an unknown key or a bad value is a 400."
    )


# --- the client's timeline (GET /api/individuals/{id}/timeline/) -----------------------------------
class TimelineQuerySerializer(serializers.Serializer):
    """The timeline's query: one kind (or all), older than ``before`` (the previous page's ``next_before``)."""

    kind = serializers.ChoiceField(choices=[], required=False, help_text="One kind of line; all when left out.")
    before = serializers.DateTimeField(required=False, help_text="Lines older than this moment (ISO 8601): the next page.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    def __init__(self, *args, **kwargs):
        from core.timeline import KINDS

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(KINDS.items())


class TimelineChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field as people read it (“City”).")
    old = serializers.CharField()
    new = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="edit, sync, notification, sales, export, personal_data, other")
    kind_label = serializers.CharField()
    title = serializers.CharField()
    by = serializers.CharField(help_text="Who or which system: a person's name, “AMS (sync)”, a workflow, a job.")
    source = serializers.CharField(help_text="person, job, sync, notification or system")
    changes = TimelineChangeSerializer(many=True, help_text="field: old → new, for edits")
    detail = serializers.CharField(allow_blank=True)


class TimelinePageSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Lines per kind (all of them, not this page's).")
    next = serializers.CharField(allow_null=True, help_text="The next (older) page, or null.")
    next_before = serializers.DateTimeField(allow_null=True)
    results = TimelineEntrySerializer(many=True)
