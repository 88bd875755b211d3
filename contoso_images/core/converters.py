"""The ``id`` path converter: an integer primary key as the database can hold it.

``<int:...>`` accepts any number of digits, so ``/vms/99999999999999999999/`` reached the
database with a value beyond a 64-bit integer and failed there (a 500: an OverflowError on
SQLite, a DataError on PostgreSQL). ``<id:...>`` accepts at most 19 digits and at most
2**63 - 1 (the largest signed 64-bit integer, which every primary key column here fits in),
so a larger number does not match the URL at all: a 404, like any other unknown address.
"""

from __future__ import annotations

from django.urls import register_converter

#: The largest value of a signed 64-bit integer (BIGINT, SQLite's INTEGER).
MAX_ID = 2**63 - 1


class IdConverter:
    """Digits only (at most 19), the value at most :data:`MAX_ID`."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            # A ValueError makes the resolver treat the pattern as not matching: a 404.
            raise ValueError(f"{value} is beyond a 64-bit id")
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
