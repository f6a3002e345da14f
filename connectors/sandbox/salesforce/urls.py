"""Salesforce's routes, at the sandbox origin's root as on a real instance."""
from django.urls import path, re_path

from . import bulk, bulk_query, composite, oauth, soap, views

_DATA = r"^services/data/v(?P<version>\d+\.\d)"
_OBJECT = _DATA + r"/sobjects/(?P<sobject>\w+)"

urlpatterns = [
    path("services/oauth2/token", oauth.token),
    re_path(r"^id/(?P<org_id>\w{15,18})/(?P<user_id>\w{15,18})/?$", oauth.identity),
    re_path(r"^services/Soap/u/(?P<version>\d+\.\d)(?:/(?P<org_id>\w{15,18}))?/?$", soap.endpoint),
    re_path(r"^services/data/?$", views.versions),
    re_path(_DATA + r"/?$", views.resources),
    re_path(_DATA + r"/limits/?$", views.limits),
    re_path(_DATA + r"/sobjects/?$", views.describe_global),
    re_path(_OBJECT + r"/?$", views.sobject),
    re_path(_OBJECT + r"/describe/?$", views.sobject_describe),
    re_path(_OBJECT + r"/updated/?$", views.updated),
    re_path(_OBJECT + r"/deleted/?$", views.deleted),
    re_path(_OBJECT + r"/(?P<record_id>[^/]+)/?$", views.record),
    re_path(_OBJECT + r"/(?P<field>\w+)/(?P<key>.+?)/?$", views.record_by_key),
    re_path(_DATA + r"/query/?$", views.query),
    re_path(_DATA + r"/queryAll/?$", views.query_all),
    re_path(_DATA + r"/query(?:All)?/(?P<locator>[\w-]+)/?$", views.query_more),
    re_path(_DATA + r"/composite/sobjects/?$", composite.collection),
    re_path(_DATA + r"/composite/sobjects/(?P<sobject>\w+)/?$", composite.retrieve),
    re_path(_DATA + r"/composite/sobjects/(?P<sobject>\w+)/(?P<field>\w+)/?$", composite.upsert),
    re_path(_DATA + r"/jobs/ingest/?$", bulk.jobs),
    re_path(_DATA + r"/jobs/ingest/(?P<job_id>\w{15,18})/?$", bulk.job_detail),
    re_path(_DATA + r"/jobs/ingest/(?P<job_id>\w{15,18})/batches/?$", bulk.job_batches),
    re_path(_DATA + r"/jobs/ingest/(?P<job_id>\w{15,18})/(?P<kind>successfulResults|failedResults|unprocessed[Rr]ecords)/?$",
            bulk.job_results),
    re_path(_DATA + r"/jobs/query/?$", bulk_query.jobs),
    re_path(_DATA + r"/jobs/query/(?P<job_id>\w{15,18})/?$", bulk_query.job_detail),
    re_path(_DATA + r"/jobs/query/(?P<job_id>\w{15,18})/results/?$", bulk_query.job_results),
    # The record's page in the org's app, as ``https://<domain>/<id>`` opens it.
    re_path(r"^(?P<record_id>[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)/?$", views.record_page),
]
