"""The emulated sign-in pages: plain HTML, no script, every value escaped.

The authorize page lists the seeded people of the tenant with their app roles for the app
that asks, and one button per person; a button posts the original request back with
``login=<oid>``. Tests do the same with a plain POST. Error and sign-out pages carry the
AADSTS text Entra shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from .directory import App, Tenant, User

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1b1b}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;"
    "border-bottom:1px solid #ddd;vertical-align:top}button{padding:.3rem .8rem}"
    ".muted{color:#666;font-size:.9rem}.error{color:#a4262c}"
)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
        for k, v in params.items()
        if k != "login"
    )


def _row(user: User, app: App, action: str, params: Mapping[str, str], note: str) -> str:
    roles = ", ".join(user.roles_for(app.client_id)) or "no role"
    kind = "guest" if user.is_guest else "member"
    groups = f"{len(user.groups)} groups" if user.groups else "no groups"
    return (
        "<tr>"
        f"<td><strong>{escape(user.display_name)}</strong><br>"
        f"<span class='muted'>{escape(user.upn)}</span></td>"
        f"<td>{escape(roles)}<br><span class='muted'>{kind}, {groups}{escape(note)}</span></td>"
        f"<td><form method='post' action='{escape(action)}'>{_hidden(params)}"
        f"<button name='login' value='{escape(user.oid)}'>Sign in</button></form></td>"
        "</tr>"
    )


def pick_account(
    *,
    tenant: Tenant | None,
    app: App,
    action: str,
    params: Mapping[str, str],
    here: Iterable[User],
    elsewhere: Iterable[User],
) -> bytes:
    """The account picker: people of this tenant, then people of other tenants."""
    where = escape(tenant.display_name) if tenant else "any organisation"
    rows = "".join(_row(u, app, action, params, "") for u in here)
    other = "".join(_row(u, app, action, params, f", tenant {u.tenant}") for u in elsewhere)
    cancel = (
        f"<form method='post' action='{escape(action)}'>{_hidden(params)}"
        "<button name='login' value='cancel'>Cancel</button></form>"
    )
    body = (
        f"<h1>Sign in to {escape(app.display_name)}</h1>"
        f"<p class='muted'>Emulated Microsoft Entra ID — {where}. Pick an account; there is no "
        "password.</p>"
        f"<table><tr><th>Account</th><th>App roles</th><th></th></tr>{rows}</table>"
    )
    if other:
        body += (
            "<h2>Accounts of other tenants</h2>"
            f"<table><tr><th>Account</th><th>App roles</th><th></th></tr>{other}</table>"
        )
    return _page(f"Sign in to {app.display_name}", body + f"<p>{cancel}</p>")


def error_page(description: str) -> bytes:
    body = (
        "<h1>Sorry, but we’re having trouble signing you in.</h1>"
        f"<p class='error'>{escape(description)}</p>"
    )
    return _page("Sign in error", body)


def signed_out(note: str = "") -> bytes:
    body = (
        "<h1>You signed out of your account</h1>"
        "<p>It’s a good idea to close all browser windows.</p>"
    )
    if note:
        body += f"<p class='muted'>{escape(note)}</p>"
    return _page("Signed out", body)


def form_post(action: str, fields: Mapping[str, str]) -> bytes:
    """``response_mode=form_post``: a form the browser submits to the redirect URI (this
    emulator adds no script, so the person presses Continue)."""
    inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in fields.items()
    )
    body = (
        f"<form method='post' action='{escape(action)}'>{inputs}"
        "<p>Signed in. <button>Continue</button></p></form>"
    )
    return _page("Working...", body)
