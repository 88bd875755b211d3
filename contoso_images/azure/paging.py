"""ARM listings read page by page through the SDK client's own pipeline, without SDK models.

``ItemPaged`` turns every item of every page into an SDK model before we read it back as a
mapping; for a subscription of 100,000 VMs that was two thirds of a sync's CPU. Here the
request is the SDK's own (its request builder, so the URL, ``api-version`` and headers are
the ones its method sends) and goes through the client's pipeline (credential, the capped
retry policy of ``retry.py``, timeouts, the transport), so GET pages are retried on 429 and
5xx exactly as every other gateway read. Each page's JSON is handed over as plain mappings
and ``nextLink`` is followed verbatim, as the SDK does (azure-facts.md: the SDK does not
re-add ``api-version`` to it). Pages are produced one at a time, as the caller asks for
them, so a caller that writes as they arrive holds one page in memory.

Errors are raised as the SDK raises them (``HttpResponseError`` with ARM's error body) inside
:func:`~contoso_images.azure.errors.translated`, so callers get the same ``AzureError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from contoso_images.azure.errors import translated

ACCEPT = {"Accept": "application/json"}


def raw_pages(client: Any, first: HttpRequest) -> Iterator[list[dict[str, Any]]]:
    """The ``value`` of each page of the listing that ``first`` starts, as ARM sent it.

    ``client`` is a generated management client (its ``send_request`` runs the pipeline).
    A page that fails raises ``AzureError`` after the pages before it were handed over:
    the caller decides what a partial listing means (the syncs mark nothing gone then).
    """
    request: HttpRequest | None = first
    with translated():
        while request is not None:
            response = client.send_request(request)
            if response.status_code != 200:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            body = json.loads(response.content or b"{}")
            if not isinstance(body, dict):
                raise HttpResponseError(
                    message="ARM answered a listing with something other than a JSON object.",
                    response=response,
                )
            yield [item for item in body.get("value") or [] if isinstance(item, dict)]
            link = body.get("nextLink")
            request = HttpRequest("GET", link, headers=ACCEPT) if link else None
