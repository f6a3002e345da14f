"""The beat schedule that starts the completeness checks admins set on each sync, when due."""
from django.db import migrations

NAME = "Check completeness of syncs when due"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "syncconfig.tasks.check_due_completeness", "interval": every, "enabled": True,
        "description": "Starts a completeness check of every enabled sync whose “check completeness every (hours)” "
                       "has passed since its last check.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncconfig", "0009_completeness_checks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
