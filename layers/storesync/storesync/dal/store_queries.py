"""The queries and writes on stores, their consent states and seller authorizations (the repository of stores:
use cases and routes call these functions and never name the pynamodb attributes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.connection import TableConnection
from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.transactions import TransactWrite

from storesync.clock import utcnow
from storesync.dal import outbox
from storesync.dal.stores import OAuthState, SellerAuthorization, Store, StoreSettings
from storesync.domain.events import Event
from storesync.domain.notices import Notice, distinct

STATUS_ACTIVE = "active"
STATUS_PENDING = "pending_authorization"
STATUS_NEEDS_REAUTHORIZATION = "needs_reauthorization"
STATUS_DISCONNECTED = "disconnected"
PENDING_LIFETIME = timedelta(hours=24)  # a store waiting for consent expires then (DynamoDB TTL)
MAX_PENDING_STORES = 20  # per merchant


def is_expired(store: Store, now: datetime | None = None) -> bool:
    """A store still waiting for consent past its expiry: gone for the merchant even before DynamoDB's TTL
    sweeper deletes it (that can take days)."""
    return (
        store.status == STATUS_PENDING
        and store.expires_at is not None
        and store.expires_at <= (now or utcnow())
    )


def get_store(merchant_id: str, store_id: str) -> Store | None:
    """The store, or None when there is none (or it was waiting for consent and expired)."""
    try:
        store = Store.get(merchant_id, store_id, consistent_read=True)
    except Store.DoesNotExist:
        return None
    return None if is_expired(store) else store


def active_stores() -> Iterator[Store]:
    return Store.scan(Store.status == STATUS_ACTIVE)


def stores_of_seller(selling_partner_id: str, region: str) -> list[Store]:
    return list(Store.by_seller.query(f"{selling_partner_id}#{region}"))


def mark_needs_reauthorization(store: Store, reason: str, events: Sequence[Event] = ()) -> bool:
    """An active store turns needs_reauthorization with `reason` (plain words), and the `events` that report it
    get their outbox rows (storesync.dal.outbox), in one transaction. False when it was not active any more
    (another job or a disconnect got there first): nothing is written then."""
    now = utcnow()
    try:
        with TransactWrite(connection=Store._get_connection().connection) as transaction:
            transaction.update(
                store,
                actions=[Store.status.set(STATUS_NEEDS_REAUTHORIZATION), Store.status_reason.set(reason)],
                condition=Store.status == STATUS_ACTIVE,
            )
            outbox.stage(transaction, events, now)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            return False
        raise
    store.status = STATUS_NEEDS_REAUTHORIZATION  # what the transaction wrote (it returns no attributes)
    store.status_reason = reason
    store.update_local_version_attribute()
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
    """Every store of the merchant (disconnected ones too, expired pending ones not), oldest first."""
    now = utcnow()
    stores = [s for s in Store.query(merchant_id) if not is_expired(s, now)]
    return sorted(stores, key=lambda s: (s.created_at, s.store_id))


def pending_stores(merchant_id: str) -> int:
    """How many of the merchant's stores wait for consent (expired ones do not count)."""
    now = utcnow()
    return sum(
        1
        for s in Store.query(merchant_id, filter_condition=Store.status == STATUS_PENDING)
        if not is_expired(s, now)
    )


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
    """A new store awaiting Amazon's authorization (never overwrites one with the same id); it expires
    PENDING_LIFETIME after `created_at` unless authorized."""
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
        expires_at=created_at + PENDING_LIFETIME,
    )
    store.save(condition=Store.store_id.does_not_exist())
    return store


