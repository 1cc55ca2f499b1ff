"""The queries and writes on stores, their consent states and seller authorizations (the repository of stores:
use cases and routes call these functions and never name the pynamodb attributes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from pynamodb.connection import TableConnection
from pynamodb.exceptions import DeleteError, UpdateError

from storesync.clock import utcnow
from storesync.dal.stores import OAuthState, SellerAuthorization, Store, StoreSettings
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


def mark_needs_reauthorization(store: Store, reason: str) -> bool:
    """An active store turns needs_reauthorization with `reason` (plain words). False when it was not active
    any more (another job or a disconnect got there first): nothing is changed then."""
    try:
        store.update(
            actions=[Store.status.set(STATUS_NEEDS_REAUTHORIZATION), Store.status_reason.set(reason)],
            condition=Store.status == STATUS_ACTIVE,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def set_last_run(store: Store, job: str, entry: Mapping[str, Any]) -> None:
    """The job's last-run entry on the store (domain/health.after_run makes it)."""
    _update_unversioned(store, [Store.last_runs[job].set(dict(entry))])  # type: ignore[index]


def set_warnings(store: Store, warnings: list[Notice]) -> None:
    _update_unversioned(store, [Store.warnings.set(distinct(warnings))])


def _update_unversioned(store: Store, actions: list[Any]) -> None:
    """Update bookkeeping fields (last runs, warnings) without touching the version: last write wins, and a
    merchant's settings change read just before a job finishes is not refused as "changed meanwhile".
    Model.update always adds 1 to the version, so the table's own connection (pynamodb's public
    TableConnection) writes them."""
    table = _table_connection(Store.Meta.table_name, Store.Meta.region, Store.Meta.host)
    table.update_item(store.merchant_id, range_key=store.store_id, actions=actions)


@cache
def _table_connection(table_name: str, region: str | None, host: str | None) -> TableConnection:
    table = TableConnection(table_name, region=region, host=host)
    table.describe_table()  # its key schema, once per container (DynamoDBCrudPolicy grants DescribeTable)
    return table


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


# connecting a store ---------------------------------------------------------------------------------------------
def create_store(
    merchant_id: str,
    store_id: str,
    *,
    name: str,
    marketplace_id: str,
    region: str,
    download_products_and_orders: bool,
    starting_inventory: str,
    created_at: datetime,
) -> Store:
    """A new store awaiting Amazon's authorization (never overwrites one with the same id)."""
    store = Store(
        merchant_id,
        store_id,
        name=name,
        marketplace_id=marketplace_id,
        region=region,
        status=STATUS_PENDING,
        settings=StoreSettings(
            download_products_and_orders=download_products_and_orders,
            starting_inventory=starting_inventory,
        ),
        created_at=created_at,
    )
    store.save(condition=Store.store_id.does_not_exist())
    return store


def save_consent_state(
    nonce: str, *, merchant_id: str, store_id: str, redirect_uri: str, expires_at: datetime
) -> None:
    """Store a consent state under its nonce (never overwrites one); DynamoDB's TTL removes it at expires_at."""
    OAuthState(
        nonce,
        merchant_id=merchant_id,
        store_id=store_id,
        redirect_uri=redirect_uri,
        expires_at=expires_at,
    ).save(condition=OAuthState.state_id.does_not_exist())


def consume_consent_state(nonce: str) -> OAuthState | None:
    """The consent state, deleted as it is read (single use); None when unknown or already used."""
    try:
        row = OAuthState.get(nonce, consistent_read=True)
    except OAuthState.DoesNotExist:
        return None
    try:
        row.delete(condition=OAuthState.state_id.exists())
    except DeleteError:
        return None
    return row


def authorize(
    store: Store, *, selling_partner_id: str, seller_key: str, refresh_token_encrypted: bytes
) -> None:
    """The store is active for the seller: its encrypted refresh token is stored and any status reason cleared."""
    store.update(
        actions=[
            Store.status.set(STATUS_ACTIVE),
            Store.status_reason.remove(),
            Store.selling_partner_id.set(selling_partner_id),
            Store.seller_key.set(seller_key),
            Store.refresh_token_encrypted.set(refresh_token_encrypted),
            Store.authorized_at.set(utcnow()),
        ]
    )


def set_status_reason(store: Store, reason: str) -> None:
    store.update(actions=[Store.status_reason.set(reason)])


def disconnect(store: Store, reason: str) -> None:
    """Jobs stop (status), the refresh token and the seller index key are deleted; the history stays."""
    store.update(
        actions=[
            Store.status.set(STATUS_DISCONNECTED),
            Store.status_reason.set(reason),
            Store.refresh_token_encrypted.remove(),
            Store.seller_key.remove(),
            Store.disconnected_at.set(utcnow()),
        ]
    )


def seller_authorization(seller_key: str) -> SellerAuthorization:
    """The seller's (per region) ORDER_CHANGE subscription record; a new unsaved one when there is none yet."""
    try:
        return SellerAuthorization.get(seller_key, consistent_read=True)
    except SellerAuthorization.DoesNotExist:
        return SellerAuthorization(seller_key)


def save_subscription(
    authorization: SellerAuthorization, *, destination_id: str, subscription_id: str, subscribed_at: datetime
) -> None:
    authorization.destination_id = destination_id
    authorization.subscription_id = subscription_id
    authorization.subscribed_at = subscribed_at
    authorization.save()
