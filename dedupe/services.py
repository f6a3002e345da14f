"""Matching people into duplicate groups, and the review decisions on them.

Matching is incremental: each :class:`MatchSource` reads only what changed since its watermark
into :class:`Person` snapshots, and only those are scored against everyone else, found through
the people index (:class:`PersonKey`: blocking keys and name counts) rather than read. Groups
that the changed records touch are rebuilt from the new evidence plus the old evidence between
records that did not change; everything else stays as it was.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection as db, transaction
from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.utils import timezone
from unidecode import unidecode

from connectors.base import ConnectorError, NotSupported
from syncconfig.duplicates import LikelyDuplicate

from . import sources
from .blocking import BlockIndex, block_keys, is_coarse, key_hash
from .frequencies import NameFrequencies, counted_names
from .matching import MatchIndex, MatchRules, NormalizedPerson
from .models import DuplicateGroup, DuplicateMember, MatchRun, MatchSource, NotDuplicate, Person, PersonKey, person_key

log = logging.getLogger(__name__)

PERSON_BATCH = 1000
GROUP_BATCH = 500  # groups stored per transaction, so a first pass never holds the database long
RUN_STALE = timedelta(hours=1)  # a pass "running" for longer than this has died


# --- reading people ---------------------------------------------------------------------------
def people_refresh(*, source: MatchSource, connector, full: bool = False) -> tuple[list[str], str]:
    """Read the source's people changed since its watermark (all when ``full``) into Person
    rows, a page at a time, and mark those deleted since then (or, after a full read, those no
    longer there). Returns the keys read or deleted and the new watermark, which the caller
    stores only once the changes are matched, so that a failed run reads them again."""
    kind, obj = source.connection.kind, source.object_name
    extra = [f for f in source.exact_fields if f.lower() != sources.FIELD_MAPS[(kind, obj)]["email"].lower()]
    born = source.birth_date_field.strip()
    since = None if full else (source.watermark or None)
    started = timezone.now()
    keys: list[str] = []
    last = None
    for page in connector.changes(obj, since, sources.read_fields(kind, obj, extra + ([born] if born else []))):
        rows = {
            record.id: Person(
                connection=source.connection, object_name=obj, record_id=record.id,
                fields={**sources.neutral(kind, obj, record.fields, extra),
                        **({BIRTH_DATE: str(record.fields[born])} if born and record.fields.get(born) else {})},
                linked_to=sources.linked_salesforce_id(kind, record.fields),
                modified_at=record.modified_at or "", seen_at=timezone.now(), deleted=False,
            )
            for record in page
        }
        Person.objects.bulk_create(
            rows.values(), update_conflicts=True, unique_fields=["connection", "object_name", "record_id"],
            update_fields=["fields", "linked_to", "modified_at", "seen_at", "deleted"],
        )
        keys += [person_key(source.connection_id, obj, rid) for rid in rows]
        last = page[-1] if page else last
    # Where the next pass reads from: past what was read, less what the vendor may still show late.
    watermark = connector.settled_watermark(last, source.watermark, started, exhausted=True)
    mine = Person.objects.filter(connection=source.connection, object_name=obj, deleted=False)
    if since is None:  # a full read: whatever it did not see is gone
        gone = list(mine.filter(seen_at__lt=started).values_list("record_id", flat=True))
    else:
        try:
            gone = [r.id for r in connector.deleted(obj, since)]
        except NotSupported:  # the vendor cannot say: deletions show at the next full read
            gone = []
    for start in range(0, len(gone), PERSON_BATCH):
        mine.filter(record_id__in=gone[start:start + PERSON_BATCH]).update(deleted=True)
    keys += [person_key(source.connection_id, obj, rid) for rid in gone]
    return keys, watermark


def _rules(match_sources: list[MatchSource]) -> MatchRules:
    """One rule set for the whole run: matching across systems needs the same comparisons on
    both ends of a pair, so each source's choices are combined (a comparison is used when any
    source asks for it; the strictest threshold wins)."""
    exact = ["email"]
    for source in match_sources:
        exact += [f for f in source.exact_fields if f.lower() != "email"]
    flags = {"name": "fuzzy_name", "phone": "use_phone", "company": "use_company", "address": "use_address"}
    fuzzy = tuple(name for name, flag in flags.items() if not match_sources or any(getattr(s, flag) for s in match_sources))
    return MatchRules(
        exact_keys=tuple(dict.fromkeys(exact)), fuzzy_fields=fuzzy,
        threshold=max([s.threshold for s in match_sources] or [MatchRules().threshold]),
        birth_date=BIRTH_DATE if any(s.birth_date_field.strip() for s in match_sources) else "",
    )


BIRTH_DATE = "birth_date"  # a person's birth date under its neutral name, whatever the source calls it


def _record(person: Person) -> dict:
    return {**person.fields, "id": person.key, "source": f"{person.connection.kind}:{person.object_name}"}


# --- matching ----------------------------------------------------------------------------------
def first_pass_due() -> bool:
    """True while objects are set up for matching but no pass has ever run."""
    return MatchSource.objects.filter(enabled=True).exists() and not MatchRun.objects.exists()


def matching_run(*, trigger: str = "manual", full: bool = False) -> MatchRun:
    """Read what changed in every matched object, then regroup the records it touches. A pass
    already under way is not doubled: this one ends at once, saying so."""
    from syncconfig.services import connection_connector

    with transaction.atomic():
        busy = MatchRun.objects.filter(status=MatchRun.Status.RUNNING, started_at__gte=timezone.now() - RUN_STALE).exists()
        run = MatchRun.objects.create(trigger=trigger, full=full)
    if busy:
        run.status, run.message, run.finished_at = MatchRun.Status.FAILED, "Another matching pass is under way.", timezone.now()
        run.save()
        return run
    match_sources = list(MatchSource.objects.filter(enabled=True).select_related("connection"))
    try:
        changed: list[str] = []
        watermarks: dict[int, str] = {}
        for source in match_sources:
            connector = connection_connector(source.connection)
            keys, watermarks[source.pk] = people_refresh(source=source, connector=connector, full=full or not source.watermark)
            changed += keys
            run.api_calls += connector.api_calls
        run.records_read = len(changed)
        run.groups_found = groups_rebuild(changed_keys=changed, rules=_rules(match_sources), everything=full)
        for source in match_sources:  # only now: a pass that failed reads the same changes again
            source.watermark, source.last_run_at = watermarks[source.pk], timezone.now()
            source.save(update_fields=["watermark", "last_run_at"])
        run.records_matched = Person.objects.filter(deleted=False).count()
        run.status = MatchRun.Status.SUCCEEDED
    except ConnectorError as exc:
        run.status, run.message = MatchRun.Status.FAILED, exc.message
    except Exception as exc:  # never leave a pass "running" for good
        log.exception("Matching run %s failed", run.pk)
        run.status, run.message = MatchRun.Status.FAILED, f"Unexpected error: {exc.__class__.__name__}. See the log."
    run.finished_at = timezone.now()
    run.save()
    return run


def groups_rebuild(*, changed_keys: Iterable[str], rules: MatchRules, everything: bool = False) -> int:
    """Score the changed people against all others and rebuild the open groups they touch
    (every open group when ``everything``); returns how many groups were stored.

    The people a changed record must meet are found through the ``PersonKey`` index (those
    sharing a blocking key still small enough to use, as ``BlockIndex`` has it), and how
    common their names are is counted there too, so a pass after a few changes reads those
    few and their candidates, not everyone. A full pass, or one finding people not indexed
    under the current rules (the first pass, or rules changed), reads everyone and indexes
    them all."""
    changed = set(changed_keys)
    if not changed and not everything:
        return 0
    fingerprint = keys_fingerprint(rules)
    found = None if everything else _changes_matched(changed, rules, fingerprint)
    if found is not None:
        people, frequencies, new_pairs = found
    else:
        people = {p.key: p for p in Person.objects.filter(deleted=False).select_related("connection").iterator(chunk_size=5000)}
        index = MatchIndex(rules)
        if everything:
            index.add(_record(p) for p in people.values())
        else:
            # Index everyone unchanged without scoring them again, then score only the changes.
            index.load(_record(p) for k, p in people.items() if k not in changed)
            new_pairs = index.add([_record(people[k]) for k in changed if k in people])
        frequencies = index.frequencies
        _keys_store_all(people, index, fingerprint)
    if everything:
        affected = set(people)
        old_groups = list(DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN).values_list("pk", flat=True))
    else:
        touched = changed | {k for pair in new_pairs for k in (pair.a_id, pair.b_id)}
        old_groups = list(_groups_of(touched))
        affected = touched | set(_member_keys(old_groups))
        if found is not None:
            _people_add(people, affected - people.keys(), rules, frequencies)
    # Group the affected records among themselves: their earlier partners are in the groups
    # just collected, so nothing outside them can join.
    # Records of a group being merged (or whose merge failed) wait for that decision.
    busy = set(_member_keys(DuplicateGroup.objects.filter(
        status__in=[DuplicateGroup.Status.MERGING, DuplicateGroup.Status.FAILED]).values_list("pk", flat=True)))
    # The whole population's name counts, not the affected few's: rarity is a property of
    # everyone held.
    sub = MatchIndex(rules, frequencies=frequencies)
    sub.add(_record(people[k]) for k in affected if k in people and k not in busy)
    found_groups = sub.groups(explain=True, refused=_refused_pairs(affected))
    links = _sync_links([people[k] for g in found_groups for k in g.ids if people[k].connection.kind == "hubspot"])
    found_groups = [g for g in found_groups if not _one_person_linked_across([people[k] for k in g.ids], links)]
    DuplicateGroup.objects.filter(pk__in=old_groups, status=DuplicateGroup.Status.OPEN).delete()
    for start in range(0, len(found_groups), GROUP_BATCH):
        with transaction.atomic():
            for group in found_groups[start:start + GROUP_BATCH]:
                # Only the pairs that bound the group: two of its records may be joined through
                # others while scoring low with each other.
                evidence = [{"a": pair.a_id, "b": pair.b_id, "score": round(pair.score, 3), "fields": _jsonable(pair.evidence),
                             "counted": pair.counted}
                            for pair in group.pairs if pair.score >= rules.threshold]
                group_store(members=[people[k] for k in group.ids], evidence=evidence, confidence=group.confidence, links=links)
    return len(found_groups)


# --- the people index: blocking keys and name counts in the database ---------------------------
# Bumped when normalising or blocking changes what keys a record gets: every person is then
# indexed again by the next pass.
KEYS_VERSION = 1
KEY_BATCH = 5000
STALE_MAX = 10_000  # people found not indexed that a pass indexes on the way; more: read everyone


def keys_fingerprint(rules: MatchRules) -> str:
    """What a person's keys depend on: the rules' custom keys, birth-date field and phone
    region, and the key-making code's version."""
    made_of = repr((KEYS_VERSION, rules.custom_keys, rules.birth_date, rules.default_region))
    return hashlib.sha256(made_of.encode()).hexdigest()[:16]


