"""Local passwords: kept for break-glass; LOCAL_LOGIN=false hides and refuses them except for
the superusers listed in LOCAL_LOGIN_SUPERUSERS."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth import get_user_model

from contoso_images.arm_emulator.identity import seed as people
from contoso_images.audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.entra import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_local(settings):
    settings.LOCAL_LOGIN = False
    settings.LOCAL_LOGIN_SUPERUSERS = ["breakglass"]


@pytest.fixture
def breakglass(db):
    return UserFactory(username="breakglass", password=PASSWORD, is_superuser=True, is_staff=True)


def _post(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_local_login_false_refuses_a_local_password(client, no_local, operator_user):
    response = _post(client, operator_user.username)  # the right password
    assert response.status_code == 200
    page = response.content.decode()
    assert "Local passwords are turned off here (LOCAL_LOGIN=false)" in page
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.outcome == "refused"
    assert event.parameters_data == {"reason": "local_login_off"}
    assert "LOCAL_LOGIN=false" in event.detail and event.target_name == operator_user.username
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_refused_local_passwords_count_towards_the_lockout(
    client, no_local, settings, operator_user
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post(client, operator_user.username)
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1


def test_a_listed_superuser_keeps_a_break_glass_password(client, no_local, breakglass):
    response = _post(client, "breakglass")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(breakglass.pk)
    assert client.get("/admin/").status_code == 200


def test_a_listed_name_that_is_not_a_superuser_is_refused(client, no_local):
    UserFactory(username="breakglass", password=PASSWORD)
    assert "_auth_user_id" not in _post(client, "breakglass").wsgi_request.session


def test_a_superuser_not_listed_is_refused(client, no_local):
    UserFactory(username="root", password=PASSWORD, is_superuser=True, is_staff=True)
    _post(client, "root")
    assert "_auth_user_id" not in client.session


def test_a_listed_superusers_wrong_password_gets_the_same_sentence(client, no_local, breakglass):
    """The answer never tells which names may still use a password."""
    page = _post(client, "breakglass", password="wrong").content.decode()
    assert "Local passwords are turned off here" in page


def test_the_admin_sign_in_refuses_them_too(client, no_local, settings):
    UserFactory(username="staff", password=PASSWORD, is_staff=True, is_superuser=True)
    client.post("/admin/login/", {"username": "staff", "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session


def test_sessions_opened_with_a_local_password_end_when_it_is_turned_off(
    client, settings, operator_user
):
    assert _post(client, operator_user.username).status_code == 302
    assert client.get("/notifications/").status_code == 200
    settings.LOCAL_LOGIN = False
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_with_local_login_on_passwords_work_as_before(client, operator_user):
    assert _post(client, operator_user.username).status_code == 302
    client.post("/logout/")
    page = html.unescape(_post(client, operator_user.username, "wrong").content.decode())
    assert "Your username and password didn't match" in page


def test_the_page_hides_the_form_when_local_login_is_off(client, entra, no_local):
    page = client.get("/login/").content.decode()
    assert "Sign in with Microsoft" in page
    assert 'name="password"' not in page
    assert "Break-glass account" in page
    revealed = client.get("/login/?local=1").content.decode()
    assert 'name="password"' in revealed
    assert revealed.index("Sign in with Microsoft") < revealed.index('name="password"')


def test_without_entra_the_page_is_the_local_form(client):
    page = client.get("/login/").content.decode()
    assert "Sign in with Microsoft" not in page and 'name="password"' in page


def test_without_entra_and_without_local_logins_the_form_stays_for_break_glass(client, no_local):
    assert 'name="password"' in client.get("/login/").content.decode()


def test_an_entra_user_has_no_password_to_use(client, entra, idp_https):
    sign_in(client, idp_https, people.OLIVIA)
    user = get_user_model().objects.get()
    client.post("/logout/")
    assert not user.has_usable_password()
    _post(client, user.get_username(), "")
    assert "_auth_user_id" not in client.session
