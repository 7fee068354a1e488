"""Template filters for ``core.display``'s formats: ``{% load agencydesk %}`` then ``{{ d|date_text }}``,
``{{ moment|datetime_text }}``, ``{{ amount|money }}``, ``{{ value|as_text }}``."""

from django import template

from core import display

register = template.Library()

register.filter("date_text", display.date_text)
register.filter("datetime_text", display.datetime_text)
register.filter("as_text", display.text)


@register.filter("money")
def money(value, cents=True):
    return display.money(value, cents=cents not in (False, "False", "false", "0"))