def _person_keys(person: NormalizedPerson) -> set[int]:
    return {key_hash(k) for k in (*block_keys(person), *counted_names(person))}


def _persons(keys: Iterable[str], *, deleted: bool = False) -> dict[str, Person]:
    """Live (or deleted) people by key."""
    by_connection: dict[tuple[int, str], list[str]] = defaultdict(list)
    for key in keys:
        connection_id, obj, record_id = key.split(":", 2)
        by_connection[(int(connection_id), obj)].append(record_id)
    found: dict[str, Person] = {}
    for (connection_id, obj), record_ids in by_connection.items():
        for start in range(0, len(record_ids), PERSON_BATCH):
            rows = Person.objects.filter(connection_id=connection_id, object_name=obj, deleted=deleted,
                                         record_id__in=record_ids[start:start + PERSON_BATCH]).select_related("connection")
            found.update((p.key, p) for p in rows)
    return found


def _keys_store(people: dict[str, Person], normalized: dict[str, NormalizedPerson], fingerprint: str,
                gone: Iterable[str] = ()) -> None:
    """Index ``people`` (their keys replace what they had) and forget the keys of ``gone``
    (deleted) people."""
    pks = [p.pk for p in people.values()]
    replaced = pks + [p.pk for p in _persons(gone, deleted=True).values()]
    for start in range(0, len(replaced), PERSON_BATCH):
        PersonKey.objects.filter(person_id__in=replaced[start:start + PERSON_BATCH]).delete()
    _keys_insert((people[k].pk, h) for k, person in normalized.items() for h in _person_keys(person))
    for start in range(0, len(pks), PERSON_BATCH):
        Person.objects.filter(pk__in=pks[start:start + PERSON_BATCH]).update(keyed_for=fingerprint)


