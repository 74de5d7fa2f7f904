"""Seed one CategoryRule per category with the issue's defaults: sign for within 1 working day,
first reply within 2, resolve within 5 (simple) or 15 (complex); routed to the firm's specialist
(no department) until the administrator names a responsible department."""

from django.db import migrations

CATEGORIES = ["financing", "labour", "land", "approval", "utilities", "policy", "dispute", "other"]


def seed(apps, schema_editor):
    CategoryRule = apps.get_model("servicedesk", "CategoryRule")
    for category in CATEGORIES:
        CategoryRule.objects.get_or_create(
            category=category,
            defaults={"sign_for_days": 1, "reply_days": 2, "resolve_days": 5, "resolve_days_complex": 15},
        )


def unseed(apps, schema_editor):
    CategoryRule = apps.get_model("servicedesk", "CategoryRule")
    CategoryRule.objects.filter(category__in=CATEGORIES, department__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
