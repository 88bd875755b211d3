"""Sign-in, sign-out, failed sign-ins and lockouts, from Django's and django-axes' signals."""

from __future__ import annotations

from typing import Any

from contoso_images.audit.models import Outcome
from contoso_images.audit.services.recording import Subject, record


def _account(user: Any = None, username: str = "") -> Subject:
    if user is not None:
        return Subject(kind="user", id=f"user:{user.pk}", name=user.get_username())
    return Subject(kind="user", id="", name=username)


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(action="auth.login", actor=user, target=_account(user), request=request)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(
        action="auth.logout",
        actor=user,
        target=_account(user) if user is not None else None,
        request=request,
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    """Only the username tried is kept (Django has already masked the password)."""
    username = str(credentials.get("username", "") or "")[:150]
    record(
        action="auth.login_failed",
        target=_account(username=username),
        outcome=Outcome.FAILED,
        detail="Wrong username or password, or sign-in refused.",
        request=request,
    )


def on_locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kw: Any
) -> None:
    record(
        action="auth.locked_out",
        target=_account(username=str(username or "")[:150]),
        outcome=Outcome.REFUSED,
        detail="Too many failed sign-ins: sign-in is locked for this username and address.",
        parameters={"axes_ip_address": ip_address} if ip_address else None,
        request=request,
    )
