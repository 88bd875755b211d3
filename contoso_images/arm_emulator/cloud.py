"""``GET {arm}/metadata/endpoints?api-version=…``: the cloud's endpoints document.

Two shapes, chosen by the api-version as Resource Manager does:

* ``2015-01-01`` (and any version before 2022-09-01): the Azure Stack Hub shape
  (MicrosoftDocs azure-stack ``azure-stack-rest-api-use``: the ``curl
  …/metadata/endpoints?api-version=2015-01-01`` response) — ``galleryEndpoint``,
  ``graphEndpoint``, ``portalEndpoint``, ``authentication.{loginEndpoint, audiences}``.
* ``2022-09-01`` and later: one cloud object with ``name``, ``resourceManager``,
  ``authentication.{loginEndpoint, audiences, tenant, identityProvider}``, ``graph``,
  ``graphAudience``, ``suffixes`` … — the shape management.azure.com answers (the copy kept as
  ``metadata20220901`` in hashicorp/go-azure-sdk ``sdk/internal/metadata/client_test.go``).
  ``az cloud register --endpoint-resource-manager`` (Azure CLI 2.91
  ``command_modules/cloud/custom.py``) asks for this version and its ``_arm_to_cli_mapper``
  reads ``name``, ``authentication`` and ``suffixes`` without a default, so the older shape
  makes it fail with ``KeyError: 'suffixes'`` (seen here).

The login endpoint is the emulator's own origin (its emulated Entra ID) and the first audience
is public Azure's ``https://management.core.windows.net/``, the resource the CLI asks tokens
for. The emulator serves no data-plane service, so ``suffixes`` is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The first api-version answered with the single-cloud shape.
CLOUD_OBJECT_VERSION = "2022-09-01"
#: The cloud's name in the 2022-09-01 document (the CLI keeps its own ``-n`` name instead).
CLOUD_NAME = "ContosoLocal"


def metadata_endpoints(
    base: str, audiences: Sequence[str], api_version: str = "2015-01-01"
) -> dict[str, Any]:
    if api_version[:10] >= CLOUD_OBJECT_VERSION:
        return {
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": base,
                "audiences": list(audiences),
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.windows.net/",
            "name": CLOUD_NAME,
            "suffixes": {},
            "resourceManager": f"{base}/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
        }
    return {
        "galleryEndpoint": "https://gallery.azure.com/",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": "https://portal.azure.com/",
        "authentication": {
            "loginEndpoint": f"{base}/",
            "audiences": list(audiences),
        },
    }
