"""The API: one APIGatewayHttpResolver, one Router per area. Add your area with one include_router line.

Powertools validates every body, path and query parameter against the routes' annotations
(`enable_validation=True`; errors.py turns its errors into our error shape) and generates the OpenAPI document
from them: `GET /openapi.json` serves it and `GET /docs` Swagger UI, both without a token.

The resolver is the HTTP API (v2) one because that is what template.yaml deploys (AWS::Serverless::HttpApi
with a JWT authorizer): APIGatewayRestResolver reads REST API (v1) events, whose path, claims and query fields
sit elsewhere.
"""

from __future__ import annotations

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
from storesync.api.errors import refuse_array_body, register_error_handlers
from storesync.observability import unbind_store
from storesync.settings import ApiSettings

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"

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
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=app.get_openapi_json_schema())


def handle(event: dict[str, Any], context: LambdaContext, settings: ApiSettings) -> dict[str, Any]:
    configure(settings)
    unbind_store()
    refused = refuse_array_body(event)
    if refused is not None:
        return refused
    return app.resolve(event, context)
