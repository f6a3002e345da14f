"""Reads for the duplicate-review pages: the queue (keyset-paged), the merge screen, and the
record of merges."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from . import merging, sources
from .scoring import PRIOR
from .models import DuplicateGroup, DuplicateMember, MatchRun, MergeJob, MergeStep

PAGE_SIZE = 50
COUNT_CAP = 1000  # counting stops here: the queue is paged by key, never by number
MATCH_RUN_STALE_AFTER = timedelta(hours=1)  # a "running" pass older than this crashed


# --- counts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CappedCount:
    """A count that stops at a cap, so that it costs the same at 100 and at 100,000 rows."""

    count: int
    more: bool

    def __str__(self):
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


def capped_count(queryset, cap: int = COUNT_CAP) -> CappedCount:
    n = queryset.order_by()[: cap + 1].count()
    return CappedCount(min(n, cap), n > cap)


def groups_to_review_count(cap: int = COUNT_CAP) -> CappedCount:
    """Open groups, for the dashboard (reads at most ``cap`` + 1 index entries)."""
    return capped_count(DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN), cap)


# --- the queue ----------------------------------------------------------------------------------
SYSTEM_CHOICES = [(label, label) for label in sources.SYSTEM_LABELS.values()]


@dataclass(frozen=True)
class QueueFilters:
    status: str = DuplicateGroup.Status.OPEN
    kind: str = ""
    system: str = ""
    min_confidence: float | None = None  # 0–1
    search: str = ""


@dataclass
class QueuePage:
    groups: list[DuplicateGroup]
    next_cursor: str = ""
    previous_cursor: str = ""
    total: CappedCount | None = None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def _cursor(group: DuplicateGroup) -> str:
    return f"{group.confidence!r}_{group.pk}"


def parse_cursor(text: str) -> tuple[float, int] | None:
    """A page position as (confidence, id); None for a missing or garbled one (first page)."""
    try:
        confidence, pk = text.split("_", 1)
        return float(confidence), int(pk)
    except (AttributeError, ValueError):
        return None


def queue_filtered(filters: QueueFilters):
    """The groups matching the filters. Status (and kind) lead the queue indexes, so each page
    is a short index range scan, whatever the size of the table."""
    groups = DuplicateGroup.objects.filter(status=filters.status)
    if filters.kind:
        groups = groups.filter(kind=filters.kind)
    if filters.system:
        groups = groups.filter(systems__icontains=filters.system)
    if filters.min_confidence is not None:
        groups = groups.filter(confidence__gte=filters.min_confidence)
    if filters.search:
        # Stored lower-cased, with an ASCII spelling too: "muller" finds Müller.
        groups = groups.filter(search_text__contains=filters.search.strip().lower())
    return groups


def queue_page(filters: QueueFilters, *, after: str = "", before: str = "", size: int | None = None) -> QueuePage:
    """One page of the queue, most certain first, positioned by the (confidence, id) of the
    last row seen (``after``) or of the first row of the page after (``before``)."""
    size = size or PAGE_SIZE
    groups = queue_filtered(filters)
    page = QueuePage(groups=[], total=capped_count(groups))
    forward, backward = parse_cursor(after), parse_cursor(before)
    if backward and not forward:
        confidence, pk = backward
        rows = list(groups.filter(Q(confidence__gt=confidence) | Q(confidence=confidence, pk__gt=pk), confidence__gte=confidence)
                    .order_by("confidence", "pk")[: size + 1])
        page.groups = list(reversed(rows[:size]))
        if page.groups:
            page.next_cursor = _cursor(page.groups[-1])
            page.previous_cursor = _cursor(page.groups[0]) if len(rows) > size else ""
        return page
    if forward:
        confidence, pk = forward
        # The plain bound lets the index range start at the position; the OR alone cannot.
        groups = groups.filter(Q(confidence__lt=confidence) | Q(confidence=confidence, pk__lt=pk), confidence__lte=confidence)
    rows = list(groups.order_by("-confidence", "-pk")[: size + 1])
    page.groups = rows[:size]
    if page.groups:
        page.next_cursor = _cursor(page.groups[-1]) if len(rows) > size else ""
        page.previous_cursor = _cursor(page.groups[0]) if forward else ""
    return page


def last_match_run() -> MatchRun | None:
    return MatchRun.objects.order_by("-started_at").first()


def match_run_under_way() -> MatchRun | None:
    """A pass that is still running (one started long ago is taken as crashed)."""
    return MatchRun.objects.filter(status=MatchRun.Status.RUNNING, started_at__gte=timezone.now() - MATCH_RUN_STALE_AFTER).first()


def groups_for_bulk_merge(ids):
    """The chosen groups that are still to review."""
    pks = [int(i) for i in ids if str(i).isdigit()]
    return DuplicateGroup.objects.filter(pk__in=pks, status=DuplicateGroup.Status.OPEN).order_by("pk")


# --- the merge screen ---------------------------------------------------------------------------
@dataclass
class Column:
    member: DuplicateMember
    system: str
    is_master: bool
    twins: list[DuplicateMember] = field(default_factory=list)  # records a sync keeps in step with this one

    @property
    def key(self) -> str:
        return self.member.key


@dataclass
class Cell:
    key: str
    value: str
    chosen: bool


@dataclass
class Row:
    name: str
    label: str
    differs: bool
    cells: list[Cell]
    writable: bool = True


@dataclass
class FieldEvidence:
    field: str
    how: str
    strength: float | None  # 0–1
    agreed: bool
    counted: float | None = None  # what it added to the log-odds (groups stored before it was kept have none)

    @property
    def counted_text(self) -> str:
        """"+3.5" for, "−8.0" against: the points this field added to the score's log-odds."""
        if self.counted is None:
            return ""
        return f"{self.counted:+.1f}".replace("-", "\u2212")


