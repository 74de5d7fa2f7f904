from django.db import migrations


def load(apps, schema_editor):
    from zhiyuan.enterprises.industries import load_industries

    load_industries(apps.get_model("enterprises", "Industry"))


class Migration(migrations.Migration):
    """Load GB/T 4754-2017 (20 门类, 97 大类, 275 中类, 1380 小类) from the package data."""

    dependencies = [("enterprises", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
