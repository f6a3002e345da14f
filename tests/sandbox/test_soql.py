"""Tests for the sandbox's SOQL engine (pure Python: no Django, no database)."""

from datetime import date, datetime, timezone

import pytest

from connectors.sandbox.soql import (
    And,
    Comparison,
    DateRange,
    DictSchema,
    Not,
    Or,
    SoqlError,
    TopLevelCondition,
    compile,
)

TODAY = date(2024, 3, 15)

SCHEMA = DictSchema(
    {
        "Contact": {
            "Id": "id",
            "FirstName": "string",
            "LastName": "string",
            "Email": "email",
            "AccountId": ("reference", "Account"),
            "OwnerId": ("reference", "User"),
            "Birthdate": "date",
            "CreatedDate": "datetime",
            "SystemModstamp": "datetime",
            "HasOptedOutOfEmail": "boolean",
            "NumberOfChildren__c": "double",
            "Age__c": "int",
        },
        "Account": {
            "Id": "id",
            "Name": "string",
            "OwnerId": ("reference", "User"),
            "ParentId": ("reference", "Account"),
        },
        "User": {"Id": "id", "Email": "email", "Name": "string"},
    }
)


def sfid(prefix, n):
    """An 18-character Salesforce-shaped id."""
    return f"{prefix}{n:012d}AAA"


U1 = sfid("005", 1)
A1, A2 = sfid("001", 1), sfid("001", 2)

STORE = {
    "User": {U1: {"Id": U1, "Email": "owner@example.com", "Name": "Olive Owner"}},
    "Account": {
        A1: {"Id": A1, "Name": "Acme", "OwnerId": U1, "ParentId": None},
        A2: {"Id": A2, "Name": "Globex", "OwnerId": None, "ParentId": A1},
    },
}

CONTACTS = [
    {
        "Id": sfid("003", 1), "FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com",
        "AccountId": A1, "OwnerId": U1, "Birthdate": "1815-12-10",
        "CreatedDate": "2024-01-01T00:00:00.000+0000", "SystemModstamp": "2024-03-15T08:00:00.000+0000",
        "HasOptedOutOfEmail": False, "NumberOfChildren__c": 3.0, "Age__c": 36,
    },
    {
        "Id": sfid("003", 2), "FirstName": "Grace", "LastName": "Hopper", "Email": "GRACE@navy.mil",
        "AccountId": A2, "OwnerId": U1, "Birthdate": "1906-12-09",
        "CreatedDate": "2023-06-01T12:00:00.000+0000", "SystemModstamp": "2024-03-14T23:30:00.000+0000",
        "HasOptedOutOfEmail": True, "NumberOfChildren__c": 0.0, "Age__c": 85,
    },
    {
        "Id": sfid("003", 3), "FirstName": "Alan", "LastName": "Turing", "Email": None,
        "AccountId": None, "OwnerId": U1, "Birthdate": None,
        "CreatedDate": "2024-03-15T00:30:00+01:00", "SystemModstamp": "2024-02-01T00:00:00.000+0000",
        "HasOptedOutOfEmail": False, "NumberOfChildren__c": None, "Age__c": 41,
    },
    {
        "Id": sfid("003", 4), "FirstName": "Barbara", "LastName": "Liskov", "Email": "barbara@example.com",
        "AccountId": A1, "OwnerId": None, "Birthdate": "1939-11-07",
        "CreatedDate": "2024-03-10T10:00:00Z", "SystemModstamp": "2024-03-13T12:00:00.000+0000",
        "HasOptedOutOfEmail": False, "NumberOfChildren__c": 2.0, "Age__c": 84,
    },
]


def resolve(sobject, record_id):
    return STORE.get(sobject, {}).get(record_id)


def q(soql, **options):
    return compile(soql, SCHEMA, today=TODAY, **options)


