"""First-run set-up for `make run`: the first admin login (printed once) and the demo."""
import secrets

from django.contrib.auth import get_user_model
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import BaseCommand

from portal.demo import demo_setup
from syncconfig import roles


class Command(BaseCommand):
    help = "Create the first admin login (printed once) unless a superuser exists, and the sandbox demo (SANDBOX_DEMO)."

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
        if settings.SANDBOX_DEMO:
            created = demo_setup(sandbox_url=settings.SANDBOX_URL)
            for connection in created:
                self.stdout.write(f"Demo: created the connection “{connection.name}” to the sandbox at {connection.base_url}.")
            if created:
                self._sales_ops_login(User)
                self._field_user_login(User)
                if not settings.CELERY_TASK_ALWAYS_EAGER:  # with a worker to run it later, not here and now
                    from dedupe.tasks import match_people

                    # The first matching pass, once the worker and the sandbox are up.
                    match_people.apply_async(kwargs={"full": True, "trigger": "demo"}, countdown=20)

    def _sales_ops_login(self, User):
        if User.objects.filter(username="salesops").exists():
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user("salesops", "salesops@example.com", password, is_staff=True)
        user.groups.add(Group.objects.get(name=roles.SALES_OPS))
        self.stdout.write(self.style.SUCCESS(
            f"  Demo sales-ops login (reviews duplicates; shown once):\n    user: salesops    password: {password}\n"
        ))

    def _field_user_login(self, User):
        from connectors.sandbox.models import SandboxOrg
        from portal.demo import DEMO_SALESFORCE, field_user_email
        from syncconfig.models import Connection

        if User.objects.filter(username="fielduser").exists():
            return
        salesforce = Connection.objects.filter(name=DEMO_SALESFORCE).first()
        login = (salesforce.credentials.get("username") or "") if salesforce else ""
        org = SandboxOrg.objects.filter(username=login).first() if login else None
        email = field_user_email(org) if org is not None else "fielduser@example.com"
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user("fielduser", email, password)
        user.groups.add(Group.objects.get(name=roles.FIELD_USER))
        self.stdout.write(self.style.SUCCESS(
            f"  Demo field-user login (pushes captured contacts at /captures/; shown once):\n"
            f"    user: fielduser    password: {password}\n"
        ))
