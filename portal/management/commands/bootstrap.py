"""First-run set-up for `make run`: the first admin login, printed once."""
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import BaseCommand

from syncconfig import roles


class Command(BaseCommand):
    help = "Create the first admin login (printed once) unless a superuser exists."

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            admin = User.objects.create_superuser("admin", "admin@example.com", password)
            admin.groups.add(Group.objects.get(name=roles.MARKETING_ADMIN))
            banner = "=" * 64
            self.stdout.write(self.style.SUCCESS(
                f"\n{banner}\n  First admin login (shown once — write it down):\n"
                f"    user: admin    password: {password}\n"
                f"  Change it at /admin/password_change/ after signing in.\n{banner}\n"
            ))
