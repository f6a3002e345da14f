from django.core.management import BaseCommand

from syncconfig.services import credentials_rotate


class Command(BaseCommand):
    help = "Re-encrypt every connection's credentials with the first key of CREDENTIALS_KEYS."

    def handle(self, *args, **options):
        count = credentials_rotate()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the credentials of {count} connection(s)."))
