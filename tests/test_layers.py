"""The apps depend on each other one way: ``dedupe`` (duplicates) builds on ``syncconfig``
(configuration and the engine), never the reverse, and only through its public services and
models; modules that queue work are not imported by the work they queue."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports(package: str):
    """(module path, imported module, imported names) for every import in a package's code."""
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield module, alias.name, []
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against the importing module's package
                    parent = module.split(".")[: -node.level]
                    base = ".".join(parent + ([base] if base else []))
                yield module, base, [alias.name for alias in node.names]


def test_syncconfig_never_imports_dedupe():
    offending = [(m, target) for m, target, _ in imports("syncconfig") if target.split(".")[0] == "dedupe"]
    assert offending == []


def test_dedupe_uses_only_the_public_services_and_models_of_syncconfig():
    allowed = {"syncconfig.services", "syncconfig.models", "syncconfig.duplicates"}
    offending = [(m, target, names) for m, target, names in imports("dedupe")
                 if target.startswith("syncconfig") and (target not in allowed or any(n.startswith("_") for n in names))]
    assert offending == []


@pytest.mark.parametrize("package, executors", [
    ("dedupe", {"dedupe.merging", "dedupe.services", "dedupe.matching"}),
    ("syncconfig", {"syncconfig.engine", "syncconfig.integrations.hubspot_salesforce", "syncconfig.integrations.person_accounts"}),
])
def test_the_code_that_does_the_work_never_imports_the_tasks_that_run_it(package, executors):
    offending = [(m, target) for m, target, _ in imports(package) if target == f"{package}.tasks" and m in executors]
    assert offending == []
