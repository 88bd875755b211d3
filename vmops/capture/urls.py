from __future__ import annotations

from django.urls import path

from contoso_images.core import converters  # noqa: F401 - registers <id:...>
from vmops.capture import views

app_name = "capture"

urlpatterns = [
    path("vms/<id:pk>/capture/", views.capture_start, name="capture_start"),
    path("captures/", views.capture_list, name="capture_list"),
    path("captures/<id:pk>/", views.capture_detail, name="capture_detail"),
    path(
        "captures/by-operation/<id:operation_pk>/",
        views.capture_by_operation,
        name="capture_by_operation",
    ),
    path("captures/<id:pk>/cancel/", views.capture_cancel, name="capture_cancel"),
    path("captures/<id:pk>/retry/", views.capture_retry, name="capture_retry"),
    path("captures/<id:pk>/abandon/", views.capture_abandon, name="capture_abandon"),
    path(
        "captures/<id:pk>/delete-partial/",
        views.capture_delete_partial,
        name="capture_delete_partial",
    ),
]