def save_consent_state(
    nonce: str,
    *,
    merchant_id: str,
    store_id: str,
    redirect_uri: str,
    browser_digest: str,
    expires_at: datetime,
) -> None:
    """Store a consent state under its nonce (never overwrites one) with the digest of the secret its browser
    holds; DynamoDB's TTL removes it at expires_at."""
    OAuthState(
        nonce,
        merchant_id=merchant_id,
        store_id=store_id,
        redirect_uri=redirect_uri,
        browser_digest=browser_digest,
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


@dataclass(frozen=True)
class SellerTaken(Exception):
    """The seller is already connected in this marketplace to another store (merchant and store named)."""

    merchant_id: str
    store_id: str


def claim_key(seller_key: str, marketplace_id: str) -> str:
    return f"{seller_key}#{marketplace_id}"


def authorize(
    store: Store, *, selling_partner_id: str, seller_key: str, refresh_token_encrypted: bytes
) -> None:
    """The store is active for the seller (whom Amazon proved): in one transaction the seller is claimed in
    the store's marketplace (a condition: unclaimed, or claimed by this very store) and the store gets its
    encrypted refresh token, loses its expiry and any status reason. SellerTaken when another store holds the
    claim: nothing is written then. Two callbacks racing for one seller: one wins, the other gets SellerTaken."""
    key = claim_key(seller_key, store.marketplace_id)
    claimed = SellerAuthorization.claimed_by_store
    try:
        with TransactWrite(connection=Store._get_connection().connection) as transaction:
            transaction.update(
                SellerAuthorization(key),
                actions=[
                    SellerAuthorization.claimed_by_merchant.set(store.merchant_id),
                    claimed.set(store.store_id),
                    SellerAuthorization.claimed_at.set(utcnow()),
                ],
                condition=claimed.does_not_exist() | (claimed == store.store_id),
            )
            transaction.update(
                store,
                actions=[
                    Store.status.set(STATUS_ACTIVE),
                    Store.status_reason.remove(),
                    Store.selling_partner_id.set(selling_partner_id),
                    Store.seller_key.set(seller_key),
                    Store.refresh_token_encrypted.set(refresh_token_encrypted),
                    Store.authorized_at.set(utcnow()),
                    Store.expires_at.remove(),
                ],
            )
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            holder = _claim(key)
            if holder is not None:
                raise SellerTaken(holder[0], holder[1]) from None
        raise
    store.refresh()


def _claim(key: str) -> tuple[str, str] | None:
    try:
        row = SellerAuthorization.get(key, consistent_read=True)
    except SellerAuthorization.DoesNotExist:
        return None
    if row.claimed_by_store is None or row.claimed_by_merchant is None:
        return None
    return row.claimed_by_merchant, row.claimed_by_store


def _release_claim(store: Store) -> None:
    """The store no longer holds its seller in its marketplace (only if it held it)."""
    if not store.seller_key:
        return
    try:
        SellerAuthorization(claim_key(store.seller_key, store.marketplace_id)).delete(
            condition=SellerAuthorization.claimed_by_store == store.store_id
        )
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def set_status_reason(store: Store, reason: str) -> None:
    store.update(actions=[Store.status_reason.set(reason)])


def disconnect(store: Store, reason: str) -> None:
    """Jobs stop (status), the refresh token, the seller index key and the seller's claim are deleted (the
    seller can connect again); the history stays."""
    _release_claim(store)
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
    authorization.update(
        actions=[
            SellerAuthorization.destination_id.set(destination_id),
            SellerAuthorization.subscription_id.set(subscription_id),
            SellerAuthorization.subscribed_at.set(subscribed_at),
        ]
    )


# storesync's own Amazon app credential ------------------------------------------------------------------------
APPLICATION_KEY = "application"


def record_client_secret_expiry(expires_at: datetime) -> None:
    """When storesync's LWA client secret expires (Amazon's APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY)."""
    SellerAuthorization(APPLICATION_KEY).update(
        actions=[SellerAuthorization.client_secret_expires_at.set(expires_at)]
    )


def client_secret_expiry() -> datetime | None:
    try:
        return SellerAuthorization.get(APPLICATION_KEY).client_secret_expires_at
    except SellerAuthorization.DoesNotExist:
        return None
