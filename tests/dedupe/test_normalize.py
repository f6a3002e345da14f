from dedupe.normalize import normalize_company, normalize_email, normalize_person, normalize_phone, normalize_street


def test_it_folds_case_accents_titles_and_suffixes_out_of_names():
    person = normalize_person({"first_name": "  DR. Jürgen ", "last_name": "MÜLLER jr."})
    assert (person.first, person.last) == ("juergen", "mueller")


def test_it_reads_jane_f_as_a_first_name_and_an_initial():
    person = normalize_person({"first_name": "Jane F"})
    assert (person.first, person.last, person.last_initial) == ("jane", "f", True)


def test_it_reads_an_initial_as_an_initial():
    person = normalize_person({"first_name": "J.", "last_name": "Francis"})
    assert (person.first, person.first_initial) == ("j", True)


def test_it_splits_a_full_name_when_that_is_all_there_is():
    assert normalize_person({"name": "Francis, Jane"}).first == "jane"
    assert normalize_person({"name": "Jane Francis"}).last == "francis"


def test_it_knows_nickname_and_full_name():
    assert "william" in normalize_person({"first_name": "Bill"}).first_forms
    assert "katarzyna" in normalize_person({"first_name": "Kasia"}).first_forms


def test_it_removes_gmail_dots_and_plus_tags():
    assert normalize_email(" Jane.Francis+crm@GoogleMail.com ") == ("janefrancis@gmail.com", False)
    assert normalize_email("jane.francis+news@acme.com") == ("jane.francis@acme.com", False)


def test_it_flags_role_and_family_mailboxes():
    assert normalize_email("Info@Acme.de") == ("info@acme.de", True)
    assert normalize_email("familie.mueller@web.de")[1] is True
    assert normalize_email("theo.mueller@web.de")[1] is False


def test_it_drops_what_is_not_an_email():
    assert normalize_email("jane at acme") == ("", False)


def test_it_writes_phones_in_e164_whatever_the_format():
    spellings = ["+49 30 1234567", "030 1234567", "030/123 45 67", "(030) 1234-567", "+49 (0)30 1234567", "0049 30 1234567"]
    assert {normalize_phone(s, "DE") for s in spellings} == {"+49301234567"}


def test_it_takes_the_phone_region_from_the_country_or_the_default():
    us = {"phone": "(415) 555-0100"}
    assert normalize_person({**us, "country": "USA"}).phone == "+14155550100"
    assert normalize_person(us, default_region="US").phone == "+14155550100"


def test_it_drops_phone_extensions_and_junk():
    assert normalize_phone("+1 415 555 0100 ext. 12", "US") == "+14155550100"
    assert normalize_phone("n/a", "DE") == ""


def test_it_strips_legal_forms_from_companies():
    names = ["ACME GmbH & Co. KG", "Acme AG", "acme, Inc.", "Acme Ltd.", "ACME LLC", "Acme S.A.", "Acme Sp. z o.o.", "The Acme Corp."]
    assert {normalize_company(n) for n in names} == {"acme"}


def test_it_spells_streets_one_way():
    assert normalize_street("Hauptstraße 5 a") == normalize_street("HAUPTSTR. 5a") == normalize_street("Hauptstrasse 5A")
    assert normalize_street("12 Main Street") == normalize_street("12 Main St.")


def test_it_keeps_custom_keys_and_source():
    person = normalize_person({"id": "7", "customer_id": " C-12 ", "source": "hubspot:contacts"}, key_fields=("customer_id",))
    assert (person.id, person.keys, person.source) == ("7", (("customer_id", "c-12"),), "hubspot:contacts")


def test_it_normalises_many_records_quickly():
    import time

    records = [{"first_name": f"Anna{i % 500}", "last_name": f"Nowak{i % 900}", "email": f"a{i}@wp.pl", "phone": f"+48 22 {i:07d}",
                "company": f"Firma {i % 300} Sp. z o.o.", "street": f"ul. Długa {i % 90}", "city": "Warszawa", "country": "PL"}
               for i in range(20_000)]
    started = time.perf_counter()
    for record in records:
        normalize_person(record)
    assert time.perf_counter() - started < 3


def test_a_street_splits_into_name_and_house_number_whichever_comes_first():
    from dedupe.normalize import street_parts

    assert street_parts(normalize_street("Hauptstraße 5 a")) == street_parts(normalize_street("Haupt Str. 5a")) == ("hauptstr", "5a")
    assert street_parts(normalize_street("12 Main Street")) == street_parts(normalize_street("Main St. 12")) == ("mainst", "12")
    assert street_parts(normalize_street("ul. Długa 1b")) == street_parts(normalize_street("Długa 1B")) == ("dluga", "1b")
    assert street_parts(normalize_street("Aleje Jerozolimskie 12")) == street_parts(normalize_street("al. Jerozolimskie 12"))
    assert street_parts(normalize_street("Bahnhofstr. Nr. 3")) == ("bahnhofstr", "3")
    assert street_parts(normalize_street("Am Markt")) == ("ammarkt", "")


def test_birth_dates_in_the_usual_spellings_become_one():
    from dedupe.normalize import normalize_birth_date

    assert {normalize_birth_date(v) for v in ("1980-05-17", "17.05.1980", "17/05/1980", "05/17/1980", "19800517")} == {"19800517"}
    assert normalize_birth_date("1980/5/7") == "19800507"
    assert normalize_birth_date("") == normalize_birth_date("unknown") == normalize_birth_date("31.13.1980") == ""
