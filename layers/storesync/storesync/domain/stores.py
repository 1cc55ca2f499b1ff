"""Store rules: what a merchant may send when connecting a store or changing its settings (plain Python).

Strict types: a string where a number belongs (or a number where a boolean belongs) is refused, naming the
field, never coerced. Warehouse existence is checked by `unknown_warehouses` with a lookup passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)

from storesync.marketplaces import is_marketplace

NAME_MAX = 100
MAX_QUANTITY_LIMIT = 1_000_000
MAX_WAREHOUSES = 50
WAREHOUSE_ID_MAX = 64
MARKETPLACE_ID_MAX = 20

StartingInventory = Literal["match_amazon", "keep"]
StoreName = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
WarehouseId = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=WAREHOUSE_ID_MAX)
]


def _marketplace(value: str) -> str:
    if not is_marketplace(value):
        raise ValueError(f"unknown marketplace id {value!r}")
    return value


class StoreCreate(BaseModel):
    """POST /stores."""

    model_config = ConfigDict(extra="forbid")
    name: StoreName
    marketplace_id: Annotated[StrictStr, StringConstraints(max_length=MARKETPLACE_ID_MAX)]
    download_products_and_orders: StrictBool = True
    starting_inventory: StartingInventory = "keep"

    _check_marketplace = field_validator("marketplace_id")(_marketplace)


class SettingsPatch(BaseModel):
    """PATCH /stores/{id}/settings: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")
    download_products_and_orders: StrictBool | None = None
    import_pending_orders: StrictBool | None = None
    remove_stock_for_external_fulfillments: StrictBool | None = None
    starting_inventory: StartingInventory | None = None
    inventory_buffer: Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY_LIMIT)] | None = None
    max_quantity: Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY_LIMIT)] | None = None
    warehouses: Annotated[list[WarehouseId], Field(max_length=MAX_WAREHOUSES)] | None = None

    @field_validator("warehouses")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a warehouse more than once")
        return value

    @field_validator(
        "download_products_and_orders",
        "import_pending_orders",
        "remove_stock_for_external_fulfillments",
        "starting_inventory",
        "inventory_buffer",
        "warehouses",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The settings sent (max_quantity may be sent as null: no maximum)."""
        return self.model_dump(exclude_unset=True)


def unknown_warehouses(warehouse_ids: Iterable[str], exists: Callable[[str], bool]) -> list[str]:
    return [w for w in warehouse_ids if not exists(w)]


class WarehouseCreate(BaseModel):
    """POST /warehouses."""

    model_config = ConfigDict(extra="forbid")
    name: StoreName
