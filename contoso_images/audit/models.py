"""The audit record: append-only events in one hash chain, signed checkpoints, verification runs.

Every column of an :class:`AuditEvent` except its hash goes into the hash (``chain.py``), so
no column can change unnoticed. The models refuse updates and deletes, the admin is
read-only and database triggers (``guards.py``) refuse them too; on PostgreSQL the role the
application runs as may only INSERT and SELECT these tables (``roles.py``). Events are only
added by ``services.record`` (or ``record_many``), which numbers and chains them under a lock.
The chain's head is its newest event: there is no separate head row to rewrite.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.db import models


class AuditPermission(models.Model):
    """Anchor for the auditors' permissions, which belong to the audit record as a whole.

    Unmanaged and table-less: it exists so that ``audit.view_audit`` and
    ``audit.export_audit`` are real Django permissions that groups can hold.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_audit", "Can see the audit log and capture history"),
            ("export_audit", "Can export the audit log"),
        ]

    def __str__(self) -> str:
        return "Audit permissions"


class AppendOnlyError(Exception):
    """Someone tried to change or remove an audit record, or to add one outside the chain."""


class Outcome(models.TextChoices):
    """How an action ended, as far as this event knows."""

    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    #: Stopped on request before it completed.
    CANCELED = "canceled", "Canceled"
    #: Asked for and queued; a later event of the same operation says how it ended.
    ACCEPTED = "accepted", "Accepted"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Bulk changes are refused like single ones: ``update()`` and ``delete()`` raise."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: update refused.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: delete refused.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: update refused.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        if not all(getattr(obj, "_chained", False) for obj in objs):
            raise AppendOnlyError(
                f"{self.model.__name__} rows are added by contoso_images.audit.services only."
            )
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnlyModel(models.Model):
    """A row that can be written once, by the audit services, and never changed."""

    #: Set by the services on a row they have numbered and chained.
    _chained: bool = False

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only: update refused.")
        if not self._chained:
            raise AppendOnlyError(
                f"{type(self).__name__} rows are added by contoso_images.audit.services only."
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: delete refused.")


class AuditEvent(AppendOnlyModel):
    """One state-changing action or refusal, as it was, chained to the event before it.

    Values are copied, not referenced: the actor's name and the target's name stay as they
    were when it happened, and the link to an operation is its id (operations are never
    deleted, and the record must outlive any change to other tables).
    """

    #: Gap-free position in the chain, from 1; the primary key, so no two events share one.
    sequence = models.PositiveBigIntegerField(primary_key=True)
    #: Format of the hashed content (``chain.FORMAT_VERSION``).
    version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField(db_index=True)
    #: Dotted name: ``vm.deallocate.requested``, ``auth.login``, ``catalog.review.approve``.
    action = models.CharField(max_length=120, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    #: The user as they were (id, username, display name); empty for the system.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    actor_display = models.CharField(max_length=300, blank=True)
    #: The client's address, through the trusted proxies only (``AUDIT_TRUSTED_PROXIES``).
    source_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    #: What was acted on: an ARM resource type (or ``user``, ``url``, ``audit``), its id
    #: (an ARM resource id where there is one) and its name.
    target_kind = models.CharField(max_length=120, blank=True)
    target_id = models.CharField(max_length=400, blank=True)
    #: ``target_id`` lower-cased (ARM ids are case-insensitive): what is matched.
    target_key = models.CharField(max_length=400, blank=True, db_index=True)
    target_name = models.CharField(max_length=300, blank=True)
    #: What was asked for, as canonical JSON text (hashed exactly as stored).
    parameters = models.TextField(default="{}")
    #: What came of it (ids created, state learned), as canonical JSON text.
    result = models.TextField(default="{}")
    #: A sentence: why it was refused, how it ended, what a step found.
    detail = models.TextField(blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    #: The operation (engine row) this event belongs to.
    operation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    #: Anything else it belongs to, e.g. ``("catalog.review", "42")``.
    related_kind = models.CharField(max_length=60, blank=True)
    related_id = models.CharField(max_length=100, blank=True)
    #: The hash of the event before it (``chain.GENESIS`` for the first).
    prev_hash = models.CharField(max_length=64)
    #: SHA-256 over the canonical content of every other column.
    hash = models.CharField(max_length=64)

    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ()
        indexes = [
            models.Index(fields=["related_kind", "related_id"]),
            # The filtered log and the capture history (migration 0007); the free-text
            # index is not a Django index (``search.py``).
            models.Index(
                fields=["outcome", "action", "-sequence"], name="audit_event_outcome_action"
            ),
            models.Index(
                fields=["action", "-sequence", "operation_id"], name="audit_event_action_seq"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} ({self.outcome})"

    @property
    def parameters_data(self) -> Any:
        return json.loads(self.parameters or "{}")

    @property
    def result_data(self) -> Any:
        return json.loads(self.result or "{}")

    @property
    def skip_reason(self) -> str:
        """Why a capture step was skipped, as the capture recorded it: ``skip_reason`` in the
        step's result or parameters, else the skipped step's detail (the engine's reason);
        empty when it said nothing."""
        for data in (self.result_data, self.parameters_data):
            reason = data.get("skip_reason") if isinstance(data, dict) else None
            if isinstance(reason, str) and reason.strip():
                return reason.strip()
        if self.action.endswith(".skipped"):
            return self.detail.strip()
        return ""

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration_ms is None else self.duration_ms / 1000


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement that the chain reached ``sequence`` with ``head_hash`` at a time.

    The chain alone cannot show that its newest events were cut off; a checkpoint (kept
    here, and downloaded to be kept elsewhere) can. Signed with HMAC-SHA-256 using the
    checkpoint key, which the database does not hold.
    """

    created_at = models.DateTimeField()
    sequence = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    #: Which key signed it (the first hex digits of the key's SHA-256), for key rotation.
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)

    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class AuditVerification(AppendOnlyModel):
    """One run of the chain verification, for the chain status panel.

    Append-only like the events, and signed with the checkpoint key (which the database does
    not hold): the panel shows a run only if its signature holds, so a row added with the
    database credentials cannot show a verification that never ran.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    events = models.PositiveBigIntegerField(default=0)
    head_sequence = models.PositiveBigIntegerField(default=0)
    checkpoints = models.PositiveIntegerField(default=0)
    #: The first problem found, in words (empty when the chain is intact).
    first_problem = models.TextField(blank=True)
    #: ``command``, ``schedule``, ``events`` (every AUDIT_CHECKPOINT_EVENTS) or ``page``.
    source = models.CharField(max_length=20)
    #: Which key signed it, and the HMAC-SHA-256 over every other column (``signing.py``).
    key_id = models.CharField(max_length=16, default="")
    signature = models.CharField(max_length=64, default="")

    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-finished_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"verification {'ok' if self.ok else 'BROKEN'} at {self.finished_at}"
