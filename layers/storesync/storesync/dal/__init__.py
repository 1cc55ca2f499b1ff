"""Data access: pynamodb models (one module per entity) and the queries and transactions on them.

`bind_tables(prefix, region, endpoint_url)` points every model at the stack's tables; handlers call it once at
start with their settings, tests call it with moto's endpoint. The template's table resources are checked
against these models by tests/unit/test_tables_match_template.py.
"""

from __future__ import annotations

from pynamodb.models import Model

from storesync.dal.inventory import InventoryItem, Warehouse
from storesync.dal.jobs import JobState, SyncRun
from storesync.dal.orders import Order, OrderAddress
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
}


def table_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{TABLE_SUFFIXES[logical_id]}"


def bind_tables(prefix: str, region: str, endpoint_url: str | None = None) -> None:
    for logical_id, model in TABLES.items():
        model.Meta.table_name = table_name(prefix, logical_id)
        model.Meta.region = region
        model.Meta.host = endpoint_url
        # pynamodb caches the connection on the class: drop it so the new binding takes effect.
        model._connection = None
        for index in model._indexes.values():
            index.Meta.model = model  # type: ignore[attr-defined]
