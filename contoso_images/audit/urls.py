from __future__ import annotations

from django.urls import path

from contoso_images.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_index, name="audit_index"),
]
