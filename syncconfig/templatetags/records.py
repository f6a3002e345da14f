"""Records as people meet them on the portal's pages: an id that opens the record in its
vendor's app where the connection tells how."""
from django import template
from django.utils.html import format_html

from connectors.registry import record_url

register = template.Library()


@register.simple_tag
def sync_record_link(sync, end: str, object_name: str, record_id) -> str:
    """A record of ``sync``'s ``end`` ("source" or "target"), linked into its app."""
    return record_link(sync.target if end == "target" else sync.source, object_name, record_id)


@register.simple_tag
def record_link(connection, object_name: str, record_id) -> str:
    """``record_id`` in code type, linked into ``connection``'s app when it has a link."""
    if not record_id:
        return "—"
    url = record_url(connection.kind, connection.base_url, object_name, str(record_id)) if connection is not None else None
    if url is None:
        return format_html("<code>{}</code>", record_id)
    return format_html('<a href="{}" target="_blank" rel="noopener noreferrer" title="Open in {}"><code>{}</code></a>',
                       url, connection.get_kind_display(), record_id)
