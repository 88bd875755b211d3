"""The catalog's figures: the page at 10 and 1,000 entries, ARM requests per catalog sync,
Marketplace requests per level, cold and cached.

``manage.py benchmark`` runs :func:`run` in a child process whose database is a throw-away
SQLite file; ``run()`` seeds its own temporary ARM emulator and refuses a database whose
catalog already holds images, so even called by hand it cannot change the demo's data.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.choices import ImageKind
from catalog.models import CatalogImage, ImageDefinition
from catalog.services.fields import version_sort_key
from contoso_images import azure
from contoso_images.core.roles import REVIEWERS

Rows = list[tuple[str, str]]

REQUESTS_PER_FIGURE = 5
#: Interleaved rounds of the page and its bare render.
BARE_ROUNDS = 11
HOST = "localhost"
EXTRA_VERSIONS = 20
LARGE = 1_000
SMALL = 10
#: Enough entries to fill the page (50 rows): from here on, only the catalog's size grows.
FULL_PAGE = 100
UBUNTU = ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2")


def run(*, size: int = LARGE, progress: Callable[[str], None] | None = None) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command; ``size`` is the largest
    catalog the page is measured at (a quick run gives a small one)."""
    from contoso_images.arm_emulator import Emulator

    if CatalogImage.objects.exists():
        raise RuntimeError(
            "This benchmark needs an empty catalog; run `manage.py benchmark`, "
            "which gives it a temporary database."
        )
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.seed_contoso_pilot()
        emulator.set_durations(all=0)
        with override_settings(
            AZURE_MODE="emulator", AZURE_EMULATOR_STATE=str(state), AZURE_SUBSCRIPTION_IDS=[]
        ):
            azure.clear_client_cache()
            cache.clear()
            try:
                rows = _sync_figures(emulator, say)
                rows += _page_figures(say, size=max(size, FULL_PAGE))
                rows += _grown_sync_figures(emulator, say)
                rows += _marketplace_figures(emulator, say)
            finally:
                azure.clear_client_cache()
                cache.clear()
    return rows


# --- Sync ------------------------------------------------------------------------------------


