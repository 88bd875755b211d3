"""``manage.py audit_verify``: walk the audit chain and report its first broken link.

Checks every event's hash against its content, every link to the event before, the gap-free
numbering, the chain head, every stored checkpoint and any checkpoint files given, and that
the database triggers still guard the tables. Exit status 1 on any problem.
With ``--archive FILE`` it verifies an exported JSON Lines archive instead (no database read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contoso_images.audit.chain import Report
from contoso_images.audit.services.verification import archive_verify, chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit record's hash chain (and checkpoints); exit status 1 and the first "
        "broken link when it was edited, cut, or had events removed, inserted or reordered."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a checkpoint file downloaded earlier (JSON or JSON Lines); may repeat",
        )
        parser.add_argument(
            "--archive",
            metavar="FILE",
            help="verify this exported JSON Lines archive instead of the database",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files = [Path(name) for name in options["checkpoint"]]
        for path in files:
            if not path.is_file():
                raise CommandError(f"No checkpoint file at {path}.")
        if options["archive"]:
            archive = Path(options["archive"])
            if not archive.is_file():
                raise CommandError(f"No archive at {archive}.")
            report = archive_verify(archive, checkpoint_files=files)
            what = f"the archive {archive.name}"
        else:
            report = chain_verify(checkpoint_files=files, source="command")
            what = "the audit record"
        self._print(report, what)
        if not report.ok:
            raise CommandError(f"BROKEN: {report.first_problem}", returncode=1)

    def _print(self, report: Report, what: str) -> None:
        span = f"#{report.first_sequence}–#{report.last_sequence}" if report.events else "no event"
        self.stdout.write(
            f"Checked {report.events:,} events of {what} ({span}) and "
            f"{report.checkpoints} checkpoint{'s' if report.checkpoints != 1 else ''}."
        )
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
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
