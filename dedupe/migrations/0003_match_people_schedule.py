"""The beat schedule that matches what changed in the connected systems every 15 minutes."""
from django.db import migrations

NAME = "Match people for duplicates"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "dedupe.tasks.match_people", "interval": every, "enabled": True,
        "description": "Reads people changed since the last pass and matches them against everyone else.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dedupe", "0002_people_groups_merges"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