def _kinds(emulator: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in emulator.request_log():
        path = entry.path.split("?")[0].lower()
        if path.endswith("/subscriptions"):
            counts["subscriptions"] += 1
        elif path.endswith("/microsoft.compute/images"):
            counts["managed images"] += 1
        elif path.endswith("/microsoft.compute/galleries"):
            counts["galleries"] += 1
        elif path.endswith("/images"):
            counts["definitions"] += 1
        elif path.endswith("/versions"):
            counts["versions"] += 1
        else:
            counts["replication reads"] += 1
    return counts


def _measured_sync(emulator: Any) -> tuple[int, Counter[str], float, list[Any]]:
    emulator.clear_request_log()
    started = time.perf_counter()
    results = services.catalog_sync_all(force=True)
    seconds = time.perf_counter() - started
    kinds = _kinds(emulator)
    return sum(kinds.values()), kinds, seconds, results


def _describe(kinds: Counter[str]) -> str:
    order = (
        "subscriptions",
        "managed images",
        "galleries",
        "definitions",
        "versions",
        "replication reads",
    )
    return ", ".join(f"{kinds[k]} {k}" for k in order if kinds[k])


def _add_versions(emulator: Any, count: int) -> None:
    sub = emulator.subscription_ids()[0]
    source = next(i for i in azure.managed_images(sub) if i.name == "img-win2022-base-20241001")
    for i in range(count):
        token = azure.gallery_image_version_begin_create(
            sub,
            "rg-images",
            "gal_contoso",
            "win2022-base",
            f"2.0.{i}",
            location="westeurope",
            source_id=source.id,
            target_regions=[azure.TargetRegion("westeurope")],
            exclude_from_latest=True,
        )
        azure.operation_status(
            "gallery_image_version_create", token, subscription_id=sub, wait_seconds=5
        )


def _sync_figures(emulator: Any, say: Callable[[str], None]) -> Rows:
    say("catalog sync of the pilot tenant")
    first, first_kinds, first_s, results = _measured_sync(emulator)
    settled, settled_kinds, settled_s, _ = _measured_sync(emulator)
    subs = len(results)
    galleries = sum(r.galleries for r in results)
    definitions = sum(r.definitions for r in results)
    versions = sum(r.versions for r in results)
    formula = 1 + 2 * subs + galleries + definitions
    return [
        (
            "pilot catalog",
            f"{subs} subscriptions, {galleries} gallery, {definitions} definitions, "
            f"{versions} versions, {sum(r.managed_images for r in results)} managed images",
        ),
        ("ARM requests, first full sync", f"{first} ({_describe(first_kinds)})"),
        ("ARM requests, settled full sync", f"{settled} ({_describe(settled_kinds)})"),
        (
            "formula: 1 + 2 x subscriptions + galleries + definitions (+ 1 per version "
            "not yet known replicated)",
            f"{formula} (+ {versions} on the first sync)",
        ),
        ("first / settled sync (s)", f"{first_s:.2f} / {settled_s:.2f}"),
    ]


def _grown_sync_figures(emulator: Any, say: Callable[[str], None]) -> Rows:
    say(f"catalog sync with {EXTRA_VERSIONS} more versions")
    _add_versions(emulator, EXTRA_VERSIONS)
    grown, _, grown_s, _ = _measured_sync(emulator)
    settled, _, settled_s, _ = _measured_sync(emulator)
    return [
        (
            f"ARM requests after {EXTRA_VERSIONS} new versions in a definition: first / settled",
            f"{grown} / {settled}",
        ),
        ("those syncs (s)", f"{grown_s:.2f} / {settled_s:.2f}"),
    ]


# --- Marketplace -----------------------------------------------------------------------------


def _marketplace_requests(emulator: Any) -> int:
    return sum(1 for e in emulator.request_log() if "/publishers" in e.path.lower())


def _timed(emulator: Any, call: Callable[[], Any]) -> tuple[int, float]:
    emulator.clear_request_log()
    started = time.perf_counter()
    call()
    return _marketplace_requests(emulator), (time.perf_counter() - started) * 1000


def _marketplace_figures(emulator: Any, say: Callable[[str], None]) -> Rows:
    say("Marketplace levels, cold and cached")
    cache.clear()
    sub = services.marketplace_subscription()
    location = "westeurope"
    publisher, offer, sku = UBUNTU
    levels: list[tuple[str, dict[str, str]]] = [
        ("publishers", {}),
        ("offers", {"publisher": publisher}),
        ("skus", {"publisher": publisher, "offer": offer}),
        ("versions", {"publisher": publisher, "offer": offer, "sku": sku}),
    ]
    rows: Rows = []
    for name, parent in levels:

        def level(parent: dict[str, str] = parent) -> Any:
            return services.marketplace_level(subscription_id=sub, location=location, **parent)

        cold, cold_ms = _timed(emulator, level)
        warm, warm_ms = _timed(emulator, level)
        rows.append(
            (
                f"Marketplace {name}: ARM requests cold / cached (ms cold / cached)",
                f"{cold} / {warm} ({cold_ms:.1f} / {warm_ms:.2f})",
            )
        )

    def detail(version: str) -> Callable[[], Any]:
        return lambda: services.marketplace_image_detail(
            subscription_id=sub,
            location=location,
            publisher=publisher,
            offer=offer,
            sku=sku,
            version=version,
        )

    cache.clear()
    cold, cold_ms = _timed(emulator, detail("latest"))
    warm, warm_ms = _timed(emulator, detail("latest"))
    rows.append(
        (
            'Marketplace image "latest": ARM requests cold / cached (ms cold / cached)',
            f"{cold} / {warm} ({cold_ms:.1f} / {warm_ms:.2f})",
        )
    )
    cache.clear()
    pinned = azure.marketplace_latest_version(sub, location, publisher, offer, sku) or "latest"
    cold, _ = _timed(emulator, detail(pinned))
    warm, _ = _timed(emulator, detail(pinned))
    rows.append(
        ("Marketplace image, pinned version: ARM requests cold / cached", f"{cold} / {warm}")
    )
    return rows


# --- The page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figures:
    ms: float
    queries: int
    size: int


def _reviewer_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="benchmark-reviewer")
    user.groups.add(Group.objects.get(name=REVIEWERS))
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _get_figures(client: Client, url: str) -> _Figures:
    """Median time of five GETs after one warm-up, with the query count of the last one."""
    client.get(url)
    times = []
    for _ in range(REQUESTS_PER_FIGURE):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    return _Figures(statistics.median(times), len(queries), len(response.content))