def names(soql, records=CONTACTS, **options):
    """Last names of the records the query returns, in result order."""
    return [record["LastName"] for record in q(soql, **options).apply(records, resolve)]


def where(condition, records=CONTACTS):
    """Last names matching ``WHERE condition``, sorted for order-independent asserts."""
    return sorted(names(f"SELECT Id FROM Contact WHERE {condition}", records))


def error(soql, **options):
    with pytest.raises(SoqlError) as caught:
        q(soql, **options)
    return caught.value


# --------------------------------------------------------------------------- parsing


def test_it_parses_a_field_list_and_canonicalises_object_and_field_names():
    query = q("select id, LASTNAME, email from contact")

    assert query.sobject == "Contact"
    assert query.fields == ["Id", "LastName", "Email"]
    assert query.where is None and query.order_by == () and query.limit is None and query.offset is None


def test_it_parses_relationship_fields_of_any_depth():
    query = q("SELECT Id, account.name, Account.Owner.Email, Owner.Name FROM Contact")

    assert query.fields == ["Id", "Account.Name", "Account.Owner.Email", "Owner.Name"]
    deep = query.field_refs[2]
    assert [hop.name for hop in deep.hops] == ["Account", "Owner"]
    assert (deep.name, deep.type) == ("Email", "email")
    assert query.needs_resolve


def test_it_accepts_keywords_in_any_case():
    query = q("sElEcT Id FrOm Contact wHeRe LastName = 'Turing' oRdEr bY LastName dEsC nUlLs FiRsT LiMiT 5 oFfSeT 1")

    assert query.limit == 5 and query.offset == 1
    assert query.order_by[0].descending and query.order_by[0].nulls_first


def test_it_accepts_the_object_name_as_a_field_qualifier():
    assert q("SELECT Contact.LastName FROM Contact").fields == ["LastName"]


def test_it_parses_count_as_a_count_only_query():
    query = q("SELECT COUNT() FROM Contact WHERE Email != null")

    assert query.is_count and query.fields == []
    assert query.count(CONTACTS, resolve) == 3


def test_it_counts_a_field_as_an_aggregate_result_with_optional_alias():
    assert q("SELECT COUNT(Email) FROM Contact").aggregate(CONTACTS) == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 3}
    ]
    assert q("SELECT COUNT(Id) total FROM Contact").aggregate(CONTACTS)[0]["total"] == 4


def test_it_exposes_the_where_clause_as_a_dataclass_tree():
    query = q("SELECT Id FROM Contact WHERE LastName = 'a' OR NOT (Age__c > 3 AND Email IN ('x', null))")

    assert isinstance(query.where, Or)
    left, right = query.where.operands
    assert left == Comparison(query.where.operands[0].field, "=", "a")
    assert isinstance(right, Not) and isinstance(right.operand, And)
    membership = right.operand.operands[1]
    assert (membership.field.path, membership.op, membership.value) == ("Email", "IN", ("x", None))


