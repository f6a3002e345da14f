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
