from django.contrib import messages
from django.core.exceptions import ValidationError

from core.admin_filters import searchable_list_filter
from core.errors import ApplicationError
from plans.models import EmployerGroup

# Hundreds of groups: a search box and the few that match, not the whole list.
EmployerGroupFilter = searchable_list_filter(
    title="employer group",
    parameter_name="employer_group__id__exact",  # as the links from a group's page name it
    choices=lambda: EmployerGroup.objects.order_by("name"),
    search_fields=["name", "dba", "account_number"],
    field_path="employer_group",
)


def duration(seconds: float) -> str:
    """``3 days 4 hours`` / ``2 hours 5 minutes`` / ``40 seconds``: the two largest units."""
    seconds = max(0, int(seconds))
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


def run_service(model_admin, request, call, success: str) -> bool:
    """Call a service; its refusal becomes an error message (never a 500). True when it succeeded."""
    try:
        result = call()
    except ApplicationError as exc:
        model_admin.message_user(request, exc.message, messages.ERROR)
        return False
    except ValidationError as exc:
        model_admin.message_user(request, " ".join(exc.messages), messages.ERROR)
        return False
    model_admin.message_user(request, success.format(result=result), messages.SUCCESS)
    return True
