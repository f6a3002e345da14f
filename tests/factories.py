"""factory-boy factories: they set what validity needs, nothing more."""
import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dedupe.models import (
    DuplicateGroup,
    DuplicateMember,
    MatchRun,
    MatchSource,
    MergeJob,
    MergeStep,
    NotDuplicate,
    Person,
)
from syncconfig.models import CapturedContact, Connection, FieldMapping, RecordError, RecordLink, Sync, SyncRun

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        """UserFactory(role="Sales ops") puts the user in that role's group."""
        if extracted:
            user.groups.add(Group.objects.get(name=extracted))
        if create:
            user.save()


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    name = factory.Sequence(lambda n: f"Account {n}")
    kind = "activecampaign"
    base_url = "https://example.api-us1.com"
    credentials = factory.LazyFunction(lambda: {"api_key": "ac-secret-key-1234567890"})


class SyncFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sync

    name = factory.Sequence(lambda n: f"Sync {n}")
    source = factory.SubFactory(ConnectionFactory, kind="activecampaign")
    source_object = "contact"
    target = factory.SubFactory(ConnectionFactory, kind="salesforce", base_url="https://login.salesforce.com",
                                credentials={"client_id": "cid", "client_secret": "csecret", "username": "u@example.com", "password": "pw"})
    target_object = "Contact"


class FieldMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldMapping

    sync = factory.SubFactory(SyncFactory)
    source_field = "email"
    target_field = "Email"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    sync = factory.SubFactory(SyncFactory)
    trigger = SyncRun.Trigger.MANUAL


class RecordErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordError

    run = factory.SubFactory(SyncRunFactory)
    sync = factory.SelfAttribute("run.sync")
    object_name = "Contact"
    record_id = factory.Sequence(lambda n: f"{n:05d}")
    error_class = RecordError.ErrorClass.REQUIRED_FIELD
    message = "Required fields are missing: [LastName]"


class RecordLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordLink

    sync = factory.SubFactory(SyncFactory)
    source_object = "contact"
    source_id = factory.Sequence(str)
    target_object = "Contact"
    target_id = factory.Sequence(lambda n: f"003{n:015d}")


class DuplicateGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DuplicateGroup

    object_name = "Contact"
    size = 2
    confidence = 0.9


def salesforce_connection(facts, name="Salesforce org"):
    """A connection to a sandbox org, from the login facts of its fixture."""
    return ConnectionFactory(name=name, kind="salesforce", base_url=facts.instance_url, credentials={
        "client_id": facts.client_id, "client_secret": facts.client_secret,
        "username": facts.username, "password": facts.password,
    })


SALESFORCE_CREDENTIALS = {"client_id": "cid", "client_secret": "csecret", "username": "u@example.com", "password": "pw"}


class MatchSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MatchSource

    connection = factory.SubFactory(ConnectionFactory, kind="salesforce", base_url="https://login.salesforce.com", credentials=SALESFORCE_CREDENTIALS)
    object_name = "Contact"
    exact_fields = factory.LazyFunction(lambda: ["Email"])


class PersonFactory(factory.django.DjangoModelFactory):
    """A Salesforce Contact unless told otherwise."""

    class Meta:
        model = Person

    connection = factory.SubFactory(ConnectionFactory, kind="salesforce", base_url="https://login.salesforce.com", credentials=SALESFORCE_CREDENTIALS)
    object_name = "Contact"
    record_id = factory.Sequence(lambda n: f"003{n:015d}")
    fields = factory.Sequence(lambda n: {"first_name": "Jane", "last_name": f"Francis{n}", "email": f"jane{n}@example.com"})


class DuplicateMemberFactory(factory.django.DjangoModelFactory):
    """A member copying its person's record; DuplicateMemberFactory(group=g, person=p)."""

    class Meta:
        model = DuplicateMember

    group = factory.SubFactory(DuplicateGroupFactory)
    person = factory.SubFactory(PersonFactory)
    connection = factory.SelfAttribute("person.connection")
    object_name = factory.SelfAttribute("person.object_name")
    record_id = factory.SelfAttribute("person.record_id")
    label = factory.LazyAttribute(lambda m: m.person.display_name)
    email = factory.LazyAttribute(lambda m: m.person.fields.get("email", ""))


class MatchRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MatchRun

    status = MatchRun.Status.SUCCEEDED


class MergeJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MergeJob

    group = factory.SubFactory(DuplicateGroupFactory, status=DuplicateGroup.Status.MERGING)
    master_key = factory.Sequence(lambda n: f"1:Contact:003{n:015d}")


class MergeStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MergeStep

    job = factory.SubFactory(MergeJobFactory)
    position = factory.Sequence(lambda n: n + 1)
    system = "Salesforce"
    action = "merge"
    object_name = "Contact"


class NotDuplicateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotDuplicate

    key_a = factory.Sequence(lambda n: f"1:Contact:003{n:015d}")
    key_b = factory.Sequence(lambda n: f"1:Contact:004{n:015d}")


class CapturedContactFactory(factory.django.DjangoModelFactory):
    """A contact captured through a Lemontaps connection."""

    class Meta:
        model = CapturedContact

    connection = factory.SubFactory(ConnectionFactory, kind="lemontaps", base_url="https://app.lemontaps.com", credentials={})
    capture_id = factory.Sequence(lambda n: f"cap-{n}")
    captured_by_email = factory.Faker("email")
    data = factory.Sequence(lambda n: {"first_name": "Jana", "last_name": f"Kowalski{n}", "email": f"jana{n}@example.com"})
