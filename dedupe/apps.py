from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "dedupe"
    verbose_name = "Duplicates"

    def ready(self):
        # Syncs flag duplicates and ask about the queue through syncconfig's port (they do
        # not import dedupe); plug the queue in.
        from syncconfig.duplicates import candidates_found, provide

        from .ports import QueuePort, candidates_found_received

        provide(QueuePort())
        candidates_found.connect(candidates_found_received, dispatch_uid="dedupe-candidates")
