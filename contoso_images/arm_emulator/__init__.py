"""An in-process emulator of Azure Resource Manager for Microsoft.Compute.

It answers the REST calls the dashboard makes (VMs, power actions, generalize, run
command, legacy capture, managed images, Compute Gallery, Marketplace, VM sizes,
subscriptions and locations; VM create from Marketplace, managed and gallery images and
VM delete with its disk/NIC cascade; managed disks; Resource SKUs, usages and vCPU quota;
Microsoft.Network virtual networks, subnets and NICs; Marketplace terms) with ARM's
shapes, status codes, long-running-operation headers and error envelopes, and the
gateway plugs it into the real SDK as an azure-core transport
(``contoso_images.azure.emulator_transport.EmulatorTransport``), so the same SDK code runs
against it and against Azure.

State lives in one SQLite file shared by every process (web, workers). No Django and no
Azure SDK here: :meth:`Emulator.handle` takes a method, URL, headers and body and answers
status, headers and body, so it works from a plain script.

Faults for tests and demos are kept in the state file too, so every process sees them:
``set_faults`` (rates of 429/5xx/dropped requests, of requests applied and then answered
with a lost response, and latency), ``queue_fault`` (the next matching requests get a
429/5xx/4xx, a dropped connection or a timeout — before they take effect, or after with
``applied=True``) and ``queue_operation_failure`` (the next matching long-running
operation is accepted, then ends ``Failed`` — or ``Canceled`` — with ARM's error
object). ``clear_faults`` forgets all of them. The request log records what the
emulator did with each request and whether its answer was lost.

To replay real traffic, ``add_subscription``, ``add_resource_group``, ``seed_vm`` (from a
recorded VM body) and ``add_marketplace_image`` recreate what a recording started from.
``set_quota`` changes a vCPU quota limit and ``accept_terms`` accepts a Marketplace plan's
terms for a subscription (both for tests and demos).

How closely each behaviour follows real Azure, and on what evidence, is listed in
``docs/emulator-fidelity.md``.

Environment variables:

``AZURE_EMULATOR_STATE``
    Path of the state file (default ``<repo>/var/azure-emulator.sqlite3``).
``AZURE_EMULATOR_THROTTLE_RATE`` / ``AZURE_EMULATOR_SERVER_ERROR_RATE`` /
``AZURE_EMULATOR_DROP_RATE`` / ``AZURE_EMULATOR_APPLIED_LOST_RATE``
    Share (0..1) of requests answered 429, 500/503, dropped, or applied and then
    answered 500/503/504, timed out or reset; override the file.
``AZURE_EMULATOR_LATENCY_MS``
    Added latency per request; overrides the file.
``AZURE_EMULATOR_PAGE_SIZE``
    Items per page of list responses (default 100).
``AZURE_EMULATOR_PRICES_PAGE_SIZE``
    Items per page of the Retail Prices API (default: the state file's
    ``set_prices_page_size``, else 1000 as documented).

It also answers the public Azure Retail Prices API (``GET https://prices.azure.com/api/retail/
prices``, ``retail_prices.py``) for the seeded sizes and regions.

Durations (``set_durations``) include ``vm_create``: how long a new VM stays
``Creating``/``starting`` before it is ``Succeeded``/``running`` (12 s; 0 in tests).

Example::

    emu = Emulator()                      # opens/creates the state file
    emu.seed_contoso_pilot()
    status, headers, body = emu.handle(
        "GET",
        "https://management.azure.com/subscriptions/"
        f"{emu.subscription_ids()[0]}/providers/Microsoft.Compute/virtualMachines"
        "?api-version=2026-04-01&statusOnly=true",
        {},
        None,
    )
"""

from __future__ import annotations

from .engine import Emulator, RequestLogEntry, default_state_path
from .retail_prices import PRICES_HOST
from .wire import ARM_HOST

__all__ = ["ARM_HOST", "PRICES_HOST", "Emulator", "RequestLogEntry", "default_state_path"]