def test_it_lists_top_level_anded_conditions_with_python_values():
    query = q(
        "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00Z "
        "AND (Email IN ('a@b.c', 'd@e.f') AND Account.Name = 'Acme') AND (LastName = 'x' OR LastName = 'y')"
    )

    assert query.top_level_conditions() == [
        TopLevelCondition("SystemModstamp", ">", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        TopLevelCondition("Email", "IN", ("a@b.c", "d@e.f")),
        TopLevelCondition("Account.Name", "=", "Acme"),
    ]


def test_it_lists_no_top_level_conditions_for_a_top_level_or_or_no_where():
    assert q("SELECT Id FROM Contact WHERE LastName = 'x' OR Email = null").top_level_conditions() == []
    assert q("SELECT Id FROM Contact").top_level_conditions() == []
    assert q("SELECT Id FROM Contact WHERE Age__c <> 3").top_level_conditions() == [("Age__c", "!=", 3)]


# --------------------------------------------------------------------------- operators


def test_it_compares_strings_for_equality_case_insensitively():
    assert where("Email = 'grace@NAVY.mil'") == ["Hopper"]
    assert where("LastName = 'lovelace'") == ["Lovelace"]


@pytest.mark.parametrize("operator", ["!=", "<>"])
def test_it_treats_not_equals_as_true_for_null_values(operator):
    assert where(f"Email {operator} 'ada@example.com'") == ["Hopper", "Liskov", "Turing"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Age__c < 41", ["Lovelace"]),
        ("Age__c <= 41", ["Lovelace", "Turing"]),
        ("Age__c > 84", ["Hopper"]),
        ("Age__c >= 84", ["Hopper", "Liskov"]),
        ("NumberOfChildren__c > 1.5", ["Liskov", "Lovelace"]),
        ("NumberOfChildren__c = 0", ["Hopper"]),
        ("Age__c > -1", ["Hopper", "Liskov", "Lovelace", "Turing"]),
    ],
)
def test_it_compares_numbers_with_every_ordering_operator(condition, expected):
    assert where(condition) == expected


def test_it_never_matches_null_with_ordering_operators():
    assert "Turing" not in where("NumberOfChildren__c < 100")
    assert "Turing" not in where("NumberOfChildren__c >= 0")


def test_it_orders_strings_case_insensitively_in_comparisons():
    assert where("LastName < 'liskov'") == ["Hopper"]
    assert where("LastName >= 'LOVELACE'") == ["Lovelace", "Turing"]


def test_it_matches_in_and_not_in_lists():
    assert where("LastName IN ('turing', 'Hopper', 'Nobody')") == ["Hopper", "Turing"]
    assert where("LastName NOT IN ('turing', 'Hopper')") == ["Liskov", "Lovelace"]


def test_it_handles_null_inside_in_and_not_in_lists():
    assert where("Email IN (null, 'ada@example.com')") == ["Lovelace", "Turing"]
    assert where("Email NOT IN ('ada@example.com')") == ["Hopper", "Liskov", "Turing"]
    assert where("Email NOT IN (null)") == ["Hopper", "Liskov", "Lovelace"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'%@example.com'", ["Liskov", "Lovelace"]),
        ("'GRACE%'", ["Hopper"]),
        ("'_da@%'", ["Lovelace"]),
        ("'%'", ["Hopper", "Liskov", "Lovelace"]),
        ("'ada'", []),
    ],
)
def test_it_matches_like_with_percent_and_underscore_case_insensitively(pattern, expected):
    assert where(f"Email LIKE {pattern}") == expected


def test_it_treats_escaped_wildcards_in_like_literally():
    records = [{"LastName": "50%"}, {"LastName": "500"}, {"LastName": "a_b"}, {"LastName": "axb"}]

    assert where(r"LastName LIKE '50\%'", records) == ["50%"]
    assert where(r"LastName LIKE 'a\_b'", records) == ["a_b"]


def test_it_never_matches_null_with_like_but_not_like_does():
    assert "Turing" not in where("Email LIKE '%'")
    assert where("NOT Email LIKE '%example.com'") == ["Hopper", "Turing"]


def test_it_compares_with_null_using_equals_and_not_equals():
    assert where("Email = null") == ["Turing"]
    assert where("Email != NULL") == ["Hopper", "Liskov", "Lovelace"]
    assert where("Birthdate = null AND NumberOfChildren__c = null") == ["Turing"]


def test_it_compares_booleans():
    assert where("HasOptedOutOfEmail = true") == ["Hopper"]
    assert where("HasOptedOutOfEmail = FALSE") == ["Liskov", "Lovelace", "Turing"]
    assert where("HasOptedOutOfEmail != true", [{"LastName": "x", "HasOptedOutOfEmail": "false"}]) == ["x"]


