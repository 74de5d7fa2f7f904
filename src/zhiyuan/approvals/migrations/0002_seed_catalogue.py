from django.db import migrations


def seed(apps, schema_editor):
    from zhiyuan.approvals.catalogue import load_catalogue

    load_catalogue(apps.get_model("approvals", "ApprovalItem"), apps.get_model("approvals", "MaterialRequirement"))


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
