"""ActiveCampaign's routes, mounted under ``activecampaign/``: ``<account>/api/3/…`` is the
API (an account's "API URL" is ``…/activecampaign/<account>``), ``<account>/app/…`` the app."""
from django.urls import path, re_path

from . import app_views, contact_views, field_views, import_views, list_views, tag_views, user_views, webhook_views

_API = r"^(?P<account>[-\w]+)/api/3/"
_ID = r"(?P<number>[^/]+)/?$"

urlpatterns = [
    re_path(_API + r"contacts/?$", contact_views.contact_list),
    re_path(_API + r"contact/sync/?$", contact_views.contact_sync),
    re_path(_API + r"contacts/(?P<number>[^/]+)/fieldValues/?$", contact_views.contact_field_values),
    re_path(_API + r"contacts/(?P<number>[^/]+)/contactTags/?$", contact_views.contact_contact_tags),
    re_path(_API + r"contacts/(?P<number>[^/]+)/contactLists/?$", contact_views.contact_contact_lists),
    re_path(_API + r"contacts/(?P<number>[^/]+)/contactAutomations/?$", contact_views.contact_contact_automations),
    re_path(_API + r"contacts/" + _ID, contact_views.contact_detail),
    re_path(_API + r"fields/?$", field_views.field_list),
    re_path(_API + r"fields/" + _ID, field_views.field_detail),
    re_path(_API + r"fieldRels/?$", field_views.field_rel_create),
    re_path(_API + r"fieldOption/bulk/?$", field_views.field_options_bulk),
    re_path(_API + r"fieldValues/?$", field_views.field_value_create),
    re_path(_API + r"fieldValues/" + _ID, field_views.field_value_detail),
    re_path(_API + r"tags/?$", tag_views.tag_list),
    re_path(_API + r"tags/" + _ID, tag_views.tag_detail),
    re_path(_API + r"contactTags/?$", tag_views.contact_tag_create),
    re_path(_API + r"contactTags/" + _ID, tag_views.contact_tag_detail),
    re_path(_API + r"lists/?$", list_views.list_list),
    re_path(_API + r"lists/" + _ID, list_views.list_detail),
    re_path(_API + r"contactLists/?$", list_views.contact_list_create),
    re_path(_API + r"automations/?$", list_views.automation_list),
    re_path(_API + r"automations/" + _ID, list_views.automation_detail),
    re_path(_API + r"contactAutomations/?$", list_views.contact_automation_list),
    re_path(_API + r"contactAutomations/" + _ID, list_views.contact_automation_detail),
    re_path(_API + r"webhooks/?$", webhook_views.webhook_list),
    re_path(_API + r"webhooks/" + _ID, webhook_views.webhook_detail),
    re_path(_API + r"webhook/events/?$", webhook_views.webhook_events),
    re_path(_API + r"users/me/?$", user_views.user_me),
    re_path(_API + r"import/bulk_import/?$", import_views.bulk_import),
    re_path(_API + r"import/info/?$", import_views.import_info),
    path("<slug:account>/app/contacts", app_views.contact_list),
    path("<slug:account>/app/contacts/<int:number>", app_views.contact_detail),
    path("<slug:account>/app/contacts/<int:number>/tags", app_views.contact_tag_add),
    path("<slug:account>/app/contacts/<int:number>/tags/<int:applied>/remove", app_views.contact_tag_remove),
    path("<slug:account>/app/webhooks", app_views.webhook_list),
]
