"""Login with Amazon: the token endpoint and the seller consent page.

POST /auth/o2/token (form): grant_type=authorization_code | refresh_token | client_credentials.
GET  /apps/authorize/consent?application_id&state&redirect_uri[&version=beta][&seller_id=preselected]
POST /apps/authorize/consent (the page's form: Approve or Deny) -> 302 to redirect_uri.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from flask import Response, abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from .sellers import APPLICATION_ID, APPLICATION_NAME, CLIENT_ID, CLIENT_SECRET, MARKETPLACES
from .server import json_response, sim_route
from .world import CODE_TTL_SECONDS

if TYPE_CHECKING:
    from .state import SimulatorState

GRANTLESS_SCOPES = ("sellingpartnerapi::notifications", "sellingpartnerapi::migration")


def lwa_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _client_credentials() -> tuple[str, str]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username or "", request.authorization.password or ""
    return request.form.get("client_id", ""), request.form.get("client_secret", "")


@sim_route("POST", "/auth/o2/token")
def token(sim: SimulatorState) -> Response:
    form = request.form
    grant_type = form.get("grant_type", "")
    if not grant_type:
        return lwa_error(400, "invalid_request", "grant_type: required parameter is missing")
    client_id, client_secret = _client_credentials()
    if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
        return lwa_error(401, "invalid_client", "Client authentication failed")
    world = sim.world
    now = sim.clock.time()
    if grant_type == "authorization_code":
        code_value = form.get("code", "")
        if not code_value:
            return lwa_error(400, "invalid_request", "code: required parameter is missing")
        with world.lock:
            code = world.codes.get(code_value)
            if code is None:
                return lwa_error(400, "invalid_grant", "The authorization code is invalid")
            if code.used:
                return lwa_error(400, "invalid_grant", "The authorization code has already been used")
            if now - code.issued_at > CODE_TTL_SECONDS:
                return lwa_error(400, "invalid_grant", "The authorization code has expired")
            redirect_uri = form.get("redirect_uri")
            if code.redirect_uri and redirect_uri and redirect_uri != code.redirect_uri:
                return lwa_error(400, "invalid_grant", "redirect_uri: does not match the consent request")
            code.used = True
        grant = world.issue_grant(code.seller_id)
        access = world.issue_access_token(code.seller_id, grant=grant.refresh_token)
        return _token_answer(access.token, access.ttl, grant.refresh_token)
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            return lwa_error(400, "invalid_request", "refresh_token: required parameter is missing")
        found = world.grants.get(refresh_token)
        if found is None or found.revoked:
            return lwa_error(
                400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        access = world.issue_access_token(found.seller_id, grant=found.refresh_token)
        return _token_answer(access.token, access.ttl, found.refresh_token)
    if grant_type == "client_credentials":
        scope = form.get("scope", "")
        if scope not in GRANTLESS_SCOPES:
            return lwa_error(400, "invalid_scope", f"scope: must be one of {', '.join(GRANTLESS_SCOPES)}")
        access = world.issue_access_token(None, scope=scope)
        return _token_answer(access.token, access.ttl, None)
    return lwa_error(400, "unsupported_grant_type", f"grant_type: {grant_type!r} is not supported")


def _token_answer(access_token: str, ttl: float, refresh_token: str | None) -> Response:
    body: dict[str, Any] = {"access_token": access_token, "token_type": "bearer", "expires_in": int(ttl)}
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return json_response(200, body, {"Cache-Control": "no-store"})


def _consent_problem(application_id: str, state: str, redirect_uri: str) -> str | None:
    if application_id != APPLICATION_ID:
        return f"application_id: unknown application {application_id!r}"
    if not state:
        return "state: required parameter is missing"
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "redirect_uri: an absolute http(s) URL is required"
    return None


def _error_page(message: str) -> Response:
    page = f"<!doctype html><html><head><title>Error</title></head><body><h1>Authorization error</h1>" \
           f"<p id='error'>{html.escape(message)}</p></body></html>"  # fmt: skip
    return Response(page, status=400, mimetype="text/html")


def _consent_request(values: Mapping[str, str]) -> tuple[str, str, str]:
    """application_id, state and redirect_uri of the consent page's query or of its form; a wrong one ends the
    request with the error page naming it (Flask's abort with a response)."""
    application_id = values.get("application_id", "")
    state = values.get("state", "")
    redirect_uri = values.get("redirect_uri", "")
    problem = _consent_problem(application_id, state, redirect_uri)
    if problem:
        abort(_error_page(problem))
    return application_id, state, redirect_uri


@sim_route("GET", "/apps/authorize/consent")
def consent_page(sim: SimulatorState) -> Response:
    args = request.args
    application_id, state, redirect_uri = _consent_request(args)
    preselected = args.get("seller_id") or args.get("selling_partner_id") or ""
    options = []
    for seller in sim.world.sellers.values():
        markets = ", ".join(MARKETPLACES[m].country_code for m in seller.marketplace_ids)
        chosen = " selected" if seller.seller_id == preselected else ""
        label = f"{seller.name} ({seller.seller_id}, {seller.region}: {markets})"
        options.append(
            f'<option value="{html.escape(seller.seller_id)}"{chosen}>{html.escape(label)}</option>'
        )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("application_id", application_id),
            ("state", state),
            ("redirect_uri", redirect_uri),
            ("version", args.get("version", "")),
        )
    )
    beta = " (draft app, version=beta)" if args.get("version") == "beta" else ""
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {html.escape(APPLICATION_NAME)}</title></head>
<body>
<h1>Authorize <span id="application">{html.escape(APPLICATION_NAME)}</span>{beta}</h1>
<p>The application <b>{html.escape(APPLICATION_NAME)}</b> ({html.escape(APPLICATION_ID)}) asks to access
the selling account below.</p>
<form id="consent" method="post" action="/apps/authorize/consent">
{hidden}
<label for="selling_partner_id">Selling account</label>
<select id="selling_partner_id" name="selling_partner_id">{"".join(options)}</select>
<button type="submit" id="approve" name="decision" value="approve">Approve</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""
    return Response(page, status=200, mimetype="text/html")


@sim_route("POST", "/apps/authorize/consent")
def consent_decision(sim: SimulatorState) -> BaseResponse:
    form = request.form
    _, state, redirect_uri = _consent_request(form)
    decision = form.get("decision", "")
    separator = "&" if "?" in redirect_uri else "?"
    if decision == "deny":
        query = {
            "state": state,
            "error": "access_denied",
            "error_description": "The seller denied the request",
        }
        return redirect(redirect_uri + separator + urlencode(query), code=302)
    if decision != "approve":
        return _error_page("decision: must be approve or deny")
    seller_id = form.get("selling_partner_id", "")
    if seller_id not in sim.world.sellers:
        return _error_page(f"selling_partner_id: unknown seller {seller_id!r}")
    code = sim.world.issue_code(seller_id, redirect_uri)
    query = {"state": state, "selling_partner_id": seller_id, "spapi_oauth_code": code.code}
    return redirect(redirect_uri + separator + urlencode(query), code=302)
