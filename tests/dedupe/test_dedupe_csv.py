import csv

import pytest
from django.core.management import CommandError, call_command


def write(path, rows):
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_it_writes_every_row_and_gives_duplicates_one_cluster(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [
        ["ID", "First_Name", "last_name", "email", "phone", "company", "notes"],
        ["a", "Jane", "Francis", "jane@acme.com", "+49 30 1234567", "Acme GmbH", "met at fair"],
        ["b", "Jane F", "", "j.francis@gmail.com", "030 1234567", "ACME", ""],
        ["c", "Tom", "Baker", "tom@baker.com", "", "", ""],
        ["", "Bill", "Smith", "bill@smith.com", "", "", ""],
        ["e", "William", "SMITH", "BILL@smith.com ", "", "", ""],
    ])
    call_command("dedupe_csv", str(source), str(target))
    rows = read(target)
    assert [r["id"] for r in rows] == ["a", "b", "c", "4", "e"]
    cluster = {r["id"]: r["cluster_id"] for r in rows}
    assert cluster["a"] == cluster["b"] and cluster["4"] == cluster["e"]
    assert len({cluster["a"], cluster["c"], cluster["4"]}) == 3


def test_it_complains_about_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("dedupe_csv", str(tmp_path / "nope.csv"), str(tmp_path / "out.csv"))


