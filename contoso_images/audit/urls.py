from __future__ import annotations

from django.urls import path

from contoso_images.audit import views
from contoso_images.core import converters  # noqa: F401 - registers <id:...>

app_name = "audit"

urlpatterns = [
    path("", views.audit_index, name="audit_index"),
    path("events/<id:sequence>/", views.event_detail, name="event_detail"),
    path("export/", views.audit_export, name="audit_export"),
    path("captures/", views.capture_history, name="capture_history"),
    path("operations/<id:operation_id>/", views.operation_detail, name="operation_detail"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint_list"),
    path("checkpoints/all.jsonl", views.checkpoint_download_all, name="checkpoint_download_all"),
    path("checkpoints/<id:pk>.json", views.checkpoint_download, name="checkpoint_download"),
    path("chain/verify/", views.chain_verify, name="chain_verify"),
    path("chain/status/", views.chain_status, name="chain_status"),
]