def _fill_to(total: int) -> None:
    """Add synthetic gallery versions and managed images until the catalog holds ``total``."""
    missing = total - CatalogImage.objects.count()
    if missing <= 0:
        return
    now = timezone.now()
    first = (
        ImageDefinition.objects.select_related("subscription")
        .exclude(resource_key__endswith="-bench")
        .first()
    )
    if first is None:
        raise RuntimeError("the catalog sync found no definition to grow the catalog under")
    subscription = first.subscription
    definition, _ = ImageDefinition.objects.get_or_create(
        resource_key=f"{first.resource_key}-bench",
        defaults={
            "subscription": subscription,
            "resource_id": f"{first.resource_id}-bench",
            "resource_group": first.resource_group,
            "gallery_name": first.gallery_name,
            "name": f"{first.name}-bench",
            "location": first.location,
            "os_type": "Linux",
            "os_state": "Generalized",
            "hyper_v_generation": "V2",
            "architecture": "x64",
            "first_seen_at": now,
            "reported_at": now,
        },
    )
    offset = CatalogImage.objects.count()
    rows = []
    for i in range(offset, offset + missing):
        if i % 2:
            name = f"3.{i // 100}.{i % 100}"
            rid = f"{definition.resource_id}/versions/{name}"
            rows.append(
                CatalogImage(
                    kind=ImageKind.GALLERY_VERSION,
                    subscription=subscription,
                    definition=definition,
                    resource_id=rid,
                    resource_key=rid.lower(),
                    name=name,
                    version_sort=version_sort_key(name),
                    resource_group=definition.resource_group,
                    location="westeurope",
                    os_type="Linux",
                    hyper_v_generation="V2",
                    architecture="x64",
                    provisioning_state="Succeeded",
                    replication_state="Completed",
                    replication=[{"region": "West Europe", "state": "Completed", "progress": 100}],
                    first_seen_at=now,
                    reported_at=now,
                )
            )
        else:
            name = f"img-bench-{i:05d}"
            rid = (
                f"/subscriptions/{subscription.subscription_id}/resourceGroups/rg-bench/"
                f"providers/Microsoft.Compute/images/{name}"
            )
            rows.append(
                CatalogImage(
                    kind=ImageKind.MANAGED_IMAGE,
                    subscription=subscription,
                    resource_id=rid,
                    resource_key=rid.lower(),
                    name=name,
                    resource_group="rg-bench",
                    location="northeurope",
                    os_type="Windows",
                    hyper_v_generation="V2",
                    provisioning_state="Succeeded",
                    first_seen_at=now,
                    reported_at=now,
                )
            )
    CatalogImage.objects.bulk_create(rows, batch_size=500)
    services.recompute_latest(definition_ids=[definition.pk])


