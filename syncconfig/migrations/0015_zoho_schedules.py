"""The beat schedule that renews Zoho CRM notification channels, and the daily one that moves legacy Zoho Campaigns configurations to the new model
once Zoho's cut-off date has passed (ZO-6)."""
from django.db import migrations

RENEW = "Renew Zoho CRM notification channels"
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

    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    every, _ = IntervalSchedule.objects.get_or_create(every=6, period="hours")
    PeriodicTask.objects.update_or_create(name=RENEW, defaults={
        "task": "syncconfig.tasks.renew_zoho_channels", "interval": every, "enabled": True,
        "description": "Renews Zoho CRM notification channels, which expire after a day.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[NAME, RENEW]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncconfig", "0014_captured_contacts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
