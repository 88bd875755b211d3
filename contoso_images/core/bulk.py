"""Inserting many rows of one model quickly: ``bulk_create`` without its per-value cost.

``bulk_create`` sends every value of every row through its field's whole preparation chain
(``pre_save``, ``get_db_prep_save``, ``get_prep_value``, ``to_python``); for the first sync
of 100,000 VMs of 20 columns that was most of the sync's database time. Here each column's
adapter is chosen once: plain strings, booleans and integers go as they are, JSON and
date-times through the database backend's own adapters (so SQLite and PostgreSQL get what
``bulk_create`` would give them), and anything else through the field as ``bulk_create``
does. The rows go in one ``executemany`` per batch. Like ``bulk_create``: no signals, no
``save()``; unlike it, the primary keys are not read back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router

_PLAIN = (str, bool, int)
#: Fields whose plain values the database takes as they are.
_AS_IS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)


def _adapter(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    def slow(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: (
            slow(value) if value is None else connection.ops.adapt_json_value(value, encoder)
        )
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, _AS_IS) or (field.is_relation and field.many_to_one):
        return lambda value: value if value is None or type(value) in _PLAIN else slow(value)
    return slow


def insert_rows(
    model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = 500
) -> int:
    """INSERT ``objs`` (unsaved instances of ``model``, every value set); returns how many.

    An auto primary key is left to the database. A model with ``auto_now`` fields is
    refused: their values come from ``pre_save``, which this does not run."""
    if not objs:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    adapters = [_adapter(f, connection) for f in fields]
    if any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields):
        raise ValueError(f"{model.__name__} has auto_now fields; use bulk_create for it.")
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    attnames = [f.attname for f in fields]
    pairs = list(zip(attnames, adapters, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            cursor.executemany(
                sql,
                [tuple(adapt(getattr(obj, name)) for name, adapt in pairs) for obj in batch],
            )
    return len(objs)
