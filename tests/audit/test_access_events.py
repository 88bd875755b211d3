"""Sign-ins, sign-outs, failures, lockouts and every 403, each with the client's address."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from contoso_images.audit.context import client_ip
from contoso_images.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_sign_in_and_sign_out_are_recorded(client, operator_user):
    _sign_in(client, operator_user.username, REMOTE_ADDR="198.51.100.4")
    client.post("/logout/", REMOTE_ADDR="198.51.100.4")
    login, logout = AuditEvent.objects.order_by("sequence")
    assert (login.action, login.outcome, login.actor_username) == (
        "auth.login",
        "succeeded",
        operator_user.username,
    )
    assert login.source_ip == "198.51.100.4"
    assert (login.target_kind, login.target_name) == ("user", operator_user.username)
    assert (logout.action, logout.actor_username) == ("auth.logout", operator_user.username)


def test_a_failed_sign_in_keeps_the_username_tried_and_never_the_password(client, operator_user):
    _sign_in(client, operator_user.username, password="not-it")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("auth.login_failed", "failed")
    assert event.target_name == operator_user.username and event.actor_username == ""
    assert "not-it" not in str(AuditEvent.objects.values().get())


def test_a_lockout_is_recorded(client, operator_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, operator_user.username, password="wrong")
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert locked.count() == 1
    assert locked.get().target_name == operator_user.username
    assert locked.get().outcome == "refused"
    _sign_in(client, operator_user.username)  # even the right password is refused now
    assert locked.count() == 2
    assert not AuditEvent.objects.filter(action="auth.login").exists()


@pytest.mark.parametrize("fixture", ["operator_client", "reviewer_client"])
def test_a_403_is_recorded_as_access_denied(request, fixture):
    client = request.getfixturevalue(fixture)
    assert client.get("/audit/?q=x").status_code == 403
    event = AuditEvent.objects.exclude(action="auth.login").get()
    assert (event.action, event.outcome) == ("access.denied", "refused")
    assert event.target_id == "/audit/" and event.target_name == "audit:audit_index"
    assert event.parameters_data == {"method": "GET", "path": "/audit/"}
    assert (
        event.actor_username == request.getfixturevalue(fixture.replace("client", "user")).username
    )


def test_a_csrf_failure_is_recorded(operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    assert client.post("/audit/export/", {"format": "csv"}).status_code == 403
    event = AuditEvent.objects.exclude(action="auth.login").get()
    assert (event.action, event.actor_username) == ("access.denied", operator_user.username)


def test_a_refusal_already_recorded_is_not_recorded_twice(operator_user):
    """A service that refused and recorded why (vm.start.refused) makes the 403 that follows
    add nothing."""
    from django.http import HttpResponseForbidden

    from contoso_images.audit.middleware import AuditMiddleware
    from contoso_images.audit.services import Outcome, record

    def view(request):
        record(action="vm.start.refused", outcome=Outcome.REFUSED, detail="Not allowed.")
        return HttpResponseForbidden()

    request = RequestFactory().post("/vms/1/actions/start/")
    request.user = operator_user
    assert AuditMiddleware(view)(request).status_code == 403
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["vm.start.refused"]
    assert AuditEvent.objects.get().actor_username == operator_user.username


# --- The client's address -------------------------------------------------------------------


def test_lockout_counts_the_client_behind_a_trusted_proxy_not_a_forged_header(
    client, operator_user, settings
):
    settings.AUDIT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    for n in range(settings.AXES_FAILURE_LIMIT):
        # Straight to the server, not through the proxy: a new forged header each time
        # buys no fresh attempts.
        _sign_in(
            client,
            operator_user.username,
            password="wrong",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    assert locked.count() == 1
    behind_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(
            client,
            operator_user.username,
            password="wrong",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
            **behind_proxy,
        )
    assert locked.count() == 2
    # A colleague behind the same proxy is not locked out by that.
    _sign_in(client, operator_user.username, HTTP_X_FORWARDED_FOR="198.51.100.77", **behind_proxy)
    assert AuditEvent.objects.filter(action="auth.login").count() == 1


def _request(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # By default the header is never believed: anyone can send it.
        ([], "203.0.113.9", "10.9.9.9", "203.0.113.9"),
        # From a trusted proxy, the right-most address it did not add itself.
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7"),
        # A client-forged left part is ignored.
        (["10.0.0.2"], "10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # Not from a trusted proxy: the header is ignored.
        (["10.0.0.0/8"], "203.0.113.9", "198.51.100.7", "203.0.113.9"),
        # Garbage in the header: only the proxy is believed.
        (["10.0.0.0/8"], "10.0.0.2", "not-an-ip", "10.0.0.2"),
        # Ports and IPv6.
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.7:5555", "198.51.100.7"),
        (["::1"], "::1", "[2001:db8::1]:443", "2001:db8::1"),
        (["10.0.0.0/8"], "10.0.0.2", "10.0.0.3", "10.0.0.3"),
    ],
)
def test_client_address_through_trusted_proxies_only(
    settings, proxies, remote, forwarded, expected
):
    settings.AUDIT_TRUSTED_PROXIES = proxies
    assert client_ip(_request(remote, forwarded)) == expected


def test_a_misconfigured_proxy_list_fails_loudly(settings):
    settings.AUDIT_TRUSTED_PROXIES = ["proxy.internal"]
    with pytest.raises(ValueError, match="AUDIT_TRUSTED_PROXIES"):
        client_ip(_request("10.0.0.2", "1.2.3.4"))
