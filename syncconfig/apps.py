from django.apps import AppConfig


class SyncConfigConfig(AppConfig):
    name = "syncconfig"
    verbose_name = "Sync configuration"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import roles

        post_migrate.connect(roles.on_post_migrate, dispatch_uid="syncconfig.roles")
