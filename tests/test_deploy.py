"""Scale-out settings: tasks survive a lost worker, workers have distinct names, Redis works."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from celery.utils.nodenames import host_format
from honcho.environ import expand_processes, parse_procfile

from portal.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_a_task_is_acknowledged_when_done_and_put_back_when_its_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def broker_settings(tmp_path, broker_url):
    """The broker settings as a process started with ``CELERY_BROKER_URL=broker_url`` sees them."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "CELERY_BROKER_URL": broker_url,
           "VAR_DIR": str(tmp_path), "SECRET_KEY": "test", "CREDENTIALS_KEYS": "nS0dpPMaNn0cPTmHTl4bTtLdpv6mBWgLDvXU4F1k6VY="}
    code = ("from portal.celery import app; c = app.conf; "
            "print(repr((c.broker_url, c.broker_transport_options, c.task_acks_late, c.task_reject_on_worker_lost)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr


def test_redis_waits_hours_before_it_redelivers_an_unacknowledged_task(tmp_path):
    url, options, acks_late, reject = broker_settings(tmp_path, "redis://127.0.0.1:6379/0")
    assert url == "redis://127.0.0.1:6379/0" and acks_late and reject
    # Longer than Redis's own default (an hour), which a long run outlasts; the reaper
    # takes over a dead worker's run long before.
    assert options["visibility_timeout"] >= 6 * 3600


def test_the_embedded_broker_keeps_its_folders_and_late_acks(tmp_path):
    url, options, acks_late, reject = broker_settings(tmp_path, "")
    assert url == "filesystem://" and acks_late and reject
    assert "visibility_timeout" not in options
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "celery" / "queue")


def test_the_redis_transport_is_installed_with_the_portal():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    celery = [d for d in dependencies if re.match(r"celery\b", d)]
    assert celery and re.match(r"celery\[[^]]*\bredis\b", celery[0])


def procfile():
    return parse_procfile((ROOT / "Procfile").read_text()).processes


def node_names(concurrency):
    """Each worker's node name as honcho (``honcho start -c worker=N``) and Celery make it."""
    names = []
    for process in expand_processes({"worker": procfile()["worker"]}, concurrency={"worker": concurrency}, env={}):
        # The shell honcho runs the line with expands ${...}; printf shows the arguments it got.
        command = process.cmd.split(" ", 1)[1]
        args = subprocess.run(["sh", "-c", f"printf '%s\\n' {command}"], env={**os.environ, **process.env},
                              capture_output=True, text=True, check=True).stdout.splitlines()
        flag = next(i for i, arg in enumerate(args) if arg in ("-n", "--hostname"))
        names.append(host_format(args[flag + 1], host="portal-1.example"))
    return names


def test_every_worker_started_from_the_procfile_has_its_own_node_name():
    assert node_names(1) == ["worker.1@portal-1.example"]
    names = node_names(3)
    assert len(set(names)) == 3 and all(name.endswith("@portal-1.example") for name in names)


def test_env_example_documents_every_variable_the_procfile_reads():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    read = {name for cmd in procfile().values() for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", cmd)}
    assert {"WEB_PORT", "SANDBOX_PORT"} <= read
    assert read - {"HONCHO_PROCESS_NAME"} <= documented  # honcho sets that one itself
