"""Connecting a store: create it, send the merchant to Amazon's consent page, and complete the callback.

The callback (GET /amazon/callback, no JWT) trusts only the signed, single-use state: it names the merchant and
the store. Then: exchange the code for a refresh token, check the seller sells in the store's marketplace (B4),
refuse a seller + marketplace already connected, store the token encrypted, activate, and subscribe the seller
to ORDER_CHANGE once per seller and region (a failure there only adds a warning).

Reauthorizing a store (a new grant after Amazon refused the old one, or a renewal) resumes its jobs (status
active) and catches up what was missed while it was paused: an order catch-up sweep, a product import (when
the store downloads products), an inventory push and a shipment push are queued at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storesync.amazon.clients import SpApiFactory, seller_key
from storesync.amazon.errors import AmazonAnswerInvalid, AmazonError, AuthorizationRevoked, Throttled
from storesync.amazon.seller_account import SellerAccount
from storesync.clock import utcnow
from storesync.crypto import Cipher
from storesync.dal import store_queries
from storesync.dal.store_queries import (
    STATUS_ACTIVE,
    STATUS_DISCONNECTED,
    STATUS_NEEDS_REAUTHORIZATION,
    get_store,
    stores_of_seller,
)
from storesync.dal.stores import OAuthState, Store
from storesync.dal.warehouses import ensure_primary_warehouse
from storesync.domain.consent_state import StateRejected, StateSigner
from storesync.domain.notices import Notice, NoticeCode, notice, of_kinds, replace_notices
from storesync.domain.stores import StoreCreate
from storesync.jobs import JobMessage, JobMode, JobName
from storesync.marketplaces import marketplace
from storesync.observability import bind_store, logger
from storesync.queues import JobQueue
from storesync.wiring import refresh_token_context


@dataclass(frozen=True)
class ConnectConfig:
    application_id: str
    draft: bool
    notifications_queue_arn: str = ""


@dataclass(frozen=True)
class CallbackQuery:
    state: str = ""
    selling_partner_id: str = ""
    spapi_oauth_code: str = ""
    error: str = ""
    error_description: str = ""


@dataclass
class CallbackOutcome:
    """What the callback shows: `outcome` connected|reauthorized|denied go back to the console (302); every
    other outcome is an error page with `message` and `status`."""

    outcome: str
    message: str
    status: int = 200
    store_id: str | None = None
    warnings: list[Notice] = field(default_factory=list)

    @property
    def redirects(self) -> bool:
        return self.outcome in ("connected", "reauthorized", "denied")


class CallbackFailed(Exception):
    def __init__(self, outcome: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.status = status


def new_store_id() -> str:
    return f"st_{uuid.uuid4().hex[:12]}"


class StoreConnector:
    def __init__(
        self,
        spapi: SpApiFactory,
        cipher: Cipher,
        signer: StateSigner,
        config: ConnectConfig,
        queue: JobQueue | None = None,
    ) -> None:
        self._spapi = spapi
        self._cipher = cipher
        self._signer = signer
        self._config = config
        self._queue = queue

    # Consent ------------------------------------------------------------------------------------------------
    def create_store(self, merchant_id: str, data: StoreCreate, redirect_uri: str) -> tuple[Store, str]:
        ensure_primary_warehouse(merchant_id)
        mkt = marketplace(data.marketplace_id)
        store = store_queries.create_store(
            merchant_id,
            new_store_id(),
            name=data.name,
            marketplace_id=mkt.marketplace_id,
            region=mkt.region.value,
            download_products_and_orders=data.download_products_and_orders,
            starting_inventory=data.starting_inventory,
            created_at=utcnow(),
        )
        bind_store(store.store_id, merchant_id)
        logger.info("store created", extra={"marketplace_id": store.marketplace_id})
        return store, self.consent_url(store, redirect_uri)

    def consent_url(self, store: Store, redirect_uri: str) -> str:
        """A fresh consent URL for `store` (connect or re-authorize) with a new signed single-use state."""
        issued = self._signer.issue()
        store_queries.save_consent_state(
            issued.nonce,
            merchant_id=store.merchant_id,
            store_id=store.store_id,
            redirect_uri=redirect_uri,
            expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
        )
        return self._spapi.consent_url(
            store.marketplace_id, self._config.application_id, issued.value, redirect_uri, self._config.draft
        )

    def _consume_state(self, value: str) -> OAuthState:
        row = store_queries.consume_consent_state(self._signer.verify(value))
        if row is None:
            raise StateRejected("This sign-in link was already used. Start the connection again.")
        return row

    # Callback -----------------------------------------------------------------------------------------------
    def complete(self, query: CallbackQuery) -> CallbackOutcome:
        if not query.state:
            return CallbackOutcome(
                "invalid_state", "The sign-in answer carries no state: nothing was changed.", 400
            )
        try:
            state = self._consume_state(query.state)
        except StateRejected as exc:
            logger.warning("consent state rejected", extra={"reason": exc.reason})
            return CallbackOutcome("invalid_state", exc.reason + " Nothing was changed.", 400)
        bind_store(state.store_id, state.merchant_id)
        store = get_store(state.merchant_id, state.store_id)
        if store is None or store.status == STATUS_DISCONNECTED:
            return CallbackOutcome("store_gone", "This store was removed or disconnected meanwhile.", 410)
        reauthorizing = store.selling_partner_id is not None
        try:
            return self._authorize(store, state, query, reauthorizing)
        except CallbackFailed as failed:
            logger.warning("store authorization failed", extra={"outcome": failed.outcome})
            return CallbackOutcome(failed.outcome, failed.message, failed.status, store.store_id)

    def _authorize(
        self, store: Store, state: OAuthState, query: CallbackQuery, reauthorizing: bool
    ) -> CallbackOutcome:
        if query.error:
            reason = query.error_description or query.error
            return CallbackOutcome(
                "denied", f"Amazon authorization was not granted: {reason}", 200, store.store_id
            )
        if not query.spapi_oauth_code or not query.selling_partner_id:
            raise CallbackFailed(
                "invalid_answer", "Amazon's answer lacks the authorization code or seller id."
            )
        seller = query.selling_partner_id
        if reauthorizing and store.selling_partner_id != seller:
            raise CallbackFailed(
                "wrong_seller",
                f"This store belongs to the Amazon seller account {store.selling_partner_id}, but you signed in "
                f"as {seller}. Sign in with the account the store belongs to.",
                409,
            )
        refresh_token = self._exchange(query.spapi_oauth_code, state.redirect_uri)
        amazon = SellerAccount(self._spapi.for_store(store.marketplace_id, seller, refresh_token))
        self._check_marketplace(store, amazon, seller)
        self._refuse_duplicate(store, seller)
        encrypted = self._cipher.encrypt(refresh_token, refresh_token_context(store.store_id))
        key = seller_key(seller, store.region)
        store_queries.authorize(
            store, selling_partner_id=seller, seller_key=key, refresh_token_encrypted=encrypted
        )
        logger.info("store authorized", extra={"reauthorized": reauthorizing, "seller_key": key})
        if reauthorizing:
            self._catch_up(store)
        warning = self._subscribe_order_changes(amazon, key)
        current = list(store.warnings or [])
        warnings = replace_notices(
            current, of_kinds(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED), [warning] if warning else []
        )
        if warnings != current:
            store_queries.set_warnings(store, warnings)
        outcome = "reauthorized" if reauthorizing else "connected"
        mkt = marketplace(store.marketplace_id)
        return CallbackOutcome(
            outcome, f"{store.name} ({mkt.country}) is connected.", 200, store.store_id, warnings
        )

    def _exchange(self, code: str, redirect_uri: str) -> str:
        try:
            return self._spapi.exchange_authorization_code(code, redirect_uri)
        except AuthorizationRevoked:
            raise CallbackFailed(
                "code_rejected",
                "Amazon did not accept the authorization (codes are valid for 5 minutes). Try again.",
            ) from None
        except AmazonError as exc:
            raise CallbackFailed(
                "amazon_error", f"Amazon could not complete the sign-in: {exc}", 502
            ) from None

    def _check_marketplace(self, store: Store, amazon: SellerAccount, seller: str) -> None:
        try:
            sells_in = amazon.participating_marketplaces()
        except Throttled:
            raise CallbackFailed(
                "amazon_busy", "Amazon is busy right now; try again in a minute.", 503
            ) from None
        except (AmazonError, AmazonAnswerInvalid) as exc:
            raise CallbackFailed(
                "amazon_error", f"Amazon could not list your marketplaces: {exc}", 502
            ) from None
        if store.marketplace_id in sells_in:
            return
        wanted = marketplace(store.marketplace_id)
        names = [label_of(mid) for mid in sells_in] or ["no marketplace"]
        message = (
            f"The Amazon seller account you signed in with ({seller}) does not sell in {wanted.country} "
            f"({wanted.marketplace_id}). That account sells in: {', '.join(names)}. Sign in with the account "
            f"that sells in {wanted.country}, or connect a store for one of those marketplaces."
        )
        store_queries.set_status_reason(store, message)
        raise CallbackFailed("marketplace_mismatch", message, 409)

    def _refuse_duplicate(self, store: Store, seller: str) -> None:
        for other in stores_of_seller(seller, store.region):
            if other.store_id == store.store_id or other.marketplace_id != store.marketplace_id:
                continue
            if other.status not in (STATUS_ACTIVE, STATUS_NEEDS_REAUTHORIZATION):
                continue
            where = marketplace(store.marketplace_id).country
            if other.merchant_id == store.merchant_id:
                detail = f"as your store {other.name!r}"
            else:
                detail = "by another storesync account"
            raise CallbackFailed(
                "already_connected",
                f"The Amazon seller account {seller} in {where} is already connected {detail}. "
                "A seller account can be connected once per marketplace.",
                409,
            )

    def _catch_up(self, store: Store) -> None:
        """Queue what a paused store missed (its jobs resume with the status; these run them now)."""
        if self._queue is None:
            return
        jobs: list[tuple[JobName, JobMode]] = [
            (JobName.ORDERS, JobMode.CATCHUP),
            (JobName.INVENTORY, JobMode.INCREMENTAL),
            (JobName.SHIPMENTS, JobMode.INCREMENTAL),
        ]
        if store.settings.download_products_and_orders:
            jobs.append((JobName.PRODUCTS, JobMode.INCREMENTAL))
        messages = [
            JobMessage(
                job=job,
                mode=mode,
                merchant_id=store.merchant_id,
                store_id=store.store_id,
                trigger="reauthorized",
            )
            for job, mode in jobs
        ]
        self._queue.send_many(messages)
        logger.info("reauthorized store: catch-up queued", extra={"jobs": [m.job for m in messages]})

    # ORDER_CHANGE -------------------------------------------------------------------------------------------
    def _subscribe_order_changes(self, amazon: SellerAccount, key: str) -> Notice | None:
        """Subscribe the seller (once per seller and region). Returns a warning instead of failing."""
        arn = self._config.notifications_queue_arn
        if not arn:
            return None
        auth = store_queries.seller_authorization(key)
        if auth.subscription_id:
            return None
        try:
            destination_id = auth.destination_id or amazon.sqs_destination(arn)
            subscription_id = amazon.order_change_subscription(destination_id)
        except (AmazonError, AmazonAnswerInvalid) as exc:
            logger.warning("ORDER_CHANGE subscription failed", extra={"seller_key": key, "error": str(exc)})
            return notice(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED, reason=str(exc))
        store_queries.save_subscription(
            auth, destination_id=destination_id, subscription_id=subscription_id, subscribed_at=utcnow()
        )
        logger.info("ORDER_CHANGE subscribed", extra={"seller_key": key})
        return None

    # Other store changes --------------------------------------------------------------------------------------
    def disconnect(self, store: Store) -> Store:
        """Jobs stop (status), the token is deleted, the history (runs, orders) stays."""
        if store.status != STATUS_DISCONNECTED:
            store_queries.disconnect(store, "Disconnected by the merchant")
            logger.info("store disconnected")
        return store


def label_of(marketplace_id: str) -> str:
    try:
        return marketplace(marketplace_id).label
    except ValueError:
        return marketplace_id
