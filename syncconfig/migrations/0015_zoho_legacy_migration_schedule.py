"""The daily beat schedule that moves legacy Zoho Campaigns configurations to the new model
once Zoho's cut-off date has passed (ZO-6)."""
from django.db import migrations

NAME = "Migrate legacy Zoho Campaigns configurations after the cut-off"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="2", day_of_week="*", day_of_month="*",
                                                     month_of_year="*")
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "syncconfig.tasks.migrate_due_zoho_configurations", "crontab": daily, "enabled": True,
        "description": "Past ZOHO_LEGACY_CUTOFF, moves every legacy Zoho CRM → Campaigns sync to the new model.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncconfig", "0014_captured_contacts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
