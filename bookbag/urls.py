from django.contrib import admin
from django.urls import include, path

from bookbag import health
from bookbag.admin_login import RateLimitedAdminAuthenticationForm

admin.site.site_header = "Bookbag administration"
admin.site.site_title = "Bookbag"
admin.site.login_form = RateLimitedAdminAuthenticationForm  # shares the inbox's sign-in limits

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("bookbag.api")),
    path("", include("integrations.urls")),
    path("", include("tickets.urls")),
]
