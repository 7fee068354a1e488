"""Admin forms: an individual's personal data (write-only) and custom field values (one input per field)."""

from django import forms
from django.core.exceptions import ValidationError

from .. import personal_data
from ..custom_field_values import clean_values
from ..models import CustomField, Individual

PD_LABELS = {"ssn": "SSN", "medicare_beneficiary_id": "Medicare beneficiary ID", "drivers_license": "Driver's license"}


def custom_field_form_field(cf: CustomField) -> forms.Field:
    t = CustomField.FieldType
    common = {"required": False, "label": cf.name, "help_text": cf.help_text}
    if cf.field_type == t.TEXT:
        return forms.CharField(max_length=255, **common)
    if cf.field_type == t.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if cf.field_type == t.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if cf.field_type == t.DROPDOWN:
        return forms.ChoiceField(choices=[("", "---------"), *[(o, o) for o in cf.options]], **common)
    if cf.field_type == t.CHECKBOX_LIST:
        return forms.MultipleChoiceField(choices=[(o, o) for o in cf.options], widget=forms.CheckboxSelectMultiple, **common)
    if cf.field_type == t.CHECKBOX:
        return forms.BooleanField(**common)
    places = 2 if cf.field_type == t.CURRENCY else None
    return forms.DecimalField(decimal_places=places, **common)


class IndividualAdminForm(forms.ModelForm):
    """Personal data is typed in clear, stored encrypted, and never shown back in the form."""

    class Meta:
        model = Individual
        exclude = ["custom_fields"]  # noqa: DJ006 (every other field, including ones added later)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in personal_data.KINDS:
            current = personal_data.masked(self.instance, kind) if self.instance.pk else ""
            help_text = f"Stored encrypted; now {current}. Type a new value to replace it." if current else "Stored encrypted."
            self.fields[kind] = forms.CharField(
                label=PD_LABELS[kind],
                required=False,
                help_text=help_text,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
            if current:
                self.fields[f"clear_{kind}"] = forms.BooleanField(label=f"Remove the {PD_LABELS[kind]}", required=False)
        self.custom_field_defs = {cf.key: cf for cf in CustomField.objects.filter(active=True)}
        values = self.instance.custom_fields or {}
        for key, cf in self.custom_field_defs.items():
            self.fields[f"cf_{key}"] = custom_field_form_field(cf)
            if key in values:
                self.initial[f"cf_{key}"] = values[key]

    def clean(self):
        cleaned = super().clean()
        self.personal_data = {}
        for kind in personal_data.KINDS:
            if cleaned.get(f"clear_{kind}"):
                self.personal_data[kind] = ""
            elif cleaned.get(kind):
                try:
                    personal_data.normalize(kind, cleaned[kind])
                except ValidationError as exc:
                    self.add_error(kind, exc.message_dict[kind])
                else:
                    self.personal_data[kind] = cleaned[kind]
        values = {key: cleaned.get(f"cf_{key}") for key in self.custom_field_defs if f"cf_{key}" in cleaned}
        try:
            self.custom_values = clean_values(values, fields=self.custom_field_defs, existing=self.instance.custom_fields)
        except ValidationError:
            # Per-field errors on the matching inputs.
            for key, value in values.items():
                try:
                    clean_values({key: value}, fields=self.custom_field_defs)
                except ValidationError as exc:
                    self.add_error(f"cf_{key}", [m.split(": ", 1)[-1] for m in exc.message_dict["custom_fields"]])
        return cleaned
