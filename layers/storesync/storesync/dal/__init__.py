"""Data access: pynamodb models (one module per entity) and the queries and transactions on them.

`bind_tables(prefix, region, endpoint_url)` points every model at the stack's tables; handlers call it once at
start with their settings, tests call it with moto's endpoint. The template's table resources are checked
against these models by tests/unit/test_tables_match_template.py.
"""

from __future__ import annotations

from pynamodb.models import Model

from storesync.dal.fetch_lists import FetchListEntry
from storesync.dal.inventory import InventoryItem, Warehouse
from storesync.dal.jobs import JobState, SyncRun
from storesync.dal.orders import Order, OrderAddress
from storesync.dal.outbox import OutboxEvent
from storesync.dal.products import Listing, Product
from storesync.dal.quota import QuotaBucket
from storesync.dal.shipments import Shipment
from storesync.dal.stores import OAuthState, SellerAuthorization, Store

# Logical id in template.yaml -> model. The table name is "<prefix>-<suffix>".
TABLES: dict[str, type[Model]] = {
    "StoresTable": Store,
    "OAuthStatesTable": OAuthState,
    "SellerAuthorizationsTable": SellerAuthorization,
    "WarehousesTable": Warehouse,
    "InventoryTable": InventoryItem,
    "ProductsTable": Product,
    "ListingsTable": Listing,
    "OrdersTable": Order,
    "OrderAddressesTable": OrderAddress,
    "ShipmentsTable": Shipment,
    "JobStatesTable": JobState,
    "SyncRunsTable": SyncRun,
    "QuotaBucketsTable": QuotaBucket,
    "EventOutboxTable": OutboxEvent,
    "OrderFetchListsTable": FetchListEntry,
}

TABLE_SUFFIXES: dict[str, str] = {
    "StoresTable": "stores",
    "OAuthStatesTable": "oauth-states",
    "SellerAuthorizationsTable": "seller-authorizations",
    "WarehousesTable": "warehouses",
    "InventoryTable": "inventory",
    "ProductsTable": "products",
    "ListingsTable": "listings",
    "OrdersTable": "orders",
    "OrderAddressesTable": "order-addresses",
    "ShipmentsTable": "shipments",
    "JobStatesTable": "job-states",
    "SyncRunsTable": "sync-runs",
    "QuotaBucketsTable": "quota-buckets",
    "IdempotencyTable": "idempotency",
    "EventOutboxTable": "event-outbox",
    "OrderFetchListsTable": "order-fetch-lists",
}


def table_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{TABLE_SUFFIXES[logical_id]}"


_bound: dict[str, tuple[str, str | None]] = {}  # prefix -> (region, endpoint) it is bound to


def bind_tables(prefix: str, region: str, endpoint_url: str | None = None) -> None:
    """Point every model at "<prefix>-<table>". pynamodb (Model._get_connection) builds a model's connection
    anew whenever Meta.table_name changes, so a new prefix takes effect; it keeps the connection while the
    name stays, so one prefix cannot move to another region or endpoint in the same process."""
    if _bound.get(prefix, (region, endpoint_url)) != (region, endpoint_url):
        raise ValueError(
            f"tables {prefix}-* are already bound to {_bound[prefix]}, not to {(region, endpoint_url)}"
        )
    _bound[prefix] = (region, endpoint_url)
    for logical_id, model in TABLES.items():
        model.Meta.table_name = table_name(prefix, logical_id)
        model.Meta.region = region
        model.Meta.host = endpoint_url