def test_it_matches_an_id_given_in_its_15_character_form():
    eighteen = CONTACTS[0]["Id"]

    assert where(f"Id = '{eighteen}'") == ["Lovelace"]
    assert where(f"Id = '{eighteen[:15]}'") == ["Lovelace"]
    assert where(f"AccountId IN ('{A1[:15]}')") == ["Liskov", "Lovelace"]


def test_it_compares_ids_case_sensitively():
    records = [{"LastName": "x", "Id": "003Ab00000XyZ12AAA"}]

    assert where("Id = '003Ab00000XyZ12'", records) == ["x"]
    assert where("Id = '003ab00000xyz12AAA'", records) == []


# --------------------------------------------------------------------------- logic


def test_it_binds_and_tighter_than_or():
    # (LastName = 'Hopper' AND Age__c > 100) OR LastName = 'Turing'
    assert where("LastName = 'Hopper' AND Age__c > 100 OR LastName = 'Turing'") == ["Turing"]
    # LastName = 'Turing' OR (LastName = 'Hopper' AND Age__c > 100)
    assert where("LastName = 'Turing' OR LastName = 'Hopper' AND Age__c > 100") == ["Turing"]


def test_it_binds_not_tighter_than_and():
    # (NOT LastName = 'Turing') AND Age__c > 40
    assert where("NOT LastName = 'Turing' AND Age__c > 40") == ["Hopper", "Liskov"]


def test_it_lets_parentheses_override_precedence():
    assert where("LastName = 'Hopper' AND (Age__c > 100 OR LastName = 'Turing')") == []
    assert where("(LastName = 'Turing' OR LastName = 'Hopper') AND Age__c > 50") == ["Hopper"]
    assert where("NOT (LastName = 'Turing' OR LastName = 'Hopper')") == ["Liskov", "Lovelace"]


def test_it_chains_several_operands_of_the_same_operator():
    assert where("Age__c > 1 AND Age__c > 2 AND Age__c < 50 AND Email != null") == ["Lovelace"]
    assert where("LastName = 'a' OR LastName = 'b' OR LastName = 'Liskov'") == ["Liskov"]


def test_it_rejects_mixed_and_or_without_parentheses_in_strict_mode():
    caught = error("SELECT Id FROM Contact WHERE LastName = 'a' AND Age__c = 1 OR Email = null", strict_logic=True)

    assert caught.code == "MALFORMED_QUERY"
    assert caught.detail == "unexpected token: 'OR'"
    assert q("SELECT Id FROM Contact WHERE (LastName = 'a' AND Age__c = 1) OR Email = null", strict_logic=True)


# --------------------------------------------------------------------------- literals


def test_it_decodes_backslash_escapes_in_strings():
    query = q(r"SELECT Id FROM Contact WHERE LastName = 'O\'Neil \\ line\nbreak'")

    assert query.where.value == "O'Neil \\ line\nbreak"
    assert where(r"LastName = 'o\'neil'", [{"LastName": "O'Neil"}]) == ["O'Neil"]


def test_it_rejects_an_illegal_escape_sequence():
    caught = error(r"SELECT Id FROM Contact WHERE LastName = 'a\qb'")

    assert caught.code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q' in string literal" in caught.detail


def test_it_compares_date_literals_chronologically():
    assert where("Birthdate < 1900-01-01") == ["Lovelace"]
    assert where("Birthdate >= 1906-12-09") == ["Hopper", "Liskov"]
    assert where("Birthdate = 1939-11-07") == ["Liskov"]


@pytest.mark.parametrize(
    "literal",
    ["2024-03-15T00:00:00Z", "2024-03-15T00:00:00.000+0000", "2024-03-15T01:00:00+01:00", "2024-03-14T19:00:00-05:00"],
)
def test_it_normalises_datetime_literals_with_any_offset_to_utc(literal):
    assert where(f"SystemModstamp > {literal}") == ["Lovelace"]
    assert q(f"SELECT Id FROM Contact WHERE SystemModstamp > {literal}").where.value == datetime(
        2024, 3, 15, tzinfo=timezone.utc
    )


