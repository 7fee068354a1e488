"""Runs recorded before: their one "Benefits" change (``copays: {'primary_care': 25, …}; hsa eligible: False``)
and their one "Rates" change become one line per benefit and per rate tier, with labels and money as money,
as new runs record them. A value that can't be read back stays as it was."""

import ast

from django.db import migrations

EMPTY = "—"


def _benefits(text: str) -> dict | None:
    """``deductible individual: 1500; copays: {…}`` (the old display) -> the summary, or None."""
    if text in ("", EMPTY):
        return {}
    summary = {}
    for part in text.split("; "):
        key, sep, value = part.partition(": ")
        if not sep or not key:
            return None
        try:
            summary[key.replace(" ", "_")] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            summary[key.replace(" ", "_")] = value
    return summary


def _rates(text: str) -> list | None:
    """``Employee Only: $500.00; Family: $1400.00`` -> ``[[tier, amount], …]``, or None."""
    if text in ("", EMPTY):
        return []
    rates = []
    for part in text.split("; "):
        tier, sep, amount = part.rpartition(": $")
        if not sep:
            return None
        rates.append([tier, amount])
    return rates


def split_changes(changes: list) -> list | None:
    """The item's changes with the old whole-set lines split, or None when nothing was split."""
    from plansync.mapping import change_lines

    out, split = [], False
    for change in changes or []:
        field, read = {"Benefits": ("benefitSummary", _benefits), "Rates": ("rates", _rates)}.get(change.get("field"), (None, None))
        if field:
            old, new = read(str(change.get("old", ""))), read(str(change.get("new", "")))
            if old is not None and new is not None:
                out += [{**change, "field": label, "old": o, "new": n} for label, o, n in change_lines(field, old, new)]
                split = True
                continue
        out.append(change)
    return out if split else None


def forwards(apps, schema_editor):
    PlanSyncItem = apps.get_model("plansync", "PlanSyncItem")
    for item in PlanSyncItem.objects.only("pk", "changes").iterator(chunk_size=500):
        changes = split_changes(item.changes) if item.changes else None
        if changes is not None:
            PlanSyncItem.objects.filter(pk=item.pk).update(changes=changes)


class Migration(migrations.Migration):
    dependencies = [("plansync", "0005_sweep_schedule")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
