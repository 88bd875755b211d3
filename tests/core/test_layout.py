from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def nav(response) -> str:
    html = response.content.decode()
    return html[html.index('<nav class="mainnav"') : html.index("</nav>")]


def test_login_page_renders_form(client):
    html = client.get("/login/").content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert 'for="id_username"' in html


def test_sign_in_through_the_form(client, operator_user):
    response = client.post(
        "/login/", {"username": operator_user.username, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_gets_a_message(client, operator_user):
    response = client.post("/login/", {"username": operator_user.username, "password": "nope"})
    assert response.status_code == 200
    assert "match. Please try again" in response.content.decode()


@pytest.mark.parametrize(
    ("fixture", "shown", "hidden"),
    [
        ("operator_client", ["VMs", "Catalog"], ["Audit"]),
        ("reviewer_client", ["VMs", "Catalog"], ["Audit"]),
        ("auditor_client", ["Audit", "Catalog"], ["VMs"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_see(request, fixture, shown, hidden):
    client = request.getfixturevalue(fixture)
    response = client.get("/", follow=True)
    assert response.status_code == 200
    links = nav(response)
    for label in shown:
        assert f">{label}</a>" in links
    for label in hidden:
        assert f">{label}</a>" not in links


def test_layout_shows_user_signout_and_connection(operator_client, operator_user):
    html = operator_client.get("/", follow=True).content.decode()
    assert operator_user.username in html
    assert "Sign out" in html
    assert "ARM emulator" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "htmx" in html and "cdn" not in html.lower()


@override_settings(AZURE_MODE="azure", AZURE_CLOUD="public")
def test_footer_says_azure_when_connected_to_azure(operator_client):
    html = operator_client.get("/", follow=True).content.decode()
    assert "Connected to Azure (public cloud)" in html


def test_user_without_role_is_told_so(client, roleless_user):
    client.force_login(roleless_user)
    response = client.get("/")
    assert response.status_code == 403
    assert "not in any of the groups" in response.content.decode()


@pytest.mark.parametrize(
    ("fixture", "url", "status"),
    [
        ("operator_client", "/catalog/", 200),
        ("operator_client", "/audit/", 403),
        ("auditor_client", "/vms/", 403),
        ("auditor_client", "/catalog/", 200),
        ("reviewer_client", "/audit/", 403),
        ("reviewer_client", "/catalog/", 200),
        ("auditor_client", "/audit/", 200),
    ],
)
def test_sections_check_permissions_on_the_server(request, fixture, url, status):
    assert request.getfixturevalue(fixture).get(url).status_code == status


def test_expired_session_on_htmx_request_redirects_the_page(client):
    response = client.get("/vms/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")


def test_logout_is_post_only(operator_client):
    assert operator_client.get("/logout/").status_code == 405
    assert operator_client.post("/logout/").status_code == 302


def test_pages_send_a_strict_content_security_policy(operator_client):
    policy = operator_client.get("/", follow=True)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, operator_user):
    for _ in range(5):
        client.post("/login/", {"username": operator_user.username, "password": "wrong"})
    response = client.post(
        "/login/",
        {"username": operator_user.username, "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("fixture", "section"),
    [
        ("operator_client", "/vms/"),
        ("reviewer_client", "/catalog/"),
        ("auditor_client", "/audit/"),
    ],
)
def test_each_role_lands_on_its_own_work(request, fixture, section):
    assert request.getfixturevalue(fixture).get("/")["Location"] == section
