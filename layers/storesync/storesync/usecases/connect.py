"""Connecting a store: create it, send the merchant to Amazon's consent page, and complete the callback.

Creating a store is bounded: at most MAX_PENDING_STORES stores of a merchant wait for consent at a time, and
each expires 24 hours after it was created unless authorized (store_queries.create_store).

The consent URL's state is bound to the browser that asked for it (`Consent.cookie`: an HttpOnly cookie whose
secret's digest the state row keeps, domain/consent_state.py).

The callback (GET /amazon/callback, no JWT) trusts only the signed, single-use state (it names the merchant and
the store) arriving with its browser's cookie; a state without it is refused and consumed all the same (a
consent link that went to someone else is dead, the merchant starts again from storesync). Then: exchange the
code for a refresh token, check the seller sells in the store's marketplace (B4), prove the seller id with the
new token (the query's `selling_partner_id` is only a hint: Amazon answers the Listings Items API's
searchListingsItems for `/items/{sellerId}` only to that seller's token), claim the seller in the marketplace
and activate in one conditional write (a seller connected to another store is refused; a claim is only ever
written for a proven seller), store the token encrypted, and subscribe the seller to ORDER_CHANGE once per
seller and region (a failure there only adds a warning).

Reauthorizing a store (a new grant after Amazon refused the old one, or a renewal) resumes its jobs (status
active) and catches up what was missed while it was paused: an order catch-up sweep, a product import (when
the store downloads products), an inventory push and a shipment push are queued at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storesync.amazon.clients import SpApiFactory, seller_key
from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonError,
    AuthorizationRevoked,
    Throttled,
)
from storesync.amazon.seller_account import SellerAccount
from storesync.clock import utcnow
from storesync.crypto import Cipher
from storesync.dal import store_queries
from storesync.dal.store_queries import (
    MAX_PENDING_STORES,
    PENDING_LIFETIME,
    STATUS_DISCONNECTED,
    SellerTaken,
    get_store,
)
from storesync.dal.stores import OAuthState, Store
from storesync.dal.warehouses import ensure_primary_warehouse
from storesync.domain.consent_state import (
    StateRejected,
    StateSigner,
    binding_cookie_name,
    binding_matches,
    browser_binding,
)
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
    selling_partner_id: str = ""  # a hint only: the seller is proven with the new token
    spapi_oauth_code: str = ""
    error: str = ""
    error_description: str = ""
    cookies: dict[str, str] = field(default_factory=dict)  # the browser's cookies (name -> value)


@dataclass(frozen=True)
class BindingCookie:
    """The cookie that binds a consent to the browser that asked for it (the route sets it)."""

    name: str
    value: str
    max_age: int  # seconds: the consent state's lifetime


@dataclass(frozen=True)
class Consent:
    url: str
    cookie: BindingCookie


class TooManyPendingStores(Exception):
    def __init__(self) -> None:
        hours = int(PENDING_LIFETIME.total_seconds() // 3600)
        super().__init__(
            f"You have {MAX_PENDING_STORES} stores waiting for Amazon's authorization, the most allowed. Finish "
            f"or disconnect one of them first (stores not authorized expire after {hours} hours)."
        )


NOT_BOUND = (
    "This sign-in link was opened in a different browser from the one that started the connection in "
    "storesync (or its cookie was blocked or expired), so it was not used and no store was connected. "
    "Start the connection again from storesync's Stores page, in the browser you are signed in with."
)


@dataclass
class CallbackOutcome:
    """What the callback shows: `outcome` connected|reauthorized|denied go back to the console (302); every
    other outcome is an error page with `message` and `status`."""

    outcome: str
    message: str
    status: int = 200
    store_id: str | None = None
    warnings: list[Notice] = field(default_factory=list)
    consumed_cookie: str | None = None  # the consent cookie of the state used up (the route clears it)

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
    def create_store(self, merchant_id: str, data: StoreCreate, redirect_uri: str) -> tuple[Store, Consent]:
        """A new store waiting for consent and its consent; TooManyPendingStores past the limit."""
        if store_queries.pending_stores(merchant_id) >= MAX_PENDING_STORES:
            raise TooManyPendingStores()
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

    def consent_url(self, store: Store, redirect_uri: str) -> Consent:
        """A fresh consent URL for `store` (connect or re-authorize) with a new signed single-use state, and the
        cookie that binds it to the browser asking."""
        issued = self._signer.issue()
        binding = browser_binding()
        store_queries.save_consent_state(
            issued.nonce,
            merchant_id=store.merchant_id,
            store_id=store.store_id,
            redirect_uri=redirect_uri,
            browser_digest=binding.digest,
            expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
        )
        url = self._spapi.consent_url(
            store.marketplace_id, self._config.application_id, issued.value, redirect_uri, self._config.draft
        )
        cookie = BindingCookie(binding_cookie_name(issued.nonce), binding.secret, self._signer.ttl_seconds)
        return Consent(url, cookie)

    def _consume_state(self, value: str, cookies: dict[str, str]) -> OAuthState:
        """The state's row, consumed (single use), if it came with its browser's cookie; StateRejected otherwise
        (a state without its cookie is consumed too: the link cannot be tried again from another browser)."""
        nonce = self._signer.verify(value)
        row = store_queries.consume_consent_state(nonce)
        if row is None:
            raise StateRejected("This sign-in link was already used. Start the connection again.")
        if not binding_matches(row.browser_digest, cookies.get(binding_cookie_name(nonce))):
            raise StateRejected(NOT_BOUND)
        return row

    # Callback -----------------------------------------------------------------------------------------------
    def complete(self, query: CallbackQuery) -> CallbackOutcome:
        if not query.state:
            return CallbackOutcome(
                "invalid_state", "The sign-in answer carries no state: nothing was changed.", 400
            )
        try:
            state = self._consume_state(query.state, query.cookies)
        except StateRejected as exc:
            logger.warning("consent state rejected", extra={"reason": exc.reason})
            outcome = "not_bound" if exc.reason == NOT_BOUND else "invalid_state"
            return CallbackOutcome(outcome, exc.reason + " Nothing was changed.", 400)
        result = self._complete(state, query)
        result.consumed_cookie = binding_cookie_name(state.state_id)
        return result

    def _complete(self, state: OAuthState, query: CallbackQuery) -> CallbackOutcome:
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
        if not query.spapi_oauth_code:
            raise CallbackFailed("invalid_answer", "Amazon's answer lacks the authorization code.")
        refresh_token = self._exchange(query.spapi_oauth_code, state.redirect_uri)
        # The seller id from the query is only a hint; nothing is believed until the new token proves it.
        hint = query.selling_partner_id or store.selling_partner_id or ""
        amazon = SellerAccount(self._spapi.for_store(store.marketplace_id, hint, refresh_token))
        self._check_marketplace(store, amazon, hint or "unknown")
        seller = self._prove_seller(store, amazon, hint)
        if reauthorizing and store.selling_partner_id != seller:
            raise CallbackFailed(
                "wrong_seller",
                f"This store belongs to the Amazon seller account {store.selling_partner_id}, but you signed in "
                f"as {seller}. Sign in with the account the store belongs to.",
                409,
            )
        encrypted = self._cipher.encrypt(refresh_token, refresh_token_context(store.store_id))
        key = seller_key(seller, store.region)
        try:
            store_queries.authorize(
                store, selling_partner_id=seller, seller_key=key, refresh_token_encrypted=encrypted
            )
        except SellerTaken as taken:
            raise self._already_connected(store, seller, taken) from None
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
        sells_in = _ask_amazon("list your marketplaces", amazon.participating_marketplaces)
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

    def _prove_seller(self, store: Store, amazon: SellerAccount, hint: str) -> str:
        """`hint`, once Amazon proved the new token belongs to that seller; CallbackFailed otherwise."""
        if not hint:
            raise CallbackFailed(
                "seller_unproven",
                "Amazon's answer does not say which seller account signed in, so storesync cannot check it and "
                "did not connect the store. Start the connection again.",
                403,
            )
        proven = _ask_amazon(
            "confirm your seller account", lambda: amazon.owns_seller_id(hint, store.marketplace_id)
        )
        if not proven:
            logger.warning("seller id not proven by Amazon", extra={"claimed": hint})
            raise CallbackFailed(
                "seller_unproven",
                f"Amazon did not confirm that the account you signed in with is the seller account {hint} "
                "(the sign-in answer was changed on its way back, or signed in with another account). No store "
                "was connected. Start the connection again and approve with the seller account itself.",
                403,
            )
        return hint

    def _already_connected(self, store: Store, seller: str, taken: SellerTaken) -> CallbackFailed:
        where = marketplace(store.marketplace_id).country
        mine = taken.merchant_id == store.merchant_id
        other = get_store(taken.merchant_id, taken.store_id) if mine else None
        detail = f"as your store {other.name!r}" if other is not None else "by another storesync account"
        return CallbackFailed(
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


def _ask_amazon[T](what: str, call: Callable[[], T]) -> T:
    """One SP-API call of the consent callback; Amazon's failures become the callback's page (503 busy, 502)."""
    try:
        return call()
    except Throttled:
        raise CallbackFailed("amazon_busy", "Amazon is busy right now; try again in a minute.", 503) from None
    except (AmazonError, AmazonAnswerInvalid) as exc:
        raise CallbackFailed("amazon_error", f"Amazon could not {what}: {exc}", 502) from None
