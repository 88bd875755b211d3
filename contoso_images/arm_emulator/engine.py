"""The :class:`Emulator`: one object per state file, answering ARM requests in process.

``handle()`` is the whole HTTP surface: it applies faults, settles due operations,
dispatches to a handler, adds ARM's standard headers and writes the request log. The
configuration (durations, faults, clock offset) lives in the state file so every
process that opens the same file behaves the same.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from . import (
    clock,
    faults,
    handlers_agreements,
    handlers_marketplace,
    lro,
    recorded,
    retail_prices,
    routes,
    skus,
)
from .catalog import MarketplaceSku
from .errors import ArmError
from .identity import Identity
from .lookup import KIND_VM
from .network import Network
from .seed import TENANT_ID, seed
from .state import RESOURCE_TABLES, Store, get_resource, insert_resource, subscription_rows
from .wire import ArmRequest, Ctx, Response, error_response, new_id

log = logging.getLogger(__name__)

# Demo durations in seconds: long enough to watch a VM go "starting" → "running".
DEFAULT_DURATIONS: dict[str, float] = {
    "start": 6.0,
    "power_off": 5.0,
    "deallocate": 8.0,
    "restart": 6.0,
    "run_command": 10.0,
    "image_create": 8.0,
    "gallery_create": 3.0,
    "gallery_update": 2.0,
    "gallery_image_version_create": 15.0,
    "gallery_image_version_update": 10.0,
    "delete": 5.0,
    "vm_create": 12.0,
}
DEFAULT_PAGE_SIZE = 100
POLL_SLEEP_CAP = 1.0
REQUEST_LOG_KEEP = 20_000


def default_state_path() -> Path:
    """``$AZURE_EMULATOR_STATE``, else ``<repo>/var/azure-emulator.sqlite3``."""
    env = os.environ.get("AZURE_EMULATOR_STATE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "var" / "azure-emulator.sqlite3"


@dataclass(frozen=True)
class RequestLogEntry:
    """One request as the emulator saw it.

    ``status`` is what the emulator did (0: the request was dropped or timed out before
    it took effect). ``lost`` says how the answer was lost after the request took effect
    (``"500"``, ``"503"``, ``"504"``, ``"timeout"`` or ``"drop"``), empty when the client
    got it: an accepted action whose answer was lost is ``status=202, lost="504"``.
    ``caller`` is who the bearer token ARM accepted names (``arm_auth.caller``: an app's
    ``appid``, a person's ``upn`` or ``oid``); empty when no token was checked (in process,
    the Retail Prices API) or the token was refused."""

    id: int
    method: str
    path: str
    status: int
    at: datetime
    duration_ms: float
    lost: str = ""
    caller: str = ""

    @property
    def applied(self) -> bool:
        """Whether the request reached the emulated Azure and was answered 2xx there."""
        return 200 <= self.status < 300


class Emulator:
    """An emulated Azure Resource Manager (Microsoft.Compute + subscriptions)."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, page_size: int | None = None
    ) -> None:
        self.path = Path(path) if path is not None else default_state_path()
        self.store = Store(self.path)
        env_size = os.environ.get("AZURE_EMULATOR_PAGE_SIZE")
        self.page_size = page_size or (int(env_size) if env_size else DEFAULT_PAGE_SIZE)

    @cached_property
    def identity(self) -> Identity:
        """The emulated Entra ID of this state file (people, apps, keys, token checks)."""
        return Identity(self.store)

    @cached_property
    def network(self) -> Network:
        """Server-wide transport faults (refused connections, wrong certificate)."""
        return Network(self.store)

    # --- scenario ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: resources, operations, faults, log, clock offset, durations,
        and the emulated directory (reseeded on next use; its signing keys are kept)."""
        with self.store.write() as conn:
            for table in (
                "meta",
                "fault_queue",
                "operation_failures",
                "request_log",
                *RESOURCE_TABLES,
            ):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self.identity.reset()

    def seed_contoso_pilot(self, extra_vms: int = 0) -> dict[str, int]:
        """Replace all resources with the Contoso pilot (+ ``extra_vms`` generated VMs).

        Durations and faults are kept, so ``set_durations(all=0)`` may come before or after.
        Returns the number of resources of each kind."""
        with self.store.write() as conn:
            return seed(conn, self.now(), extra_vms)

    def add_subscription(
        self, subscription_id: str, display_name: str = "", tenant_id: str = TENANT_ID
    ) -> None:
        """Add a subscription (kept if it exists), e.g. the one a recording used."""
        with self.store.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO subscriptions (id, display_name, tenant_id) "
                "VALUES (?, ?, ?)",
                (subscription_id.lower(), display_name or subscription_id, tenant_id),
            )

    def add_resource_group(self, subscription_id: str, name: str, location: str) -> None:
        """Add a resource group (kept if it exists) to a known subscription."""
        with self.store.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO resource_groups (sub, name_lc, name, location) "
                "VALUES (?, ?, ?, ?)",
                (subscription_id.lower(), name.lower(), name, location),
            )

    def seed_vm(self, body: dict[str, Any]) -> None:
        """Add (or replace) a VM from a body real Azure returned for ``GET …?$expand=
        instanceView`` (docs: ``recorded.py``); its subscription and resource group must
        exist."""
        sub, rg, name, vm_body, emu = recorded.vm_from_recorded(body, self.now())
        with self.store.write() as conn:
            existing = get_resource(conn, KIND_VM, sub, rg, name)
            if existing is not None:
                conn.execute("DELETE FROM resources WHERE seq = ?", (existing.seq,))
            insert_resource(conn, KIND_VM, sub, rg, name, vm_body, emu)

    def add_marketplace_image(
        self,
        publisher: str,
        offer: str,
        sku: str,
        version: str,
        *,
        os_type: str,
        generation: str = "V1",
        plan: bool = False,
        os_disk_gb: int = 0,
        features: dict[str, str] | None = None,
    ) -> None:
        """Serve one more Marketplace image version in every region (this state file).
        ``features`` are the image's name/value features (none by default)."""
        handlers_marketplace.add_image(
            self.store,
            MarketplaceSku(
                publisher,
                offer,
                sku,
                (version,),
                os_type,
                generation,
                plan,
                os_disk_gb,
                tuple((features or {}).items()),
            ),
        )

    def set_quota(self, subscription_id: str, location: str, counter: str, limit: int) -> None:
        """Set a compute quota limit: ``counter`` is ``"cores"`` (Total Regional vCPUs) or a
        family (``"standardDSv5Family"``); kept across reseeds, like durations."""
        with self.store.write() as conn:
            limits = skus.stored_limits(conn)
            limits[f"{subscription_id.lower()}|{location.lower()}|{counter}"] = int(limit)
            self.store.meta_set(skus.LIMITS_KEY, limits)

    def accept_terms(self, subscription_id: str, publisher: str, offer: str, plan: str) -> None:
        """Accept a Marketplace plan's terms for a subscription (``az vm image terms accept``)."""
        with self.store.write() as conn:
            handlers_agreements.set_accepted(
                conn, subscription_id, publisher, offer, plan, True, self.now()
            )

    def is_empty(self) -> bool:
        return not subscription_rows(self.store.conn())

    def subscription_ids(self) -> list[str]:
        return [r[0] for r in subscription_rows(self.store.conn())]

    # --- time and durations ------------------------------------------------------------

    def now(self) -> float:
        return clock.wall() + float(self.store.meta_get("clock_offset", 0.0))

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (every process sharing the file sees it)."""
        with self.store.write():
            offset = float(self.store.meta_get("clock_offset", 0.0))
            self.store.meta_set("clock_offset", offset + float(seconds))

    def durations(self) -> dict[str, float]:
        stored = self.store.meta_get("durations", {}) or {}
        return {**DEFAULT_DURATIONS, **{k: float(v) for k, v in stored.items()}}

    def set_durations(self, **seconds: float) -> None:
        """Set operation durations; ``all=`` sets every one, other keys override it."""
        unknown = set(seconds) - set(DEFAULT_DURATIONS) - {"all"}
        if unknown:
            raise ValueError(f"unknown duration keys: {sorted(unknown)}")
        with self.store.write():
            current = self.durations()
            if "all" in seconds:
                current = dict.fromkeys(current, float(seconds["all"]))
            for key, value in seconds.items():
                if key != "all":
                    current[key] = float(value)
            if any(v < 0 for v in current.values()):
                raise ValueError("durations must be >= 0")
            self.store.meta_set("durations", current)

    def poll_sleep_cap(self) -> float:
        """How long a transport may really sleep: 0 when every duration is 0 (tests)."""
        return 0.0 if all(v == 0 for v in self.durations().values()) else POLL_SLEEP_CAP

    # --- Retail Prices API ---------------------------------------------------------------

    def prices_page_size(self) -> int:
        """Items per page of the Retail Prices API: ``$AZURE_EMULATOR_PRICES_PAGE_SIZE``, else
        the state file's, else the documented 1,000."""
        env = os.environ.get("AZURE_EMULATOR_PRICES_PAGE_SIZE")
        if env:
            return max(1, int(env))
        stored = self.store.meta_get("prices_page_size")
        return max(1, int(stored)) if stored else retail_prices.DEFAULT_PAGE_SIZE

    def set_prices_page_size(self, size: int | None) -> None:
        """Make Retail Prices pages hold ``size`` items in every process (None: 1,000)."""
        self.store.meta_set("prices_page_size", int(size) if size else None)

    # --- faults ------------------------------------------------------------------------

    def set_faults(
        self,
        throttle_rate: float = 0.0,
        server_error_rate: float = 0.0,
        latency_ms: int = 0,
        drop_rate: float = 0.0,
        retry_after: int = 1,
        applied_lost_rate: float = 0.0,
    ) -> None:
        """Share (0..1) of requests answered 429, answered 500/503, dropped before they
        take effect, or (``applied_lost_rate``) applied and then answered 500/503/504, a
        read timeout or a reset connection; ``latency_ms`` is added to every request."""
        cfg = faults.FaultSettings(
            throttle_rate,
            server_error_rate,
            latency_ms,
            drop_rate,
            max(1, int(retry_after)),
            applied_lost_rate,
        )
        self.store.meta_set("faults", cfg.as_dict())

    def fault_settings(self) -> faults.FaultSettings:
        """The effective settings (file values overridden by environment variables)."""
        return faults.settings(self.store.meta_get("faults"))

    def queue_fault(
        self,
        *,
        method: str | None = None,
        path_contains: str = "",
        status: int = 429,
        retry_after: int | None | faults.Default = faults.DEFAULT_RETRY_AFTER,
        drop: bool = False,
        timeout: bool = False,
        applied: bool = False,
        count: int = 1,
    ) -> None:
        """The next ``count`` requests matching method/path get this fault: an error
        ``status``, or a dropped connection (``drop``), or a timeout (``timeout``).

        With ``applied`` the request first takes effect (a POST restart is accepted, the
        VM restarts) and then its answer is lost: the client gets ``status`` (500, 503
        or 504 are what a front door answers), a read timeout, or a reset connection;
        the request log keeps what the emulator did with ``lost`` set. Without it the
        request never reaches the emulated Azure.

        ``retry_after`` left out sends ``Retry-After: 1`` with 429 and 503 only; ``None``
        sends no header. A business error (409/404/400) with one would be retried by the
        SDK without the caller ever seeing it (azure-core retries any response that has
        one)."""
        if drop and timeout:
            raise ValueError("a fault is a drop or a timeout, not both")
        if applied and not (drop or timeout) and int(status) < 500:
            raise ValueError("an applied fault loses the answer: give drop, timeout or a 5xx")
        if isinstance(retry_after, faults.Default):
            retry_after = faults.default_retry_after(int(status))
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO fault_queue (method, path_contains, status, retry_after, drop_conn, "
                "timeout, applied, remaining) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    method.upper() if method else None,
                    path_contains,
                    int(status),
                    retry_after,
                    int(drop),
                    int(timeout),
                    int(applied),
                    int(count),
                ),
            )

    def queue_operation_failure(
        self,
        *,
        path_contains: str = "",
        code: str = "InternalOperationError",
        message: str = "An internal execution error occurred. Please retry later.",
        status: str = "Failed",
        count: int = 1,
    ) -> None:
        """The next ``count`` long-running operations whose initial request path contains
        ``path_contains`` are accepted as usual but end ``status`` with ``{code, message}``.

        That is how Azure reports an operation that went wrong after the 202: the
        operation-status body says ``Failed`` with ``error``, and the SDK raises
        HttpResponseError with status 200; ``status="Canceled"`` with ``OperationPreempted``
        is a superseded one.
        The resource is left as if the operation had not happened (a VM keeps its power
        state and is ``Succeeded`` again); a failed creation leaves it ``Failed``."""
        canonical = {s.lower(): s for s in faults.OPERATION_FAILURE_STATUSES}.get(status.lower())
        if canonical is None:
            raise ValueError(f"status must be one of {faults.OPERATION_FAILURE_STATUSES}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self.store.write() as conn:
            faults.queue_operation_failure(
                conn,
                path_contains=path_contains,
                status=canonical,
                code=code,
                message=message,
                count=count,
            )

    def clear_faults(self) -> None:
        """Forget fault rates, queued request faults and queued operation failures."""
        with self.store.write() as conn:
            conn.execute("DELETE FROM fault_queue")
            conn.execute("DELETE FROM operation_failures")
            conn.execute("DELETE FROM meta WHERE key = 'faults'")
        self.network.clear()

    # --- request log -------------------------------------------------------------------

    def request_log(self, *, since_id: int = 0) -> list[RequestLogEntry]:
        rows = self.store.conn().execute(
            "SELECT id, method, path, status, at, duration_ms, lost, caller FROM request_log "
            "WHERE id > ? ORDER BY id",
            (since_id,),
        )
        return [
            RequestLogEntry(r[0], r[1], r[2], r[3], clock.to_datetime(r[4]), r[5], r[6], r[7])
            for r in rows
        ]

    def clear_request_log(self) -> None:
        with self.store.write() as conn:
            conn.execute("DELETE FROM request_log")

    def _log(
        self,
        req: ArmRequest,
        status: int,
        at: float,
        started: float,
        lost: str = "",
        caller: str = "",
    ) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with self.store.write() as conn:
            cur = conn.execute(
                "INSERT INTO request_log (method, path, status, at, duration_ms, lost, caller) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (req.method, req.path_and_query, status, at, round(elapsed, 3), lost, caller),
            )
            last = int(cur.lastrowid or 0)
            if last % 1000 == 0:
                conn.execute("DELETE FROM request_log WHERE id <= ?", (last - REQUEST_LOG_KEEP,))

    # --- HTTP --------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        authenticate: bool | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one ARM request.

        A fault may answer instead, or raise a ``requests`` exception as a network would:
        ``ConnectionError`` for a dropped connection, ``ConnectTimeout``/``ReadTimeout``
        for a timeout (``faults.py``).

        With ``authenticate`` (the HTTPS server passes True; None follows
        ``identity.require_tokens``) the bearer token is checked first, as ARM's front door
        does, and a missing, forged, expired or wrong-audience token is ARM's 401."""
        started = time.perf_counter()
        req = ArmRequest.parse(method, url, headers, body)
        now = self.now()
        caller = ""
        if authenticate or (authenticate is None and self.identity.tokens_required()):
            refusal = self.identity.check_arm_token(url, req.path, headers)
            if refusal is not None:
                resp = error_response(refusal)
                self._log(req, resp.status, now, started)
                return resp.status, self._standard_headers(req, resp), resp.body
            caller = self.identity.arm_token_caller(headers)
        status, lost = 0, ""
        try:
            cfg = self.fault_settings()
            if cfg.latency_ms:
                time.sleep(cfg.latency_ms / 1000)
            fault = faults.pick(self.store, req, cfg)
            if fault is not None and not fault.applied:
                fault.interrupt("before the request took effect")
                resp = error_response(fault.error(now, req))
                status = resp.status
            else:
                resp = self._answer(req, now)
                status = resp.status
                if fault is not None:
                    lost = fault.lost_as
                    fault.interrupt(f"{req.method} answered {status}")
                    resp = error_response(fault.error(now, req))
        finally:
            self._log(req, status, now, started, lost, caller)
        return resp.status, self._standard_headers(req, resp), resp.body

    def _answer(self, req: ArmRequest, now: float) -> Response:
        try:
            if retail_prices.serves(req):
                return retail_prices.answer(req, self.prices_page_size())
            conn = self.store.conn()
            if lro.has_due(conn, now):
                with self.store.write() as wconn:
                    lro.settle_due(wconn, now)
            ctx = Ctx(self.store, now, self.durations(), self.page_size)
            return routes.dispatch(ctx, req)
        except ArmError as err:
            return error_response(err)
        except Exception as exc:  # a bug in the emulator: answer like ARM would, and say why
            log.exception("emulator failed on %s %s", req.method, req.path_and_query)
            return error_response(
                ArmError(500, "InternalServerError", f"Emulator error: {type(exc).__name__}: {exc}")
            )

    @staticmethod
    def _standard_headers(req: ArmRequest, resp: Response) -> dict[str, str]:
        if retail_prices.serves(req):  # not ARM: none of ARM's request ids or rate limits
            return {"Content-Length": str(len(resp.body)), **resp.headers}
        head: dict[str, Any] = {
            "Cache-Control": "no-cache",
            "x-ms-request-id": resp.headers.get("x-ms-request-id") or new_id(),
            "x-ms-correlation-request-id": new_id(),
            "Content-Length": str(len(resp.body)),
        }
        if req.method == "GET":
            head["x-ms-ratelimit-remaining-subscription-reads"] = "11999"
            if "/microsoft.compute/" in req.path.lower():
                head["x-ms-ratelimit-remaining-resource"] = (
                    "Microsoft.Compute/HighCostGet3Min;139,Microsoft.Compute/HighCostGet30Min;699"
                )
        else:
            head["x-ms-ratelimit-remaining-subscription-writes"] = "1199"
        return {**head, **resp.headers}
