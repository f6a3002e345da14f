from cryptography.fernet import Fernet

from portal import envfile


def test_it_fills_in_fresh_keys_and_keeps_the_rest(tmp_path):
    target = tmp_path / ".env"
    envfile.main(["envfile", str(target)])
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and not line.startswith("#"))
    assert len(values["SECRET_KEY"]) > 50
    Fernet(values["CREDENTIALS_KEYS"].encode())  # a valid key
    assert values["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_it_never_overwrites_an_existing_file(tmp_path):
    target = tmp_path / ".env"
    target.write_text("SECRET_KEY=mine\n")
    envfile.main(["envfile", str(target)])
    assert target.read_text() == "SECRET_KEY=mine\n"
