from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "connectors.sandbox"
    label = "sandbox"
    verbose_name = "Vendor sandboxes"
