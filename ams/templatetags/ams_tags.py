"""``{% linked_systems original %}``: the Linked systems panel on a record's admin page."""

from django import template

from ..selectors import linked_systems

register = template.Library()


@register.inclusion_tag("admin/ams/linked_systems.html", takes_context=True)
def linked_systems_panel(context, record):
    from ..admin import linked_systems_url

    user = context["request"].user
    if record is None or record.pk is None:
        return {"rows": None}
    can_link = user.has_perm(f"{record._meta.app_label}.change_{record._meta.model_name}")
    return {"rows": linked_systems(record), "link_url": linked_systems_url(record) if can_link else ""}
