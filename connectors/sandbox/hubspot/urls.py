"""HubSpot's routes, mounted under ``hubspot/``: ``<account>/crm/v3/…`` and the other API
paths (an account's base URL, standing in for ``https://api.hubapi.com``, is
``…/hubspot/<account>``), ``<account>/app/…`` the vendor app."""
from django.urls import path, re_path

from . import app_views, contact_views, other_views, webhook_views

_ACCOUNT = r"^(?P<account>[-\w]+)/"
_CONTACTS = _ACCOUNT + r"crm/v3/objects/(?:contacts|0-1)"

urlpatterns = [
    re_path(_CONTACTS + r"/?$", contact_views.contact_list),
    re_path(_CONTACTS + r"/batch/(?P<action>\w+)/?$", contact_views.contact_batch),
    re_path(_CONTACTS + r"/search/?$", contact_views.contact_search),
    re_path(_CONTACTS + r"/merge/?$", contact_views.contact_merge_view),
    re_path(_CONTACTS + r"/(?P<object_id>[^/]+)/?$", contact_views.contact_detail),
    re_path(_ACCOUNT + r"crm/v3/objects/notes/?$", other_views.note_list),
    re_path(_ACCOUNT + r"crm/v3/objects/notes/(?P<object_id>[^/]+)/?$", other_views.note_detail),
    re_path(_ACCOUNT + r"crm/v4/objects/contacts/(?P<object_id>[^/]+)/associations/notes/?$",
            other_views.contact_note_associations),
    re_path(_ACCOUNT + r"crm/v3/properties/(?P<object_type>[-\w]+)/?$", other_views.property_list),
    re_path(_ACCOUNT + r"crm/v3/properties/(?P<object_type>[-\w]+)/(?P<name>[^/]+)/?$", other_views.property_detail),
    re_path(_ACCOUNT + r"account-info/v3/details/?$", other_views.account_details),
    re_path(_ACCOUNT + r"webhooks/v3/(?P<app_id>[^/]+)/settings/?$", webhook_views.settings_detail),
    re_path(_ACCOUNT + r"webhooks/v3/(?P<app_id>[^/]+)/subscriptions/?$", webhook_views.subscription_list),
    re_path(_ACCOUNT + r"webhooks/v3/(?P<app_id>[^/]+)/subscriptions/(?P<subscription_id>[^/]+)/?$",
            webhook_views.subscription_detail),
    path("<slug:account>/app/contacts", app_views.contact_list),
    path("<slug:account>/app/contacts/<int:number>", app_views.contact_detail),
    path("<slug:account>/app/contacts/<int:number>/notes", app_views.contact_note_add),
    path("<slug:account>/app/contacts/<int:number>/merge", app_views.contact_merge),
    path("<slug:account>/app/contacts/<int:number>/archive", app_views.contact_archive),
    path("<slug:account>/app/webhooks", app_views.webhook_list),
]
