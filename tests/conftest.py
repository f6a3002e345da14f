import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls
# (factories, assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # This machine has no internet: keep Chromium from trying to phone home.
        "args": ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    }

# Fixtures that serve the vendor sandboxes over real HTTP for connector and browser tests.
pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture
def vendor_without_connector(monkeypatch):
    """Zoho CRM as if its connector were not written yet: every operation says so (every
    vendor has a connector now; a new one starts like this)."""
    from connectors import registry

    vendor = registry.VENDORS["zoho_crm"]
    monkeypatch.setitem(registry.VENDORS, "zoho_crm", registry.Vendor(**{**vendor.__dict__, "connector_path": ""}))
    return "zoho_crm"
