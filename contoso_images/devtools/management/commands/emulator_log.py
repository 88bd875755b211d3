"""``manage.py emulator_log``: the ARM emulator's request log as a table."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Print the last requests the ARM emulator answered (or clear the log)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
        parser.add_argument("--clear", action="store_true", help="empty the log")
        parser.add_argument(
            "--state", default=None, help="state file (default: settings.AZURE_EMULATOR_STATE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from contoso_images.arm_emulator import Emulator

        emulator = Emulator(options["state"] or getattr(settings, "AZURE_EMULATOR_STATE", None))
        if options["clear"]:
            emulator.clear_request_log()
            self.stdout.write(self.style.SUCCESS("Request log cleared."))
            return
        entries = emulator.request_log()[-max(1, options["limit"]) :]
        if not entries:
            self.stdout.write("The request log is empty.")
            return
        self.stdout.write(
            f"{'id':>7}  {'time (UTC)':<23}  {'method':<6}  {'status':>6}  {'answer':<9}  "
            f"{'ms':>8}  path  [caller: the token's app id or user, over HTTPS]"
        )
        for e in entries:
            # 0: dropped or timed out before it took effect; "lost": it took effect, and the
            # client got a 5xx, a timeout or a dropped connection instead of the answer.
            status = "none" if e.status == 0 else str(e.status)
            answer = f"lost {e.lost}" if e.lost else ("not sent" if e.status == 0 else "sent")
            self.stdout.write(
                f"{e.id:>7}  {e.at.strftime('%Y-%m-%d %H:%M:%S.%f')[:23]:<23}  {e.method:<6}  "
                f"{status:>6}  {answer:<9}  {e.duration_ms:>8.1f}  {e.path}"
                + (f"  [{e.caller}]" if e.caller else "")
            )
