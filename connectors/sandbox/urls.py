"""The sandbox server's URLconf: Salesforce at the root; other vendors under a prefix."""
from django.urls import include, path

urlpatterns = [
    path("activecampaign/", include("connectors.sandbox.activecampaign.urls")),
    path("hubspot/", include("connectors.sandbox.hubspot.urls")),
    path("zoho/", include("connectors.sandbox.zoho.urls")),
    path("", include("connectors.sandbox.salesforce.urls")),
]
