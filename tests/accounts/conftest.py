from __future__ import annotations

from tests.entra import entra, idp, idp_https, idp_server, idp_tls_dir

__all__ = ["entra", "idp", "idp_https", "idp_server", "idp_tls_dir"]
