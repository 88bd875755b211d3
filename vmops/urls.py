from __future__ import annotations

from django.urls import path

from vmops import views

app_name = "vmops"

urlpatterns = [
    path("vms/", views.vm_list, name="vm_list"),
    path("audit/", views.audit_index, name="audit_index"),
]