def test_it_compares_stored_datetimes_with_different_offsets_chronologically():
    # Turing's CreatedDate is 2024-03-15T00:30:00+01:00, i.e. 2024-03-14T23:30Z.
    assert where("CreatedDate < 2024-03-15T00:00:00Z AND CreatedDate > 2024-03-14T23:00:00Z") == ["Turing"]
    assert where("CreatedDate = 2024-03-14T23:30:00.000+0000") == ["Turing"]
    assert where("CreatedDate = 2024-03-10T10:00:00Z") == ["Liskov"]


def test_it_evaluates_relative_date_literals_against_today():
    assert where("SystemModstamp = TODAY") == ["Lovelace"]
    assert where("SystemModstamp = YESTERDAY") == ["Hopper"]
    assert where("SystemModstamp = LAST_N_DAYS:2") == ["Hopper", "Liskov", "Lovelace"]
    assert where("SystemModstamp < LAST_N_DAYS:2") == ["Turing"]
    assert where("SystemModstamp > YESTERDAY") == ["Lovelace"]
    assert where("CreatedDate = THIS_MONTH") == ["Liskov", "Turing"]
    assert where("Birthdate < TODAY AND Birthdate > LAST_YEAR") == []


def test_it_resolves_relative_date_literals_to_half_open_date_ranges():
    value = q("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:7").where.value

    assert value == DateRange("LAST_N_DAYS:7", date(2024, 3, 8), date(2024, 3, 16))


def test_it_rejects_a_datetime_without_a_timezone():
    caught = error("SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01T00:00:00")

    assert caught.code == "MALFORMED_QUERY"
    assert caught.detail == "Invalid datetime: 2024-01-01T00:00:00"


# --------------------------------------------------------------------------- relationships


def test_it_filters_on_relationship_paths_through_resolve():
    assert where("Account.Name = 'acme'") == ["Liskov", "Lovelace"]
    assert where("Account.Owner.Email LIKE 'owner@%'") == ["Liskov", "Lovelace"]
    assert where("Account.Parent.Name = 'Acme'") == ["Hopper"]


def test_it_treats_a_path_through_an_empty_reference_as_null():
    assert where("Account.Name = null") == ["Turing"]
    assert where("Account.Owner.Email = null") == ["Hopper", "Turing"]


def test_it_requires_resolve_only_when_the_query_follows_relationships():
    assert q("SELECT Id FROM Contact WHERE LastName = 'Turing'").matches(CONTACTS[2])
    with pytest.raises(TypeError, match="resolve"):
        q("SELECT Id FROM Contact WHERE Account.Name = 'Acme'").matches(CONTACTS[0])


def test_it_calls_resolve_once_per_related_record_within_apply():
    calls = []

    def counting_resolve(sobject, record_id):
        calls.append(record_id)
        return resolve(sobject, record_id)

    q("SELECT Id FROM Contact WHERE Account.Name != null ORDER BY Account.Name").apply(CONTACTS, counting_resolve)

    assert sorted(calls) == sorted([A1, A2])


# --------------------------------------------------------------------------- ORDER BY, LIMIT, OFFSET


ROWS = [
    {"LastName": "b", "Age__c": 2},
    {"LastName": "n1", "Age__c": None},
    {"LastName": "a", "Age__c": 1},
    {"LastName": "c", "Age__c": 3},
    {"LastName": "n2", "Age__c": None},
]


def test_it_sorts_ascending_with_nulls_first_by_default():
    assert names("SELECT Id FROM Contact ORDER BY Age__c", ROWS) == ["n1", "n2", "a", "b", "c"]


def test_it_sorts_descending_with_nulls_last_by_default():
    assert names("SELECT Id FROM Contact ORDER BY Age__c DESC", ROWS) == ["c", "b", "a", "n1", "n2"]


