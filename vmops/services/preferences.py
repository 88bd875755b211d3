"""What a user chose to see: the VM list's columns."""

from __future__ import annotations

from typing import Any

from vmops.models import ListPreference


def list_columns_save(*, user: Any, columns: list[str]) -> None:
    ListPreference.objects.update_or_create(user=user, defaults={"columns": list(columns)})
