from __future__ import annotations

from django.urls import path

from contoso_images.accounts import views

app_name = "accounts"

urlpatterns = [
    path("microsoft/", views.start, name="start"),
    # Registered as the app's redirect URI in Entra ID (exactly, trailing slash included).
    path("callback/", views.callback, name="callback"),
]