def test_it_honours_explicit_nulls_first_and_last():
    assert names("SELECT Id FROM Contact ORDER BY Age__c ASC NULLS LAST", ROWS) == ["a", "b", "c", "n1", "n2"]
    assert names("SELECT Id FROM Contact ORDER BY Age__c DESC NULLS FIRST", ROWS) == ["n1", "n2", "c", "b", "a"]


def test_it_sorts_by_several_keys_in_mixed_directions():
    rows = [
        {"LastName": "Smith", "FirstName": "Ann"},
        {"LastName": "jones", "FirstName": "Bob"},
        {"LastName": "smith", "FirstName": "Cy"},
        {"LastName": "Jones", "FirstName": "Al"},
    ]

    result = q("SELECT Id FROM Contact ORDER BY LastName DESC, FirstName").sort(rows)

    assert [row["FirstName"] for row in result] == ["Ann", "Cy", "Al", "Bob"]


def test_it_sorts_by_datetimes_chronologically_across_offsets():
    assert names("SELECT Id FROM Contact ORDER BY CreatedDate DESC") == ["Turing", "Liskov", "Lovelace", "Hopper"]


def test_it_sorts_by_a_relationship_field():
    assert names("SELECT Id FROM Contact ORDER BY Account.Name DESC, LastName") == [
        "Hopper", "Liskov", "Lovelace", "Turing"
    ]


def test_it_provides_a_composite_sort_key_consistent_with_sort():
    query = q("SELECT Id FROM Contact ORDER BY Age__c DESC NULLS FIRST, LastName")
    rows = ROWS + [{"LastName": "a2", "Age__c": 1}]

    by_key = sorted(rows, key=lambda row: query.sort_key(row))

    assert by_key == query.sort(rows)


def test_it_applies_filter_order_offset_and_limit_together():
    soql = "SELECT Id FROM Contact WHERE Age__c > 30 ORDER BY Age__c DESC LIMIT 2 OFFSET 1"

    assert names(soql) == ["Liskov", "Turing"]


def test_it_applies_limit_and_offset_without_order_by_in_input_order_from_any_iterable():
    query = q("SELECT Id FROM Contact WHERE Email != null LIMIT 1 OFFSET 1")

    assert [row["LastName"] for row in query.apply(iter(CONTACTS))] == ["Hopper"]
    assert q("SELECT Id FROM Contact LIMIT 0").apply(CONTACTS) == []


def test_it_rejects_an_offset_above_2000():
    caught = error("SELECT Id FROM Contact LIMIT 10 OFFSET 2001")

    assert caught.code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert caught.detail == "Maximum SOQL offset allowed is 2000"
    assert q("SELECT Id FROM Contact OFFSET 2000").offset == 2000


# --------------------------------------------------------------------------- projection


def test_it_projects_a_row_in_salesforce_json_shape_with_nested_relationships():
    query = q("SELECT Id, LastName, Account.Name, Account.Owner.Email, Owner.Name, Account.Id FROM Contact")

    row = query.project(CONTACTS[0], resolve)

    assert row == {
        "attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{CONTACTS[0]['Id']}"},
        "Id": CONTACTS[0]["Id"],
        "LastName": "Lovelace",
        "Account": {
            "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{A1}"},
            "Name": "Acme",
            "Owner": {
                "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{U1}"},
                "Email": "owner@example.com",
            },
            "Id": A1,
        },
        "Owner": {
            "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{U1}"},
            "Name": "Olive Owner",
        },
    }
    assert list(row) == ["attributes", "Id", "LastName", "Account", "Owner"]


def test_it_projects_an_empty_reference_as_null():
    query = q("SELECT Id, Account.Name, Account.Owner.Email FROM Contact")

    assert query.project(CONTACTS[2], resolve)["Account"] is None
    assert query.project(CONTACTS[1], resolve)["Account"]["Owner"] is None


