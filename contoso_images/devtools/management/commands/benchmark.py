"""``manage.py benchmark``: the figures of every benchmark module, measured in a sandbox.

The measurements run in a child process (``benchmark --inner``) whose database and ARM
emulator are temporary files, deleted afterwards; the child gets no Redis, no Azure
credentials and no ``.env``, so the demo's database, emulator and task queue are never touched.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings
from django.utils import timezone

#: Each module has ``run(**options) -> list[tuple[str, str]]``; options it lacks are not passed.
BENCHMARK_MODULES = (
    "contoso_images.devtools.benchmarks.arm_listing",
    "contoso_images.devtools.benchmarks.vmops",
    "contoso_images.devtools.benchmarks.catalog",
    "contoso_images.devtools.benchmarks.audit",
    "contoso_images.devtools.benchmarks.transport",
    "contoso_images.devtools.benchmarks.sync",
    "contoso_images.devtools.benchmarks.deploy",
    "contoso_images.devtools.benchmarks.prices",
)
#: Each in a sandbox of its own: they need an empty database (the VM benchmark leaves thousands
#: of VMs in the shared one).
OWN_SANDBOX_MODULES = (
    "contoso_images.devtools.benchmarks.deploy",
    "contoso_images.devtools.benchmarks.prices",
)
#: Run only when asked for with --only (minutes of real-cluster work).
ON_REQUEST_MODULES = ("contoso_images.devtools.benchmarks.soak",)
SANDBOX_MARKER = "CONTOSO_BENCHMARK_SANDBOX"
#: --quick: the extra VMs each section gets, and the audit log's size.
QUICK_VMS = 30
#: Variables the sandbox must not inherit: they could point it at real data or services.
INHERITED_PREFIXES_DROPPED = ("AZURE_", "DATABASE_", "REDIS_", "Q_", "DJANGO_", "AUDIT_")


class Command(BaseCommand):
    help = (
        "Measure the list page, row polls, inventory sync, ARM listing and click-to-task-start "
        "latency at scale, in a temporary database and emulator (the demo data is untouched)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--vms",
            type=int,
            default=None,
            help="extra VMs in the large tenant (each benchmark's own default: 10000; sync 100000)",
        )
        parser.add_argument(
            "--skip-cluster",
            action="store_true",
            help="skip the click-to-task-start latency (it starts a real qcluster)",
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="NAME",
            help=(
                "run only this benchmark (arm_listing, vmops, catalog, audit, sync, deploy, "
                "prices, soak); repeatable"
            ),
        )
        parser.add_argument(
            "--operations",
            type=int,
            default=500,
            help="operations in the fault soak (--only soak; 500)",
        )
        parser.add_argument(
            "--audit-events",
            type=int,
            default=None,
            help="events in the large audit log (1,000,000)",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help=(
                "every section at a small size, to show that none is broken (CI): fails on an "
                "exception, never on a time; starts no qcluster (as --skip-cluster)"
            ),
        )
        parser.add_argument("--inner", metavar="RESULT_FILE", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["vms"] is not None and options["vms"] < 1:
            raise CommandError("--vms must be at least 1.")
        if options["audit_events"] is not None and options["audit_events"] < 1:
            raise CommandError("--audit-events must be at least 1.")
        known = {path.rsplit(".", 1)[-1] for path in BENCHMARK_MODULES + ON_REQUEST_MODULES}
        unknown = set(options["only"]) - known
        if unknown:
            names, choices = ", ".join(sorted(unknown)), ", ".join(sorted(known))
            raise CommandError(f"No benchmark named {names}; known: {choices}.")
        if options["inner"]:
            self._measure(Path(options["inner"]), options)
        else:
            self._sandboxed(options)

    # --- Parent: build the sandbox, run the child, print the table ----------------------------

    def _sandboxed(self, options: dict[str, Any]) -> None:
        """Run the selected sections in a child process on a temporary database, and each
        section that needs an empty database in a child of its own."""
        selected = _selected(options["only"])
        shared = [m for m in selected if m not in OWN_SANDBOX_MODULES]
        groups = ([shared] if shared else []) + [[m] for m in selected if m in OWN_SANDBOX_MODULES]
        sections: list[dict[str, Any]] = []
        started = time.perf_counter()
        for group in groups:
            sections += self._child(options, [path.rsplit(".", 1)[-1] for path in group])
        self._print(sections, options, time.perf_counter() - started)

    def _child(self, options: dict[str, Any], only: list[str]) -> list[dict[str, Any]]:
        sandbox = Path(tempfile.mkdtemp(prefix="contoso-benchmark-"))
        try:
            result = sandbox / "result.json"
            command = [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "benchmark",
                "--inner",
                str(result),
            ]
            if options["vms"] is not None:
                command += ["--vms", str(options["vms"])]
            if options["skip_cluster"]:
                command.append("--skip-cluster")
            if options["quick"]:
                command.append("--quick")
            if options["audit_events"] is not None:
                command += ["--audit-events", str(options["audit_events"])]
            for name in only:
                command += ["--only", name]
            command += ["--operations", str(options["operations"])]
            child = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
                command, cwd=settings.BASE_DIR, env=_sandbox_environment(sandbox), check=False
            )
            if child.returncode != 0 or not result.exists():
                raise CommandError(
                    f"The benchmark failed (exit code {child.returncode}); see the output above."
                )
            sections: list[dict[str, Any]] = json.loads(result.read_text())
            return sections
        finally:
            shutil.rmtree(sandbox, ignore_errors=True)

    def _print(
        self, sections: list[dict[str, Any]], options: dict[str, Any], elapsed: float
    ) -> None:
        cores = os.cpu_count() or 0
        rows: list[tuple[str, str, str]] = []
        for section in sections:
            machine = f"{cores} cores, load {section['load_before']} -> {section['load_after']}"
            rows.append((f"[{section['module']}]", f"{section['seconds']:.1f} s", machine))
            rows += [(f"  {label}", value, machine) for label, value in section["rows"]]
        width = max(len(label) for label, _, _ in rows)
        value_width = max(len("value"), *(len(value) for _, value, _ in rows))
        now = timezone.localtime()
        self.stdout.write(f"Contoso Images benchmark, {now:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(
            f"Machine: {cores} cores, {platform.machine()}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}; load average "
            f"(1, 5, 15 min) now {_load()}"
        )
        if options["quick"]:
            self.stdout.write(
                "Quick run: every section at a small size and no qcluster, to show that it "
                "runs; these figures say nothing about speed."
            )
        self.stdout.write(
            f"Sandbox: temporary SQLite database and ARM emulator (durations 0), "
            f"{_vms_label(QUICK_VMS if options['quick'] else options['vms'])}, "
            f"{options['audit_events'] or (2000 if options['quick'] else 1_000_000):,} audit "
            f"events, 2 task workers; {elapsed:.0f} s in all"
        )
        self.stdout.write("")
        self.stdout.write(
            f"{'figure':<{width}} | {'value':<{value_width}} | machine while measured "
            "(cores, 1-minute load average at the section's start -> end)"
        )
        self.stdout.write(f"{'-' * width}-+-{'-' * value_width}-+-{'-' * 20}")
        for label, value, machine in rows:
            self.stdout.write(f"{label:<{width}} | {value:<{value_width}} | {machine}")

    # --- Child: measure inside the sandbox ----------------------------------------------------

    def _measure(self, result: Path, options: dict[str, Any]) -> None:
        if os.environ.get(SANDBOX_MARKER) != "1":
            raise CommandError("--inner only runs in the sandbox that `manage.py benchmark` makes.")
        call_command("migrate", interactive=False, verbosity=0)
        sections = []
        # The manifest storage needs collectstatic; the plain one gives the same page.
        plain_static = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=plain_static):
            for module_path in _selected(options["only"]):
                run = import_module(module_path).run
                vms = QUICK_VMS if options["quick"] else options["vms"]
                offered = {
                    **({"vms": vms} if vms is not None else {}),
                    **(
                        {"events": options["audit_events"]}
                        if options["audit_events"] is not None
                        else {}
                    ),
                    "quick": options["quick"],
                    "operations": options["operations"],
                    # A quick run starts no qcluster: its start alone takes longer than the rest.
                    "cluster": not (options["skip_cluster"] or options["quick"]),
                    "progress": lambda message, m=module_path: self.stderr.write(
                        f"  {m}: {message}…"
                    ),
                }
                accepted = inspect.signature(run).parameters
                self.stderr.write(f"Running {module_path}…")
                load_before = _load(one=True)
                started = time.perf_counter()
                rows = run(**{k: v for k, v in offered.items() if k in accepted})
                sections.append(
                    {
                        "module": module_path,
                        "seconds": time.perf_counter() - started,
                        "load_before": load_before,
                        "load_after": _load(one=True),
                        "rows": [[str(label), str(value)] for label, value in rows],
                    }
                )
        result.write_text(json.dumps(sections))


def _load(*, one: bool = False) -> str:
    """The load average (1, 5 and 15 minutes, or the 1-minute one): figures on a busy machine
    are slower, and this says how busy it was."""
    try:
        averages = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{averages[0]:.2f}" if one else ", ".join(f"{a:.2f}" for a in averages)


def _vms_label(vms: int | None) -> str:
    if vms is None:
        return "each benchmark's own number of extra VMs"
    return f"{vms:,} extra VMs"


def _selected(only: list[str]) -> tuple[str, ...]:
    if not only:
        return BENCHMARK_MODULES
    return tuple(
        path for path in BENCHMARK_MODULES + ON_REQUEST_MODULES if path.rsplit(".", 1)[-1] in only
    )


def _sandbox_environment(sandbox: Path) -> dict[str, str]:
    """The child's environment: inherited basics, then only what the sandbox sets itself."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(INHERITED_PREFIXES_DROPPED)
    }
    env.update(
        {
            SANDBOX_MARKER: "1",
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "contoso_images.settings"
            ),
            "DJANGO_DEBUG": "false",
            # The child runs `benchmark --inner`, which only exists where devtools is installed.
            "DJANGO_DEVTOOLS": "true",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost,testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite:///{sandbox / 'benchmark.sqlite3'}",
            "AZURE_MODE": "emulator",
            "AZURE_EMULATOR_STATE": str(sandbox / "arm-emulator.sqlite3"),
            # Its checkpoints stay in the sandbox: appended to the checkout's trail (var/),
            # signed with the benchmark's key, they made the demo's verification fail.
            "AUDIT_CHECKPOINT_KEY_FILE": str(sandbox / "audit_checkpoint_key"),
            "AUDIT_CHECKPOINT_TRAIL": str(sandbox / "audit-trail" / "checkpoints.jsonl"),
            "AUDIT_CHECKPOINT_SYSLOG": "off",
            "Q_WORKERS": "2",
        }
    )
    return env
