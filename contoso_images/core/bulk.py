"""Inserting many rows of one model quickly: ``bulk_create`` without its per-value cost.

``bulk_create`` builds a model instance per row and sends every value through its field's
whole preparation chain (``pre_save``, ``get_db_prep_save``, ``get_prep_value``,
``to_python``); for the first sync of 100,000 VMs of 20 columns that was most of the sync's
database time. Here rows are plain mappings, each column's treatment is chosen once (JSON and
date-times through the database backend's own adapters, so SQLite and PostgreSQL get what
``bulk_create`` would give them; other columns as they are, so give them the Python type the
column holds), and the rows go in one ``executemany`` per batch. Like ``bulk_create``: no
signals, no ``save()``; unlike it, the primary keys are not read back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from django.db import connections, models, router


def _adapter(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any] | None:
    """How a value of ``field`` reaches the driver: None when it goes as it is."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def adapt_json(value: Any) -> Any:
            if value is None:
                return field.get_db_prep_save(value, connection)
            return connection.ops.adapt_json_value(value, encoder)

        return adapt_json
    if isinstance(field, models.DateTimeField):
        adapt_datetime: Callable[[Any], Any] = connection.ops.adapt_datetimefield_value
        return adapt_datetime
    if isinstance(field, models.CharField | models.TextField | models.BooleanField):
        return None
    if isinstance(field, models.IntegerField) or (field.is_relation and field.many_to_one):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, batch_size: int = 500
) -> int:
    """INSERT ``rows`` of ``model``, each a mapping of field ``attname`` (``subscription_id``
    for a foreign key) to value; a field left out gets its default. Returns how many.

    An auto primary key is left to the database. A model with ``auto_now`` fields is
    refused: their values come from ``pre_save``, which this does not run."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    if any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields):
        raise ValueError(f"{model.__name__} has auto_now fields; use bulk_create for it.")
    defaults = {f.attname: f.get_default() for f in fields}
    values_of = itemgetter(*(f.attname for f in fields))
    adapted = [
        (i, adapt)
        for i, adapt in enumerate(_adapter(f, connection) for f in fields)
        if adapt is not None
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    def prepared(row: Mapping[str, Any]) -> list[Any]:
        values = list(values_of({**defaults, **row}))
        for i, adapt in adapted:
            values[i] = adapt(values[i])
        return values

    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, [prepared(row) for row in rows[start : start + batch_size]])
    return len(rows)
