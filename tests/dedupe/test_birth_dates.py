"""Matched objects may name a birth-date field: the matcher then reads it, and two records a
typo apart count as nearly the same date while two different dates keep namesakes apart."""
import pytest

from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from dedupe import services
from dedupe.models import DuplicateGroup, MatchSource
from tests.factories import salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)


def person(first, last, born, **extra):
    return {"FirstName": first, "LastName": last, "Birthdate": born, "MailingCity": "Leipzig",
            "MailingStreet": "Karl-Liebknecht-Str. 12", "MailingPostalCode": "04107", **extra}


def grouped(ids) -> bool:
    return DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN, members__record_id=ids[0]).filter(
        members__record_id=ids[1]).exists()


@pytest.mark.parametrize("birth_date_field", ["", "Birthdate"])
def test_a_birth_date_field_keeps_namesakes_apart_and_forgives_a_typo(make_salesforce_org, birth_date_field):
    org = make_salesforce_org(name="Acme")
    connection = salesforce_connection(org, "Acme org")
    namesakes = records_bulk_create(org_get(org.org_id), "Contact", [person("Paul", "Weber", "1961-02-17"),
                                                                     person("Paul", "Weber", "1993-09-30")])
    swapped = records_bulk_create(org_get(org.org_id), "Contact", [person("Lena", "Vogel", "1984-03-07"),
                                                                   person("Lena", "Vogel", "1984-07-03")])
    MatchSource.objects.create(connection=connection, object_name="Contact", exact_fields=["Email"],
                               birth_date_field=birth_date_field)

    assert services.matching_run(full=True).status == "succeeded"

    assert grouped(swapped)  # day and month swapped: the same person
    # Father and son at one address: told apart by their birth dates, when the matcher reads them.
    assert grouped(namesakes) is (not birth_date_field)
