"""Data: a new notification secret for every connection whose secret was part of its
notification address (and so of the web server's access log). Captures send theirs in a
header and keep it. Their notifications count as unregistered, so the connection check
registers the new addresses by itself (when the workers start and every 15 minutes)."""
import secrets

from django.db import migrations


def rotate(apps, schema_editor):
    Connection = apps.get_model("syncconfig", "Connection")
    for connection in Connection.objects.exclude(webhook_secret="").exclude(kind="lemontaps").only("pk"):
        Connection.objects.filter(pk=connection.pk).update(webhook_secret=secrets.token_urlsafe(32), webhook_registered_at=None)


class Migration(migrations.Migration):
    dependencies = [("syncconfig", "0019_captured_contact_not_duplicate_of")]

    operations = [migrations.RunPython(rotate, migrations.RunPython.noop)]
