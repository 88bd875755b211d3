"""The one type for "the person a request or a task acts for".

``request.user`` is ``User | AnonymousUser`` (django-stubs reads ``AUTH_USER_MODEL``); services,
selectors and rules take it as it comes, so they say so once here instead of ``Any``. Where the
system acts (a schedule, the billing guard) the callers pass ``None`` and say so with
``Person | None``.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

Person: TypeAlias = User | AnonymousUser


def signed_in(user: Person) -> User:
    """The account behind ``user``, for the columns that record who asked.

    Every view that reaches a service requires sign-in and a permission an anonymous user
    never has, so an anonymous user here is a wiring mistake: refused, never recorded as no one.
    """
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first: this action is recorded against your account.")
    return user
