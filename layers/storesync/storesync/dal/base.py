"""What every table model shares: its Meta starts unbound; `storesync.dal.bind_tables` names the stack's table."""

from __future__ import annotations


class UnboundTableMeta:
    table_name = "unbound"
    region = "us-east-1"
    host: str | None  # pynamodb sets it when the model class is made; bind_tables sets the stack's endpoint
