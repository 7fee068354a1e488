"""``{% create_sales_records_url as url %}``: the "Create Sales Records…" link for the current search, or ""."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from individuals.filters import criteria_dict

from ..rights import may_mass_create

register = template.Library()


@register.simple_tag(takes_context=True)
def create_sales_records_url(context) -> str:
    request = context.get("request")
    if request is None or not may_mass_create(request.user):
        return ""
    criteria = criteria_dict(request.GET)
    url = reverse("admin:salesrecords_masscreationjob_new")
    return f"{url}?{urlencode(criteria, doseq=True)}" if criteria else url
