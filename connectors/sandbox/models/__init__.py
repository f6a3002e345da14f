"""The sandboxes' state, one module per vendor."""
from . import activecampaign  # noqa: F401 - registers the ActiveCampaign sandbox models
from . import hubspot  # noqa: F401 - registers the HubSpot sandbox models
from . import zoho  # noqa: F401 - registers the Zoho sandbox models
from .salesforce import (
    SandboxBulkJob,
    SandboxField,
    SandboxOrg,
    SandboxQueryChunk,
    SandboxQueryCursor,
    SandboxQueryJob,
    SandboxQueryJobChunk,
    SandboxRecord,
    SandboxRecordKey,
    SandboxToken,
)

__all__ = [
    "SandboxBulkJob",
    "SandboxField",
    "SandboxOrg",
    "SandboxQueryChunk",
    "SandboxQueryCursor",
    "SandboxQueryJob",
    "SandboxQueryJobChunk",
    "SandboxRecord",
    "SandboxRecordKey",
    "SandboxToken",
]
