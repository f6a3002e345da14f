"""The guided set-up of a sync, one page a step: thin shells around ``setup`` and the forms.

The answers so far are kept in the session (``SESSION_KEY``) until the last step creates
the sync, switched off; a person may go back to any step done, and changing a step's
answers drops those of the steps after it.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from connectors.base import ObjectSummary

from . import setup
from .integrations import integration_class
from .forms import (
    SetupConnectionsForm,
    SetupIntegrationForm,
    SetupMappingFormSet,
    SetupObjectsForm,
    SetupRuleFormSet,
    SetupScheduleForm,
)
from .models import Connection, Sync

SESSION_KEY = "sync_setup"
EXTRA_MAPPING_ROWS = 3
EXTRA_RULE_ROWS = 2
# Read from the systems and kept for the later steps, by the step whose answers they were read
# for (the objects listed for the connections, the fields described for the objects).
_DERIVED = {1: ("listed",), 2: ("described",)}


def _draft(request) -> dict:
    return request.session.get(SESSION_KEY) or {}


def _save(request, draft: dict) -> None:
    request.session[SESSION_KEY] = draft


def _store(request, draft: dict, step: int, answers: dict) -> None:
    """Keep a step's answers; if they changed, the later steps are to be answered again."""
    key = setup.STEP_KEYS[step]
    if draft.get(key) != answers:
        for later in range(step + 1, len(setup.STEPS) + 1):
            draft.pop(setup.STEP_KEYS[later], None)
        for derived_step, names in _DERIVED.items():
            if derived_step >= step:
                for name in names:
                    draft.pop(name, None)
    draft[key] = answers
    _save(request, draft)


def _first_open_step(draft: dict) -> int:
    return next((n for n, _ in setup.STEPS if setup.STEP_KEYS[n] not in draft), len(setup.STEPS))


def _connections(draft: dict) -> tuple[Connection, Connection] | None:
    chosen = draft.get("connections") or {}
    found = {c.pk: c for c in Connection.objects.filter(pk__in=[chosen.get("source"), chosen.get("target")])}
    if chosen.get("source") not in found or chosen.get("target") not in found:
        return None
    return found[chosen["source"]], found[chosen["target"]]


def _page(request, step: int, draft: dict, context: dict):
    return render(request, f"syncconfig/setup/step_{step}.html", {
        "steps": setup.STEPS, "step": step, "step_title": dict(setup.STEPS)[step], "open_step": _first_open_step(draft), **context,
    })


@login_required
@permission_required("syncconfig.add_sync", raise_exception=True)
def sync_setup(request, step: int = 1):
    draft = _draft(request)
    if request.GET.get("restart"):
        draft = {}
        _save(request, draft)
        return redirect("sync_setup")
    if step < 1 or step > len(setup.STEPS) or step > _first_open_step(draft):
        return redirect("sync_setup_step", _first_open_step(draft))
    connections = _connections(draft)
    if step > 1 and connections is None:  # a connection was deleted meanwhile
        draft.pop("connections", None)
        _save(request, draft)
        return redirect("sync_setup")
    return _STEPS[step](request, draft, *(connections or (None, None)))


def _step_connections(request, draft, source, target):
    initial = draft.get("connections") or {}
    form = SetupConnectionsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        _store(request, draft, 1, {"source": form.cleaned_data["source"].pk, "target": form.cleaned_data["target"].pk})
        return redirect("sync_setup_step", 2)
    return _page(request, 1, draft, {"form": form, "any_connection": Connection.objects.filter(is_active=True).exists()})


def _step_objects(request, draft, source, target):
    context = {"source": source, "target": target}
    if request.GET.get("reload"):
        draft.pop("listed", None)
    if "listed" not in draft:
        try:
            draft["listed"] = {side: [[o.name, o.label] for o in setup.setup_objects(connection)]
                               for side, connection in (("source", source), ("target", target))}
        except setup.ConnectionUnreadable as exc:
            return _page(request, 2, draft, {**context, "unreadable": exc.message})
        _save(request, draft)
    listed = {side: [ObjectSummary(*pair) for pair in pairs] for side, pairs in draft["listed"].items()}
    form = SetupObjectsForm(request.POST or None, initial=draft.get("objects"), source=source, target=target,
                            source_objects=listed["source"], target_objects=listed["target"])
    if request.method == "POST" and form.is_valid():
        answers = {"source_object": form.cleaned_data["source_object"], "target_object": form.cleaned_data["target_object"]}
        try:
            described = {"source": setup.setup_describe(source, answers["source_object"]),
                         "target": setup.setup_describe(target, answers["target_object"])}
        except setup.ConnectionUnreadable as exc:
            form.add_error(None, f"{exc.message} Nothing is lost: choose “Next: integration” again to retry.")
        else:
            _store(request, draft, 2, answers)
            draft["described"] = {side: setup.description_to_draft(d) for side, d in described.items()}
            _save(request, draft)
            return redirect("sync_setup_step", 3)
    return _page(request, 2, draft, {**context, "form": form})


