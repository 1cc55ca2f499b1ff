"""Warehouses: every merchant has a primary one (created on first use) and may add more."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from storesync.api.auth import merchant_id
from storesync.api.errors import Conflict
from storesync.api.views import warehouse_view
from storesync.dal.warehouses import create_warehouse, list_warehouses
from storesync.domain.stores import WarehouseCreate

router = Router()


@router.get("/warehouses", summary="The merchant's warehouses, primary first (created on first use)")
def get_warehouses() -> dict[str, Any]:
    return {"warehouses": [warehouse_view(w) for w in list_warehouses(merchant_id(router))]}


@router.post("/warehouses", summary="Add a warehouse", status_code=201)
def post_warehouse(data: Annotated[WarehouseCreate, Body()]) -> tuple[dict[str, Any], int]:
    merchant = merchant_id(router)
    existing = list_warehouses(merchant)
    if any(w.name.casefold() == data.name.casefold() for w in existing):
        raise Conflict(f"name: a warehouse named {data.name!r} exists already", "name")
    warehouse = create_warehouse(merchant, f"wh_{uuid.uuid4().hex[:10]}", data.name)
    return warehouse_view(warehouse), HTTPStatus.CREATED
