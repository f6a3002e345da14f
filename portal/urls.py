from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import captures, views

admin.site.site_header = "CRM integration portal"
admin.site.site_title = "CRM integration portal"
admin.site.index_title = "Configuration"
admin.site.site_url = None  # the header links to the dashboard instead

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(template_name="admin/login.html", extra_context={"site_header": admin.site.site_header}), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("captures/", captures.captures_overview, name="captures"),
    path("captures/push/", captures.captures_push, name="captures_push"),
    path("captures/import/", captures.captures_import, name="captures_import"),
    path("captures/<int:pk>/not-duplicate/", captures.capture_not_duplicate, name="capture_not_duplicate"),
    path("", include("syncconfig.urls")),
    path("duplicates/", include("dedupe.urls")),
]
