from __future__ import annotations

from django.urls import path

from contoso_images.operations import views

app_name = "operations"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("bell/", views.notifications_bell, name="notifications_bell"),
    path("seen/", views.notifications_seen, name="notifications_seen"),
]
