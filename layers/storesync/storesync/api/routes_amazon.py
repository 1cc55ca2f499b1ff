"""GET /amazon/callback: where Amazon's consent page sends the merchant back (no JWT: the signed state says who).

Success or "denied" redirect to the console with the outcome in the query; every refusal is a plain HTML page
saying what happened and what to do, with a link back to the console.
"""

from __future__ import annotations

import html
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from storesync.api.auth import PUBLIC
from storesync.api.deps import connector
from storesync.api.params import MAX_ID_LENGTH
from storesync.api.urls import console_url
from storesync.usecases.connect import CallbackOutcome, CallbackQuery

router = Router()
MAX_STATE_LENGTH = 2048  # our signed state is a few hundred characters
MAX_CODE_LENGTH = 512


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
    query = CallbackQuery(state, selling_partner_id, spapi_oauth_code, error, error_description)
    outcome = connector().complete(query)
    if outcome.redirects:
        params = {"outcome": outcome.outcome, "store_id": outcome.store_id or ""}
        if outcome.outcome == "denied":
            params["message"] = outcome.message
        return Response(
            status_code=302,
            headers={"Location": console_url(router, **params), "Cache-Control": "no-store"},
            body="",
        )
    return Response(
        status_code=outcome.status,
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
        body=error_page(outcome, console_url(router)),
    )


def error_page(outcome: CallbackOutcome, back: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>storesync: the store was not connected</title></head>
<body>
<h1>The Amazon store was not connected</h1>
<p id="message" data-outcome="{html.escape(outcome.outcome)}">{html.escape(outcome.message)}</p>
<p><a id="back" href="{html.escape(back)}">Back to storesync</a></p>
</body></html>
"""