def people_reindex(*, rules: MatchRules) -> int:
    """Index everyone live under ``rules`` without matching them (what a full pass does on
    the way); returns how many people were indexed."""
    people = {p.key: p for p in Person.objects.filter(deleted=False).select_related("connection").iterator(chunk_size=5000)}
    index = MatchIndex(rules)
    index.load([_record(p) for p in people.values()])
    _keys_store_all(people, index, keys_fingerprint(rules))
    return len(people)


def _keys_store_all(people: dict[str, Person], index: MatchIndex, fingerprint: str) -> None:
    """Index everyone afresh from a pass that read them all (``index`` holds them normalised)."""
    PersonKey.objects.all().delete()
    normalized = {p.id: p for p in index.people if p is not None}
    for key, person in people.items():
        if key not in normalized:
            normalized[key] = index.normalize(_record(person), 0)
    _keys_insert((people[key].pk, h) for key, person in normalized.items() if key in people for h in _person_keys(person))
    Person.objects.filter(deleted=False).exclude(keyed_for=fingerprint).update(keyed_for=fingerprint)


def _keys_insert(rows: Iterable[tuple[int, int]]) -> None:
    """(person id, key) rows into the index: by COPY on PostgreSQL (a full pass writes about
    ten a person), in batches elsewhere."""
    if db.vendor == "postgresql":
        table = PersonKey._meta.db_table
        with db.cursor() as cursor, cursor.cursor.copy(f"COPY {table} (person_id, key) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    batch: list[PersonKey] = []
    for person_id, key in rows:
        batch.append(PersonKey(person_id=person_id, key=key))
        if len(batch) >= KEY_BATCH:
            PersonKey.objects.bulk_create(batch)
            batch = []
    PersonKey.objects.bulk_create(batch)


def _changes_matched(changed: set[str], rules: MatchRules, fingerprint: str):
    """(people read, name counts, new pairs) for an incremental pass through the index, or
    None when someone unchanged is not indexed under these rules (everyone must be read)."""
    people = _persons(changed)
    normalizer = MatchIndex(rules)
    mine = {k: normalizer.normalize(_record(p), 0) for k, p in people.items()}
    _keys_store(people, mine, fingerprint, gone=changed - people.keys())
    # People not indexed under these rules (stored by a sync's same-email check, or a merge's
    # master): a few are indexed now, many (new rules) mean reading everyone.
    stale = list(Person.objects.filter(deleted=False).exclude(keyed_for=fingerprint).select_related("connection")[:STALE_MAX + 1])
    if len(stale) > STALE_MAX:
        return None
    if stale:
        _keys_store({p.key: p for p in stale}, {p.key: normalizer.normalize(_record(p), 0) for p in stale}, fingerprint)
    # A key is used while fewer than its cap of records share it (``BlockIndex``).
    blocks = BlockIndex(rules.max_block)
    caps: dict[int, int] = {}
    for person in mine.values():
        for key in block_keys(person):
            caps[key_hash(key)] = blocks.coarse_block if is_coarse(key) else blocks.max_block
    counts = _key_counts(caps)
    usable = [h for h, n in counts.items() if n <= caps[h]]
    mine_pks = {p.pk for p in people.values()}
    candidate_pks: set[int] = set()
    for start in range(0, len(usable), PERSON_BATCH):
        candidate_pks.update(PersonKey.objects.filter(key__in=usable[start:start + PERSON_BATCH]).values_list("person_id", flat=True))
    candidate_pks -= mine_pks
    candidates: dict[str, Person] = {}
    pks = sorted(candidate_pks)
    for start in range(0, len(pks), PERSON_BATCH):
        rows = Person.objects.filter(pk__in=pks[start:start + PERSON_BATCH], deleted=False).select_related("connection")
        candidates.update((p.key, p) for p in rows)
    theirs = {k: normalizer.normalize(_record(p), 0) for k, p in candidates.items()}
    total = Person.objects.filter(deleted=False).count()
    frequencies = NameFrequencies.of_counts(total, _name_counts([*mine.values(), *theirs.values()]))
    index = MatchIndex(rules, frequencies=frequencies)
    index.load(theirs.values())
    new_pairs = index.add(list(mine.values()))
    return {**candidates, **people}, frequencies, new_pairs


def _people_add(people: dict[str, Person], keys: set[str], rules: MatchRules, frequencies: NameFrequencies) -> None:
    """Read more people (members of groups the changes touch) and count their names too."""
    more = _persons(keys)
    normalizer = MatchIndex(rules)
    frequencies.add_counts(_name_counts([normalizer.normalize(_record(p), 0) for p in more.values()]))
    people.update(more)


def _key_counts(hashes: Iterable[int]) -> dict[int, int]:
    hashes = list(hashes)
    counts: dict[int, int] = {}
    for start in range(0, len(hashes), PERSON_BATCH):
        counts.update(PersonKey.objects.filter(key__in=hashes[start:start + PERSON_BATCH])
                      .values_list("key").annotate(n=Count("id")).values_list("key", "n"))
    return counts


def _name_counts(people: Iterable[NormalizedPerson]) -> dict[str, int]:
    """How many live people carry each name of ``people``, from the index."""
    names = {name for person in people for name in counted_names(person)}
    by_hash = {key_hash(name): name for name in names}
    return {by_hash[h]: n for h, n in _key_counts(by_hash).items()}


def _jsonable(evidence) -> dict:
    return {field: list(value) if isinstance(value, tuple) else value for field, value in dict(evidence).items()}


def _sync_links(hubspot_people: list[Person]) -> set[tuple[str, str]]:
    """(HubSpot id, Salesforce id) pairs that a sync links, for these contacts."""
    from syncconfig.models import RecordLink

    ids = sorted({p.record_id for p in hubspot_people})
    pairs: set[tuple[str, str]] = set()
    for start in range(0, len(ids), PERSON_BATCH):
        chunk = ids[start:start + PERSON_BATCH]
        pairs.update(RecordLink.objects.filter(sync__source__kind="hubspot", source_id__in=chunk).values_list("source_id", "target_id"))
        pairs.update((t, s) for s, t in RecordLink.objects.filter(sync__target__kind="hubspot", target_id__in=chunk).values_list("source_id", "target_id"))
    return pairs


def _one_person_linked_across(people: list[Person], links: set[tuple[str, str]]) -> bool:
    """A Salesforce record and the HubSpot contact a sync keeps in step with it are one person
    by design, not duplicates: such a group (one record per system, linked) is left out."""
    by_system: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        by_system[person.connection.kind].append(person)
    if any(len(group) > 1 for group in by_system.values()) or set(by_system) != {"salesforce", "hubspot"}:
        return False
    [salesforce], [hubspot] = by_system["salesforce"], by_system["hubspot"]
    return hubspot.linked_to == salesforce.record_id or (hubspot.record_id, salesforce.record_id) in links


def _member_keys(group_ids) -> list[str]:
    rows = DuplicateMember.objects.filter(group_id__in=list(group_ids)).values_list("connection_id", "object_name", "record_id")
    return [person_key(*row) for row in rows]


def _groups_of(keys: set[str]):
    """Open groups having a member among ``keys``."""
    by_connection: dict[tuple[int, str], list[str]] = defaultdict(list)
    for key in keys:
        connection_id, obj, record_id = key.split(":", 2)
        by_connection[(int(connection_id), obj)].append(record_id)
    ids: set[int] = set()
    for (connection_id, obj), record_ids in by_connection.items():
        for start in range(0, len(record_ids), PERSON_BATCH):
            ids.update(DuplicateMember.objects.filter(
                group__status=DuplicateGroup.Status.OPEN, connection_id=connection_id, object_name=obj,
                record_id__in=record_ids[start:start + PERSON_BATCH],
            ).values_list("group_id", flat=True))
    return ids


def _refused_pairs(keys: set[str]) -> set[tuple[str, str]]:
    refused: set[tuple[str, str]] = set()
    keys = list(keys)
    for start in range(0, len(keys), PERSON_BATCH):
        chunk = keys[start:start + PERSON_BATCH]
        refused.update(NotDuplicate.objects.filter(key_a__in=chunk).values_list("key_a", "key_b"))
        refused.update(NotDuplicate.objects.filter(key_b__in=chunk).values_list("key_a", "key_b"))
    return refused


def _components(evidence: dict[tuple[str, str], dict]) -> list[set[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in evidence:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = defaultdict(set)
    for x in parent:
        groups[find(x)].add(x)
    return [members for members in groups.values() if len(members) > 1]


def _fingerprint(keys: Iterable[str]) -> str:
    return hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()


def _kind(people: list[Person]) -> str:
    emails = {p.fields.get("email", "").strip().lower() for p in people}
    objects = {(p.connection.kind, p.object_name) for p in people}
    if len(emails) > 1 or "" in emails:
        return DuplicateGroup.Kind.DIFFERENT_EMAIL
    if {("salesforce", "Lead"), ("salesforce", "Contact")} <= objects:
        return DuplicateGroup.Kind.LEAD_CONTACT
    return DuplicateGroup.Kind.SAME_EMAIL


def master_propose(people: list[Person], links: set[tuple[str, str]] | None = None) -> Person:
    """HS-4: the Salesforce record a HubSpot contact of the group is linked to; failing that,
    a Contact before a Lead, then the most recently changed. A group without Salesforce
    records keeps its most recently changed HubSpot contact (HS-3)."""
    salesforce = [p for p in people if p.connection.kind == "salesforce"]
    if links is None:
        links = _sync_links([p for p in people if p.connection.kind == "hubspot"])
    hubspot_ids = {p.record_id for p in people if p.connection.kind == "hubspot"}
    linked = {p.linked_to for p in people if p.linked_to} | {sf for hs, sf in links if hs in hubspot_ids}
    emails = [p.fields.get("email", "").strip().lower() for p in people]

    def rank(p: Person):  # the record most of the group shares its email with is the main identity
        return (p.object_name == "Contact", emails.count(p.fields.get("email", "").strip().lower()), p.modified_at, len(p.fields))

    named = [p for p in salesforce if p.record_id in linked]
    if named:
        return max(named, key=rank)
    return max(salesforce or people, key=rank)


def _why(person: Person, evidence: list[dict]) -> str:
    """The strongest reason this record is in its group, in words."""
    mine = [e for e in evidence if person.key in (e["a"], e["b"])]
    if not mine:
        return ""
    best = max(mine, key=lambda e: e["score"])
    agreed = [f"{field} ({how[0]})" for field, how in best["fields"].items() if how and how[1] and float(how[1]) >= 0.8]
    return f"{round(best['score'] * 100)} % like another record: " + (", ".join(agreed) or "several weak signals")


def _search_text(members: list[Person]) -> str:
    text = " ".join(f"{p.display_name} {p.fields.get('email', '')} {p.fields.get('company', '')}" for p in members).lower()
    folded = unidecode(text)
    return text if folded == text else f"{text} {folded}"


@transaction.atomic
def group_store(*, members: list[Person], evidence: list[dict], confidence: float | None = None,
                links: set[tuple[str, str]] | None = None) -> DuplicateGroup:
    """Store one group (or refresh the open one with the same records). ``links``: the sync
    links of its HubSpot contacts, when the caller has read them for many groups at once."""
    master = master_propose(members, links)
    systems = sorted({sources.SYSTEM_LABELS.get(p.connection.kind, p.connection.kind) for p in members})
    objects = sorted({p.object_name for p in members})
    fingerprint = _fingerprint(p.key for p in members)
    existing = DuplicateGroup.objects.filter(fingerprint=fingerprint).first()
    if existing is not None and existing.status != DuplicateGroup.Status.OPEN:
        return existing  # decided (merged, refused) or being merged: found again, left as it is
    group, _ = DuplicateGroup.objects.update_or_create(fingerprint=fingerprint, defaults={
        "object_name": " + ".join(objects), "size": len(members),
        "confidence": round(confidence if confidence is not None else
                            sum(e["score"] for e in evidence) / max(len(evidence), 1), 3),
        "kind": _kind(members), "systems": ", ".join(systems), "title": master.display_name[:200],
        "search_text": _search_text(members),
        "evidence": evidence, "status": DuplicateGroup.Status.OPEN,
    })
    group.members.all().delete()
    DuplicateMember.objects.bulk_create([
        DuplicateMember(
            group=group, person=p, connection=p.connection, object_name=p.object_name, record_id=p.record_id,
            label=p.display_name[:200], email=p.fields.get("email", "")[:254], proposed_master=p.key == master.key,
            why=_why(p, evidence)[:500],
        )
        for p in members
    ])
    return group


# --- decisions ------------------------------------------------------------------------------------
@transaction.atomic
def group_reject(*, group: DuplicateGroup, user) -> None:
    """Not a duplicate: remembered for every pair of the group, so it is never proposed again."""
    keys = sorted(m.key for m in group.members.all())
    NotDuplicate.objects.bulk_create(
        [NotDuplicate(key_a=a, key_b=b, decided_by=user) for i, a in enumerate(keys) for b in keys[i + 1:]],
        ignore_conflicts=True,
    )
    group.status, group.decided_by, group.decided_at = DuplicateGroup.Status.NOT_DUPLICATE, user, timezone.now()
    group.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])


@transaction.atomic
def group_reject_undo(*, group: DuplicateGroup, user) -> bool:
    """Take back "Not a duplicate": the group is to review again and its records may be
    grouped again. False when the group was not marked so."""
    if group.status != DuplicateGroup.Status.NOT_DUPLICATE:
        return False
    keys = sorted(m.key for m in group.members.all())
    NotDuplicate.objects.filter(key_a__in=keys, key_b__in=keys).delete()
    group.status, group.decided_by, group.decided_at = DuplicateGroup.Status.OPEN, None, None
    group.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    log.info("Group %s: “not a duplicate” taken back by %s", group.pk, user)
    return True


def candidates_flag(*, connection, object_name: str, records) -> DuplicateGroup | None:
    """HS-2: several Salesforce records share one email — put them in the queue at once, as a
    same-email group, unless an open group already holds them."""
    if not sources.supported(connection.kind, object_name) or len(records) < 2:
        return None
    people = []
    for record in records:
        # A snapshot the matcher read has every field; the sync's record only the mapped ones.
        person, _ = Person.objects.get_or_create(
            connection=connection, object_name=object_name, record_id=record.id,
            defaults={"fields": sources.neutral(connection.kind, object_name, record.fields),
                      "modified_at": record.modified_at or "", "seen_at": timezone.now()},
        )
        if person.deleted:
            return None
        person.connection = connection
        people.append(person)
    keys = {p.key for p in people}
    if _groups_of(keys) or DuplicateMember.objects.filter(
            group__status__in=[DuplicateGroup.Status.MERGING, DuplicateGroup.Status.FAILED],
            connection=connection, object_name=object_name, record_id__in=[p.record_id for p in people]).exists():
        return None
    if _refused_pairs(keys) >= {NotDuplicate.ordered(a.key, b.key) for i, a in enumerate(people) for b in people[i + 1:]}:
        return None
    evidence = [{"a": NotDuplicate.ordered(a.key, b.key)[0], "b": NotDuplicate.ordered(a.key, b.key)[1], "score": 0.95,
                 "fields": {"email": ["exact", 1.0]}}
                for i, a in enumerate(people) for b in people[i + 1:]]
    return group_store(members=people, evidence=evidence)


# --- likely duplicates of new records, before they are written ---------------------------------
NEAR_PEOPLE_MAX = 5000  # people read to compare a batch of new records with


def likely_duplicates_find(*, connection, records: list[dict], others: Iterable[dict] = (),
                           refused: dict[str, set[str]] | None = None) -> dict[str, LikelyDuplicate]:
    """For each new record (neutral fields and an ``id``), its likeliest duplicate: a person
    of ``connection`` read by matching (a Salesforce Lead or Contact, say) before any of
    ``others`` or of ``records`` themselves, under the connection's matching rules, leaving
    out the candidates ``refused`` names for it (people said they are someone else). Only the
    people sharing an email or a last name with a new record are read and scored."""
    refused = refused or {}
    records = [r for r in records if r.get("id")]
    if not records:
        return {}
    emails = {str(r.get("email") or "").strip().lower() for r in records} - {""}
    last_names = {str(r.get("last_name") or "").strip().lower() for r in records} - {""}
    near = (Person.objects.filter(connection=connection, deleted=False)
            .annotate(email_lower=Lower(KT("fields__email")), last_name_lower=Lower(KT("fields__last_name")))
            .filter(Q(email_lower__in=emails) | Q(last_name_lower__in=last_names))
            .order_by("pk")[:NEAR_PEOPLE_MAX])
    index = MatchIndex(_rules(list(MatchSource.objects.filter(connection=connection, enabled=True))))
    known: dict[str, LikelyDuplicate] = {}
    people = []
    for person in near:
        key = f"person:{person.key}"
        known[key] = LikelyDuplicate("", person.record_id, person.object_name, person.display_name,
                                     0.0, "", person.fields.get("email", ""))
        people.append({**person.fields, "id": key})
    for other in others:
        key = f"other:{other['id']}"
        known[key] = LikelyDuplicate("", str(other["id"]), "", str(other.get("label") or other["id"]), 0.0, "",
                                     str(other.get("email") or ""))
        people.append({**other, "id": key})
    index.load(people)
    for record in records:
        known[f"new:{record['id']}"] = LikelyDuplicate("", str(record["id"]), "", str(record.get("label") or record["id"]),
                                                       0.0, "", str(record.get("email") or ""))
    pairs = index.add([{**record, "id": f"new:{record['id']}"} for record in records])
    best: dict[str, tuple[tuple[bool, float], LikelyDuplicate]] = {}
    for pair in pairs:
        for mine, theirs in ((pair.a_id, pair.b_id), (pair.b_id, pair.a_id)):
            if not mine.startswith("new:") or known[theirs].candidate_id in refused.get(mine[4:], ()):
                continue
            # A record the system already has comes before another new one.
            rank = (theirs.startswith("person:"), pair.score)
            if mine not in best or rank > best[mine][0]:
                candidate = known[theirs]
                best[mine] = (rank, LikelyDuplicate(mine[4:], candidate.candidate_id, candidate.object_name, candidate.label,
                                                    round(pair.score, 3), _agreeing(pair.evidence), candidate.email))
    return {found.record_id: found for _, found in best.values()}


def _agreeing(evidence) -> str:
    agreed = [f"{field.replace('_', ' ')} {level}" for field, (level, similarity) in dict(evidence).items()
              if similarity and float(similarity) >= 0.8]
    return ", ".join(agreed) or "several weak signals"