def test_it_projects_missing_fields_as_null_and_uses_the_given_api_version():
    row = q("SELECT Id, Email, NumberOfChildren__c FROM Contact").project(
        {"Id": sfid("003", 9)}, api_version="v61.0"
    )

    assert row == {
        "attributes": {"type": "Contact", "url": f"/services/data/v61.0/sobjects/Contact/{sfid('003', 9)}"},
        "Id": sfid("003", 9),
        "Email": None,
        "NumberOfChildren__c": None,
    }


# --------------------------------------------------------------------------- errors


def test_it_rejects_an_unknown_field_with_invalid_field():
    caught = error("SELECT Id, Nme FROM Contact")

    assert caught.code == "INVALID_FIELD"
    assert caught.message == (
        "\nSELECT Id, Nme FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nme' on entity 'Contact'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names."
    )
    assert caught.as_dict() == {"message": caught.message, "errorCode": "INVALID_FIELD"}
    assert str(caught).startswith("INVALID_FIELD: \nSELECT Id, Nme")


def test_it_rejects_an_unknown_field_in_where_and_order_by():
    assert error("SELECT Id FROM Contact WHERE Foo = 'x'").detail.startswith(
        "No such column 'Foo' on entity 'Contact'."
    )
    assert error("SELECT Id FROM Contact ORDER BY Bar").column == 33