@dataclass
class PairEvidence:
    a: str
    b: str
    score: float
    fields: list[FieldEvidence]


@dataclass
class MergeScreen:
    group: DuplicateGroup
    columns: list[Column]
    rows: list[Row]
    master_key: str
    evidence: list[PairEvidence] = field(default_factory=list)
    hubspot_choices: list[tuple[str, str, str]] = field(default_factory=list)  # value, label, warning

    @property
    def prior_points(self) -> str:
        return f"{PRIOR:+.1f}".replace("-", "\u2212")

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    @property
    def agreeing(self) -> list[Row]:
        return [r for r in self.rows if not r.differs]


def groups_for_page():
    return DuplicateGroup.objects.select_related("decided_by")


def _member_name(member: DuplicateMember) -> str:
    return f"{member.label or member.record_id} ({member.object_name} {member.record_id})"


def _field_evidence(name: str, value, counted=None) -> FieldEvidence:
    how, strength = "", None
    if isinstance(value, (list, tuple)):
        how = str(value[0]) if value else ""
        strength = value[1] if len(value) > 1 else None
    elif isinstance(value, (int, float)):
        strength = value
    elif value:
        how = str(value)
    try:
        strength = float(strength) if strength is not None else None
    except (TypeError, ValueError):
        strength = None
    label = sources.LABELS.get(name) or {"other_fields": "Other fields", "address": "Address"}.get(name, name.replace("_", " ").capitalize())
    try:
        counted = float(counted) if counted is not None else None
    except (TypeError, ValueError):
        counted = None
    return FieldEvidence(label, how, strength, strength is not None and strength >= 0.8 or bool(counted and counted > 0),
                         counted)


def pair_evidence(group: DuplicateGroup, members: list[DuplicateMember]) -> list[PairEvidence]:
    """The scored pairs of a group, strongest first, each field's comparison named."""
    names = {m.key: _member_name(m) for m in members}
    pairs = []
    for item in group.evidence or []:
        counted = item.get("counted") or {}
        fields = [_field_evidence(name, value, counted.get(name)) for name, value in (item.get("fields") or {}).items()]
        # What counted most for comes first, what counted most against last.
        fields.sort(key=lambda f: (-(f.counted if f.counted is not None else -100), -(f.strength or 0)))
        pairs.append(PairEvidence(names.get(item.get("a"), item.get("a", "")), names.get(item.get("b"), item.get("b", "")),
                                  float(item.get("score") or 0), fields))
    return sorted(pairs, key=lambda p: -p.score)


def merge_screen(group: DuplicateGroup, *, master_key: str | None = None, choices: dict[str, str] | None = None) -> MergeScreen:
    """The group side by side: one column per record in a stable order, every field as a row,
    with the value the master would keep ticked (the reviewer's earlier picks win)."""
    try:
        view = merging.comparison(group, master_key)
    except merging.MergeRefused:
        return MergeScreen(group, [], [], "")
    twin_of = _synced_twins(view.members, keep=view.master.key)
    members = sorted((m for m in view.members if m.key not in twin_of),
                     key=lambda m: (not m.proposed_master, m.object_name, m.record_id))
    keys = {m.key for m in members}
    columns = [Column(m, sources.SYSTEM_LABELS.get(m.connection.kind, m.connection.get_kind_display()), m.key == view.master.key,
                      [t for t in view.members if twin_of.get(t.key) == m.key]) for m in members]
    rows = []
    for row in view.rows:
        chosen = (choices or {}).get(row.name)
        chosen = chosen if chosen in keys else twin_of.get(row.chosen, row.chosen)
        cells = [Cell(m.key, row.values.get(m.key, ""), m.key == chosen) for m in members]
        differs = row.differs and len({_text(c.value).strip().casefold() for c in cells}) > 1
        rows.append(Row(row.name, row.label, differs, cells, row.writable))
    hubspot = [(value, label, merging.history_warning(group, value, view.members)) for value, label in merging.HubSpotAction.CHOICES]
    has_hubspot = any(m.connection.kind == "hubspot" for m in view.members)  # folded twins count
    return MergeScreen(group, columns, rows, view.master.key, pair_evidence(group, view.members), hubspot if has_hubspot else [])


