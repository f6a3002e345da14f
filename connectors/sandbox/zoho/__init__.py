"""Emulated Zoho: the accounts (OAuth) server, Zoho CRM's records API (v2) and Zoho
Campaigns' API v1.1, each under ``/zoho/<organisation>/``."""
