"""The roles and what each may open, walked as a matrix over admin and portal pages."""
import pytest
from django.contrib.auth.models import Group

from syncconfig import roles
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "connections": "/admin/syncconfig/connection/",
    "add connection": "/admin/syncconfig/connection/add/",
    "syncs": "/admin/syncconfig/sync/",
    "runs": "/admin/syncconfig/syncrun/",
    "failed records": "/admin/syncconfig/recorderror/",
    "duplicate groups": "/admin/dedupe/duplicategroup/",
    "matched objects": "/admin/dedupe/matchsource/",
    "add matched object": "/admin/dedupe/matchsource/add/",
    "matching runs": "/admin/dedupe/matchrun/",
    "merges": "/admin/dedupe/mergejob/",
    "not-a-duplicate decisions": "/admin/dedupe/notduplicate/",
    "duplicates queue": "/duplicates/",
    "schedules": "/admin/django_celery_beat/periodictask/",
    "users": "/admin/auth/user/",
}
ALLOWED = {
    roles.MARKETING_ADMIN: {"connections", "add connection", "syncs", "runs", "failed records", "schedules",
                            "matched objects", "add matched object", "matching runs"},
    roles.SALES_OPS: {"connections", "syncs", "runs", "failed records", "duplicate groups", "matched objects",
                      "matching runs", "merges", "not-a-duplicate decisions", "duplicates queue"},
}


def test_the_migration_creates_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {roles.MARKETING_ADMIN, roles.SALES_OPS, roles.FIELD_USER}


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_staff_roles_open_exactly_their_pages(client, role, page):
    client.force_login(UserFactory(role=role, is_staff=True))
    status = client.get(PAGES[page]).status_code
    assert status == (200 if page in ALLOWED[role] else 403)


def test_a_field_user_cannot_enter_the_admin_but_sees_the_dashboard(client):
    user = UserFactory(role=roles.FIELD_USER)
    client.force_login(user)
    assert client.get(PAGES["connections"]).status_code == 302  # to the admin login
    page = client.get("/")
    assert page.status_code == 200
    assert b"no configuration to look after" in page.content
    assert user.has_perm("syncconfig.push_captured_contacts")
    assert not user.has_perm("syncconfig.view_connection")


def test_a_field_user_may_not_open_the_duplicates_queue(client):
    client.force_login(UserFactory(role=roles.FIELD_USER))
    assert client.get(PAGES["duplicates queue"]).status_code == 403


def test_sales_ops_see_matching_rules_and_merges_but_change_neither(client):
    ops = UserFactory(role=roles.SALES_OPS, is_staff=True)
    client.force_login(ops)
    assert ops.has_perm("dedupe.view_matchsource") and not ops.has_perm("dedupe.change_matchsource")
    assert not ops.has_perm("dedupe.change_mergejob")
    assert client.get(PAGES["add matched object"]).status_code == 403


def test_sales_ops_can_look_at_a_connection_but_not_change_it(client):
    conn = ConnectionFactory()
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    page = client.get(f"/admin/syncconfig/connection/{conn.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/syncconfig/connection/{conn.pk}/test/").status_code == 302
    conn.refresh_from_db()
    assert conn.last_checked_at is None


def test_only_marketing_admins_may_run_syncs():
    admin = UserFactory(role=roles.MARKETING_ADMIN)
    ops = UserFactory(role=roles.SALES_OPS)
    assert admin.has_perm("syncconfig.run_sync") and not ops.has_perm("syncconfig.run_sync")
    assert ops.has_perm("dedupe.merge_duplicategroup") and not admin.has_perm("dedupe.merge_duplicategroup")
