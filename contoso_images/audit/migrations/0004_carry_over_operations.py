"""Every operation recorded before the audit record began becomes events, so no history is lost.

Each Operation row gives ``<kind>.requested`` at its request time and, once it has ended,
``<kind>.succeeded`` or ``<kind>.failed`` at its end, with the requester, target, ARM error
and ids, duration and a link to the operation. All of them are chained in time order
(request and end events interleaved as they happened). Memory stays small: only
(time, id, phase) triples are sorted; rows are read back in batches.
"""

from __future__ import annotations

from django.db import migrations
from django.utils import timezone

BATCH = 1000
CARRIED = "Carried over from the operations table when the audit record began."


def carry_over(apps, schema_editor):
    from contoso_images.audit import chain

    Operation = apps.get_model("operations", "Operation")
    Event = apps.get_model("audit", "AuditEvent")
    Head = apps.get_model("audit", "AuditChainHead")
    if Event.objects.exists():
        return
    moments = []
    for pk, requested_at, finished_at, status in Operation.objects.values_list(
        "pk", "requested_at", "finished_at", "status"
    ).iterator(chunk_size=BATCH):
        moments.append((requested_at, pk, 0))
        if finished_at is not None and status in ("succeeded", "failed"):
            moments.append((finished_at, pk, 1))
    if not moments:
        return
    moments.sort()
    sequence, prev_hash = 0, chain.GENESIS
    for start in range(0, len(moments), BATCH):
        batch = moments[start : start + BATCH]
        operations = Operation.objects.select_related("requested_by").in_bulk(
            {pk for _, pk, _ in batch}
        )
        rows = []
        for _, pk, phase in batch:
            sequence += 1
            values = _values(operations[pk], phase)
            values.update(sequence=sequence, prev_hash=prev_hash)
            values["hash"] = prev_hash = chain.event_hash(values)
            rows.append(Event(**values))
        Event.objects.bulk_create(rows)
    Head.objects.update_or_create(
        pk=1, defaults={"sequence": sequence, "hash": prev_hash, "updated_at": timezone.now()}
    )


def _values(op, phase):
    from contoso_images.audit import chain

    user = op.requested_by
    username = user.username if user else ""
    display = (f"{user.first_name} {user.last_name}".strip() or username) if user else ""
    ended = phase == 1
    failed = ended and op.status == "failed"
    duration = None
    if ended and op.started_at and op.finished_at:
        duration = max(0, round((op.finished_at - op.started_at).total_seconds() * 1000))
    result = {}
    if ended:
        result = {k: v for k, v in (op.state or {}).items() if k != "sent"}
        if failed and op.step:
            result["failed_step"] = op.step
    return {
        "version": chain.FORMAT_VERSION,
        "occurred_at": op.finished_at if ended else op.requested_at,
        "action": f"{op.kind}.{op.status if ended else 'requested'}",
        "outcome": op.status if ended else "accepted",
        "actor_user_id": user.pk if user else None,
        "actor_username": username,
        "actor_display": display[:300],
        "source_ip": "",
        "user_agent": "",
        "target_kind": op.target_type,
        "target_id": op.target_id,
        "target_key": op.target_id.lower(),
        "target_name": op.target_name,
        "parameters": chain.canonical_json(op.parameters or {}),
        "result": chain.canonical_json(result),
        "detail": (op.error_summary if failed else "") or CARRIED,
        "error_code": op.error_code if failed else "",
        "error_message": op.error_message if failed else "",
        "request_id": op.request_id if ended else "",
        "correlation_id": op.correlation_id if ended else "",
        "duration_ms": duration,
        "operation_id": op.pk,
        "related_kind": "",
        "related_id": "",
    }


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_append_only_triggers"),
        ("operations", "0003_outcome_seen_at"),
    ]

    # Backwards: nothing to undo (the events go with the table when 0002 is reversed).
    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
