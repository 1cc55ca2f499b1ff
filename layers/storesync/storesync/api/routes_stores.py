"""Stores: connect (consent URL), list, show, settings, re-authorize, disconnect."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from storesync.api.auth import merchant_id
from storesync.api.deps import api_settings, connector
from storesync.api.errors import BadRequest, Conflict
from storesync.api.params import StoreId
from storesync.api.routes_runs import in_progress
from storesync.api.store_access import merchant_store
from storesync.api.urls import callback_path, callback_url, served_over_https
from storesync.api.views import store_view as _store_view
from storesync.clock import utcnow
from storesync.dal.order_queries import late_shipment_counts
from storesync.dal.store_queries import (
    STATUS_ACTIVE,
    STATUS_DISCONNECTED,
    change_settings,
    client_secret_expiry,
    get_store,
    merchant_stores,
)
from storesync.dal.stores import Store
from storesync.dal.warehouses import warehouse_exists
from storesync.domain.stores import SettingsPatch, StoreCreate, client_secret_notice, unknown_warehouses
from storesync.usecases.connect import Consent, TooManyPendingStores

router = Router()


def store_view(store: Store, late: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, Any]:
    """The store with its runs in progress (a new store's first import shows on the Stores page); `late`: the
    merchant's late-shipment counts by store (late_shipment_counts), for the list and one store."""
    running = in_progress(store.store_id) if store.status == STATUS_ACTIVE else []
    view = _store_view(store, api_settings().cadences(), late_shipments=(late or {}).get(store.store_id))
    return view | {"in_progress": running}


def with_consent_cookie(body: dict[str, Any], consent: Consent, status: int) -> Response[dict[str, Any]]:
    """The JSON answer plus the cookie binding the consent to this browser: HttpOnly (no script reads it),
    SameSite=Lax (sent on Amazon's top-level redirect back), Secure over HTTPS, sent only to the callback,
    living as long as the consent state."""
    cookie = Cookie(
        consent.cookie.name,
        consent.cookie.value,
        path=callback_path(router),
        secure=served_over_https(router),
        http_only=True,
        max_age=consent.cookie.max_age,
        same_site=SameSite.LAX_MODE,
    )
    return Response(
        status_code=status,
        content_type="application/json",
        body=body,
        headers={"Cache-Control": "no-store"},
        cookies=[cookie],
    )


@router.post(
    "/stores",
    summary="Connect a store: answers the Amazon consent URL to send the merchant to (and the cookie that "
    "binds the consent to this browser); at most 20 stores wait for consent, each for 24 hours",
    status_code=201,
    responses={
        201: {"description": "The store, waiting for consent, and the consent URL"},
        409: {"description": "Too many stores wait for consent"},
    },
)
def create_store(data: Annotated[StoreCreate, Body()]) -> Response[dict[str, Any]]:
    merchant = merchant_id(router)
    try:
        store, consent = connector().create_store(merchant, data, callback_url(router))
    except TooManyPendingStores as exc:
        raise Conflict(str(exc), code="too_many_pending_stores") from None
    body = {"store_id": store.store_id, "consent_url": consent.url, "store": store_view(store)}
    return with_consent_cookie(body, consent, HTTPStatus.CREATED)


@router.get(
    "/stores",
    summary="The merchant's stores (never a token; stores that waited for consent over 24 hours are gone), and "
    "warnings about storesync itself (its Amazon app credential expiring)",
)
def list_stores() -> dict[str, Any]:
    merchant = merchant_id(router)  # first: an unauthenticated request reads nothing
    secret = client_secret_notice(client_secret_expiry(), utcnow())
    late = late_shipment_counts(merchant, utcnow())
    return {
        "stores": [store_view(s, late) for s in merchant_stores(merchant)],
        "warnings": [secret.to_dict()] if secret else [],
    }


@router.get("/stores/<store_id>", summary="One store")
def show_store(store_id: StoreId) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    return store_view(store, late_shipment_counts(store.merchant_id, utcnow()))


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


@router.post(
    "/stores/<store_id>/reauthorize",
    summary="A new consent URL for a store (and the cookie that binds it to this browser)",
)
def reauthorize(store_id: StoreId) -> Response[dict[str, Any]]:
    store = merchant_store(router, store_id)
    if store.status == STATUS_DISCONNECTED:
        raise Conflict("store_id: the store is disconnected; connect a new store instead", "store_id")
    consent = connector().consent_url(store, callback_url(router))
    body = {"store_id": store.store_id, "consent_url": consent.url}
    return with_consent_cookie(body, consent, HTTPStatus.OK)


@router.delete("/stores/<store_id>", summary="Disconnect a store (its history is kept)")
def disconnect(store_id: StoreId) -> dict[str, Any]:
    store = connector().disconnect(merchant_store(router, store_id))
    fresh = get_store(store.merchant_id, store.store_id)
    return store_view(fresh or store)
