"""The API: one APIGatewayHttpResolver, one Router per area. Add your area with one include_router line.

Powertools validates every body, path and query parameter against the routes' annotations
(`enable_validation=True`; errors.py turns its errors into our error shape) and generates the OpenAPI document
from them: `GET /openapi.json` serves it and `GET /docs` Swagger UI, both without a token.

The resolver is the HTTP API (v2) one because that is what template.yaml deploys (AWS::Serverless::HttpApi
with a JWT authorizer): APIGatewayRestResolver reads REST API (v1) events, whose path, claims and query fields
sit elsewhere.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.utilities.typing import LambdaContext

from storesync.api import (
    routes_amazon,
    routes_console,
    routes_console_data,
    routes_inventory,
    routes_local,
    routes_orders,
    routes_products,
    routes_runs,
    routes_shipments,
    routes_stores,
    routes_warehouses,
)
from storesync.api.auth import BEARER_SCHEME, PUBLIC
from storesync.api.deps import configure
from storesync.api.errors import register_error_handlers
from storesync.api.input_guard import refuse_body, refuse_request_line
from storesync.observability import unbind_store
from storesync.settings import ApiSettings

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
# Query parameters are checked by name except where someone else decides them: Amazon's consent redirect and
# the console page it ends on (/?outcome=...).
OPEN_QUERY_PATHS = frozenset({"/", "/amazon/callback"})

# Every answer: never sniffed into another type, never sends the URL (tokens, ids) as a Referer. The console
# (and every other answer but Swagger UI, which loads its scripts from a CDN with an inline script) may load
# only its own files: no inline script, no other origin, never framed.
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = "frame-ancestors 'none'"

app = APIGatewayHttpResolver(strip_prefixes=None, enable_validation=True)
app.configure_openapi(
    title="storesync",
    version="1",
    description="Amazon stores, orders, shipments and stock for a WMS. The merchant is the JWT's `sub`; bad "
    'input is a 4xx `{"error": {"code", "message", "field"}}` naming the field.',
    security_schemes={BEARER_SCHEME: HTTPBearer(bearerFormat="JWT", description="the merchant's token")},
    security=[{BEARER_SCHEME: []}],
)
app.enable_swagger(path=DOCS_PATH)
register_error_handlers(app)
app.include_router(routes_stores.router)
app.include_router(routes_runs.router)
app.include_router(routes_shipments.router)
app.include_router(routes_warehouses.router)
app.include_router(routes_inventory.router)
app.include_router(routes_amazon.router)
app.include_router(routes_console.router)
app.include_router(routes_console_data.router)
app.include_router(routes_local.router)
app.include_router(routes_products.router)
app.include_router(routes_orders.router)


@app.get(OPENAPI_PATH, summary="This API's OpenAPI document", security=PUBLIC)
def openapi_document() -> Response[dict[str, Any]]:
    document = json.loads(app.get_openapi_json_schema())
    return Response(status_code=200, content_type="application/json", body=document)


@cache
def _declared_queries() -> tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]:
    """(method, path pattern, query parameter names) of every documented operation, from the OpenAPI document;
    paths without parameters first, so a fixed path is never taken for a parameter's value."""
    document = json.loads(app.get_openapi_json_schema())
    found = []
    for path, operations in sorted(document["paths"].items(), key=lambda item: "{" in item[0]):
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in operations.items():
            names = frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
            found.append((method, pattern, names))
    return tuple(found)


def declared_query(method: str, path: str) -> frozenset[str] | None:
    """The query parameters the operation at (method, path) declares; None: any (not documented, or open)."""
    if path in OPEN_QUERY_PATHS:
        return None
    for known_method, pattern, names in _declared_queries():
        if known_method == method and pattern.match(path):
            return names
    return None


def with_security_headers(answer: dict[str, Any], path: str) -> dict[str, Any]:
    headers = dict(answer.get("headers") or {})
    answer["headers"] = headers
    headers.update(COMMON_HEADERS)
    headers.setdefault("Content-Security-Policy", DOCS_CSP if path == DOCS_PATH else CONSOLE_CSP)
    return answer


def handle(event: dict[str, Any], context: LambdaContext, settings: ApiSettings) -> dict[str, Any]:
    configure(settings)
    unbind_store()
    refused = refuse_body(event) or refuse_request_line(event, declared_query)
    answer = refused if refused is not None else app.resolve(event, context)
    return with_security_headers(answer, str(event.get("rawPath") or ""))
