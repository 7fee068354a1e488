from django import forms

from .models import SecurityGroup
from .rights import Area, Flag


class SecurityGroupForm(forms.ModelForm):
    """Levels as radio buttons, laid out by the template as an area x level matrix."""

    class Meta:
        model = SecurityGroup
        fields = ["name", "description", *[a.value for a in Area], *[f.value for f in Flag]]
        widgets = {a.value: forms.RadioSelect for a in Area}

    def matrix_rows(self):
        return [self[area.value] for area in Area]

    def flag_fields(self):
        return [self[flag.value] for flag in Flag]