def _synced_twins(members: list[DuplicateMember], *, keep: str) -> dict[str, str]:
    """HubSpot contacts of the group that a sync keeps in step with one of its Salesforce
    records: one person in two systems, shown as one column (by key: twin → its record)."""
    salesforce = {m.record_id: m.key for m in members if m.connection.kind == "salesforce"}
    twins = {}
    for member in members:
        if member.connection.kind != "hubspot" or member.key == keep or member.person is None:
            continue
        partner = salesforce.get(member.person.linked_to or "")
        if partner is not None:
            twins[member.key] = partner
    return twins


def group_merges(group: DuplicateGroup):
    return group.merges.select_related("requested_by").order_by("-created_at")


# --- merges -------------------------------------------------------------------------------------
def merge_jobs_for_page():
    return MergeJob.objects.select_related("group", "requested_by")


def member_by_key(group: DuplicateGroup, key: str) -> DuplicateMember | None:
    return next((m for m in group.members.select_related("connection") if m.key == key), None)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class RecordDiff:
    record_id: str
    role: str  # "master", "merged away" or ""
    changes: list[tuple[str, str, str]]  # field, before, after
    unchanged: list[tuple[str, str]]  # field, value (or every value, when read only before or after)
    read: str = "both"  # "both", or "before" / "after" when the step read the record only then


@dataclass
class StepView:
    step: MergeStep
    records: list[RecordDiff]
    summary: list[tuple[str, str]]  # for steps whose result is not per record


def _per_record(values) -> bool:
    return isinstance(values, dict) and bool(values) and all(isinstance(v, dict) for v in values.values())


def step_view(step: MergeStep) -> StepView:
    """A step's before and after values as a diff per record: what changed on the master,
    and what the merged-away records held."""
    before, after = step.before or {}, step.after or {}
    summary = [(k, _text(v)) for k, v in after.items()] if after and not _per_record(after) else []
    before_records = before if _per_record(before) else {}
    after_records = after if _per_record(after) else {}
    merged = {str(i) for i in step.merged_ids or []}
    records = []
    for record_id in dict.fromkeys([*before_records, *after_records]):
        old, new = before_records.get(record_id), after_records.get(record_id)
        role = "master" if record_id == step.master_id else "merged away" if record_id in merged else ""
        if old is None or new is None:  # gone, or read on one side only: its values as read
            values = new if old is None else old
            records.append(RecordDiff(record_id, role, [], [(f, _text(v)) for f, v in values.items() if _text(v)],
                                      "after" if old is None else "before"))
            continue
        changes, unchanged = [], []
        for name in dict.fromkeys([*old, *new]):
            a, b = _text(old.get(name)), _text(new.get(name))
            if a != b:
                changes.append((name, a, b))
            elif a:
                unchanged.append((name, a))
        records.append(RecordDiff(record_id, role, changes, unchanged))
    records.sort(key=lambda r: r.role != "master")
    return StepView(step, records, summary)


def merge_job_steps(job: MergeJob) -> list[StepView]:
    return [step_view(s) for s in job.steps.order_by("position")]


def batch_jobs(batch: str):
    return MergeJob.objects.filter(batch=batch).select_related("group").order_by("pk")


# --- matching rules -----------------------------------------------------------------------------
def matchsource_unmapped_keys(source) -> list[str]:
    """HS-1: the Salesforce fields this object is matched on that no sync maps to HubSpot
    (HubSpot identifies a contact by email alone, so such a key cannot follow a record there)."""
    from syncconfig.models import FieldMapping

    if source.connection.kind != "salesforce":
        return []
    keys = [f for f in source.exact_fields if f.lower() != "email"]
    if not keys:
        return []
    mappings = FieldMapping.objects.filter(
        Q(sync__source=source.connection, sync__source_object=source.object_name, sync__target__kind="hubspot")
        | Q(sync__target=source.connection, sync__target_object=source.object_name, sync__source__kind="hubspot")
    ).values_list("sync__source_id", "source_field", "target_field")
    mapped = {(s if source_id == source.connection_id else t).lower() for source_id, s, t in mappings}
    return [f for f in keys if f.lower() not in mapped]
