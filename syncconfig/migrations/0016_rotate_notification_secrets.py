"""Data: a new notification secret for every connection whose secret was part of its
notification address (and so of the web server's access log). Captures send theirs in a
header and keep it."""
import secrets

from django.db import migrations


def rotate(apps, schema_editor):
    Connection = apps.get_model("syncconfig", "Connection")
    for connection in Connection.objects.exclude(webhook_secret="").exclude(kind="lemontaps").only("pk"):
        Connection.objects.filter(pk=connection.pk).update(webhook_secret=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [("syncconfig", "0015_zoho_schedules")]

    operations = [migrations.RunPython(rotate, migrations.RunPython.noop)]
