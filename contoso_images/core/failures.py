"""What a person is told when their click did not get the usual answer: the server failed
(a 500), or the session had expired and the click went to sign-in instead.

Each says what is known and no more. A click that went to sign-in never reached the view, so
nothing was sent; a 500 may have happened after the action was queued (the operation row
is committed before the page is drawn), so it may or may not have been.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

#: The query parameter that carries "your click was not sent" through sign-in.
NOT_SENT = "not_sent"

#: Shown on the sign-in page the expired session led to.
NOT_SENT_ON_SIGN_IN = (
    "Your session had expired, so your last action was not sent. "
    "Sign in, then do it again if you still want it."
)
#: Shown on the page the person returns to once signed in.
NOT_SENT_AFTER_SIGN_IN = (
    "Your last action was not sent: your session had expired before it reached the "
    "dashboard. Do it again if you still want it."
)
#: The answer to an htmx request that failed on the server (static/js/app.js shows it).
SERVER_FAILED = (
    "The request failed on the server (error 500). The action may or may not have been "
    "queued: reload the page or check Notifications before trying again."
)


def with_not_sent(url: str) -> str:
    """``url`` with the flag that makes the page say the click was not sent."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != NOT_SENT]
    return urlunsplit(parts._replace(query=urlencode([*query, (NOT_SENT, "1")])))


def without_not_sent(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != NOT_SENT]
    return urlunsplit(parts._replace(query=urlencode(query)))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an htmx click gets a sentence as text/plain that says what is known (the
    page script shows it where the click happened); a page gets templates/500.html."""
    if request.headers.get("HX-Request") == "true":
        return HttpResponseServerError(SERVER_FAILED, content_type="text/plain; charset=utf-8")
    return HttpResponseServerError(loader.get_template("500.html").render())
