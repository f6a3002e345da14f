"""The pictures: a sync's records and run duration per day, and a connection's API calls per
day and allowance today, as the sync page and the dashboard chart them (with their text)."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from syncconfig import roles, selectors
from syncconfig.models import SyncDay
from tests.factories import ConnectionFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


def days_ago(n, *, hour=12, seconds=0):
    today = timezone.localdate() - timedelta(days=n)
    return timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time())) + timedelta(hours=hour, seconds=seconds)


def finished_run(sync, started, took=10, **counts):
    return SyncRunFactory(sync=sync, status="succeeded", started_at=started, finished_at=started + timedelta(seconds=took), **counts)


def test_a_syncs_runs_are_summed_per_day_with_their_average_and_longest_duration():
    sync = SyncFactory()
    finished_run(sync, days_ago(2, hour=9), took=4, created_count=3, updated_count=1)
    finished_run(sync, days_ago(2, hour=17), took=10, created_count=2, failed_count=1)
    finished_run(sync, days_ago(0, hour=0), took=7, updated_count=5)
    finished_run(sync, days_ago(31), created_count=99)  # before the 30 days
    finished_run(SyncFactory(), days_ago(0), created_count=50)  # another sync's
    SyncRunFactory(sync=sync, status="running", started_at=days_ago(0, hour=0, seconds=1), created_count=1)

    activity = selectors.sync_daily_activity(sync)

    rows = {r["day"]: r for r in activity["rows"]}
    assert len(activity["rows"]) == 30 and activity["rows"][-1]["day"] == timezone.localdate().isoformat()
    two_days_ago = rows[(timezone.localdate() - timedelta(days=2)).isoformat()]
    assert two_days_ago == {"day": two_days_ago["day"], "runs": 2, "created": 5, "updated": 1, "failed": 1,
                            "duration_avg": 7.0, "duration_max": 10.0}
    today = rows[timezone.localdate().isoformat()]
    # The run under way counts its records so far; its duration is not known yet.
    assert (today["runs"], today["created"], today["updated"], today["duration_avg"], today["duration_max"]) == (2, 1, 5, 7.0, 7.0)
    yesterday = rows[(timezone.localdate() - timedelta(days=1)).isoformat()]
    assert (yesterday["runs"], yesterday["created"], yesterday["duration_avg"]) == (0, 0, None)
    assert activity["totals"] == {"runs": 4, "created": 6, "updated": 6, "failed": 1, "duration_avg": 7.0, "duration_max": 10.0}
    assert activity["chart"]["created"] == [r["created"] for r in activity["rows"]]
    # The days that are over were summed once; read back, they say the same.
    assert SyncDay.objects.filter(sync=sync).count() == 28
    assert selectors.sync_daily_activity(sync) == activity


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles"])
def test_a_run_counts_on_the_local_day_it_started(settings, zone):
    settings.TIME_ZONE = zone
    sync = SyncFactory()
    finished_run(sync, days_ago(1, hour=23, seconds=59 * 60), created_count=1)  # 23:59 local yesterday
    rows = {r["day"]: r["created"] for r in selectors.sync_daily_activity(sync)["rows"]}
    assert rows[(timezone.localdate() - timedelta(days=1)).isoformat()] == 1


def test_the_sync_chart_sums_the_days_that_are_over_once_and_then_costs_two_queries(django_assert_num_queries):
    sync = SyncFactory()
    for n in range(90):
        finished_run(sync, days_ago(n % 30, hour=n % 24), created_count=1)
    with django_assert_num_queries(4):  # the days summed so far, the runs of the others, storing them, the last two days
        first = selectors.sync_daily_activity(sync)
    for n in range(50):  # a busy day: today's runs are read again on every view
        finished_run(sync, days_ago(0, hour=0, seconds=n), created_count=2)
    with django_assert_num_queries(2):  # the days summed before, and today's and yesterday's runs
        again = selectors.sync_daily_activity(sync)
    assert again["rows"][:-1] == first["rows"][:-1]
    assert again["rows"][-1]["created"] == first["rows"][-1]["created"] + 100


def test_the_days_are_summed_again_in_another_time_zone(settings):
    sync = SyncFactory()
    finished_run(sync, days_ago(5, hour=12), created_count=1)
    selectors.sync_daily_activity(sync)
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14
    rows = {r["day"]: r["created"] for r in selectors.sync_daily_activity(sync)["rows"]}
    assert sum(rows.values()) == 1
    assert SyncDay.objects.filter(sync=sync).values("time_zone").distinct().count() == 2


def test_a_connections_api_calls_per_day_add_up_its_syncs_on_either_end():
    marketing, org, other = ConnectionFactory(), ConnectionFactory(kind="salesforce"), ConnectionFactory()
    out = SyncFactory(source=marketing, target=org)
    back = SyncFactory(source=org, target=marketing)
    finished_run(out, days_ago(3), source_api_calls=10, target_api_calls=4)
    finished_run(out, days_ago(3, hour=20), source_api_calls=1, target_api_calls=1)
    finished_run(back, days_ago(3), source_api_calls=7, target_api_calls=2)
    finished_run(back, days_ago(40), source_api_calls=1000, target_api_calls=1000)
    finished_run(SyncFactory(source=other), days_ago(3), source_api_calls=500)

    calls = selectors.connections_daily_api_calls([marketing, org])

    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    assert dict(calls[marketing.pk]["rows"])[day] == 10 + 1 + 2
    assert dict(calls[org.pk]["rows"])[day] == 4 + 1 + 7
    assert calls[marketing.pk]["total"] == 13 and calls[marketing.pk]["peak"] == {"day": day, "calls": 13}
    assert calls[org.pk]["chart"]["calls"] == [n for _, n in calls[org.pk]["rows"]]
    assert other.pk not in calls


def test_a_connection_without_calls_has_an_empty_chart_and_no_peak():
    idle = ConnectionFactory()
    assert selectors.connections_daily_api_calls([idle])[idle.pk]["total"] == 0
    assert selectors.connections_daily_api_calls([idle])[idle.pk]["peak"] is None


def test_the_connection_charts_cost_three_queries_however_many_connections_and_runs(django_assert_num_queries):
    connections = [ConnectionFactory() for _ in range(4)]
    for n, connection in enumerate(connections):
        sync = SyncFactory(source=connection)
        for day in range(30):
            finished_run(sync, days_ago(day), source_api_calls=n)
    first = selectors.connections_daily_api_calls(connections)
    with django_assert_num_queries(3):  # the syncs, their days summed before, and their last two days
        assert selectors.connections_daily_api_calls(connections) == first
    assert first[connections[3].pk]["total"] == 3 * 30


def test_the_sync_page_carries_its_chart_data_and_the_same_numbers_as_text(client):
    sync = SyncFactory(name="AC to SF")
    finished_run(sync, days_ago(1), took=12, created_count=4, updated_count=2, failed_count=1)
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    response = client.get(f"/syncs/{sync.pk}/")
    page = response.content.decode()
    data = json.loads(page.split('<script id="sync-activity" type="application/json">')[1].split("</script>")[0])
    assert data["created"][-2] == 4 and data["duration_avg"][-2] == 12.0 and len(data["day"]) == 30
    assert 'data-chart="records"' in page and 'data-chart="duration"' in page
    assert "4 created, 2 updated, 1 failed in 1 run." in page  # the charts' summary
    assert f"<th scope=\"row\">{data['day'][-2]}</th><td>1</td><td>4</td><td>2</td><td>1</td>" in page  # their table
    assert "vendor/uplot/uPlot.iife.min.js" in page


def test_a_sync_page_without_runs_says_so_instead_of_empty_charts(client):
    sync = SyncFactory()
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    page = client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "No run in the last 30 days." in page and 'data-chart="records"' not in page


def test_the_sync_page_costs_the_same_queries_with_many_runs(client, django_assert_max_num_queries):
    sync = SyncFactory()
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    finished_run(sync, days_ago(1))
    client.get(f"/syncs/{sync.pk}/")
    with django_assert_max_num_queries(30) as few:
        client.get(f"/syncs/{sync.pk}/")
    few = len(few.captured_queries)
    for n in range(60):
        finished_run(sync, days_ago(n % 2, hour=n % 24))  # today's and yesterday's are read on each view
    with django_assert_max_num_queries(few):
        client.get(f"/syncs/{sync.pk}/")


def test_the_dashboard_shows_each_connections_allowance_today_against_its_budget(client):
    org = ConnectionFactory(name="Acme org", kind="salesforce", api_used=9000, api_limit=15000, api_budget_percent=80,
                            api_reported_at=timezone.now())
    ConnectionFactory(name="New account")
    finished_run(SyncFactory(target=org), days_ago(0), target_api_calls=42)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    page = client.get("/").content.decode()
    assert f'min="0" max="15000" low="9000" high="12000" optimum="0" value="9000"' in page
    assert "9000 of a budget of 12000 (80% of 15000)" in page
    assert "Not reported yet" in page  # the new account's vendor has not said yet
    assert f'<script id="connection-calls-{org.pk}" type="application/json">' in page
    assert "42 calls by its syncs, most on" in page


def test_the_dashboard_charts_cost_the_same_queries_however_many_connections(client, django_assert_max_num_queries):
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    finished_run(SyncFactory(), days_ago(1), source_api_calls=3)
    client.get("/")
    with django_assert_max_num_queries(30) as few:
        client.get("/")
    few = len(few.captured_queries)
    for _ in range(5):
        sync = SyncFactory()
        for day in range(30):
            finished_run(sync, days_ago(day), source_api_calls=3, target_api_calls=1)
    client.get("/")  # the new syncs' days that are over are summed once
    with django_assert_max_num_queries(few):
        client.get("/")
