from __future__ import annotations

from django.urls import path

from vmops.capture import views

app_name = "capture"

urlpatterns = [
    path("vms/<int:pk>/capture/", views.capture_start, name="capture_start"),
    path("captures/", views.capture_list, name="capture_list"),
    path("captures/<int:pk>/", views.capture_detail, name="capture_detail"),
    path(
        "captures/by-operation/<int:operation_pk>/",
        views.capture_by_operation,
        name="capture_by_operation",
    ),
    path("captures/<int:pk>/cancel/", views.capture_cancel, name="capture_cancel"),
    path("captures/<int:pk>/retry/", views.capture_retry, name="capture_retry"),
    path("captures/<int:pk>/abandon/", views.capture_abandon, name="capture_abandon"),
    path(
        "captures/<int:pk>/delete-partial/",
        views.capture_delete_partial,
        name="capture_delete_partial",
    ),
]
