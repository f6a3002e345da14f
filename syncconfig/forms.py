"""Forms that need more than a ModelForm: secrets, schedules, and the steps of the guided set-up."""
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from connectors.registry import VENDORS, all_credential_fields

from . import services
from .setup import field_label, pair_refusal
from .integrations import all_integrations, integration_class
from .models import Connection, Sync, SyncRule, UpdatePolicy


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
        fields = ["name", "kind", "base_url", "is_active", "bulk_read_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.credentials if self.instance.pk else {}
        for name, spec in all_credential_fields().items():
            if not spec.secret:
                self.fields[name].initial = stored.get(name, "")
            elif stored.get(name):
                self.fields[name].help_text = "Stored (encrypted). Leave blank to keep it; type a new value to replace it. " + self.fields[name].help_text

    def clean_bulk_read_from(self):
        value = self.cleaned_data.get("bulk_read_from")
        return Connection._meta.get_field("bulk_read_from").default if value is None else value

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


# --- the guided set-up of a sync (views ``sync_setup``; services in ``setup``) ---------------------------
class _ConnectionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        health = {"failing": " — its last test failed", "stopped": " — its syncs are stopped"}
        return f"{obj.name} ({obj.get_kind_display()}){health.get(obj.health, '')}"


class SetupConnectionsForm(forms.Form):
    """Step 1: the two systems the sync joins."""

    source = _ConnectionChoice(
        Connection.objects.filter(is_active=True), label="Source", empty_label="— pick a connection —",
        error_messages={"required": "Pick the source: the connection records come from.",
                        "invalid_choice": "That source connection is gone or inactive: pick another."},
        help_text="Where records come from (in a two-way sync, the side whose records are created first).")
    target = _ConnectionChoice(
        Connection.objects.filter(is_active=True), label="Target", empty_label="— pick a connection —",
        error_messages={"required": "Pick the target: the connection records go to.",
                        "invalid_choice": "That target connection is gone or inactive: pick another."},
        help_text="Where they go.")


class SetupObjectsForm(forms.Form):
    """Step 2: an object of each system, from the system's own list."""

    source_object = forms.ChoiceField(label="Source object")
    target_object = forms.ChoiceField(label="Target object")

    def __init__(self, *args, source: Connection, target: Connection, source_objects, target_objects, **kwargs):
        super().__init__(*args, **kwargs)
        self.source, self.target = source, target
        for name, connection, listed in (("source_object", source, source_objects), ("target_object", target, target_objects)):
            field = self.fields[name]
            field.label = f"{'Source' if name == 'source_object' else 'Target'} object in {connection.name}"
            field.choices = [("", "— pick an object —")] + [(o.name, f"{o.label} ({o.name})") for o in listed]
            field.help_text = f"As {connection.get_kind_display()} lists them."
            field.error_messages = {
                "required": f"Pick the {name.split('_')[0]} object: which records of {connection.name} the sync moves.",
                "invalid_choice": f"{connection.name} does not list “%(value)s”: pick one of its objects, or read the lists again."}
            if len(listed) == 1 and not self.is_bound:
                self.initial.setdefault(name, listed[0].name)

    def clean(self):
        cleaned = super().clean()
        if self.source == self.target and cleaned.get("source_object") and cleaned.get("source_object") == cleaned.get("target_object"):
            self.add_error("target_object", "Source and target are the same object of the same connection: pick another target object.")
        return cleaned


class SetupIntegrationForm(forms.Form):
    """Step 3: the integration, the direction, the idempotency fields and record types."""

    integration = forms.ChoiceField(label="Integration", widget=forms.RadioSelect,
                                    error_messages={"required": "Choose the integration the sync follows."})
    direction = forms.ChoiceField(label="Direction", choices=Sync.Direction.choices, widget=forms.RadioSelect,
                                  initial=Sync.Direction.SOURCE_TO_TARGET,
                                  error_messages={"required": "Choose the direction: one way, or two way."})

    def __init__(self, *args, integrations, sides: dict, **kwargs):
        """``sides``: for "source" and "target", the connection, object, whether creates
        there need an idempotency field, its candidates, and the object's record types."""
        super().__init__(*args, **kwargs)
        self.sides = sides
        self.fields["integration"].choices = integrations
        self.fields["integration"].help_text = "What the sync does beyond mapping fields; the one made for the two systems comes first."
        for side, facts in sides.items():
            where = f"{facts['object']} in {facts['connection'].name}"
            if facts["needs_id_field"]:
                way = "" if side == "target" else " For two-way syncs: records are created on this side on the way back."
                self.fields[f"{side}_id_field"] = forms.ChoiceField(
                    label=f"Idempotency field on the {side} ({where})", required=False,
                    choices=[("", "— none —")] + [(f.name, field_label(f)) for f in facts["id_fields"]],
                    help_text=(f"{facts['connection'].get_kind_display()} does not recognise a record sent twice by itself: an "
                               f"external-id field that receives the other side's id makes a replayed create update "
                               f"instead of creating twice.{way}") if facts["id_fields"] else
                              (f"{where} has no external-id field, so a create replayed after a crash may make a second "
                               f"record. Add one in {facts['connection'].get_kind_display()} and read the fields again."),
                )
            if facts["record_types"]:
                self.fields[f"{side}_record_type"] = forms.ChoiceField(
                    label=f"Record type of new records ({where})", required=False,
                    choices=[("", "— the system's default —")] + [(r.id, r.name) for r in facts["record_types"] if r.active],
                    help_text="" if side == "target" else "For two-way syncs: records created on the way back.",
                )

    def clean(self):
        cleaned = super().clean()
        two_way = cleaned.get("direction") == Sync.Direction.TWO_WAY
        for side, facts in self.sides.items():
            name = f"{side}_id_field"
            if side == "source" and not two_way:
                cleaned[name] = ""
                cleaned["source_record_type"] = ""
                continue
            if name in self.fields and facts["id_fields"] and not cleaned.get(name):
                self.add_error(name, f"Choose the field of {facts['object']} that receives the other side's id "
                                     f"(e.g. {facts['id_fields'][0].name}), so that no record is created twice.")
        return cleaned

    def record_type(self, side: str) -> dict | None:
        chosen = self.cleaned_data.get(f"{side}_record_type")
        found = next((r for r in self.sides[side]["record_types"] if r.id == chosen), None) if chosen else None
        return {"id": found.id, "label": found.name} if found else None


class SetupMappingForm(forms.Form):
    """Step 4, one row: a source field, a target field, their update policies, the key."""

    source_field = forms.ChoiceField(label="Source field", required=False)
    target_field = forms.ChoiceField(label="Target field", required=False)
    to_target = forms.ChoiceField(label="Source → target", choices=UpdatePolicy.choices, initial=UpdatePolicy.ALWAYS)
    to_source = forms.ChoiceField(label="Target → source", choices=UpdatePolicy.choices, initial=UpdatePolicy.ALWAYS, required=False)
    is_key = forms.BooleanField(label="Matching key", required=False)

    def __init__(self, *args, source_choices=(), target_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_field"].choices = [("", "—")] + list(source_choices)
        self.fields["target_field"].choices = [("", "—")] + list(target_choices)


class BaseSetupMappingFormSet(forms.BaseFormSet):
    """The mappings as a whole: pairs the systems can take, each target field filled once,
    exactly one matching key."""

    def __init__(self, *args, source, target, source_name: str, target_name: str, two_way: bool, **kwargs):
        self.source, self.target, self.two_way = source, target, two_way
        self.source_name, self.target_name = source_name, target_name
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"source_choices": [(f.name, field_label(f)) for f in self.source.fields],
                "target_choices": [(f.name, field_label(f)) for f in self.target.fields]}

    def clean(self):
        if any(form.errors for form in self.forms):
            return
        filled, keys, rows = {}, 0, 0
        for number, form in enumerate(self.forms, start=1):
            data = form.cleaned_data
            source_name, target_name = data.get("source_field"), data.get("target_field")
            if not source_name and not target_name:
                if data.get("is_key"):
                    form.add_error("is_key", f"Row {number} has no fields to match by.")
                continue
            if not source_name or not target_name:
                missing = "source_field" if not source_name else "target_field"
                form.add_error(missing, f"Row {number}: pick the {'source' if missing == 'source_field' else 'target'} "
                                        f"field too, or clear the row.")
                continue
            rows += 1
            source_field, target_field = self.source.field(source_name), self.target.field(target_name)
            reason = pair_refusal(source_field, target_field, two_way=self.two_way, to_source=data.get("to_source") or UpdatePolicy.ALWAYS,
                                  source_system=self.source_name, target_system=self.target_name)
            if reason:
                form.add_error("target_field", f"Row {number}: {reason}")
            if target_name in filled:
                form.add_error("target_field", f"Row {number}: {target_field.label} ({target_name}) is already filled by row "
                                               f"{filled[target_name]}; a field takes one value.")
            filled.setdefault(target_name, number)
            keys += bool(data.get("is_key"))
        if not rows:
            raise ValidationError("Map at least one pair of fields: a sync without mappings has nothing to move.")
        if keys != 1:
            raise ValidationError("Tick “Matching key” on exactly one row: the pair by which a record finds its partner "
                                  "when the two are not linked yet (e.g. the emails)." if not keys else
                                  "Tick “Matching key” on one row only.")

    def rows(self) -> list[dict]:
        return [{"source_field": d["source_field"], "target_field": d["target_field"], "to_target": d["to_target"],
                 "to_source": d.get("to_source") or UpdatePolicy.ALWAYS, "is_key": bool(d.get("is_key"))}
                for d in (f.cleaned_data for f in self.forms) if d.get("source_field") and d.get("target_field")]


SetupMappingFormSet = forms.formset_factory(SetupMappingForm, formset=BaseSetupMappingFormSet, extra=0)


class SetupScheduleForm(forms.Form):
    """Step 5: the name, when it runs, and the completeness schedule."""

    name = forms.CharField(label="Name", max_length=100, help_text="How the sync is called on the dashboard.",
                           widget=forms.TextInput(attrs={"class": "vTextField", "size": 70}),
                           error_messages={"required": "Give the sync a name, to find it on the dashboard."})
    trigger = forms.ChoiceField(label="Trigger", choices=Sync.Trigger.choices, widget=forms.RadioSelect, initial=Sync.Trigger.MANUAL,
                                error_messages={"required": "Choose when the sync runs."})
    every_minutes = SyncForm.base_fields["every_minutes"]
    crontab = SyncForm.base_fields["crontab"]
    completeness_every_hours = forms.IntegerField(
        label="Check completeness every (hours)", required=False, min_value=1, max_value=32767,
        help_text=Sync._meta.get_field("completeness_every_hours").help_text)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Sync.objects.filter(name=name).exists():
            raise ValidationError(f"A sync is already called “{name}”: choose another name.")
        return name

    def clean_crontab(self):
        return SyncForm.clean_crontab(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("trigger") == Sync.Trigger.PERIODIC and not (cleaned.get("every_minutes") or cleaned.get("crontab")):
            self.add_error("every_minutes", "A periodic sync needs an interval in minutes or a crontab.")
        if cleaned.get("trigger") != Sync.Trigger.PERIODIC:
            cleaned["every_minutes"], cleaned["crontab"] = None, ""
        return cleaned


class SetupRuleForm(forms.Form):
    """Step 5, one row: a scope filter, marker or opt-out rule on a field of either side."""

    kind = forms.ChoiceField(label="Rule", choices=SyncRule.Kind.choices, initial=SyncRule.Kind.SCOPE)
    field = forms.ChoiceField(label="Field", required=False)
    operator = forms.ChoiceField(label="Operator", choices=SyncRule.Operator.choices, initial=SyncRule.Operator.IS_SET)
    value = forms.CharField(label="Value", required=False, max_length=200)

    def __init__(self, *args, field_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—")] + list(field_choices)

    def clean(self):
        cleaned = super().clean()
        needs_value = {SyncRule.Operator.EQUALS, SyncRule.Operator.NOT_EQUALS, SyncRule.Operator.CONTAINS}
        if cleaned.get("field") and cleaned.get("operator") in needs_value and not cleaned.get("value"):
            label = dict(SyncRule.Operator.choices)[cleaned["operator"]]
            self.add_error("value", f"“{label}” needs a value to compare with.")
        return cleaned

    def rule(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("field"):
            return None
        side, _, field = data["field"].partition(":")
        return {"kind": data["kind"], "side": side, "field": field, "operator": data["operator"], "value": data.get("value", "")}


SetupRuleFormSet = forms.formset_factory(SetupRuleForm, extra=0)
