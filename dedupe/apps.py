from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "dedupe"
    verbose_name = "Duplicates"
