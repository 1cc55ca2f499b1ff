"""GET /amazon/callback: where Amazon's consent page sends the merchant back (no JWT: the signed state says who,
and the consent cookie set by POST /stores or /reauthorize proves it is the same browser).

Success or "denied" redirect to the console with the outcome in the query; every refusal is a plain HTML page
saying what happened and what to do, with a link back to the console. The state's consent cookie is cleared
either way (the state is single use).
"""

from __future__ import annotations

import html
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.shared.cookies import Cookie

from storesync.api.auth import PUBLIC
from storesync.api.deps import connector
from storesync.api.params import MAX_ID_LENGTH
from storesync.api.urls import callback_path, console_url, served_over_https
from storesync.domain.consent_state import BINDING_COOKIE_PREFIX
from storesync.usecases.connect import CallbackOutcome, CallbackQuery

router = Router()
MAX_STATE_LENGTH = 2048  # our signed state is a few hundred characters
MAX_CODE_LENGTH = 512
MAX_COOKIES = 50  # consent cookies read (a browser sends a few; a request with thousands is not ours)


def consent_cookies() -> dict[str, str]:
    """The request's consent cookies (HTTP API v2 events carry them in `cookies`, "name=value" each)."""
    found: dict[str, str] = {}
    for raw in router.current_event.get("cookies") or []:
        name, _, value = str(raw).partition("=")
        name = name.strip()
        if name.startswith(BINDING_COOKIE_PREFIX) and len(found) < MAX_COOKIES:
            found[name] = value.strip()
    return found


def cleared(names: list[str]) -> list[Cookie]:
    """Expire the consent cookies the callback received (each state is single use)."""
    path, secure = callback_path(router), served_over_https(router)
    return [Cookie(name, "", path=path, secure=secure, http_only=True, max_age=0) for name in names]


@router.get(
    "/amazon/callback",
    summary="Amazon's consent redirect (no JWT: the signed state says who)",
    security=PUBLIC,
)
def amazon_callback(
    state: Annotated[str, Query(max_length=MAX_STATE_LENGTH)] = "",
    selling_partner_id: Annotated[str, Query(max_length=MAX_ID_LENGTH)] = "",
    spapi_oauth_code: Annotated[str, Query(max_length=MAX_CODE_LENGTH)] = "",
    error: Annotated[str, Query(max_length=MAX_CODE_LENGTH)] = "",
    error_description: Annotated[str, Query(max_length=MAX_STATE_LENGTH)] = "",
) -> Response[str]:
    cookies = consent_cookies()
    query = CallbackQuery(state, selling_partner_id, spapi_oauth_code, error, error_description, cookies)
    outcome = connector().complete(query)
    spent = cleared([name for name in cookies if outcome.consumed_cookie == name])
    if outcome.redirects:
        params = {"outcome": outcome.outcome, "store_id": outcome.store_id or ""}
        if outcome.outcome == "denied":
            params["message"] = outcome.message
        return Response(
            status_code=302,
            headers={"Location": console_url(router, **params), "Cache-Control": "no-store"},
            body="",
            cookies=spent,
        )
    return Response(
        status_code=outcome.status,
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
        body=error_page(outcome, console_url(router)),
        cookies=spent,
    )


def error_page(outcome: CallbackOutcome, back: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>storesync: the store was not connected</title></head>
<body>
<h1>The Amazon store was not connected</h1>
<p id="message" data-outcome="{html.escape(outcome.outcome)}">{html.escape(outcome.message)}</p>
<p>To try again, open storesync's Stores page in the browser you use for storesync and start the connection
(or the reauthorization) from there.</p>
<p><a id="back" href="{html.escape(back)}">Back to storesync</a></p>
</body></html>
"""
