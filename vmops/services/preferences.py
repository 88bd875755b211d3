"""What a user chose to see: the VM list's columns."""

from __future__ import annotations

from contoso_images.core.users import Person
from vmops.models import ListPreference


def list_columns_save(*, user: Person, columns: list[str]) -> None:
    ListPreference.objects.update_or_create(user=user, defaults={"columns": list(columns)})
