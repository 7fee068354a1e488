from django.db import migrations


def seed(apps, schema_editor):
    from accounts.seeded_groups import seed_security_groups

    seed_security_groups(apps.get_model("accounts", "SecurityGroup"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
