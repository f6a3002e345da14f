"""A periodic sync's beat schedule is edited on the sync's page (CO-3)."""
import json

import pytest
from django_celery_beat.models import PeriodicTask

from syncconfig.models import Sync
from syncconfig.services import RUN_SYNC_TASK, sync_schedule_set
from tests.factories import SyncFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form(sync, **overrides):
    data = {
        "name": sync.name, "source": sync.source_id, "source_object": sync.source_object,
        "target": sync.target_id, "target_object": sync.target_object, "direction": sync.direction,
        "trigger": "periodic", "enabled": "on", "every_minutes": "", "crontab": "",
        "source_watermark": "", "target_watermark": "", "target_id_field": "", "source_id_field": "",
    }
    for prefix in ("mappings", "record_types", "rules"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_co3_saving_a_periodic_sync_creates_its_beat_schedule(client):
    sync = SyncFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(f"/admin/syncconfig/sync/{sync.pk}/change/", _form(sync, crontab="0 6 * * 1"))
    assert response.status_code == 302
    task = PeriodicTask.objects.get(sync__pk=sync.pk)
    assert task.task == RUN_SYNC_TASK and task.enabled
    assert json.loads(task.kwargs) == {"sync_id": sync.pk}
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1")


def test_the_sync_page_shows_the_schedule_it_saved(client):
    sync = SyncFactory(trigger=Sync.Trigger.PERIODIC, enabled=True)
    sync_schedule_set(sync=sync, every_minutes=90)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    form = client.get(f"/admin/syncconfig/sync/{sync.pk}/change/").context["adminform"].form
    assert form["every_minutes"].value() == 90


def test_a_periodic_sync_without_interval_or_crontab_is_refused(client):
    sync = SyncFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(f"/admin/syncconfig/sync/{sync.pk}/change/", _form(sync))
    assert response.context["adminform"].form.errors["every_minutes"] == ["A periodic sync needs an interval or a crontab."]
    assert not PeriodicTask.objects.filter(task=RUN_SYNC_TASK).exists()


def test_a_malformed_crontab_gets_a_reason(client):
    sync = SyncFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(f"/admin/syncconfig/sync/{sync.pk}/change/", _form(sync, crontab="every monday"))
    assert "five fields" in response.context["adminform"].form.errors["crontab"][0]


def test_disabling_the_sync_pauses_its_schedule_and_going_manual_removes_it():
    sync = SyncFactory(trigger=Sync.Trigger.PERIODIC, enabled=True)
    sync_schedule_set(sync=sync, every_minutes=15)
    sync.enabled = False
    sync_schedule_set(sync=sync, every_minutes=15)
    assert PeriodicTask.objects.get(pk=sync.schedule_id).enabled is False
    sync.trigger = Sync.Trigger.MANUAL
    sync_schedule_set(sync=sync)
    assert sync.schedule is None
    assert not PeriodicTask.objects.filter(task=RUN_SYNC_TASK).exists()
