from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from contoso_images.accounts import views as accounts
from contoso_images.core import views

#: A 500 says what is known: an htmx click may have been queued before the server failed.
handler500 = "contoso_images.core.failures.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("login/", accounts.SignInView.as_view(), name="login"),
    path("logout/", accounts.sign_out, name="logout"),
    path("auth/", include("contoso_images.accounts.urls")),
    path("", include("vmops.urls")),
    path("", include("vmops.capture.urls")),
    path("catalog/", include("catalog.urls")),
    path("audit/", include("contoso_images.audit.urls")),
    path("notifications/", include("contoso_images.operations.urls")),
    path("admin/", admin.site.urls),
]
