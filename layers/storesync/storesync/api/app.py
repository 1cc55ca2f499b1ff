"""The API: one APIGatewayHttpResolver, one Router per area. Add your area with one include_router line."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
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
from storesync.api.deps import configure
from storesync.api.errors import register_error_handlers
from storesync.observability import unbind_store
from storesync.settings import ApiSettings

app = APIGatewayHttpResolver(strip_prefixes=None)
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


def handle(event: dict[str, Any], context: LambdaContext, settings: ApiSettings) -> dict[str, Any]:
    configure(settings)
    unbind_store()
    return app.resolve(event, context)
