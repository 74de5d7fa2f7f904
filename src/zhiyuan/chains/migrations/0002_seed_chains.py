"""Seed the four leading chains with their segments, nodes and mapping rules (see zhiyuan.chains.seed).
Idempotent: only missing chains, segments and nodes are added; the admin maintains them afterwards."""

from django.db import migrations


def seed(apps, schema_editor):
    from zhiyuan.chains.seed import load_chains

    load_chains(
        apps.get_model("chains", "IndustryChain"),
        apps.get_model("chains", "Segment"),
        apps.get_model("chains", "Node"),
    )


class Migration(migrations.Migration):
    dependencies = [("chains", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
