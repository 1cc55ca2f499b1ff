"""What the table models share: a Meta of their own that starts unbound (`storesync.dal.bind_tables` names the
stack's table), and the key attributes that several tables spell alike.

The key bases are abstract models, never a table: pynamodb reads attributes through the class hierarchy, so a
concrete model gets them as if declared there. A secondary index takes its name from its attribute on the model
(pynamodb's default), so no index spells its name twice.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model


class TableModel(Model):
    """A model of one of the stack's tables."""

    class Meta:
        table_name = "unbound"
        region = "us-east-1"
        host: (
            str | None
        )  # pynamodb sets it when the model class is made; bind_tables sets the stack's endpoint

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each model gets its own copy of this unbound Meta (with the defaults pynamodb set on it), so that binding
        # one model's table never renames another's table. mypy cannot type a class made at run time.
        super().__init_subclass__(**kwargs)
        if "Meta" not in cls.__dict__:
            cls.Meta = type("Meta", (cls.Meta,), {})  # type: ignore[misc,assignment]


class MerchantKeyed(TableModel):
    """A row of one merchant's, partitioned by the merchant."""

    merchant_id = UnicodeAttribute(hash_key=True)


class StoreKeyed(TableModel):
    """A row of one store's, partitioned by the store, with the merchant that owns the store."""

    store_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()


class OrderKeyed(StoreKeyed):
    """A row of one Amazon order: the store, then Amazon's order id (one order, one row per table)."""

    amazon_order_id = UnicodeAttribute(range_key=True)
