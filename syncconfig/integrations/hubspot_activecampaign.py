"""HubSpot → ActiveCampaign: contacts for email marketing, tagged where they came from.

The smallest integration there is, and the example of what adding one takes: this module and
one line in the registry (``integrations._load``). ActiveCampaign keeps contacts by email, so
a contact without one stays out with the reason; a contact the sync creates is tagged, so
that marketing can tell them apart.
"""
from __future__ import annotations

from . import Integration, register

CREATED_TAG = "created-from-hubspot"


@register
class HubSpotActiveCampaignIntegration(Integration):
    key = "hubspot_activecampaign"
    label = "HubSpot → ActiveCampaign (tagged)"
    kinds = frozenset({"hubspot", "activecampaign"})

    def skip_reason(self, direction, record) -> str:
        if direction.target.kind == "activecampaign" and not str(record.fields.get("email") or "").strip():
            return "ActiveCampaign keeps contacts by email, and this contact has none."
        return ""

    def create_tags(self, direction, change) -> list[str]:
        return [CREATED_TAG] if direction.target.kind == "activecampaign" else []

    def after_write(self, direction, written) -> None:
        if direction.target.kind != "activecampaign":
            return
        for change, result in written:
            if change.action == "create" and result.id and result.created is not False and not result.tagged:
                direction.target.add_tags(result.id, [CREATED_TAG])
