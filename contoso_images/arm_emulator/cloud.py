"""``GET {arm}/metadata/endpoints?api-version=2015-01-01``: the cloud's endpoints document.

The Azure CLI reads it when a cloud is registered with only ``--endpoint-resource-manager``
(``az cloud register``'s autodetection, azure-facts §16.4): ``authentication.loginEndpoint``
becomes the Entra authority host, ``authentication.audiences[0]`` the token resource,
``graphEndpoint`` and ``galleryEndpoint`` the remaining required endpoints. The shape is the
one Azure Stack Hub serves (MicrosoftDocs azure-stack ``azure-stack-rest-api-use``: the
``curl …/metadata/endpoints?api-version=2015-01-01`` response). Here the login endpoint is
the emulator's own origin (its emulated Entra ID) and the first audience is public Azure's
``https://management.core.windows.net/``, the resource the CLI asks tokens for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def metadata_endpoints(base: str, audiences: Sequence[str]) -> dict[str, Any]:
    return {
        "galleryEndpoint": "https://gallery.azure.com/",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": "https://portal.azure.com/",
        "authentication": {
            "loginEndpoint": f"{base}/",
            "audiences": list(audiences),
        },
    }
