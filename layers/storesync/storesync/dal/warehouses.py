"""Warehouses: every merchant has one primary warehouse (created on first use) and may add more."""

from __future__ import annotations

import contextlib

from pynamodb.exceptions import PutError

from storesync.clock import utcnow
from storesync.dal.inventory import Warehouse
from storesync.dal.stores import Store

PRIMARY_WAREHOUSE_ID = "primary"


def ensure_primary_warehouse(merchant_id: str) -> Warehouse:
    with contextlib.suppress(PutError):  # created already (maybe by a concurrent request)
        Warehouse(
            merchant_id, PRIMARY_WAREHOUSE_ID, name="Primary warehouse", is_primary=True, created_at=utcnow()
        ).save(condition=Warehouse.warehouse_id.does_not_exist())
    return Warehouse.get(merchant_id, PRIMARY_WAREHOUSE_ID, consistent_read=True)


def list_warehouses(merchant_id: str) -> list[Warehouse]:
    ensure_primary_warehouse(merchant_id)
    return sorted(Warehouse.query(merchant_id), key=lambda w: (not w.is_primary, w.created_at))


def warehouse_exists(merchant_id: str, warehouse_id: str) -> bool:
    if warehouse_id == PRIMARY_WAREHOUSE_ID:
        return True
    try:
        Warehouse.get(merchant_id, warehouse_id)
    except Warehouse.DoesNotExist:
        return False
    return True


def feeding_warehouses(store: Store) -> list[str]:
    """The warehouses that feed a store, primary first. None chosen: the primary warehouse alone."""
    chosen = list(store.settings.warehouses or [])
    if not chosen:
        return [PRIMARY_WAREHOUSE_ID]
    if PRIMARY_WAREHOUSE_ID in chosen:
        chosen.remove(PRIMARY_WAREHOUSE_ID)
        chosen.insert(0, PRIMARY_WAREHOUSE_ID)
    return chosen


def create_warehouse(merchant_id: str, warehouse_id: str, name: str) -> Warehouse:
    """A new, non-primary warehouse (PutError if the id is taken)."""
    warehouse = Warehouse(merchant_id, warehouse_id, name=name, is_primary=False, created_at=utcnow())
    warehouse.save(condition=Warehouse.warehouse_id.does_not_exist())
    return warehouse
