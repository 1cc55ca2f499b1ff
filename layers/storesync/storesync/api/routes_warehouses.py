"""Warehouses: every merchant has a primary one (created on first use) and may add more."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import merchant_id
from storesync.api.errors import Conflict, parse_body
from storesync.api.views import warehouse_view
from storesync.clock import utcnow
from storesync.dal.inventory import Warehouse
from storesync.dal.warehouses import list_warehouses
from storesync.domain.stores import WarehouseCreate

router = Router()


@router.get("/warehouses")
def get_warehouses() -> dict[str, Any]:
    return {"warehouses": [warehouse_view(w) for w in list_warehouses(merchant_id(router))]}


@router.post("/warehouses")
def create_warehouse() -> tuple[dict[str, Any], int]:
    merchant = merchant_id(router)
    data = parse_body(router, WarehouseCreate)
    existing = list_warehouses(merchant)
    if any(w.name.casefold() == data.name.casefold() for w in existing):
        raise Conflict(f"name: a warehouse named {data.name!r} exists already", "name")
    warehouse = Warehouse(
        merchant, f"wh_{uuid.uuid4().hex[:10]}", name=data.name, is_primary=False, created_at=utcnow()
    )
    warehouse.save(condition=Warehouse.warehouse_id.does_not_exist())
    return warehouse_view(warehouse), HTTPStatus.CREATED
