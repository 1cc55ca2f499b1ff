"""The current merchant's store from a path parameter: unknown and other merchants' stores are both a 404."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from storesync.api.auth import merchant_id
from storesync.api.errors import NotFound
from storesync.dal.store_queries import get_store
from storesync.dal.stores import Store
from storesync.observability import bind_store


def merchant_store(router: BaseRouter, store_id: str) -> Store:
    merchant = merchant_id(router)
    store = get_store(merchant, store_id) if 0 < len(store_id) <= 64 else None
    if store is None:
        raise NotFound(f"store_id: no store {store_id!r}", "store_id")
    bind_store(store.store_id, merchant)
    return store
