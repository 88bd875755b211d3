"""``manage.py audit_verify``: walk the audit chain and report its first broken link.

Checks every event's hash against its content, every link to the event before, the gap-free
numbering, every checkpoint stored in the database, in the checkpoint trail outside it
(``AUDIT_CHECKPOINT_TRAIL``, whenever the file exists) and in any file given; that the
database guards are as the migrations made them (not missing, disabled, replaced or joined
by other triggers or rules); that every verification run was signed by this application;
and, on PostgreSQL, that the application's role may only INSERT and SELECT the audit tables.

``--checkpoint FILE`` adds a downloaded checkpoint file; ``--checkpoint`` alone insists on the
trail (an error when there is none). With ``--archive FILE`` it verifies an exported JSON
Lines archive instead (no database read), against the files given and, with a bare
``--checkpoint``, the trail.

Exit status: 0 intact and guarded; 1 broken, or guards tampered with; 3 intact, but the
application's database role may do more than INSERT and SELECT the audit tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contoso_images.audit import search
from contoso_images.audit.chain import Report
from contoso_images.audit.services.verification import (
    TrailMissing,
    archive_verify,
    chain_verify,
)

#: The exit status when the chain is intact but its guards are weaker than they should be.
WEAK_GUARDS = 3
TRAIL = ""


class Command(BaseCommand):
    help = (
        "Verify the audit record's hash chain, checkpoints and guards; exit status 1 and the "
        "first broken link when it was edited, cut, or had events removed, inserted or "
        "reordered, or a guard was taken off; 3 when the application's database role may "
        "change audit rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            nargs="?",
            const=TRAIL,
            default=[],
            metavar="FILE",
            help="a checkpoint file downloaded earlier (JSON or JSON Lines); may repeat. "
            "Without FILE: the checkpoint trail (AUDIT_CHECKPOINT_TRAIL), which must exist",
        )
        parser.add_argument(
            "--archive",
            metavar="FILE",
            help="verify this exported JSON Lines archive instead of the database",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        trail = TRAIL in options["checkpoint"]
        files = [Path(name) for name in options["checkpoint"] if name != TRAIL]
        for path in files:
            if not path.is_file():
                raise CommandError(f"No checkpoint file at {path}.")
        try:
            if options["archive"]:
                archive = Path(options["archive"])
                if not archive.is_file():
                    raise CommandError(f"No archive at {archive}.")
                report = archive_verify(archive, checkpoint_files=files, trail=trail)
                what = f"the archive {archive.name}"
            else:
                report = chain_verify(checkpoint_files=files, trail_required=trail)
                what = "the audit record"
        except TrailMissing as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self._print(report, what)
        if not options["archive"]:
            # The search index is derived from the events, not part of the record: a gap in
            # it is said, and does not make the record broken or weakly guarded.
            for problem in search.index_problems():
                self.stdout.write(self.style.WARNING(f"Note: {problem}"))
        if not report.ok:
            raise CommandError(f"BROKEN: {report.first_problem}", returncode=1)
        if report.warnings:
            raise CommandError(
                f"INTACT, BUT WEAKLY GUARDED: {report.warnings[0]}", returncode=WEAK_GUARDS
            )

    def _print(self, report: Report, what: str) -> None:
        span = f"#{report.first_sequence}–#{report.last_sequence}" if report.events else "no event"
        self.stdout.write(
            f"Checked {report.events:,} events of {what} ({span}) and "
            f"{report.checkpoints} checkpoint{'s' if report.checkpoints != 1 else ''}."
        )
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"OK: the chain is intact; its head is #{report.last_sequence} "
                    f"({report.last_hash[:16]}…)."
                )
            )
            if not report.checkpoints:
                self.stdout.write(
                    "Note: no checkpoint yet, so a cut-off tail could not be detected "
                    "(run `manage.py audit_checkpoint`)."
                )
            return
        self.stdout.write(self.style.ERROR(f"First broken link: {report.first_problem}"))
        for problem in report.problems[1:]:
            self.stdout.write(f"  also: {problem}")
