"""Every URL pattern refuses an anonymous visitor, except sign-in and health."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# admin:login is a sign-in page too; accounts:start and accounts:callback are the Entra ID
# sign-in's way out to the tenant and back (404 while it is not configured).
PUBLIC = {"login", "health", "admin:login", "accounts:start", "accounts:callback"}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name or ''}"


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"<(?:int|id):\w+>", "1", route)
    route = re.sub(r"<path:\w+>", "x/y", route)
    route = re.sub(r"<(?:str|slug):\w+>|<\w+>", "x", route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "x", route)
    route = route.replace("\\", "").replace("^", "").replace("$", "")
    return "/" + route


ROUTES = sorted(set(_walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_sections():
    names = {name for _, name in ROUTES}
    assert {"vmops:vm_list", "catalog:catalog_index", "audit:audit_index", "health"} <= names


@pytest.mark.parametrize(("route", "name"), ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_request_is_sent_to_sign_in(client, route, name, method):
    if name in PUBLIC:
        return
    url = _concrete(route)
    response = getattr(client, method)(url)
    assert response.status_code == 302, f"{method.upper()} {url} -> {response.status_code}"
    assert "login" in response["Location"], f"{url} redirected to {response['Location']}"


def test_login_and_health_are_public(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/health/").status_code in (200, 503)