def test_it_rejects_an_unknown_object_with_invalid_type():
    caught = error("SELECT Id FROM Contacts")

    assert caught.code == "INVALID_TYPE"
    assert caught.detail == (
        "sObject type 'Contacts' is not supported. If you are attempting to use a custom object, be sure to "
        "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )
    assert (caught.row, caught.column) == (1, 16)


def test_it_rejects_an_unknown_relationship_with_invalid_field():
    caught = error("SELECT Id, Acount.Name FROM Contact")

    assert caught.code == "INVALID_FIELD"
    assert caught.detail == (
        "Didn't understand relationship 'Acount' in field path. If you are attempting to use a custom "
        "relationship, be sure to append the '__r' after the custom relationship name. Please reference your "
        "WSDL or the describe call for the appropriate names."
    )


def test_it_names_the_related_entity_when_a_relationship_field_is_unknown():
    caught = error("SELECT Account.Owner.Phone FROM Contact")

    assert caught.detail.startswith("No such column 'Phone' on entity 'User'.")


def test_it_rejects_syntax_errors_with_malformed_query_and_location():
    caught = error("SELECT Id FROM Contact WHERE LastName = 'x' LIMIT")

    assert caught.code == "MALFORMED_QUERY"
    assert caught.detail == "unexpected token: '<EOF>'"
    assert caught.message.endswith("ERROR at Row:1:Column:50\nunexpected token: '<EOF>'")


@pytest.mark.parametrize(
    ("soql", "detail"),
    [
        ("SELECT FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT * FROM Contact", "unexpected token: '*'"),
        ("SELECT Id FROM Contact WHERE LastName = \"x\"", "unexpected token: '\"'"),
        ("SELECT Id FROM Contact WHERE LastName == 'x'", "unexpected token: '='"),
        ("SELECT Id FROM Contact WHERE (LastName = 'x'", "expecting a right parentheses, found '<EOF>'"),
        ("SELECT Id FROM Contact WHERE LastName IN 'x'", "expecting a left parentheses, found ''x''"),
        ("SELECT Id FROM Contact WHERE LastName = :name", "Bind variables only allowed in Apex code"),
        ("SELECT Id FROM Contact WHERE LastName = 'x", "mismatched character '<EOF>' expecting '''"),
        ("SELECT Id FROM Contact LIMIT 1.5", "unexpected token: '1.5'"),
        ("SELECT Id FROM Contact OFFSET 1 LIMIT 1", "unexpected token: 'LIMIT'"),
        ("SELECT Id FROM Contact WHERE Birthdate = 2024-02-30", "Invalid date: 2024-02-30"),
    ],
)
def test_it_reports_malformed_queries_with_salesforce_wording(soql, detail):
    caught = error(soql)

    assert (caught.code, caught.detail) == ("MALFORMED_QUERY", detail)


def test_it_reports_row_and_column_in_multi_line_queries():
    caught = error("SELECT Id\nFROM Contact\nWHERE Email = 'x' AND Nope = 1")

    assert (caught.row, caught.column) == (3, 23)
    assert caught.message.startswith("\nWHERE Email = 'x' AND Nope = 1\n                      ^\nERROR at Row:3:Column:23\n")


def test_it_rejects_an_empty_query():
    caught = error("   ")

    assert (caught.code, caught.message) == ("MALFORMED_QUERY", "SOQL statements cannot be empty or null")


def test_it_rejects_a_field_selected_twice():
    caught = error("SELECT Id, LastName, lastname FROM Contact")

    assert (caught.code, caught.detail) == ("INVALID_FIELD", "duplicate field selected: LastName")


@pytest.mark.parametrize(
    ("condition", "field", "expected_type", "quoting"),
    [
        ("LastName = 5", "LastName", "string", "should be"),
        ("Email = 2024-01-01", "Email", "string", "should be"),
        ("CreatedDate > '2024-01-01T00:00:00Z'", "CreatedDate", "dateTime", "should not be"),
        ("CreatedDate > 2024-01-01", "CreatedDate", "dateTime", "should not be"),
        ("Birthdate = 2024-01-01T00:00:00Z", "Birthdate", "date", "should not be"),
        ("HasOptedOutOfEmail = 'true'", "HasOptedOutOfEmail", "boolean", "should not be"),
        ("Age__c IN (1, '2')", "Age__c", "integer", "should not be"),
        ("NumberOfChildren__c = '2'", "NumberOfChildren__c", "double", "should not be"),
        ("Email LIKE 5", "Email", "string", "should be"),
    ],
)
def test_it_rejects_filter_values_of_the_wrong_type_with_invalid_field(condition, field, expected_type, quoting):
    caught = error(f"SELECT Id FROM Contact WHERE {condition}")

    assert caught.code == "INVALID_FIELD"
    assert caught.detail == (
        f"value of filter criterion for field '{field}' must be of type {expected_type} "
        f"and {quoting} enclosed in quotes"
    )


def test_it_rejects_a_malformed_id_literal():
    caught = error("SELECT Id FROM Contact WHERE AccountId = 'abc'")

    assert (caught.code, caught.detail) == ("INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: abc")


# --------------------------------------------------------------------------- larger sets


def test_it_filters_sorts_and_limits_a_large_set_like_a_full_scan_would():
    records = [
        {
            "Id": sfid("003", n),
            "LastName": f"Name{n % 977}",
            "Email": f"user{n}@{'example.com' if n % 3 else 'other.org'}",
            "HasOptedOutOfEmail": n % 7 == 0,
            "SystemModstamp": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.000+0000",
        }
        for n in range(5_000)
    ]
    query = q(
        "SELECT Id, Email FROM Contact WHERE SystemModstamp > 2024-06-01T00:00:00Z "
        "AND Email LIKE '%@example.com' AND HasOptedOutOfEmail = false "
        "ORDER BY SystemModstamp DESC, Id LIMIT 200"
    )

    result = query.apply(records, resolve)

    expected = sorted(
        (r for r in records if r["SystemModstamp"] > "2024-06-01T00:00:00.000+0000"
         and r["Email"].endswith("@example.com") and not r["HasOptedOutOfEmail"]),
        key=lambda r: r["Id"],
    )
    expected.sort(key=lambda r: r["SystemModstamp"], reverse=True)
    assert [r["Id"] for r in result] == [r["Id"] for r in expected[:200]]
