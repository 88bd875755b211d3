"""Pages a signed-in user sees are theirs alone; the lockout page speaks to end users.

Issue #12 defect 9 (part: Cache-Control) and issue #13 defect 9 (the lockout page).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/vms/", "/notifications/", "/vms/999999/"])
def test_signed_in_pages_are_private_and_never_stored(operator_client, url):
    response = operator_client.get(url)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control


def test_lockout_page_tells_whom_to_ask_not_which_command_to_run(client, operator_user):
    for _ in range(5):
        client.post("/login/", {"username": operator_user.username, "password": "wrong"})
    response = client.post("/login/", {"username": operator_user.username, "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "ask your IT administrator" in html
    assert "manage.py" not in html and "axes_reset" not in html
