"""The sandboxes' state, one module per vendor."""
from .salesforce import (
    SandboxField,
    SandboxOrg,
    SandboxQueryChunk,
    SandboxQueryCursor,
    SandboxRecord,
    SandboxRecordKey,
    SandboxToken,
)

__all__ = [
    "SandboxField",
    "SandboxOrg",
    "SandboxQueryChunk",
    "SandboxQueryCursor",
    "SandboxRecord",
    "SandboxRecordKey",
    "SandboxToken",
]
