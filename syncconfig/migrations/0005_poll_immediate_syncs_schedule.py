"""The beat schedule that polls immediate syncs every few seconds (the fallback for vendors
without change notifications, and the reaper of stuck runs)."""
from django.db import migrations

NAME = "Poll immediate syncs"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "syncconfig.tasks.poll_immediate_syncs", "interval": every, "enabled": True,
        "description": "Starts a run of every enabled immediate sync that has none under way.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncconfig", "0004_connection_api_budget"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
