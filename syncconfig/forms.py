"""Admin forms that need more than a ModelForm: secrets and schedules."""
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from connectors.registry import VENDORS, all_credential_fields

from . import services
from .integrations import all_integrations, integration_class
from .models import Connection, Sync


def _credential_fields() -> dict[str, forms.Field]:
    """One optional input per credential name any vendor uses; secrets are write-only."""
    fields = {}
    for name, spec in all_credential_fields().items():
        used_by = ", ".join(v.label for v in VENDORS.values() if any(f.name == name for f in v.credential_fields))
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}) if spec.secret else None
        fields[name] = forms.CharField(label=spec.label, required=False, widget=widget, help_text=f"{spec.help_text} Used by: {used_by}.".strip())
    return fields


class _ConnectionForm(forms.ModelForm):
    """Connection form with one input per credential a vendor uses.

    Secrets are write-only: the input is always empty, a blank value keeps the stored one,
    and what is stored is only ever shown as "set".
    """

    base_url = forms.URLField(
        label="Base URL", max_length=300, assume_scheme="https",
        help_text=Connection._meta.get_field("base_url").help_text,
    )

    class Meta:
        model = Connection
        fields = ["name", "kind", "base_url", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.credentials if self.instance.pk else {}
        for name, spec in all_credential_fields().items():
            if not spec.secret:
                self.fields[name].initial = stored.get(name, "")
            elif stored.get(name):
                self.fields[name].help_text = "Stored (encrypted). Leave blank to keep it; type a new value to replace it. " + self.fields[name].help_text

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind not in VENDORS:
            return cleaned
        stored = self.instance.credentials if self.instance.pk else {}
        if self.instance.pk and _host(cleaned.get("base_url", "")) != _host(self.instance.base_url):
            # Stored secrets are only ever sent where they were typed for: a new host needs them again.
            stored = {name: value for name, value in stored.items() if not all_credential_fields()[name].secret}
            self._secrets_reset = True
        for spec in VENDORS[kind].credential_fields:
            if spec.required and not (cleaned.get(spec.name) or stored.get(spec.name)):
                message = f"{VENDORS[kind].label} needs a {spec.label.lower()}."
                if getattr(self, "_secrets_reset", False) and spec.secret:
                    message = f"The base URL points at another host: type the {spec.label.lower()} again."
                self.add_error(spec.name, message)
        return cleaned

    def save(self, commit=True):
        connection = super().save(commit=False)
        names = {f.name for f in VENDORS[self.cleaned_data["kind"]].credential_fields}
        if getattr(self, "_secrets_reset", False):
            connection.credentials = {k: v for k, v in connection.credentials.items() if not all_credential_fields()[k].secret}
        services.connection_set_credentials(connection=connection, values={n: self.cleaned_data.get(n, "") for n in names})
        # Drop credentials of another vendor left over from a change of kind.
        connection.credentials = {k: v for k, v in connection.credentials.items() if k in names}
        if commit:
            connection.save()
        return connection


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


ConnectionForm = type("ConnectionForm", (_ConnectionForm,), _credential_fields())


class SyncForm(forms.ModelForm):
    """Sync form with its beat schedule edited in place."""

    every_minutes = forms.IntegerField(
        label="Run every (minutes)", required=False, min_value=1,
        help_text="For periodic syncs: how often, in minutes (1440 = daily).",
    )
    crontab = forms.CharField(
        label="…or on a crontab", required=False, max_length=100,
        help_text="minute hour day-of-month month day-of-week, e.g. “0 6 * * 1” for Mondays at 06:00. Wins over the interval.",
    )

    integration = forms.ChoiceField(
        label="Integration", required=False,
        help_text="What the sync does beyond mapping fields. Left blank, the one made for the two systems is chosen.",
    )

    class Meta:
        model = Sync
        fields = [
            "name", "source", "source_object", "target", "target_object", "integration",
            "direction", "trigger", "enabled", "target_id_field", "source_id_field", "source_watermark", "target_watermark",
            "completeness_every_hours",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "The one made for the two systems")]
        choices += [(cls.key, f"{cls.label}{' (' + ' ⇄ '.join(sorted(cls.kinds)) + ')' if cls.kinds else ''}")
                    for cls in all_integrations()]
        self.fields["integration"].choices = choices
        if self.instance.pk:
            every, crontab = services.sync_schedule_describe(self.instance)
            self.fields["every_minutes"].initial = every
            self.fields["crontab"].initial = crontab

    def clean_crontab(self):
        value = self.cleaned_data["crontab"].strip()
        if value:
            try:
                services.parse_crontab(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") and cleaned.get("source") == cleaned.get("target") and cleaned.get("source_object") == cleaned.get("target_object"):
            raise ValidationError("A sync needs two different ends: pick another target connection or object.")
        if cleaned.get("trigger") == Sync.Trigger.PERIODIC and not (cleaned.get("every_minutes") or cleaned.get("crontab")):
            self.add_error("every_minutes", "A periodic sync needs an interval or a crontab.")
        source, target, key = cleaned.get("source"), cleaned.get("target"), cleaned.get("integration")
        if source and target and key and not integration_class(key).joins({source.kind, target.kind}):
            cls = integration_class(key)
            self.add_error("integration", f"“{cls.label}” joins {' and '.join(sorted(cls.kinds))}, not "
                                          f"{source.get_kind_display()} and {target.get_kind_display()}.")
        return cleaned
