"""The queries and writes on stores that every job shares (the API adds its own in storesync.api)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from storesync.clock import iso, utcnow
from storesync.dal.stores import Store
from storesync.domain.notices import Notice, distinct

STATUS_ACTIVE = "active"
STATUS_PENDING = "pending_authorization"
STATUS_NEEDS_REAUTHORIZATION = "needs_reauthorization"
STATUS_DISCONNECTED = "disconnected"


def get_store(merchant_id: str, store_id: str) -> Store | None:
    try:
        return Store.get(merchant_id, store_id, consistent_read=True)
    except Store.DoesNotExist:
        return None


def active_stores() -> Iterator[Store]:
    return Store.scan(Store.status == STATUS_ACTIVE)


def stores_of_seller(selling_partner_id: str, region: str) -> list[Store]:
    return list(Store.by_seller.query(f"{selling_partner_id}#{region}"))


def mark_needs_reauthorization(store: Store, reason: str) -> None:
    store.update(
        actions=[Store.status.set(STATUS_NEEDS_REAUTHORIZATION), Store.status_reason.set(reason)],
        condition=Store.status == STATUS_ACTIVE,
    )


def set_last_run(store: Store, job: str, result: str, summary: str) -> None:
    entry = {"at": iso(utcnow()), "result": result, "summary": summary[:300]}
    _update_unversioned(store, [Store.last_runs[job].set(entry)])  # type: ignore[index]


def set_warnings(store: Store, warnings: list[Notice]) -> None:
    _update_unversioned(store, [Store.warnings.set(distinct(warnings))])


def _update_unversioned(store: Store, actions: list[Any]) -> None:
    """Update bookkeeping fields without the version check (last write wins); pynamodb still adds 1 to the
    version, so a concurrent save of an older copy fails instead of rolling these fields back."""
    store.update(actions=actions, add_version_condition=False)


def merchant_stores(merchant_id: str) -> list[Store]:
    """Every store of the merchant (disconnected ones too), oldest first."""
    return sorted(Store.query(merchant_id), key=lambda s: (s.created_at, s.store_id))


def change_settings(store: Store, changes: dict[str, Any]) -> None:
    """Set the settings named in `changes`; a None value removes the setting (back to its default)."""
    actions = []
    for name, value in changes.items():
        attribute = getattr(Store.settings, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if actions:
        store.update(actions=actions)
