from django.db import migrations


def seed(apps, schema_editor):
    from plans.seeded_carriers import CARRIERS

    Carrier = apps.get_model("plans", "Carrier")
    for name, code, naic in CARRIERS:
        # Keyed by code and NAIC so a carrier someone already added is left as it is.
        if not Carrier.objects.filter(code=code).exists() and not (naic and Carrier.objects.filter(naic=naic).exists()):
            Carrier.objects.create(name=name, code=code, naic=naic)


class Migration(migrations.Migration):
    dependencies = [("plans", "0003_plan_and_rates")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