def _page_figures(say: Callable[[str], None], *, size: int = LARGE) -> Rows:
    client = _reviewer_client()
    url = reverse("catalog:catalog_index")
    say(f"catalog page at {SMALL} entries")
    _fill_to(SMALL)
    small_count = CatalogImage.objects.count()
    small = _get_figures(client, url)
    say(f"catalog page at {FULL_PAGE} entries")
    _fill_to(FULL_PAGE)
    full = _get_figures(client, url)
    say(f"catalog page at {size:,} entries")
    _fill_to(size)
    large_count = CatalogImage.objects.count()
    large = _get_figures(client, url)
    awaiting = _get_figures(client, f"{url}?review=awaiting&os_type=Linux")
    return [
        (f"catalog page @ {small_count:,} entries: median of 5 (ms)", f"{small.ms:.1f}"),
        (f"catalog page @ {small_count:,} entries: queries", str(small.queries)),
        (f"catalog page @ {FULL_PAGE} entries (a full page): median of 5 (ms)", f"{full.ms:.1f}"),
        (f"catalog page @ {FULL_PAGE} entries: queries", str(full.queries)),
        (f"catalog page @ {large_count:,} entries: median of 5 (ms)", f"{large.ms:.1f}"),
        (f"catalog page @ {large_count:,} entries: queries", str(large.queries)),
        (
            f"awaiting review, Linux @ {large_count:,}: median (ms) / queries",
            f"{awaiting.ms:.1f} / {awaiting.queries}",
        ),
        (f"catalog page @ {large_count:,} entries: size (bytes)", f"{large.size:,}"),
        *_bare_figures(client, url, large_count),
    ]


#: The catalog's columns for one page of rows, with one decision form per row (one token):
#: what a row costs at the least.
BARE_TEMPLATE = """<table>{% for image in images %}<tr><td>\
<a href="/catalog/images/{{ image.pk }}/">{{ image.display_name }}</a>\
<span>{{ image.resource_group }}</span></td>\
<td>{{ image.get_review_status_display }}{% if image.is_latest %} Latest{% endif %}</td>\
<td>{{ image.end_of_life_date|date:'Y-m-d' }}</td><td>{{ image.os_type }} \
{{ image.hyper_v_generation }} {{ image.architecture }}</td><td>{{ image.location }}</td>\
<td>{{ image.replication_state }} {{ image.replication|length }}</td>\
<td>{{ image.created_in_azure_at|date:'Y-m-d' }}</td><td><form method="post" \
action="/catalog/images/{{ image.pk }}/review/"><input type="hidden" \
name="csrfmiddlewaretoken" value="{{ token }}">{% for d in decisions %}<button name="decision" \
value="{{ d }}">{{ d }}</button>{% endfor %}</form></td></tr>{% endfor %}</table>"""


def _bare_figures(client: Client, url: str, count: int) -> Rows:
    """The catalog page against a bare render of the same fifty rows (one query, a minimal
    template of the same columns with a form of the decisions per row): what the page adds
    to its rows."""
    from django.template import engines

    from catalog import selectors
    from catalog.decisions import DECISIONS

    template = engines["django"].from_string(BARE_TEMPLATE)
    decisions = [d.value for d in DECISIONS]
    user = get_user_model().objects.get(username="benchmark-reviewer")

    def render() -> int:
        images = list(selectors.catalog_list(user=user, filters={}, sort="grouped")[:50])
        return len(template.render({"images": images, "decisions": decisions, "token": "x" * 64}))

    # Interleaved, so that a burst of load on a shared machine hits both alike; the fastest
    # of each is what the code costs, the medians what a busy machine made of it.
    bare_size = render()
    page_size = len(client.get(url).content)
    page_times, bare_times = [], []
    for _ in range(BARE_ROUNDS):
        started = time.perf_counter()
        response = client.get(url)
        page_times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        started = time.perf_counter()
        render()
        bare_times.append((time.perf_counter() - started) * 1000)
    page_min, bare_min = min(page_times), min(bare_times)
    page_med, bare_med = statistics.median(page_times), statistics.median(bare_times)
    return [
        (
            f"catalog page / bare render of its 50 rows @ {count:,} entries, fastest of "
            f"{BARE_ROUNDS} (ms)",
            f"{page_min:.1f} / {bare_min:.1f} (x{page_min / bare_min:.1f})",
        ),
        (
            f"catalog page / bare render of its 50 rows @ {count:,} entries, median (ms)",
            f"{page_med:.1f} / {bare_med:.1f} (x{page_med / bare_med:.1f})",
        ),
        (
            f"catalog page / bare render of its 50 rows @ {count:,} entries (bytes)",
            f"{page_size:,} / {bare_size:,} (x{page_size / bare_size:.1f})",
        ),
    ]
