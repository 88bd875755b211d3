"""Entra ID identities in the admin: read-only (they are made and refreshed by sign-in)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from contoso_images.accounts.models import EntraIdentity


@admin.register(EntraIdentity)
class EntraIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("upn", "display_name", "tenant_id", "object_id", "last_sign_in_at")
    search_fields = ("upn", "display_name", "object_id", "user__username")
    readonly_fields = [f.name for f in EntraIdentity._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
