from django.urls import path

from . import setup_views, views

urlpatterns = [
    path("syncs/new/", setup_views.sync_setup, name="sync_setup"),
    path("syncs/new/<int:step>/", setup_views.sync_setup, name="sync_setup_step"),
    path("syncs/<int:pk>/", views.sync_detail, name="sync_detail"),
    path("syncs/<int:pk>/preview/", views.sync_preview, name="sync_preview"),
    path("syncs/<int:pk>/run/", views.sync_run_now, name="sync_run_now"),
    path("syncs/<int:pk>/completeness/", views.completeness_check, name="completeness_check"),
    path("syncs/<int:pk>/completeness/<int:check_id>/sync-missing/", views.completeness_sync_missing, name="completeness_sync_missing"),
    path("syncs/<int:pk>/toggle/", views.sync_toggle, name="sync_toggle"),
    path("syncs/<int:pk>/retry/", views.errors_retry, name="errors_retry"),
    path("syncs/<int:pk>/person-accounts/", views.person_account_settings, name="person_account_settings"),
    path("syncs/<int:pk>/hubspot/", views.hubspot_links, name="hubspot_links"),
    path("syncs/<int:pk>/hubspot/links/<int:link_id>/pin/", views.link_pin, name="link_pin"),
    path("syncs/<int:pk>/hubspot/resync/", views.hubspot_resync, name="hubspot_resync"),
    path("syncs/<int:pk>/lemontaps/", views.lemontaps_settings, name="lemontaps_settings"),
    path("syncs/<int:pk>/lemontaps/reauthorise/", views.lemontaps_reauthorise, name="lemontaps_reauthorise"),
    path("syncs/<int:pk>/zoho-campaigns/", views.zoho_campaigns_settings, name="zoho_campaigns_settings"),
    path("syncs/<int:pk>/zoho-legacy/", views.zoho_legacy_settings, name="zoho_legacy_settings"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("captures/<int:pk>/", views.capture_webhook, name="capture_webhook"),
    path("hooks/<int:pk>/", views.connection_webhook, name="connection_webhook"),
    path("hooks/<int:pk>/<str:secret>/", views.connection_webhook_retired, name="connection_webhook_retired"),
]
