"""Vendor sandboxes: the vendors' APIs emulated, served by `manage.py sandbox serve`."""
