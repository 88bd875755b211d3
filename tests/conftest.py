"""Fixtures shared by the whole suite: users in each role, clients signed in as them."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the main thread; Django refuses ORM calls while
# any loop runs unless told otherwise (STACK.md §4).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402

from tests.factories import UserFactory  # noqa: E402

PASSWORD = "correct-horse-battery-staple"


def _user_in(group_name: str | None, username: str):
    user = UserFactory(username=username, password=PASSWORD)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def operator_user(db):
    return _user_in("operators", "olivia-operator")


@pytest.fixture
def reviewer_user(db):
    return _user_in("reviewers", "rui-reviewer")


@pytest.fixture
def auditor_user(db):
    return _user_in("auditors", "ada-auditor")


@pytest.fixture
def roleless_user(db):
    return _user_in(None, "nobody")


@pytest.fixture
def operator_client(client, operator_user):
    client.force_login(operator_user)
    return client


@pytest.fixture
def reviewer_client(client, reviewer_user):
    client.force_login(reviewer_user)
    return client


@pytest.fixture
def auditor_client(client, auditor_user):
    client.force_login(auditor_user)
    return client