def test_it_complains_about_a_file_without_known_columns(tmp_path):
    source = tmp_path / "in.csv"
    write(source, [["name", "mail"], ["Jane", "jane@acme.com"]])
    with pytest.raises(CommandError, match="none of the columns"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_it_refuses_a_threshold_outside_0_1(tmp_path):
    source = tmp_path / "in.csv"
    write(source, [["email"], ["jane@acme.com"]])
    with pytest.raises(CommandError, match="threshold"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"), threshold=1.5)


# --- files it cannot read whole: a clear error with the line, never a traceback or a lost row ----
def test_a_latin_1_file_is_refused_with_its_line_and_the_option_to_pass(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("id,last_name\n1,Meyer\n2,Müller\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"line 3: byte 0xfc is not utf-8 text.*--encoding latin-1"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_a_latin_1_file_is_read_with_encoding_latin_1(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes("id,first_name,last_name\n1,Jürgen,Müller\n2,Jurgen,Mueller\n".encode("latin-1"))
    call_command("dedupe_csv", str(source), str(target), encoding="latin-1")
    assert [r["id"] for r in read(target)] == ["1", "2"]


def test_a_utf_8_file_with_a_byte_order_mark_is_read_as_utf_8(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes("\ufeffid,last_name\n1,Müller\n".encode())
    call_command("dedupe_csv", str(source), str(target))
    assert [r["id"] for r in read(target)] == ["1"]


def test_an_unknown_encoding_is_refused(tmp_path):
    source = tmp_path / "in.csv"
    write(source, [["email"], ["jane@acme.com"]])
    with pytest.raises(CommandError, match="no such encoding"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"), encoding="klingon")


def test_an_unterminated_quote_is_refused_with_the_line_it_opens_on_instead_of_swallowing_the_rest(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text('id,email\n1,jane@acme.com\n2,"tom@baker.com\n3,bill@smith.com\n4,ann@example.com\n')
    with pytest.raises(CommandError, match=r"line 3: a quote opened in this row is never closed"):
        call_command("dedupe_csv", str(source), str(target))
    assert not target.exists()  # nothing half-written


def test_a_stray_quote_after_a_quoted_field_is_refused_with_its_line(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('id,email\n1,jane@acme.com\n2,"tom@baker.com"x\n')
    with pytest.raises(CommandError, match=r"line 3: .*must be doubled"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_a_huge_field_is_refused_with_its_line(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(f'id,email,company\n1,jane@acme.com,Acme\n2,tom@baker.com,"{"x" * (csv.field_size_limit() + 10)}"\n')
    with pytest.raises(CommandError, match=r"line 3: a field is longer than"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_a_quoted_field_over_several_lines_is_one_row(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text('id,email,company\n1,jane@acme.com,"Acme\nGmbH"\n2,tom@baker.com,Baker\n')
    call_command("dedupe_csv", str(source), str(target))
    assert [r["id"] for r in read(target)] == ["1", "2"]


def test_ragged_rows_and_repeated_ids_are_counted_and_still_written(tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("id,email,company\n1,jane@acme.com\n1,tom@baker.com,Baker,extra\n3,ann@example.com,Ann Co\n")
    call_command("dedupe_csv", str(source), str(target))
    said = capsys.readouterr().err
    assert "2 rows have another number of fields than the header (first on line 2)" in said
    assert "1 rows repeat an id" in said
    assert [r["id"] for r in read(target)] == ["1", "1", "3"]


def test_another_id_column_is_named_with_id_column(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [["contact_no", "email"], ["C-1", "jane@acme.com"], ["C-2", "tom@baker.com"]])
    call_command("dedupe_csv", str(source), str(target), id_column="contact_no")
    assert [r["id"] for r in read(target)] == ["C-1", "C-2"]
    with pytest.raises(CommandError, match="no column 'customer'"):
        call_command("dedupe_csv", str(source), str(target), id_column="customer")


def test_the_command_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    import os
    import subprocess
    import sys

    source = tmp_path / "in.csv"
    source.write_bytes("id,last_name\n1,Müller\n".encode("latin-1"))
    done = subprocess.run([sys.executable, "manage.py", "dedupe_csv", str(source), str(tmp_path / "out.csv")],
                          capture_output=True, text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.test_settings"})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "line 2: byte 0xfc" in done.stderr


def clusters(path):
    return {r["id"]: r["cluster_id"] for r in read(path)}


def test_an_exact_key_column_joins_rows_that_agree_and_parts_rows_that_differ(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [
        ["id", "first_name", "last_name", "customer_no", "city", "ignored"],
        ["a", "Jane", "Francis", "K-100", "Berlin", "x"],
        ["b", "J.", "Francis", "k-100", "", "y"],
        ["c", "Tom", "Baker", "K-200", "Bonn", ""],
        ["d", "Tom", "Baker", "K-201", "Bonn", ""],
    ])
    call_command("dedupe_csv", str(source), str(target), "--exact-key", "Customer_No")
    cluster = clusters(target)
    assert cluster["a"] == cluster["b"]
    assert cluster["c"] != cluster["d"]


def test_exact_key_is_repeatable(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [
        ["id", "first_name", "last_name", "customer_no", "tax_id"],
        ["a", "Jane", "Francis", "K-1", ""],
        ["b", "Jane", "Francis", "", "DE123"],
        ["c", "Jane", "Francis", "K-1", "DE123"],
        ["d", "Jane", "Francis", "", "DE999"],
    ])
    call_command("dedupe_csv", str(source), str(target), "--exact-key", "customer_no", "--exact-key", "tax_id")
    cluster = clusters(target)
    assert cluster["a"] == cluster["b"] == cluster["c"] != cluster["d"]


def test_a_birth_date_column_matches_typo_level_differences_and_parts_other_dates(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [
        ["id", "first_name", "last_name", "dob"],
        ["a", "Anna", "Berg", "1980-05-07"],
        ["b", "Anna", "Berg", "07.05.1980"],
        ["c", "Anna", "Berg", "1980-07-05"],
        ["d", "Olga", "Nowak", "1971-03-14"],
        ["d2", "Olga", "Nowak", "1971-03-15"],
        ["e", "Anna", "Berg", "1962-11-23"],
        ["f", "Tom", "Baker", "1980-05-07"],
    ])
    call_command("dedupe_csv", str(source), str(target), "--birth-date", "DOB")
    cluster = clusters(target)
    assert cluster["a"] == cluster["b"] == cluster["c"]  # written another way; day and month swapped
    assert cluster["d"] == cluster["d2"]  # one digit
    assert len({cluster["a"], cluster["e"], cluster["f"]}) == 3


def test_without_a_birth_date_column_the_same_rows_stay_apart(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [["id", "first_name", "last_name", "dob"], ["a", "Anna", "Berg", "1980-05-07"], ["b", "Anna", "Berg", "1980-05-07"]])
    call_command("dedupe_csv", str(source), str(target))
    cluster = clusters(target)
    assert cluster["a"] != cluster["b"]


def test_it_complains_about_a_missing_id_column(tmp_path):
    source = tmp_path / "in.csv"
    write(source, [["first_name", "last_name", "email"], ["Jane", "Francis", "jane@acme.com"]])
    with pytest.raises(CommandError, match="no id column"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_it_complains_about_an_empty_file(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))


def test_it_complains_about_a_key_column_the_file_does_not_have(tmp_path):
    source = tmp_path / "in.csv"
    write(source, [["id", "first_name", "last_name"], ["a", "Jane", "Francis"]])
    with pytest.raises(CommandError, match="no column customer_no"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"), "--exact-key", "customer_no")
    with pytest.raises(CommandError, match="no column dob"):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"), "--birth-date", "dob")


def test_a_header_only_file_gives_a_header_only_result(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, [["id", "first_name", "last_name"]])
    call_command("dedupe_csv", str(source), str(target))
    assert read(target) == []


def test_exact_keys_and_birth_dates_on_a_generated_file(tmp_path):
    """Over generated people, a shared customer number and birth date find duplicates whose
    names alone would not, and a differing one keeps namesakes apart."""
    import random

    rng = random.Random(5)
    rows, expected = [["id", "first_name", "last_name", "customer_no", "birthdate"]], {}
    for k in range(60):
        first, last = rng.choice(["Anna", "Jan", "Olga", "Piotr"]), rng.choice(["Berg", "Nowak", "Smith"])
        day = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append([f"p{k}", first, last, f"K{k}", day])
        expected[f"p{k}"] = k
        if k % 3 == 0:  # the same person again, surname cut to an initial and the day and month swapped
            y, m, d = day.split("-")
            rows.append([f"p{k}b", first, last[0], f"k{k}", f"{y}-{d}-{m}" if int(d) <= 12 else day])
            expected[f"p{k}b"] = k
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(source, rows)
    call_command("dedupe_csv", str(source), str(target), "--exact-key", "customer_no", "--birth-date", "birthdate")
    cluster = clusters(target)
    for a, person_a in expected.items():
        for b, person_b in expected.items():
            assert (cluster[a] == cluster[b]) == (person_a == person_b), (a, b)
