"""``manage.py audit_checkpoint``: verify the chain, then sign a checkpoint of its head.

The checkpoint is kept in the database, appended to the checkpoint trail
(``AUDIT_CHECKPOINT_TRAIL``), sent to syslog, and printed (or written with ``--output``) as
JSON, to be kept somewhere the database's administrators cannot write. A schedule does the
same every ``AUDIT_CHECKPOINT_SECONDS``, and a queued task every ``AUDIT_CHECKPOINT_EVENTS``
events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services.checkpoints import checkpoint_document
from contoso_images.audit.services.trail import CheckpointTrailError
from contoso_images.audit.services.verification import chain_verify_and_checkpoint


class Command(BaseCommand):
    help = "Verify the audit chain and sign a checkpoint of its head (refused if it is broken)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="also write the checkpoint here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report, checkpoint = chain_verify_and_checkpoint(source="command")
        except CheckpointTrailError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if checkpoint is None:
            raise CommandError(
                f"No checkpoint written: the chain is broken. First broken link: "
                f"{report.first_problem}",
                returncode=1,
            )
        document = json.dumps(checkpoint_document(checkpoint), indent=2)
        if options["output"]:
            Path(options["output"]).write_text(document + "\n", encoding="utf-8")
        self.stdout.write(document)
        kept = (
            AuditEvent.objects.filter(action="audit.checkpoint", related_id=str(checkpoint.pk))
            .values_list("result", flat=True)
            .first()
        )
        where = json.loads(kept or "{}")
        self.stderr.write(
            f"Checkpoint of event #{checkpoint.sequence} signed with key {checkpoint.key_id}; "
            f"trail: {where.get('trail', '?')}; syslog: {where.get('syslog', '?')}."
        )
        for warning in report.warnings:
            self.stderr.write(f"Warning: {warning}")