def _step_integration(request, draft, source, target):
    sides = setup.draft_sides(draft, source=source, target=target)
    saved = draft.get("integration") or {}
    initial = {"integration": setup.integration_default(source, target), "direction": Sync.Direction.SOURCE_TO_TARGET,
               **{k: (v["id"] if isinstance(v, dict) else v) for k, v in saved.items() if v is not None}}
    form = SetupIntegrationForm(request.POST or None, initial=initial, integrations=setup.integration_choices(source, target),
                                sides={side: {k: v for k, v in facts.items() if k != "description"} for side, facts in sides.items()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _store(request, draft, 3, {
            "integration": data["integration"], "direction": data["direction"],
            "target_id_field": data.get("target_id_field", ""), "source_id_field": data.get("source_id_field", ""),
            "target_record_type": form.record_type("target"), "source_record_type": form.record_type("source"),
        })
        return redirect("sync_setup_step", 4)
    return _page(request, 3, draft, {"form": form, "source": source, "target": target, "sides": sides})


def _mapping_rows_posted(post) -> list[dict]:
    """The rows as typed, unchecked (to add rows without judging the half-filled ones)."""
    total = int(post.get("form-TOTAL_FORMS") or 0) if (post.get("form-TOTAL_FORMS") or "").isdigit() else 0
    return [{"source_field": post.get(f"form-{n}-source_field", ""), "target_field": post.get(f"form-{n}-target_field", ""),
             "to_target": post.get(f"form-{n}-to_target", ""), "to_source": post.get(f"form-{n}-to_source", ""),
             "is_key": bool(post.get(f"form-{n}-is_key"))} for n in range(min(total, 200))]


def _step_mappings(request, draft, source, target):
    sides = setup.draft_sides(draft, source=source, target=target)
    two_way = draft["integration"]["direction"] == Sync.Direction.TWO_WAY
    options = {"source": sides["source"]["description"], "target": sides["target"]["description"],
               "source_name": source.name, "target_name": target.name, "two_way": two_way}
    if request.method == "POST" and request.POST.get("action") != "more":
        formset = SetupMappingFormSet(request.POST, **options)
        if formset.is_valid():
            _store(request, draft, 4, {"rows": formset.rows()})
            return redirect("sync_setup_step", 5)
        rows = _mapping_rows_posted(request.POST)
    else:
        if request.method == "POST":
            rows = [r for r in _mapping_rows_posted(request.POST) if r["source_field"] or r["target_field"]]
        else:
            rows = (draft.get("mappings") or {}).get("rows") or setup.suggested_rows(
                options["source"], options["target"], two_way=two_way)
        formset = SetupMappingFormSet(initial=rows + [{}] * EXTRA_MAPPING_ROWS, **options)
    mapped = {"target": {r["target_field"] for r in rows if r.get("target_field")},
              "source": {r["source_field"] for r in rows if r.get("source_field")}}
    integration = integration_class(draft["integration"]["integration"])
    required = [(connection, sides[side]["object"], setup.required_unmapped(
        options[side], mapped[side], filled=integration.fills_on_create(connection.kind, sides[side]["object"])))
        for side, connection in (("target", target), ("source", source)) if side == "target" or two_way]
    return _page(request, 4, draft, {"formset": formset, "source": source, "target": target, "two_way": two_way,
                                     "sides": sides, "required": [r for r in required if r[2]]})


def _step_schedule(request, draft, source, target):
    sides = setup.draft_sides(draft, source=source, target=target)
    chosen = draft["integration"]
    two_way = chosen["direction"] == Sync.Direction.TWO_WAY
    arrow = "⇄" if two_way else "→"
    saved = draft.get("schedule") or {}
    initial = {"name": f"{source.name} · {draft['objects']['source_object']} {arrow} {target.name} · "
                       f"{draft['objects']['target_object']}"[:100], "trigger": Sync.Trigger.MANUAL, **saved}
    form = SetupScheduleForm(request.POST or None, initial=initial)
    rule_rows = [{**r, "field": f"{r['side']}:{r['field']}"} for r in saved.get("rules", [])]
    rules = SetupRuleFormSet(request.POST or None, prefix="rules", initial=rule_rows + [{}] * EXTRA_RULE_ROWS,
                             form_kwargs={"field_choices": setup.rule_field_choices(sides, two_way=two_way)})
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        answers = {**{k: form.cleaned_data[k] for k in ("name", "trigger", "every_minutes", "crontab", "completeness_every_hours")},
                   "rules": [rule for f in rules.forms if (rule := f.rule())]}
        _store(request, draft, 5, answers)
        sync = setup.sync_setup_create(draft=draft)
        request.session.pop(SESSION_KEY, None)
        pages = setup.settings_pages(sync.integration)
        messages.success(request, format_html(
            "“{}” is set up and switched off. {}Then <strong>Preview</strong> what it will do, and <strong>Switch on…</strong>.",
            sync.name, format_html("Next, its own settings: {}. ", format_html_join(
                ", ", '<a href="{}">{}</a>', ((reverse(url, args=[sync.pk]), label) for label, url in pages))) if pages else ""))
        return redirect("sync_detail", sync.pk)
    mappings = draft["mappings"]["rows"]
    return _page(request, 5, draft, {
        "form": form, "rules": rules, "source": source, "target": target, "two_way": two_way, "chosen": chosen,
        "objects": draft["objects"], "mappings": mappings, "settings_pages": setup.settings_pages(chosen["integration"]),
        "integration_label": dict(setup.integration_choices(source, target)).get(chosen["integration"], chosen["integration"]),
    })


_STEPS = {1: _step_connections, 2: _step_objects, 3: _step_integration, 4: _step_mappings, 5: _step_schedule}
