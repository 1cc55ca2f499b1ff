"""Stores: connect (consent URL), list, show, settings, re-authorize, disconnect."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import merchant_id
from storesync.api.deps import connector
from storesync.api.errors import BadRequest, Conflict, parse_body
from storesync.api.store_access import merchant_store
from storesync.api.urls import callback_url
from storesync.api.views import store_view
from storesync.dal.store_queries import STATUS_DISCONNECTED, get_store
from storesync.dal.stores import Store
from storesync.dal.warehouses import warehouse_exists
from storesync.domain.stores import SettingsPatch, StoreCreate, unknown_warehouses

router = Router()


@router.post("/stores")
def create_store() -> tuple[dict[str, Any], int]:
    merchant = merchant_id(router)
    data = parse_body(router, StoreCreate)
    store, consent_url = connector().create_store(merchant, data, callback_url(router))
    return {
        "store_id": store.store_id,
        "consent_url": consent_url,
        "store": store_view(store),
    }, HTTPStatus.CREATED


@router.get("/stores")
def list_stores() -> dict[str, Any]:
    merchant = merchant_id(router)
    stores = sorted(Store.query(merchant), key=lambda s: (s.created_at, s.store_id))
    return {"stores": [store_view(s) for s in stores]}


@router.get("/stores/<store_id>")
def show_store(store_id: str) -> dict[str, Any]:
    return store_view(merchant_store(router, store_id))


@router.patch("/stores/<store_id>/settings")
def change_settings(store_id: str) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    patch = parse_body(router, SettingsPatch)
    if store.status == STATUS_DISCONNECTED:
        raise Conflict(
            "store_id: the store is disconnected; connect it again to change its settings", "store_id"
        )
    changes = patch.changes()
    if "warehouses" in changes:
        missing = unknown_warehouses(changes["warehouses"], lambda w: warehouse_exists(store.merchant_id, w))
        if missing:
            raise BadRequest(f"warehouses: no warehouse {', '.join(map(repr, missing))}", "warehouses")
    if changes:
        store.update(actions=[_setting_action(name, value) for name, value in changes.items()])
    fresh = get_store(store.merchant_id, store.store_id)
    return store_view(fresh or store)


def _setting_action(name: str, value: Any) -> Any:
    attribute = getattr(Store.settings, name)
    return attribute.remove() if value is None else attribute.set(value)


@router.post("/stores/<store_id>/reauthorize")
def reauthorize(store_id: str) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    if store.status == STATUS_DISCONNECTED:
        raise Conflict("store_id: the store is disconnected; connect a new store instead", "store_id")
    consent_url = connector().consent_url(store, callback_url(router))
    return {"store_id": store.store_id, "consent_url": consent_url}


@router.delete("/stores/<store_id>")
def disconnect(store_id: str) -> dict[str, Any]:
    store = connector().disconnect(merchant_store(router, store_id))
    fresh = get_store(store.merchant_id, store.store_id)
    return store_view(fresh or store)
