"""WMS shipments of an Amazon order: `POST /orders/{id}/shipments` and `GET /orders/{id}/shipments`.

The order id is "<store_id>.<amazon order id>". A shipment names its carrier (mapped to Amazon's carrier code,
or "Other" with the carrier's name: the choice is in the answer), shipping method, tracking number, ship date
and items [{order_item_id or sku, quantity}]; partial shipments and several packages per order are allowed.
Creating one moves the stock in one transaction with the shipment record; the shipment push job confirms it on
Amazon. Every refusal is a 4xx naming the field or the problem.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.deps import api_services
from storesync.api.errors import ApiError, NotFound, json_body
from storesync.api.store_access import merchant_store
from storesync.domain.shipments import ShipmentProblem
from storesync.usecases.shipment_create import create_shipment, list_shipments, shipment_json

router = Router()


def _order_id(order_id: str) -> tuple[str, str]:
    store_id, dot, amazon_order_id = order_id.partition(".")
    if not dot or not store_id or not amazon_order_id or len(order_id) > 128:
        raise NotFound(f"id: {order_id!r} is not an order id (<store_id>.<amazon order id>)", "id")
    return store_id, amazon_order_id


def _api_error(problem: ShipmentProblem) -> ApiError:
    error = ApiError(problem.message, problem.field, code=problem.code)
    error.status = HTTPStatus(problem.status)
    return error


@router.post("/orders/<order_id>/shipments")
def post_shipment(order_id: str) -> tuple[dict[str, Any], HTTPStatus]:
    store_id, amazon_order_id = _order_id(order_id)
    store = merchant_store(router, store_id)
    body = json_body(router)
    try:
        shipment = create_shipment(
            store.merchant_id, store.store_id, amazon_order_id, body, api_services().queue
        )
    except ShipmentProblem as problem:
        raise _api_error(problem) from None
    return shipment_json(shipment), HTTPStatus.CREATED


@router.get("/orders/<order_id>/shipments")
def get_shipments(order_id: str) -> dict[str, Any]:
    store_id, amazon_order_id = _order_id(order_id)
    store = merchant_store(router, store_id)
    try:
        shipments = list_shipments(store.merchant_id, store.store_id, amazon_order_id)
    except ShipmentProblem as problem:
        raise _api_error(problem) from None
    return {"shipments": [shipment_json(s) for s in shipments]}
