"""Who sees which linked records: ids and conflicts follow the rights on the records they concern."""

from django.contrib.contenttypes.models import ContentType

from individuals.models import Individual, Policy
from plans.models import EmployerGroup, EmployerGroupContact

LINKED_MODELS = (Individual, EmployerGroup, Policy, EmployerGroupContact)


def viewable_content_types(user) -> list[int]:
    """Content type ids of the linked models ``user`` may view (Visible on their area)."""
    return [ContentType.objects.get_for_model(m).pk for m in LINKED_MODELS if user.has_perm(f"{m._meta.app_label}.view_{m._meta.model_name}")]


def can_see_links(user) -> bool:
    return bool(viewable_content_types(user))
