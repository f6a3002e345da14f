"""Zoho's routes, mounted under ``zoho/``. An organisation's three base URLs stand in for
Zoho's hosts: ``…/zoho/<org>/accounts`` (https://accounts.zoho.<dc>), ``…/zoho/<org>``
(the API domain, https://www.zohoapis.<dc>) and ``…/zoho/<org>/campaigns``
(https://campaigns.zoho.<dc>); clients append the vendor's own paths to them."""
from django.urls import re_path

from . import campaigns_views, crm_views, oauth

_ORG = r"^(?P<org>[-\w]+)/"
_CRM = _ORG + r"crm/v2/"
_CAMPAIGNS = _ORG + r"campaigns/api/v1\.1/"

urlpatterns = [
    re_path(_ORG + r"accounts/oauth/v2/token/?$", oauth.token),
    re_path(_ORG + r"accounts/oauth/v2/token/revoke/?$", oauth.revoke),
    re_path(_CRM + r"coql/?$", crm_views.coql),
    re_path(_CRM + r"settings/fields/?$", crm_views.field_list),
    re_path(_CRM + r"settings/modules/?$", crm_views.module_list),
    re_path(_CRM + r"org/?$", crm_views.organisation),
    re_path(_CRM + r"users/?$", crm_views.users),
    re_path(_CRM + r"actions/watch/?$", crm_views.watch),
    re_path(_CRM + r"(?P<module>\w+)/?$", crm_views.record_list),
    re_path(_CRM + r"(?P<module>\w+)/upsert/?$", crm_views.record_upsert),
    re_path(_CRM + r"(?P<module>\w+)/deleted/?$", crm_views.record_deleted),
    re_path(_CRM + r"(?P<module>\w+)/search/?$", crm_views.record_search),
    re_path(_CRM + r"(?P<module>\w+)/(?P<record_id>\d+)/?$", crm_views.record_detail),
    re_path(_CAMPAIGNS + r"json/listsubscribe/?$", campaigns_views.listsubscribe),
    re_path(_CAMPAIGNS + r"json/listunsubscribe/?$", campaigns_views.listunsubscribe),
    re_path(_CAMPAIGNS + r"addlistsubscribersinbulk/?$", campaigns_views.addlistsubscribersinbulk),
    re_path(_CAMPAIGNS + r"getmailinglists/?$", campaigns_views.getmailinglists),
    re_path(_CAMPAIGNS + r"getlistsubscribers/?$", campaigns_views.getlistsubscribers),
    re_path(_CAMPAIGNS + r"listsubscriberscount/?$", campaigns_views.listsubscriberscount),
    re_path(_CAMPAIGNS + r"getlistsegments/?$", campaigns_views.getlistsegments),
    re_path(_CAMPAIGNS + r"getsegmentcontacts/?$", campaigns_views.getsegmentcontacts),
    re_path(_CAMPAIGNS + r"contact/allfields/?$", campaigns_views.allfields),
]
