"""Creates the portal's role groups. Their permissions are assigned after migrate (see
syncconfig.roles), once every model's permissions exist."""
from django.db import migrations

ROLES = ["Marketing admin", "Sales ops", "Field user"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncconfig", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
