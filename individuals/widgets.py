"""Select widgets rendered in Python: the search form has thousands of options, and Django's
template-per-option rendering costs more than the search itself."""

from django import forms
from django.utils.html import format_html, format_html_join


class FastSelectMultiple(forms.SelectMultiple):
    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in (value or [])} if isinstance(value, list | tuple) else {str(value)} if value else set()
        final = self.build_attrs(self.attrs, attrs)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, " selected" if str(v) in selected else "", label) for v, label in self._options()),
        )
        attributes = format_html_join("", ' {}="{}"', ((k, v) for k, v in final.items() if v not in (None, False)))
        return format_html('<select name="{}" multiple{}>{}</select>', name, attributes, options)

    def _options(self):
        for value, label in self.choices:
            if hasattr(value, "value"):  # ModelChoiceIteratorValue
                value = value.value
            yield value, label
