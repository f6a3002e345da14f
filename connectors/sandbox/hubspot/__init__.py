"""The HubSpot CRM v3 API emulated: accounts under ``/hubspot/<account>/`` (an account's
base URL stands in for ``https://api.hubapi.com``), contacts, properties, notes, merge and
search at ``crm/v3/``, the app's webhooks at ``webhooks/v3/`` delivered signed after each
change, and a small vendor app at ``app/``."""
