"""Stores: connect (consent URL), list, show, settings, re-authorize, disconnect."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from storesync.api.auth import merchant_id
from storesync.api.deps import api_settings, connector
from storesync.api.errors import BadRequest, Conflict
from storesync.api.params import StoreId
from storesync.api.store_access import merchant_store
from storesync.api.urls import callback_url
from storesync.api.views import store_view as _store_view
from storesync.dal.store_queries import STATUS_DISCONNECTED, change_settings, get_store, merchant_stores
from storesync.dal.stores import Store
from storesync.dal.warehouses import warehouse_exists
from storesync.domain.stores import SettingsPatch, StoreCreate, unknown_warehouses

router = Router()


def store_view(store: Store) -> dict[str, Any]:
    return _store_view(store, api_settings().cadences())


@router.post(
    "/stores",
    summary="Connect a store: answers the Amazon consent URL to send the merchant to",
    status_code=201,
)
def create_store(data: Annotated[StoreCreate, Body()]) -> tuple[dict[str, Any], int]:
    merchant = merchant_id(router)
    store, consent_url = connector().create_store(merchant, data, callback_url(router))
    return {
        "store_id": store.store_id,
        "consent_url": consent_url,
        "store": store_view(store),
    }, HTTPStatus.CREATED


@router.get("/stores", summary="The merchant's stores (never a token)")
def list_stores() -> dict[str, Any]:
    return {"stores": [store_view(s) for s in merchant_stores(merchant_id(router))]}


@router.get("/stores/<store_id>", summary="One store")
def show_store(store_id: StoreId) -> dict[str, Any]:
    return store_view(merchant_store(router, store_id))


@router.patch("/stores/<store_id>/settings", summary="Change a store's sync settings (only the fields sent)")
def patch_settings(store_id: StoreId, patch: Annotated[SettingsPatch, Body()]) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    if store.status == STATUS_DISCONNECTED:
        raise Conflict(
            "store_id: the store is disconnected; connect it again to change its settings", "store_id"
        )
    changes = patch.changes()
    if "warehouses" in changes:
        missing = unknown_warehouses(changes["warehouses"], lambda w: warehouse_exists(store.merchant_id, w))
        if missing:
            raise BadRequest(f"warehouses: no warehouse {', '.join(map(repr, missing))}", "warehouses")
    change_settings(store, changes)
    fresh = get_store(store.merchant_id, store.store_id)
    return store_view(fresh or store)


@router.post("/stores/<store_id>/reauthorize", summary="A new consent URL for a store")
def reauthorize(store_id: StoreId) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    if store.status == STATUS_DISCONNECTED:
        raise Conflict("store_id: the store is disconnected; connect a new store instead", "store_id")
    consent_url = connector().consent_url(store, callback_url(router))
    return {"store_id": store.store_id, "consent_url": consent_url}


@router.delete("/stores/<store_id>", summary="Disconnect a store (its history is kept)")
def disconnect(store_id: StoreId) -> dict[str, Any]:
    store = connector().disconnect(merchant_store(router, store_id))
    fresh = get_store(store.merchant_id, store.store_id)
    return store_view(fresh or store)
