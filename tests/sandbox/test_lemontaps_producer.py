"""`manage.py sandbox produce-captures`: the producer the demo and the benches post captured
contacts with, over HTTP to the portal's capture webhook."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncconfig.models import CapturedContact
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def produce(*args):
    out = StringIO()
    call_command("sandbox", "produce-captures", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def lemontaps():
    return ConnectionFactory(kind="lemontaps", base_url="https://app.lemontaps.com", credentials={})


def test_it_posts_realistic_captures_to_the_webhook_and_new_ones_each_time(lemontaps, live_server):
    out = produce("--connection", str(lemontaps.pk), "--count", "20", "--captured-by", "field.user@acme.example",
                  "--url", live_server.url)
    assert f"Posted 20 captures by field.user@acme.example to {live_server.url}/captures/{lemontaps.pk}/: 20 accepted." in out
    rows = list(CapturedContact.objects.filter(connection=lemontaps))
    assert len(rows) == 20 and {r.captured_by_email for r in rows} == {"field.user@acme.example"}
    assert sum("company" not in r.data for r in rows) == 2  # the 7th and the 14th: a Lead fails validation
    met_twice = [r for r in rows if r.data["email"].endswith("@private.example")]
    assert len(met_twice) == 4 and all(r.data["last_name"] and r.data["phone_mobile"] for r in met_twice)

    produce("--connection", str(lemontaps.pk), "--count", "5", "--url", live_server.url, "--plain")  # the same user again
    assert CapturedContact.objects.filter(connection=lemontaps).count() == 25
    assert CapturedContact.objects.filter(captured_by_email="field.user@acme.example").count() == 25


def test_it_says_what_is_missing(lemontaps, live_server):
    with pytest.raises(CommandError, match="Name the capturing user"):
        produce("--connection", str(lemontaps.pk), "--url", live_server.url)
    with pytest.raises(CommandError, match="No Lemontaps connection"):
        produce("--connection", str(lemontaps.pk + 1), "--captured-by", "f@acme.example", "--url", live_server.url)
    with pytest.raises(CommandError, match="could not be reached"):
        produce("--connection", str(lemontaps.pk), "--captured-by", "f@acme.example", "--url", "http://127.0.0.1:9")
