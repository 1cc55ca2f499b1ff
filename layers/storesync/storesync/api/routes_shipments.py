"""WMS shipments of an Amazon order: `POST /orders/{id}/shipments` and `GET /orders/{id}/shipments`.

The order id is "<store_id>.<amazon order id>". A shipment names its carrier (mapped to Amazon's carrier code,
or "Other" with the carrier's name: the choice is in the answer), shipping method, tracking number, ship date
and items [{order_item_id or sku, quantity}]; partial shipments and several packages per order are allowed.
Creating one moves the stock in one transaction with the shipment record; the shipment push job confirms it on
Amazon. Every refusal is a 4xx naming the field or the problem.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from storesync.api.deps import api_services
from storesync.api.errors import ApiError
from storesync.api.params import MAX_SKU_LENGTH, OrderId
from storesync.api.store_access import merchant_store
from storesync.api.views import shipment_view
from storesync.domain.shipments import MAX_FIELD_LENGTH, MAX_LINES, MAX_TRACKING_LENGTH, ShipmentProblem
from storesync.domain.stores import MAX_QUANTITY_LIMIT
from storesync.usecases.shipment_create import create_shipment, list_shipments

router = Router()


class ShipmentLineBody(BaseModel):
    """One line: the order item (or its SKU) and how many units are in this package."""

    model_config = ConfigDict(extra="forbid")
    order_item_id: str | None = Field(default=None, max_length=MAX_FIELD_LENGTH)
    sku: str | None = Field(default=None, max_length=MAX_SKU_LENGTH)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY_LIMIT)


class ShipmentBody(BaseModel):
    """The shape of a shipment; its rules (required text, lengths, dates, lines that match the order) are
    domain.shipments.parse_shipment_request's."""

    model_config = ConfigDict(extra="forbid")
    carrier: str | None = Field(default=None, max_length=MAX_FIELD_LENGTH)
    shipping_method: str | None = Field(default=None, max_length=MAX_FIELD_LENGTH)
    tracking_number: str | None = Field(default=None, max_length=MAX_TRACKING_LENGTH)
    ship_date: str | None = Field(default=None, max_length=40)
    items: list[ShipmentLineBody] = Field(max_length=MAX_LINES)


def _api_error(problem: ShipmentProblem) -> ApiError:
    error = ApiError(problem.message, problem.field, code=problem.code)
    error.status = HTTPStatus(problem.status)
    return error


@router.post(
    "/orders/<id>/shipments",
    summary="Ship (part of) an order from the WMS: carrier, tracking, items",
    status_code=201,
)
def post_shipment(
    order_id: OrderId, body: Annotated[ShipmentBody, Body()]
) -> tuple[dict[str, Any], HTTPStatus]:
    store = merchant_store(router, order_id.store_id)
    request = body.model_dump(exclude_unset=True)
    try:
        shipment = create_shipment(
            store.merchant_id, store.store_id, order_id.amazon_order_id, request, api_services().queue
        )
    except ShipmentProblem as problem:
        raise _api_error(problem) from None
    return shipment_view(shipment), HTTPStatus.CREATED


@router.get("/orders/<id>/shipments", summary="The WMS shipments of an order and what Amazon answered")
def get_shipments(order_id: OrderId) -> dict[str, Any]:
    store = merchant_store(router, order_id.store_id)
    try:
        shipments = list_shipments(store.merchant_id, store.store_id, order_id.amazon_order_id)
    except ShipmentProblem as problem:
        raise _api_error(problem) from None
    return {"shipments": [shipment_view(s) for s in shipments]}
